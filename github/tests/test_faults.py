"""Faults, CI-sized: a whole crawl through a Celery worker while the simulator fails 10% of requests (502, 503,
dropped connections, slow answers) and enforces a secondary limit, against an undisturbed crawl of the same
world: the same final database, every relation set exactly the world's, no duplicates, no task failed for
good. Worker kills, broker and database restarts and quota windows are the long run's (reliability/,
RELIABILITY.md): they need worker processes and a server to restart.
"""
import json
import types

import pytest
from celery.contrib.testing.worker import start_worker
from celery.exceptions import Retry
from django.db import OperationalError
from django.utils import timezone
from django_celery_results.models import TaskResult

from git_o_matic_9k.celery import app
from github import admission, discovery, tasks
from github.client import GitHubClient, TransientError
from github.models import ConditionalValidator, Developer, RateLimit
from github.results import RetryingDatabaseBackend
from github.tests.support import TINY_WORLD
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


def test_a_database_outage_as_a_task_starts_is_retried_not_failed(monkeypatch):
    def outage(login):
        raise OperationalError("the database system is starting up")

    retried = []

    def retry(self, exc=None, countdown=None, **options):
        retried.append(exc)
        raise Retry(exc=exc, when=countdown)

    monkeypatch.setattr(discovery, "estimate_profile_cost", outage)
    monkeypatch.setattr(tasks.GitHubTask, "retry", retry)
    assert tasks.full_profile_sync.apply(args=["alice"]).state == "RETRY"
    assert [type(error) for error in retried] == [OperationalError]


def test_a_sync_the_ledger_stops_part_way_fails_and_queues_its_own_follow_up(start_simulator, settings, monkeypatch):
    """The product wants the task FAILED with "API rate limit exceeded"; the lists it did not reach must still be
    read, and discovery would not choose a developer whose profile is stored for another day."""
    queued = []
    monkeypatch.setattr("celery.app.task.Task.apply_async",
                        lambda self, args=None, kwargs=None, **options: queued.append((self.name, kwargs, options)))
    start_simulator(World.from_dict(TINY_WORLD))
    with GitHubClient() as client:
        admission.allowed_budget(client=client)  # reads the quota into the ledger
    row = RateLimit.objects.get()
    # Enough for the estimate of a never-synced developer (5), not for alice's whole sync (7).
    settings.GITHUB_QUOTA_FRACTION = 1 - (row.rate_remaining - discovery.STUB_COST) / row.rate_limit
    outcome = tasks.full_profile_sync.apply(args=["alice"])
    assert outcome.state == "FAILURE" and str(outcome.result) == "API rate limit exceeded"
    assert [(name, kwargs) for name, kwargs, _options in queued] == [("github.tasks.full_profile_sync",
                                                                       {"username": "alice"})]
    assert queued[0][2]["eta"] > timezone.now()
    # Recorded PENDING as it is queued, so the task runs list it before a worker starts it.
    follow_up = TaskResult.objects.get(task_id=queued[0][2]["task_id"])
    assert (follow_up.status, json.loads(follow_up.task_kwargs)) == ("PENDING", {"username": "alice"})


def test_the_result_backend_waits_for_the_database_instead_of_failing_the_task(monkeypatch):
    backend = app.backend
    assert isinstance(backend, RetryingDatabaseBackend)
    monkeypatch.setattr(backend, "base_sleep_between_retries_ms", 1)
    monkeypatch.setattr(backend, "max_sleep_between_retries_ms", 1)
    original, failures = backend._store_result, [OperationalError("the database system is starting up")] * 3

    def flaky_store(*args, **kwargs):
        if failures:
            raise failures.pop()
        return original(*args, **kwargs)

    monkeypatch.setattr(backend, "_store_result", flaky_store)
    backend.store_result("a-task-id", {"login": "alice"}, "SUCCESS")
    assert TaskResult.objects.get(task_id="a-task-id").status == "SUCCESS"
