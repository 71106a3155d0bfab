"""The same world over REST and GraphQL, field for field; cursors page exactly; changes to the
world show through both APIs; a third-party GraphQL client (gql) reads it."""

import pytest
from gql import Client, GraphQLRequest
from gql.transport.requests import RequestsHTTPTransport

from .conftest import collect, hub, serving, tiny_world

STAR_JSON = {"Accept": "application/vnd.github.star+json"}
PROFILE = """
query($login: String!) {
  user(login: $login) {
    id databaseId login name email websiteUrl company location bio twitterUsername isHireable isSiteAdmin
    avatarUrl url createdAt updatedAt
    followers { totalCount } following { totalCount } gists { totalCount }
    repositories(privacy: PUBLIC, ownerAffiliations: [OWNER]) { totalCount }
  }
}
"""
REPOSITORY = """
query($owner: String!, $name: String!) {
  repository(owner: $owner, name: $name) {
    id databaseId name nameWithOwner description homepageUrl url isFork isArchived isPrivate visibility
    createdAt updatedAt pushedAt stargazerCount forkCount diskUsage
    owner { login id }
    primaryLanguage { name } licenseInfo { key spdxId name }
    watchers { totalCount } issues(states: OPEN) { totalCount }
    repositoryTopics(first: 20) { nodes { topic { name } } }
    defaultBranchRef { name }
  }
}
"""


@pytest.fixture(scope="module")
def served(big_world):
    with serving(big_world) as pair:
        yield pair


def query(simulator, session, text, **variables):
    answer = session.post(f"{simulator.base_url}/graphql", json={"query": text, "variables": variables})
    assert answer.status_code == 200 and "errors" not in answer.json(), answer.text
    return answer.json()["data"]


def page_through(simulator, session, text, path, size=100, **variables):
    """Every edge of the connection at ``path``, following ``endCursor``; and the number of pages."""
    edges, pages, after = [], 0, None
    while True:
        connection = query(simulator, session, text, after=after, size=size, **variables)
        for key in path:
            connection = connection[key]
        edges.extend(connection["edges"])
        pages += 1
        if not connection["pageInfo"]["hasNextPage"]:
            return edges, pages
        after = connection["pageInfo"]["endCursor"]


FOLLOWERS = """
query($login: String!, $after: String, $size: Int!) {
  user(login: $login) {
    followers(first: $size, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { login } } }
  }
}
"""
STARRED = """
query($login: String!, $after: String, $size: Int!) {
  user(login: $login) {
    starredRepositories(first: $size, after: $after) {
      pageInfo { hasNextPage endCursor } edges { starredAt node { nameWithOwner databaseId } }
    }
  }
}
"""
STARGAZERS = """
query($owner: String!, $name: String!, $after: String, $size: Int!) {
  repository(owner: $owner, name: $name) {
    stargazers(first: $size, after: $after) { pageInfo { hasNextPage endCursor } edges { starredAt node { login } } }
  }
}
"""


def test_a_user_reads_the_same_over_rest_and_graphql(served, big_world):
    simulator, session = served
    for login in (hub(big_world), max(big_world.logins(), key=lambda lg: len(big_world.starred_by(lg))),
                  big_world.logins()[0]):
        rest = session.get(f"{simulator.base_url}/users/{login}").json()
        user = query(simulator, session, PROFILE, login=login)["user"]
        assert (user["databaseId"], user["id"], user["login"]) == (rest["id"], rest["node_id"], rest["login"])
        for graphql_name, rest_name in (("name", "name"), ("company", "company"), ("location", "location"),
                                        ("bio", "bio"), ("twitterUsername", "twitter_username"),
                                        ("isSiteAdmin", "site_admin"), ("avatarUrl", "avatar_url"),
                                        ("url", "html_url"), ("createdAt", "created_at"),
                                        ("updatedAt", "updated_at")):
            assert user[graphql_name] == rest[rest_name], graphql_name
        assert user["email"] == (rest["email"] or "")            # non-null in GraphQL
        assert user["websiteUrl"] == (rest["blog"] or None)
        assert user["isHireable"] == bool(rest["hireable"])
        assert [user[k]["totalCount"] for k in ("followers", "following", "repositories", "gists")] == \
            [rest["followers"], rest["following"], rest["public_repos"], rest["public_gists"]]

        followers, _ = page_through(simulator, session, FOLLOWERS, ("user", "followers"), login=login)
        rest_followers, _ = collect(session, f"{simulator.base_url}/users/{login}/followers", per_page=100)
        assert [e["node"]["login"] for e in followers] == [u["login"] for u in rest_followers]

        starred, _ = page_through(simulator, session, STARRED, ("user", "starredRepositories"), login=login)
        rest_starred, _ = collect(session, f"{simulator.base_url}/users/{login}/starred", per_page=100,
                                  direction="asc")
        session.headers.update(STAR_JSON)
        try:
            dated, _ = collect(session, f"{simulator.base_url}/users/{login}/starred", per_page=100, direction="asc")
        finally:
            session.headers["Accept"] = "application/vnd.github+json"
        assert [(e["node"]["nameWithOwner"], e["node"]["databaseId"], e["starredAt"]) for e in starred] == \
            [(r["full_name"], r["id"], d["starred_at"]) for r, d in zip(rest_starred, dated, strict=True)]


def test_a_repository_reads_the_same_over_rest_and_graphql(served, big_world):  # pylint: disable=too-many-locals
    simulator, session = served
    popular = max((n for login in big_world.logins() for n in big_world.repos_of(login)),
                  key=lambda n: len(big_world.stargazers_of(n)))
    topical = next(r["full_name"] for r in session.get(f"{simulator.base_url}/repositories").json()
                   if big_world.repo(r["full_name"])["topics"] and big_world.repo(r["full_name"])["license"])
    for full_name in (popular, topical):
        owner, name = full_name.split("/")
        rest = session.get(f"{simulator.base_url}/repos/{full_name}").json()
        repo = query(simulator, session, REPOSITORY, owner=owner, name=name)["repository"]
        assert (repo["databaseId"], repo["id"], repo["nameWithOwner"]) == (rest["id"], rest["node_id"], full_name)
        assert (repo["owner"]["login"], repo["owner"]["id"]) == (rest["owner"]["login"], rest["owner"]["node_id"])
        for graphql_name, rest_name in (("name", "name"), ("description", "description"),
                                        ("homepageUrl", "homepage"), ("url", "html_url"), ("isFork", "fork"),
                                        ("isArchived", "archived"), ("isPrivate", "private"),
                                        ("createdAt", "created_at"), ("updatedAt", "updated_at"),
                                        ("pushedAt", "pushed_at"), ("stargazerCount", "stargazers_count"),
                                        ("forkCount", "forks_count"), ("diskUsage", "size")):
            assert repo[graphql_name] == rest[rest_name], graphql_name
        assert repo["visibility"] == rest["visibility"].upper()
        assert repo["watchers"]["totalCount"] == rest["subscribers_count"]
        assert repo["issues"]["totalCount"] == rest["open_issues_count"]
        assert (repo["primaryLanguage"] or {}).get("name") == rest["language"]
        license_info = repo["licenseInfo"]
        assert (license_info and (license_info["key"], license_info["spdxId"], license_info["name"])) == \
            (rest["license"] and (rest["license"]["key"], rest["license"]["spdx_id"], rest["license"]["name"]))
        assert [t["topic"]["name"] for t in repo["repositoryTopics"]["nodes"]] == rest["topics"]
        assert repo["defaultBranchRef"]["name"] == rest["default_branch"]

        stargazers, _ = page_through(simulator, session, STARGAZERS, ("repository", "stargazers"),
                                     owner=owner, name=name)
        session.headers.update(STAR_JSON)
        try:
            rest_stargazers, _ = collect(session, f"{simulator.base_url}/repos/{full_name}/stargazers", per_page=100)
        finally:
            session.headers["Accept"] = "application/vnd.github+json"
        assert [(e["node"]["login"], e["starredAt"]) for e in stargazers] == \
            [(s["user"]["login"], s["starred_at"]) for s in rest_stargazers]
    assert len(big_world.stargazers_of(popular)) > 100


def test_cursors_page_a_large_list_exactly_forwards_and_backwards(served, big_world):
    simulator, session = served
    login = hub(big_world)
    truth = big_world.followers_of(login)
    assert len(truth) > 900
    forwards, pages = page_through(simulator, session, FOLLOWERS, ("user", "followers"), size=37, login=login)
    assert [e["node"]["login"] for e in forwards] == truth and pages == -(-len(truth) // 37)
    backwards, before = [], None
    text = ("query($login: String!, $before: String) { user(login: $login) { followers(last: 41, before: $before) "
            "{ pageInfo { hasPreviousPage startCursor } nodes { login } } } }")
    while True:
        connection = query(simulator, session, text, login=login, before=before)["user"]["followers"]
        backwards[:0] = [n["login"] for n in connection["nodes"]]
        if not connection["pageInfo"]["hasPreviousPage"]:
            break
        before = connection["pageInfo"]["startCursor"]
    assert backwards == truth


def test_cursors_survive_a_change_between_pages():
    world = tiny_world()
    with serving(world) as (simulator, session):
        first = query(simulator, session, FOLLOWERS, login="octocat", size=2, after=None)["user"]["followers"]
        assert [e["node"]["login"] for e in first["edges"]] == ["alice", "bob"]
        world.unfollow("alice", "octocat")        # the list shifts under the cursor
        rest = query(simulator, session, FOLLOWERS, login="octocat", size=2,
                     after=first["pageInfo"]["endCursor"])["user"]["followers"]
        assert [e["node"]["login"] for e in rest["edges"]] == ["carol"]
        bad = session.post(f"{simulator.base_url}/graphql", json={"query": FOLLOWERS, "variables": {
            "login": "octocat", "size": 2, "after": "bm90LWEtY3Vyc29y"}}).json()
        assert bad["data"] == {"user": None} or bad["data"]["user"]["followers"] is None
        assert bad["errors"][0]["type"] == "INVALID_CURSOR_ARGUMENTS"


def test_changes_to_the_world_show_through_both_apis():
    world = tiny_world()
    with serving(world) as (simulator, session):
        base = simulator.base_url
        text = ('{ user(login: "carol") { name followers(first: 10) { nodes { login } } '
                "starredRepositories(first: 10) { nodes { nameWithOwner } } } "
                'repository(owner: "octocat", name: "Hello-World") { stargazerCount } }')
        world.follow("bob", "carol")
        world.star("carol", "octocat/Hello-World")
        world.update_user("carol", name="Carol ✨")
        data = query(simulator, session, text)
        assert data["user"] == {"name": "Carol ✨", "followers": {"nodes": [{"login": "bob"}]},
                                "starredRepositories": {"nodes": [{"nameWithOwner": "octocat/Hello-World"}]}}
        assert data["repository"]["stargazerCount"] == 3
        assert session.get(f"{base}/users/carol").json()["name"] == "Carol ✨"
        assert [u["login"] for u in session.get(f"{base}/users/carol/followers").json()] == ["bob"]
        world.unfollow("bob", "carol")
        world.unstar("carol", "octocat/Hello-World")
        data = query(simulator, session, text)
        assert data["user"]["followers"]["nodes"] == [] and data["user"]["starredRepositories"]["nodes"] == []
        assert data["repository"]["stargazerCount"] == 2 == len(session.get(f"{base}/repos/octocat/Hello-World/"
                                                                           "stargazers").json())
        world.delete_user("carol")
        gone = session.post(f"{base}/graphql", json={"query": text}).json()
        assert gone["data"]["user"] is None and gone["errors"][0]["type"] == "NOT_FOUND"
        assert session.get(f"{base}/users/carol").status_code == 404


def test_gql_a_third_party_client_pages_followers_and_reads_a_repository(served, big_world):
    # pylint: disable=too-many-locals
    simulator, _ = served
    transport = RequestsHTTPTransport(url=f"{simulator.base_url}/graphql", headers={
        "Authorization": "bearer gql-token", "User-Agent": "gql-test"}, timeout=30)
    login = hub(big_world)
    with Client(transport=transport) as client:
        logins, after = [], None
        page = ("query($login: String!, $after: String) { user(login: $login) { "
                "followers(first: 100, after: $after) { pageInfo { hasNextPage endCursor } nodes { login } } } }")
        while True:
            request = GraphQLRequest(page, variable_values={"login": login, "after": after})
            followers = client.execute(request)["user"]["followers"]
            logins.extend(n["login"] for n in followers["nodes"])
            if not followers["pageInfo"]["hasNextPage"]:
                break
            after = followers["pageInfo"]["endCursor"]
        full_name = big_world.repos_of(login)[0] if big_world.repos_of(login) else big_world.starred_by(login)[0]
        owner, name = full_name.split("/")
        repo = client.execute(GraphQLRequest(REPOSITORY, variable_values={"owner": owner, "name": name}))["repository"]
    assert logins == big_world.followers_of(login)
    truth = big_world.repo(full_name)
    assert (repo["databaseId"], repo["stargazerCount"]) == (truth["id"], truth["stargazers_count"])
    by_token = simulator.stats()["by_token"][simulator.token_label("gql-token")]
    assert by_token["graphql_queries"] == len(logins) // 100 + 1 + 1
    assert by_token["quota_counted"] == 0
