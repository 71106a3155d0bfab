"""JSON payloads shaped exactly like GitHub's (field names, order, URL templates, nulls).

Every function takes the API base URL the client used (``http://127.0.0.1:8001`` or a GitHub
Enterprise-style ``.../api/v3``): hypermedia URLs must lead back to the simulator, never to
api.github.com. Callers hold the world's lock.
"""

import base64

from . import fake


def node_id(kind, entity_id):
    """GitHub's legacy global node id: base64 of ``0<len(kind)>:<kind><id>`` (``MDQ6VXNlcjE=``)."""
    return base64.b64encode(f"0{len(kind)}:{kind}{entity_id}".encode()).decode()


def simple_user(user, base):
    """The "Simple User" object of list endpoints and repository owners."""
    url = f"{base}/users/{user.login}"
    return {
        "login": user.login,
        "id": user.id,
        "node_id": node_id("Organization" if user.is_org else "User", user.id),
        "avatar_url": f"{base}/avatars/u/{user.id}?v=4",
        "gravatar_id": "",
        "url": url,
        "html_url": f"{base}/{user.login}",
        "followers_url": f"{url}/followers",
        "following_url": f"{url}/following{{/other_user}}",
        "gists_url": f"{url}/gists{{/gist_id}}",
        "starred_url": f"{url}/starred{{/owner}}{{/repo}}",
        "subscriptions_url": f"{url}/subscriptions",
        "organizations_url": f"{url}/orgs",
        "repos_url": f"{url}/repos",
        "events_url": f"{url}/events{{/privacy}}",
        "received_events_url": f"{url}/received_events",
        "type": "Organization" if user.is_org else "User",
        "user_view_type": "public",
        "site_admin": user.site_admin,
    }


def public_user(world, user, base):
    """``GET /users/{username}`` and ``GET /user/{id}``: the "Public User" object."""
    payload = simple_user(user, base)
    details = world.user_details(user)
    for key in ("name", "company", "blog", "location", "email", "hireable", "bio", "twitter_username"):
        payload[key] = details[key]
    payload["public_repos"] = len(world.public_repos(user))
    payload["public_gists"] = details["public_gists"]
    payload["followers"] = len(user.followers)
    payload["following"] = len(user.following)
    payload["created_at"] = details["created_at"]
    payload["updated_at"] = details["updated_at"]
    return payload


def license_simple(key, base):
    """GitHub's "License Simple" object for a licence key (``mit``...; ``other`` has no URL)."""
    name, spdx_id, number = fake.LICENSES[key]
    return {
        "key": key,
        "name": name,
        "spdx_id": spdx_id,
        "url": None if key == "other" else f"{base}/licenses/{key}",
        "node_id": node_id("License", number),
    }


def repository(world, repo, base, full=False):
    """A repository as list endpoints show it ("Minimal Repository" / "Repository"), or with
    ``full`` as ``GET /repos/{owner}/{repo}`` does ("Full Repository": ``subscribers_count``,
    ``network_count``, ``organization``, and ``parent``/``source`` for forks)."""
    owner = repo.owner
    full_name = f"{owner.login}/{repo.name}"
    api = f"{base}/repos/{full_name}"
    html = f"{base}/{full_name}"
    host = base.split("://", 1)[-1].split("/", 1)[0]
    details = world.repo_details(repo)
    stars = len(repo.stargazers)
    forks = repo.forks_count
    license_key = details["license"]
    payload = {
        "id": repo.id,
        "node_id": node_id("Repository", repo.id),
        "name": repo.name,
        "full_name": full_name,
        "private": repo.private,
        "owner": simple_user(owner, base),
        "html_url": html,
        "description": details["description"],
        "fork": repo.parent is not None,
        "url": api,
        "forks_url": f"{api}/forks",
        "keys_url": f"{api}/keys{{/key_id}}",
        "collaborators_url": f"{api}/collaborators{{/collaborator}}",
        "teams_url": f"{api}/teams",
        "hooks_url": f"{api}/hooks",
        "issue_events_url": f"{api}/issues/events{{/number}}",
        "events_url": f"{api}/events",
        "assignees_url": f"{api}/assignees{{/user}}",
        "branches_url": f"{api}/branches{{/branch}}",
        "tags_url": f"{api}/tags",
        "blobs_url": f"{api}/git/blobs{{/sha}}",
        "git_tags_url": f"{api}/git/tags{{/sha}}",
        "git_refs_url": f"{api}/git/refs{{/sha}}",
        "trees_url": f"{api}/git/trees{{/sha}}",
        "statuses_url": f"{api}/statuses/{{sha}}",
        "languages_url": f"{api}/languages",
        "stargazers_url": f"{api}/stargazers",
        "contributors_url": f"{api}/contributors",
        "subscribers_url": f"{api}/subscribers",
        "subscription_url": f"{api}/subscription",
        "commits_url": f"{api}/commits{{/sha}}",
        "git_commits_url": f"{api}/git/commits{{/sha}}",
        "comments_url": f"{api}/comments{{/number}}",
        "issue_comment_url": f"{api}/issues/comments{{/number}}",
        "contents_url": f"{api}/contents/{{+path}}",
        "compare_url": f"{api}/compare/{{base}}...{{head}}",
        "merges_url": f"{api}/merges",
        "archive_url": f"{api}/{{archive_format}}{{/ref}}",
        "downloads_url": f"{api}/downloads",
        "issues_url": f"{api}/issues{{/number}}",
        "pulls_url": f"{api}/pulls{{/number}}",
        "milestones_url": f"{api}/milestones{{/number}}",
        "notifications_url": f"{api}/notifications{{?since,all,participating}}",
        "labels_url": f"{api}/labels{{/name}}",
        "releases_url": f"{api}/releases{{/id}}",
        "deployments_url": f"{api}/deployments",
        "created_at": details["created_at"],
        "updated_at": details["updated_at"],
        "pushed_at": details["pushed_at"],
        "git_url": f"git://{host}/{full_name}.git",
        "ssh_url": f"git@{host}:{full_name}.git",
        "clone_url": f"{html}.git",
        "svn_url": html,
        "homepage": details["homepage"],
        "size": details["size"],
        "stargazers_count": stars,
        "watchers_count": stars,   # GitHub's legacy name for stars, not subscribers
        "language": details["language"],
        "has_issues": details["has_issues"],
        "has_projects": details["has_projects"],
        "has_downloads": details["has_downloads"],
        "has_wiki": details["has_wiki"],
        "has_pages": details["has_pages"],
        "has_discussions": details["has_discussions"],
        "forks_count": forks,
        "mirror_url": None,
        "archived": details["archived"],
        "disabled": details["disabled"],
        "open_issues_count": details["open_issues_count"],
        "license": None if license_key is None else license_simple(license_key, base),
        "allow_forking": True,
        "is_template": details["is_template"],
        "web_commit_signoff_required": False,
        "topics": list(details["topics"]),
        "visibility": "private" if repo.private else "public",
        "forks": forks,
        "open_issues": details["open_issues_count"],
        "watchers": stars,
        "default_branch": details["default_branch"],
    }
    if full:
        if owner.is_org:
            payload["organization"] = simple_user(owner, base)
        source = repo.source
        if source is not None:
            payload["parent"] = repository(world, repo.parent, base)
            payload["source"] = repository(world, source, base)
        payload["network_count"] = (source or repo).forks_count
        payload["subscribers_count"] = details["subscribers_count"]
    return payload


def rate_limit(usage, authenticated):
    """``GET /rate_limit``: ``core`` and ``graphql`` are simulated (``usage``: resource ->
    ``(limit, used, reset)``); the other resources show fresh quotas."""
    core_reset = usage["core"][2]

    def resource(limit, used=0, reset=core_reset):
        return {"limit": limit, "used": used, "remaining": limit - used, "reset": reset}

    core = resource(*usage["core"])
    resources = {
        "core": core,
        "search": resource(30 if authenticated else 10),
        "graphql": resource(*usage["graphql"]),
        "integration_manifest": resource(5000),
        "source_import": resource(100),
        "code_scanning_autofix": resource(10),
        "actions_runner_registration": resource(10000),
        "scim": resource(15000),
        "dependency_snapshots": resource(100),
        "dependency_sbom": resource(100),
        "code_search": resource(10),
    }
    return {"resources": resources, "rate": dict(core)}
