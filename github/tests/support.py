"""What several test modules share: the tiny world, its check against the database, and helpers that drive a
sync, a task through the API or the test run's queues."""
import time

from celery import current_app

from github import sync
from github.client import GitHubClient
from github.models import Developer, Repository

TINY_WORLD = {
    "users": [
        {"login": "alice", "id": 1, "name": "Alice 🐙", "bio": "Graphs.", "location": "Zürich"},
        {"login": "bob", "id": 2, "company": "ACME"},
        {"login": "carol", "id": 3},
        {"login": "dave", "id": 4},
        {"login": "acme", "id": 5, "type": "Organization"},
    ],
    "repos": [
        {"full_name": "alice/notes", "id": 10, "language": "Python", "description": "Notes"},
        {"full_name": "alice/empty", "id": 11},
        {"full_name": "bob/tool", "id": 20, "license": "mit", "topics": ["cli"]},
        {"full_name": "acme/site", "id": 30, "archived": True},
    ],
    "follows": [["alice", "bob"], ["alice", "carol"], ["dave", "alice"]],
    "stars": [["alice", "bob/tool"], ["alice", "acme/site"], ["bob", "alice/notes"], ["carol", "alice/notes"]],
}


PROFILE_FIELDS = {
    "github_id": "id", "login": "login", "type": "type", "name": "name", "company": "company", "blog": "blog",
    "location": "location", "email": "email", "bio": "bio", "twitter_username": "twitter_username",
    "followers_count": "followers", "following_count": "following", "public_gists": "public_gists",
    "public_repos": "public_repos",
}
REPOSITORY_FIELDS = [
    "name", "full_name", "description", "homepage", "language", "has_issues", "has_projects", "has_wiki",
    "has_pages", "has_downloads", "private", "archived", "disabled", "fork", "stargazers_count",
    "watchers_count", "open_issues_count", "forks_count", "topics",
]


def assert_stored_like_world(world, login):
    """The database holds exactly what the simulator's world says about `login`: every field and relation."""
    developer = Developer.objects.get(login=login)
    profile = world.user(login)
    for field, key in PROFILE_FIELDS.items():
        assert getattr(developer, field) == profile[key], field
    assert developer.created_at.isoformat().replace("+00:00", "Z") == profile["created_at"]
    assert logins(Developer.objects.filter(following=developer)) == sorted(world.followers_of(login))
    assert logins(developer.following.all()) == sorted(world.following_of(login))
    assert sorted(developer.starred_repositories.values_list("full_name", flat=True)) == sorted(
        world.starred_by(login))
    owned = Repository.objects.filter(owner=developer, gone_at__isnull=True)
    assert sorted(owned.values_list("full_name", flat=True)) == sorted(world.repos_of(login))
    for repository in owned:
        payload = world.repo(repository.full_name)
        for field in REPOSITORY_FIELDS:
            assert getattr(repository, field) == payload[field], (repository.full_name, field)
        assert repository.owner_github_id == payload["owner"]["id"]
        assert logins(repository.stargazers.all()) == sorted(world.stargazers_of(repository.full_name))
    for stub in Developer.objects.filter(profile_synced_at__isnull=True):
        assert world.user(stub.login)["id"] == stub.github_id


def run_sync(login):
    with GitHubClient() as client:
        return sync.full_profile_sync(client=client, login=login)


def logins(queryset):
    return sorted(queryset.values_list("login", flat=True))


def trigger(client, **data):
    response = client.post("/github/tasks/", data, format="json")
    assert response.status_code == 202, response.content
    return response.json()["url"]


def wait_for(client, url, states=("SUCCESS", "FAILURE"), timeout=60):
    """Poll a task's state through the API until it is one of `states`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = client.get(url).json()
        if body["state"] in states:
            return body
        time.sleep(0.1)
    raise AssertionError(f"task still {body['state']} after {timeout} s: {body}")


def purge_queues():
    """Empty the test run's task queues (declared first): tests that queue tasks without a worker leave them."""
    current_app.control.purge()
