"""Sync services against the simulator over HTTP: what is stored, what it costs, what changes."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from benchmarks.quota_efficiency import lower_bound
from github import sync
from github.client import GitHubClient
from github.models import Developer, Follow, Repository, Star
from github.tests.support import TINY_WORLD, assert_stored_like_world, logins, run_sync
from github_simulator import World

pytestmark = pytest.mark.django_db

@pytest.fixture
def world(start_simulator):
    world = World.from_dict(TINY_WORLD)
    start_simulator(world)
    return world


def test_cold_sync_stores_the_world_of_the_user(world):
    result = run_sync("alice")
    alice = Developer.objects.get(login="alice")
    payload = world.user("alice")
    for field, key in (("name", "name"), ("bio", "bio"), ("location", "location"), ("followers_count", "followers"),
                       ("following_count", "following"), ("public_repos", "public_repos"),
                       ("public_gists", "public_gists"), ("github_id", "id"), ("type", "type")):
        assert getattr(alice, field) == payload[key], field
    assert alice.profile_synced_at and alice.seed_distance == 0
    assert logins(Developer.objects.filter(following=alice)) == ["dave"]
    assert logins(alice.following.all()) == ["bob", "carol"]
    assert sorted(alice.starred_repositories.values_list("full_name", flat=True)) == ["acme/site", "bob/tool"]
    assert sorted(alice.repositories.values_list("full_name", flat=True)) == ["alice/empty", "alice/notes"]
    notes = Repository.objects.get(full_name="alice/notes")
    assert logins(notes.stargazers.all()) == ["bob", "carol"]
    assert notes.language == "Python" and notes.stargazers_count == 2
    tool = Repository.objects.get(full_name="bob/tool")
    assert tool.license == "MIT" and tool.topics == ["cli"] and tool.owner.login == "bob"
    assert Repository.objects.get(full_name="acme/site").archived
    # Everybody else is a stub one hop from the seed: known from a list, profile not read.
    stubs = Developer.objects.exclude(login="alice")
    assert logins(stubs) == ["acme", "bob", "carol", "dave"]
    assert all(stub.profile_synced_at is None and stub.name is None for stub in stubs)
    assert set(stubs.values_list("seed_distance", flat=True)) == {1}
    assert result.requests == lower_bound(world, "alice") == 7
    assert result.not_modified == 0 and not result.gone


def test_a_generated_world_is_stored_field_for_field_at_the_lower_bound(start_simulator):
    world = World.generate(users=400, seed=11)
    start_simulator(world)
    hub = max(world.logins(), key=lambda login: len(world.followers_of(login)) + len(world.repos_of(login)))
    assert run_sync(hub).requests == lower_bound(world, hub)
    assert_stored_like_world(world, hub)


def test_an_unstar_deep_in_the_list_is_seen_at_the_next_whole_read(start_simulator, settings):
    users = [{"login": "fan", "id": 1}, {"login": "maker", "id": 2}]
    repos = [{"full_name": f"maker/r{n}", "id": 100 + n} for n in range(150)]
    world = World.from_dict({"users": users, "repos": repos, "stars": [["fan", r["full_name"]] for r in repos]})
    start_simulator(world)
    run_sync("fan")
    world.unstar("fan", "maker/r0")  # the oldest star: page 2 of the newest-first list; page 1 is unchanged
    run_sync("fan")
    assert Star.objects.filter(developer__login="fan").count() == 150  # not seen yet: page 1 was a 304
    settings.GITHUB_FULL_READ_DAYS = 0  # the whole list is due
    run_sync("fan")
    assert Star.objects.filter(developer__login="fan").count() == 149
    assert not Star.objects.filter(developer__login="fan", repository__full_name="maker/r0").exists()


def test_second_sync_of_unchanged_data_spends_no_quota(world):
    run_sync("alice")
    before = {model: model.objects.count() for model in (Developer, Repository, Follow, Star)}
    result = run_sync("alice")
    assert result.requests == 0
    assert result.not_modified == 7
    assert {model: model.objects.count() for model in (Developer, Repository, Follow, Star)} == before


def test_changes_are_reflected_by_the_next_sync(world):
    run_sync("alice")
    world.unfollow("alice", "carol")
    world.follow("alice", "dave")
    world.follow("bob", "alice")
    world.update_user("alice", name="Alice Renamed", location=None)
    world.unstar("carol", "alice/notes")
    result = run_sync("alice")
    alice = Developer.objects.get(github_id=1)
    assert alice.name == "Alice Renamed" and alice.location is None
    assert logins(alice.following.all()) == ["bob", "dave"]
    assert logins(Developer.objects.filter(following=alice)) == ["bob", "dave"]
    assert logins(Repository.objects.get(github_id=10).stargazers.all()) == ["bob"]
    assert result.edges_removed == 2  # alice -> carol, carol's star


def test_stars_given_are_reread_when_the_whole_list_is_due(world, settings):
    run_sync("alice")
    world.star("alice", "alice/notes")
    assert run_sync("alice").lists_skipped_unchanged >= 1
    # GitHub reports no count of stars given; a new star changes page 1 here, so it is seen at once.
    assert Star.objects.filter(developer__login="alice", repository__full_name="alice/notes").exists()


def test_rename_updates_the_same_row(world):
    run_sync("alice")
    world.rename_user("alice", "alicia")
    run_sync("alice")  # the old login is 404 now: found again by id
    alice = Developer.objects.get(github_id=1)
    assert alice.login == "alicia"
    assert Developer.objects.filter(login__iexact="alice").count() == 0
    world.rename_repo("alicia/notes", "journal")
    run_sync("alicia")
    assert Repository.objects.get(github_id=10).full_name == "alicia/journal"


def test_a_deleted_user_is_marked_gone_and_the_sync_succeeds(world):
    run_sync("alice")
    world.delete_user("alice")
    result = run_sync("alice")
    assert result.gone
    assert Developer.objects.get(github_id=1).gone_at is not None


def test_an_unknown_user_is_gone_without_rows(world):
    result = run_sync("nobody")
    assert result.gone and not Developer.objects.exists()


def test_repository_sync_reads_the_full_payload_owner_and_stargazers(world):
    with GitHubClient() as client:
        result = sync.full_repository_sync(client=client, owner="alice", name="notes")
    notes = Repository.objects.get(github_id=10)
    assert notes.subscribers_count == world.repo("alice/notes")["subscribers_count"]
    assert notes.synced_at is not None
    assert notes.owner.profile_synced_at is not None
    assert logins(notes.stargazers.all()) == ["bob", "carol"]
    assert result.requests == 3


def test_a_sync_result_names_the_developer_or_the_repository_it_is_of(world):
    with GitHubClient() as client:
        repository = sync.full_repository_sync(client=client, owner="alice", name="notes").as_dict()
    profile = run_sync("alice").as_dict()
    assert repository["repository"] == "alice/notes" and "login" not in repository
    assert profile["login"] == "alice" and "repository" not in profile


def test_login_taken_over_by_another_account_moves_to_the_new_row(world):
    run_sync("alice")
    world.rename_user("bob", "robert")
    world.rename_user("carol", "bob")  # carol's account now answers to "bob"
    run_sync("alice")
    assert Developer.objects.get(github_id=3).login == "bob"
    assert Developer.objects.get(github_id=2).login == "robert"


def test_sql_statements_per_ingested_page_are_bounded(start_simulator):
    def world_with_followers(count):
        users = [{"login": "hub", "id": 1}] + [{"login": f"f{n}", "id": 100 + n} for n in range(count)]
        return World.from_dict({"users": users, "follows": [[f"f{n}", "hub"] for n in range(count)]})

    statements = {}
    for count in (50, 950):
        start_simulator(world_with_followers(count))
        Developer.objects.all().delete()
        with CaptureQueriesContext(connection) as queries:
            run_sync("hub")
        statements[count] = len(queries)
    # 1 page versus 10 pages of followers. Each extra page costs its reservation in the quota ledger and its
    # share of the upsert and the edge insert (SQLite writes about 166 stubs and 333 edges a statement,
    # PostgreSQL 1,000 of each): under 2 statements a page on SQLite, 1 on PostgreSQL.
    per_extra_page = (statements[950] - statements[50]) / 9
    assert per_extra_page <= 2, statements


def test_stargazers_past_the_pages_github_serves_end_the_list(start_simulator):
    users = [{"login": "star", "id": 1}] + [{"login": f"fan{n}", "id": 100 + n} for n in range(250)]
    world = World.from_dict({"users": users, "repos": [{"full_name": "star/big", "id": 7}],
                             "stars": [[f"fan{n}", "star/big"] for n in range(250)]})
    start_simulator(world, stargazer_page_cap=2)  # GitHub's cap is 400 pages; 2 keeps the test small
    result = run_sync("star")
    assert Star.objects.filter(repository__github_id=7).count() == 200
    assert Repository.objects.get(github_id=7).stargazers_synced_at is not None
    assert not result.gone


def test_a_rename_inside_one_list_keeps_both_accounts_and_the_sync_succeeds(start_simulator, monkeypatch):
    """fan0 (page 1) renames itself and fan150 (page 2) takes the login while the list is read: the list holds
    two ids with one login. The later holder gets it, fan0's account keeps its edge and is found by id later."""
    users = [{"login": "hub", "id": 1}] + [{"login": f"fan{n}", "id": 100 + n} for n in range(160)]
    world = World.from_dict({"users": users, "follows": [[f"fan{n}", "hub"] for n in range(160)]})
    start_simulator(world)
    original_get = GitHubClient.get

    def get(self, path_or_url, **options):
        response = original_get(self, path_or_url, **options)
        if path_or_url.startswith("/users/hub/followers"):
            world.rename_user("fan0", "fan-zero")
            world.rename_user("fan150", "fan0")
        return response

    monkeypatch.setattr(GitHubClient, "get", get)
    result = run_sync("hub")
    monkeypatch.setattr(GitHubClient, "get", original_get)
    assert not result.gone
    hub = Developer.objects.get(github_id=1)
    assert Developer.objects.filter(following=hub).count() == 160
    assert Developer.objects.get(github_id=250).login == "fan0"
    renamed = Developer.objects.get(github_id=100)
    assert renamed.login == "~100"
    run_sync(renamed.login)  # not a login GitHub could have: found again by id
    assert Developer.objects.get(github_id=100).login == "fan-zero"
