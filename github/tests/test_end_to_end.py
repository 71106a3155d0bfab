"""The crawler end to end: a real Celery worker, the simulator over HTTP, driven through the HTTP API."""
import time

import pytest
from django.contrib.auth import get_user_model
from django.db.models import Q
from rest_framework.test import APIClient

from github import admission
from github.client import GitHubClient
from github.models import Developer, Follow, Repository, Star
from github.tests.support import TINY_WORLD, assert_stored_like_world, logins, trigger, wait_for
from github_simulator import World

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def operator(db):
    """A client for a user who may trigger tasks."""
    client = APIClient()
    client.force_authenticate(get_user_model().objects.create_user(username="operator", is_staff=True))
    return client


def test_profile_sync_then_discovery_grows_the_database(start_simulator, worker, operator):
    world = World.from_dict(TINY_WORLD)
    simulator = start_simulator(world)
    done = wait_for(operator, trigger(operator, name="full_profile_sync", username="alice"))
    assert done["state"] == "SUCCESS", done
    assert done["result"]["requests"] == 7 and done["date_done"]
    assert done["arguments"] == {"username": "alice"}  # an object, also once the worker has stored the task
    assert_stored_like_world(world, "alice")
    assert Developer.objects.filter(profile_synced_at__isnull=False).count() == 1

    discovery = wait_for(operator, trigger(operator, name="discovery_scraper"))
    queued = discovery["result"]["queued"]
    assert sorted(queued) == ["acme", "bob", "carol", "dave"]  # all one hop from the seed, batch of 5
    pending = Q(profile_synced_at__isnull=True) | Q(sync_queued_at__isnull=False)  # claims end with each sync
    deadline = time.monotonic() + 60
    while Developer.objects.filter(pending).exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not Developer.objects.filter(pending).exists()
    # The whole world is now stored: every follow and star edge of it.
    assert Follow.objects.count() == len(TINY_WORLD["follows"])
    assert Star.objects.count() == len(TINY_WORLD["stars"])
    assert Repository.objects.count() == len(TINY_WORLD["repos"])
    for login in ("alice", "bob", "carol", "dave"):
        assert_stored_like_world(world, login)

    simulator.reset_stats()
    again = wait_for(operator, trigger(operator, name="full_profile_sync", username="alice"))
    assert again["result"]["requests"] == 0
    assert simulator.stats()["total"]["quota_counted"] == 0


def test_repository_sync_through_the_api(start_simulator, worker, operator):
    start_simulator(World.from_dict(TINY_WORLD))
    done = wait_for(operator, trigger(operator, name="full_repository_sync", username="alice", repo_name="notes"))
    assert done["state"] == "SUCCESS", done
    notes = Repository.objects.get(full_name="alice/notes")
    assert notes.subscribers_count is not None
    assert done["arguments"] == {"username": "alice", "repo_name": "notes"}
    assert logins(notes.stargazers.all()) == ["bob", "carol"]


def test_a_task_the_quota_cannot_pay_for_is_postponed_then_completes_by_itself(
    start_simulator, worker, operator, monkeypatch
):
    monkeypatch.setattr(admission, "JITTER_SECONDS", (0.1, 0.5))  # the worker runs in this process
    # 10 requests per 4-second window, none of them spendable yet: alice's sync needs 7.
    simulator = start_simulator(World.from_dict(TINY_WORLD), rate_limit=10, window_seconds=4)
    with GitHubClient() as client:  # spend the window down to 2
        for _ in range(8):
            client.get("/users/dave")
    url = trigger(operator, name="full_profile_sync", username="alice")
    postponed = wait_for(operator, url, states=("POSTPONED", "SUCCESS", "FAILURE"))
    assert postponed["state"] == "POSTPONED", postponed
    assert postponed["result"]["retry_at"]
    assert postponed["arguments"] == {"username": "alice"}
    done = wait_for(operator, url, timeout=120)
    assert done["state"] == "SUCCESS", done
    assert simulator.stats()["total"]["errors"] == 0
