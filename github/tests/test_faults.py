"""Faults, CI-sized: a whole crawl through a Celery worker while the simulator fails 10% of requests (502, 503,
dropped connections, slow answers) and enforces a secondary limit, against an undisturbed crawl of the same
world: the same final database, every relation set exactly the world's, no duplicates, no task failed for
good. Worker kills, broker and database restarts and quota windows are the long run's (reliability/,
RELIABILITY.md): they need worker processes and a server to restart.
"""
import types

import pytest
from celery.contrib.testing.worker import start_worker
from django_celery_results.models import TaskResult

from git_o_matic_9k.celery import app
from github import tasks
from github.client import GitHubClient, TransientError
from github.models import ConditionalValidator, Developer, RateLimit
from github_simulator import World
from reliability.canonical import canonical_dump, check_against_world, duplicate_rows, summary
from reliability.crawl import drive_crawl, failed_tasks

pytestmark = pytest.mark.django_db(transaction=True)

USERS = 40


@pytest.fixture
def worker(monkeypatch, settings):
    """A worker in this process with short waits: retries after a fault or a secondary limit come in a fraction
    of a second instead of GitHub's minutes (the policy is the same, only the clock is faster)."""
    monkeypatch.setattr(tasks, "random", types.SimpleNamespace(uniform=lambda low, high: 0.05))
    settings.DISCOVERY_BATCH_SIZE = 20
    app.control.purge()
    with start_worker(app, pool="threads", concurrency=2, perform_ping_check=False, shutdown_timeout=30) as running:
        yield running


def _crawl(world):
    seed = world.logins()[0]
    outcome = drive_crawl(seed, timeout=240, poll=0.05)
    return outcome, canonical_dump()


def _forget_everything():
    """Back to an empty database, as before the first crawl (edges and repositories go with the developers)."""
    Developer.objects.all().delete()
    for model in (ConditionalValidator, RateLimit, TaskResult):
        model.objects.all().delete()


def test_a_crawl_through_faults_and_secondary_limits_stores_what_an_undisturbed_one_does(start_simulator, worker):
    world = World.generate(users=USERS, seed=7)
    calm = start_simulator(world)
    _outcome, reference = _crawl(world)
    assert calm.stats()["total"]["errors"] == 0
    assert summary(reference)["synced"] > USERS // 2
    assert not (problems := check_against_world(world)), problems
    calm.stop()

    _forget_everything()
    stormy = start_simulator(world, fault_rate=0.1, fault_kinds=("502", "503", "drop", "slow"), slow_seconds=0.3,
                             secondary_concurrency=1, secondary_retry_after=1, seed=3)
    _outcome, disturbed = _crawl(world)
    errors = stormy.stats()["by_status"]
    assert sum(count for status, count in errors.items() if str(status) not in {"200", "304"}) >= 5, errors
    assert failed_tasks() == []
    assert duplicate_rows() == {"developers": 0, "repositories": 0, "follows": 0, "stars": 0}
    assert not (problems := check_against_world(world)), problems
    assert summary(disturbed) == summary(reference)
    assert disturbed == reference


@pytest.mark.parametrize("fault", ["502", "503", "drop"])
def test_the_client_sends_a_failed_request_again_before_giving_up(start_simulator, settings, fault):
    settings.GITHUB_TRANSIENT_RETRY_DELAYS = [0.01, 0.01]
    simulator = start_simulator(World.generate(users=3, seed=1), fault_rate=1.0, fault_kinds=(fault,))
    with GitHubClient() as client, pytest.raises(TransientError):
        client.user("octocat")
    assert simulator.stats()["total"]["requests"] == 3  # the first try and two more
