"""The crawl's hand-written bulk SQL (github/bulk.py) on whichever database the suite runs: upserts that hand
back primary keys, lower seed distances only, free names GitHub gave to another id, and relation sets replaced."""
import functools

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from github import ingest
from github.bulk import keys_lacking, replace_edges
from github.models import Developer, Follow, Repository


def stubs(*rows):
    return ingest.upsert_stub_developers(rows, distance=None)


@pytest.mark.django_db
def test_upsert_hands_back_the_primary_key_of_new_and_known_rows():
    first = ingest.upsert_stub_developers([(1, "alice", "User"), (2, "bob", "User")], distance=2)
    again = ingest.upsert_stub_developers([(2, "Bob", "Organization"), (3, "carol", None)], distance=5)
    rows = {row.github_id: row for row in Developer.objects.all()}
    assert set(first) == {1, 2} and set(again) == {2, 3}
    assert Developer.objects.get(pk=again[2]) == rows[2] and Developer.objects.get(pk=first[2]) == rows[2]
    assert (rows[2].login, rows[2].type) == ("Bob", "Organization")
    assert {github_id: row.seed_distance for github_id, row in rows.items()} == {1: 2, 2: 2, 3: 5}
    ingest.upsert_stub_developers([(3, "carol", None)], distance=1)
    ingest.upsert_stub_developers([(3, "carol", None)], distance=None)
    assert Developer.objects.get(github_id=3).seed_distance == 1  # only ever lowered, never forgotten


@pytest.mark.django_db
def test_a_profile_upsert_keeps_the_stored_seed_distance():
    stubs((7, "dora", "User"))
    Developer.objects.filter(github_id=7).update(seed_distance=3)
    developer = ingest.upsert_profile({"id": 7, "login": "dora", "type": "User", "name": "Dora", "followers": 4})
    assert (developer.seed_distance, developer.name, developer.followers_count) == (3, "Dora", 4)
    assert developer.profile_synced_at is not None
    assert ingest.upsert_profile({"id": 8, "login": "eve"}, seed_distance_if_new=0).seed_distance == 0


def take_over_names():
    stubs((1, "alice", "User"), (2, "bob", "User"))
    stubs((2, "ALICE", "User"), (3, "bob", "User"))  # alice renamed away, bob's login taken by id 3
    return {row.github_id: row.login for row in Developer.objects.all()}


@pytest.mark.django_db(transaction=True)
def test_a_name_given_to_another_id_is_freed_outside_a_transaction():
    assert take_over_names() == {1: "~1", 2: "ALICE", 3: "bob"}


@pytest.mark.django_db
def test_a_name_given_to_another_id_is_freed_inside_a_transaction():
    with transaction.atomic():
        assert take_over_names() == {1: "~1", 2: "ALICE", 3: "bob"}
        assert Developer.objects.count() == 3  # the transaction is still usable after the refused statement


@pytest.mark.django_db(transaction=True)
def test_an_upsert_is_one_statement_per_batch_outside_a_transaction():
    rows = [(github_id, f"user{github_id}", "User") for github_id in range(1, 2001)]
    with CaptureQueriesContext(connection) as queries:
        ids = stubs(*rows)
    limit = connection.features.max_query_params
    assert len(ids) == Developer.objects.count() == 2000
    assert len(queries) == -(-2000 // (min(1000, limit // 6) if limit else 1000))


@pytest.mark.django_db
def test_replace_edges_adds_and_removes_exactly_the_difference():
    ids = stubs(*[(github_id, f"user{github_id}", "User") for github_id in range(1, 8)])
    hub = Developer.objects.get(github_id=1)
    followers_of_hub = functools.partial(replace_edges, Follow, fixed_field="followee", fixed_pk=hub.pk,
                                         member_field="follower")
    assert followers_of_hub(member_pks=[ids[2], ids[3], ids[4]]) == (3, 0)
    assert followers_of_hub(member_pks=[ids[3], ids[5]]) == (1, 2)
    assert followers_of_hub(member_pks=[ids[3], ids[5]]) == (0, 0)
    followers = Developer.objects.filter(following=hub).values_list("github_id", flat=True)
    assert sorted(followers) == [3, 5]
    assert followers_of_hub(member_pks=[]) == (0, 2)
    assert not Follow.objects.exists()


def row_versions():
    """{github_id: the PostgreSQL transaction that wrote the row's current version} (None on SQLite)."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT github_id, xmin::text FROM github_developer")
        return dict(cursor.fetchall())


@pytest.mark.django_db(transaction=True)
def test_unchanged_rows_are_not_rewritten_and_still_answer_their_keys():
    ids = stubs((1, "alice", "User"), (2, "bob", "User"))
    before = row_versions()
    with CaptureQueriesContext(connection) as queries:
        again = stubs((1, "alice", "User"), (2, "bobby", "User"))
    assert again == ids
    assert len(queries) == 2  # the upsert, then the keys of the row it left alone
    assert Developer.objects.get(github_id=2).login == "bobby"
    if before is not None:
        after = row_versions()
        assert after[1] == before[1] and after[2] != before[2]


@pytest.mark.django_db(transaction=True)
def test_two_ids_with_one_name_in_a_batch_leave_it_to_the_later_one():
    """An account renamed while its list was read, and its login taken by another: the later row is the newer
    holder; the earlier one keeps its id under a placeholder and nothing is lost."""
    ids = stubs((1, "alice", "User"), (3, "carol", "User"), (2, "Alice", "User"))
    assert len(ids) == 3
    assert {row.github_id: row.login for row in Developer.objects.all()} == {1: "~1", 2: "Alice", 3: "carol"}


@pytest.mark.django_db
def test_every_kind_of_value_is_written_as_it_was_read():
    """Text that means something inside SQL or a PostgreSQL array (quotes, backslashes, commas, braces, the word
    NULL), nulls, times, flags and JSON come back as they went in, whichever way the batch was sent."""
    awkward = 'Ada "the first" \\ Lovelace, {NULL} \'quoted\' NULL'
    developer = ingest.upsert_profile({"id": 9, "login": "ada", "name": awkward, "bio": "", "location": None,
                                     "created_at": "2020-01-02T03:04:05Z", "followers": 3})
    assert (developer.name, developer.bio, developer.location) == (awkward, "", None)
    assert (developer.created_at.isoformat(), developer.followers_count) == ("2020-01-02T03:04:05+00:00", 3)
    ingest.upsert_repositories([{"id": 5, "name": "NULL", "full_name": "ada/NULL", "owner": {"id": 9, "login": "ada"},
                               "description": awkward, "topics": ["a,b", 'c"d', "{e}"], "fork": True,
                               "has_issues": False, "stargazers_count": 7}], owner_distance=0)
    repository = Repository.objects.get(github_id=5)
    assert (repository.name, repository.description, repository.topics) == ("NULL", awkward, ["a,b", 'c"d', "{e}"])
    assert (repository.fork, repository.has_issues, repository.stargazers_count, repository.homepage) == (
        True, False, 7, None)
    assert repository.owner == developer


@pytest.mark.django_db
def test_keys_lacking_a_column_are_those_not_gone_and_without_it_in_key_order():
    """Who still needs a profile, asked of more keys than one batch of parameters holds on SQLite."""
    stubs(*[(github_id, f"user{github_id}", "User") for github_id in range(1, 1501)])
    Developer.objects.filter(github_id__in=[3, 1200]).update(profiled_at=timezone.now())
    Developer.objects.filter(github_id=4).update(gone_at=timezone.now())
    lacking = keys_lacking(Developer, "profiled_at", [*range(1500, 0, -1), 99999])
    assert lacking == [github_id for github_id in range(1, 1501) if github_id not in {3, 4, 1200}]
