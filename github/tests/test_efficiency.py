"""Quota efficiency and per-request cost, asserted exactly so they cannot regress (benchmarks/ measures them big).

A small generated world stands in for benchmarks/quota_efficiency.py: a cold sync of each developer costs
exactly its lower bound (benchmarks.quota_efficiency.lower_bound), an unchanged re-sync costs no quota, and a
change costs only the lists it touches. The SQL the quota ledger and the client spend per GitHub request is
counted too.
"""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from benchmarks.quota_efficiency import lower_bound, pages
from github import sync
from github.client import GitHubClient
from github_simulator import World

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def generated_world():
    return World.generate(users=400, seed=42)


@pytest.fixture
def world(generated_world, start_simulator):
    start_simulator(generated_world)
    return generated_world


def busiest(world, count):
    """The `count` accounts with the largest lower bound: several pages, repositories and stargazers each."""
    return sorted(world.logins(), key=lambda login: lower_bound(world, login), reverse=True)[:count]


def sync_all(logins):
    with GitHubClient() as client:
        for login in logins:
            sync.full_profile_sync(client=client, login=login)
        return dict(client.stats)


def test_cold_syncs_cost_exactly_the_lower_bound_and_unchanged_resyncs_nothing(world, start_simulator):
    logins = busiest(world, 12)
    bound = sum(lower_bound(world, login) for login in logins)
    assert bound > 3 * len(logins)  # the test means something: lists beyond their first page
    with GitHubClient() as client:
        for login in logins:
            before = client.stats["quota_requests"]
            sync.full_profile_sync(client=client, login=login)
            assert client.stats["quota_requests"] - before == lower_bound(world, login), login
    unchanged = sync_all(logins)
    assert unchanged["quota_requests"] == 0
    assert unchanged["not_modified"] == unchanged["requests"] > 0


def test_a_change_costs_only_the_lists_it_touches(world):
    hub, other = busiest(world, 2)
    sync_all([hub, other])
    world.update_user(hub, bio="changed")  # the profile only: every list answers 304
    assert sync_all([hub])["quota_requests"] == 1
    follower = next(login for login in world.logins()[::-1]
                    if login not in world.followers_of(hub) and login != hub and world.user(login)["type"] == "User")
    world.follow(follower, hub)  # the profile's count moves, so the followers list is read whole
    assert sync_all([hub])["quota_requests"] == 1 + pages(len(world.followers_of(hub)))


def test_the_ledger_and_client_cost_one_statement_per_request(start_simulator):
    """Once the ledger row is known, a request costs its reservation (one conditional UPDATE) and nothing more:
    GitHub's answer agrees with the ledger, so there is nothing to record. Pages of a list beyond the first
    are neither conditional nor remembered."""
    users = [{"login": "hub", "id": 1}] + [{"login": f"fan{n}", "id": 100 + n} for n in range(250)]
    start_simulator(World.from_dict({"users": users, "follows": [[f"fan{n}", "hub"] for n in range(250)]}))
    with GitHubClient() as client:
        # A counted request first: it opens the token's window, so the reset time every later answer carries is
        # the one the ledger row now holds (before a window opens, its reset moves with the clock).
        client.get("/users/hub")
        with CaptureQueriesContext(connection) as queries:
            pages = list(client.list_pages("/users/hub/followers", conditional_first_page=False))
    assert len(pages) == 3
    assert len(queries) == len(pages), [query["sql"] for query in queries]


def test_sql_statements_per_ingested_page_are_bounded_by_a_constant(world):
    """Whole syncs of the busiest accounts, mostly one-page lists: a list costs its reservation, one upsert of
    its rows (and one of their owners for repositories), reading and inserting its edges, its read mark and its
    validator. About 8 statements a page on either database (7.8 on this world), never one per item."""
    logins = busiest(world, 6)
    with CaptureQueriesContext(connection) as queries:
        stats = sync_all(logins)
    assert len(queries) / stats["requests"] <= 9, (len(queries), stats)
