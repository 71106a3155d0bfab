"""Task policy: quota postponement and mid-task exhaustion, concurrent syncs, discovery, and Celery settings."""
import json
import logging
import sys
import threading

import kombu.exceptions
import pytest
from celery.schedules import crontab
from celery.utils.log import LoggingProxy
from django.conf import settings
from django.db import OperationalError, connection
from django.utils import timezone
from django_celery_results.models import TaskResult

from git_o_matic_9k.celery import app
from github import discovery, graphql_sync, sync, tasks
from github.client import GitHubClient, HttpErrorException
from github.models import Developer, RateLimit, Repository
from github.tests.factories import ListedDeveloperFactory
from github.tests.support import TINY_WORLD, logins, run_sync
from github_simulator import World


@pytest.mark.django_db
def test_running_out_part_way_fails_with_the_message_and_keeps_the_unfinished_relations(start_simulator, settings):
    fans = [{"login": f"fan{n}", "id": 1000 + n} for n in range(250)]
    world = World.from_dict({**TINY_WORLD, "users": TINY_WORLD["users"] + fans})
    start_simulator(world)
    run_sync("alice")
    # alice gains 250 followers (2 pages more than her stored count promises), drops bob, loses carol's star.
    for fan in fans:
        world.follow(fan["login"], "alice")
    world.unfollow("alice", "bob")
    world.star("alice", "alice/empty")
    world.unstar("carol", "alice/notes")
    # Every list changed, so none is a free 304: profile 1, followers 3, following 1, starred 1, repositories 1,
    # then stargazers. The ledger allows exactly the estimated 7: the stargazers of alice/notes are cut off.
    assert discovery.estimate_profile_cost("alice") == 7
    row = RateLimit.objects.get()
    settings.GITHUB_QUOTA_FRACTION = 1 - (row.rate_remaining - 7) / row.rate_limit
    outcome = tasks.full_profile_sync.apply(kwargs={"username": "alice"})
    assert outcome.state == "FAILURE"
    assert isinstance(outcome.result, HttpErrorException) and str(outcome.result) == "API rate limit exceeded"
    alice = Developer.objects.get(login="alice")
    # Lists read to their end were replaced; the list cut short is exactly as before.
    assert Developer.objects.filter(following=alice).count() == 251
    assert logins(alice.following.all()) == ["carol"]
    assert "alice/empty" in alice.starred_repositories.values_list("full_name", flat=True)
    assert logins(Repository.objects.get(full_name="alice/notes").stargazers.all()) == ["bob", "carol"]


@pytest.mark.django_db(transaction=True)
def test_two_workers_syncing_overlapping_users_at_once_write_no_duplicates(start_simulator):
    world = World.generate(users=300, seed=3)
    start_simulator(world)
    hubs = sorted(world.logins(), key=lambda login: -len(world.followers_of(login)))[:4]
    errors = []

    def work(login):
        try:
            with GitHubClient() as client:
                sync.full_profile_sync(client=client, login=login)
        except Exception as error:  # noqa: BLE001  pylint: disable=broad-exception-caught
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(login,)) for login in hubs + hubs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    ids = list(Developer.objects.values_list("github_id", flat=True))
    assert len(ids) == len(set(ids))
    for login in hubs:
        developer = Developer.objects.get(login=login)
        assert logins(Developer.objects.filter(following=developer)) == sorted(world.followers_of(login))


@pytest.mark.django_db
def test_a_task_the_budget_cannot_pay_for_reports_postponed(start_simulator, monkeypatch):
    start_simulator(World.from_dict(TINY_WORLD), rate_limit=10, window_seconds=60)
    with GitHubClient() as client:  # leave 3 of 10: a cold sync of alice costs 5 at least
        for _ in range(7):
            client.get("/users/dave")
    postponed = []
    monkeypatch.setattr(tasks.GitHubTask, "apply_async", lambda self, **options: postponed.append(options))
    result = app.AsyncResult(tasks.full_profile_sync.apply(kwargs={"username": "alice"}).id)  # as stored
    assert result.state == tasks.POSTPONED
    assert result.info["retry_at"]
    assert postponed[0]["kwargs"] == {"username": "alice"} and postponed[0]["task_id"] == result.id
    assert postponed[0]["eta"] > timezone.now()
    assert not Developer.objects.exists()


@pytest.mark.django_db
def test_discovery_picks_stubs_nearest_to_the_seed_within_budget_and_never_twice(
    start_simulator, monkeypatch, django_capture_on_commit_callbacks
):
    start_simulator(World.from_dict(TINY_WORLD))
    run_sync("alice")
    run_sync("dave")  # dave's followings add no one new; alice's stubs are at distance 1
    queued = []
    monkeypatch.setattr(tasks.full_profile_sync, "apply_async",
                        lambda kwargs, task_id, eta: queued.append(kwargs["username"]))

    def discover():
        with django_capture_on_commit_callbacks(execute=True):
            return tasks.discovery_scraper.apply().get()["queued"]

    assert sorted(discover()) == ["acme", "bob", "carol"]
    assert not discover()  # all claimed while queued
    discovery.release_claim("bob")
    assert discover() == ["bob"]
    assert sorted(queued) == ["acme", "bob", "bob", "carol"]
    # Recorded PENDING as they are queued, so the task runs list them before a worker starts them.
    pending = TaskResult.objects.filter(task_name=tasks.full_profile_sync.name, status="PENDING")
    assert sorted(json.loads(record.task_kwargs)["username"] for record in pending) == sorted(queued)
    discovery.release_claim("acme")
    discovery.release_claim("bob")
    assert len(tasks.discovery_scraper.apply(kwargs={"count": 1}).get()["queued"]) == 1  # `count` from the API


@pytest.mark.django_db
def test_discovery_with_the_broker_down_releases_the_claims_it_could_not_send(
    start_simulator, monkeypatch, django_capture_on_commit_callbacks
):
    """Else its developers stay claimed, queued nowhere, until the claims expire hours later (seen in a hybrid
    fault run through a RabbitMQ restart). The broker refuses the way kombu says it (not conftest's broker_down:
    kombu keeps the producer pool of a broker URL process-wide, and that fixture closes it)."""
    start_simulator(World.from_dict(TINY_WORLD))
    run_sync("alice")

    def refused(*_args, **_kwargs):
        raise kombu.exceptions.OperationalError("[Errno 111] Connection refused")

    monkeypatch.setattr(tasks.full_profile_sync, "apply_async", refused)
    with pytest.raises(kombu.exceptions.OperationalError), django_capture_on_commit_callbacks(execute=True):
        tasks.discovery_scraper.apply().get()
    assert not Developer.objects.filter(sync_queued_at__isnull=False).exists()
    assert not TaskResult.objects.exists()
    assert discovery.choose_discovery_batch(budget=100, limit=5)  # chosen again


@pytest.mark.django_db
def test_discovery_never_queues_more_than_the_budget_pays_for():
    for github_id in range(1, 11):
        Developer.objects.create(github_id=github_id, login=f"stub{github_id}", seed_distance=1)
    chosen = discovery.choose_discovery_batch(budget=discovery.STUB_COST * 2 + 1, limit=5)
    assert [developer.login for developer in chosen] == ["stub1", "stub2"]
    assert not discovery.choose_discovery_batch(budget=0, limit=5)


@pytest.mark.django_db
def test_a_developer_profiled_alongside_a_list_is_estimated_from_its_counts():
    """Profile, 3 follower pages, 1 following, 1 starred (unknown: the least), 1 repository page and a stargazer
    page for each of its 3 repositories."""
    listed = ListedDeveloperFactory(followers_count=250, following_count=0, public_repos=3)
    assert discovery.estimate_developer_cost(listed) == 1 + 3 + 1 + 1 + 1 + 3


@pytest.mark.django_db
def test_discovery_on_an_empty_database_does_nothing(start_simulator):
    start_simulator(World.from_dict(TINY_WORLD))
    assert not tasks.discovery_scraper.apply().get()["queued"]


def test_heart_beat_logs_ping(caplog):
    with caplog.at_level("INFO"):
        assert tasks.heart_beat_task.apply().get() == "ping"
    assert "ping" in caplog.text


def test_celery_settings_are_the_effective_ones():
    conf = app.conf
    assert conf.task_acks_late and conf.task_reject_on_worker_lost
    assert conf.worker_prefetch_multiplier == 1
    assert conf.task_serializer == "json" and conf.accept_content == ["json"]
    assert conf.result_backend == "github.results:RetryingDatabaseBackend"
    assert conf.result_backend_always_retry is True
    assert conf.task_soft_time_limit < conf.task_time_limit
    assert conf.beat_schedule == settings.CELERY_BEAT_SCHEDULE
    # Stated once, in settings: every task has it, the syncs' base class included.
    for task in (tasks.full_profile_sync, tasks.sync_developers, tasks.discovery_scraper):
        assert task.acks_late and task.reject_on_worker_lost, task.name


def test_workers_and_beat_log_through_django_logging(monkeypatch):
    """What a worker or beat does at start (`app.log.setup` with --loglevel's value): Django's LOGGING applies,
    LOG_LEVEL included, and Celery neither installs its own handlers nor takes stdout over."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    monkeypatch.setattr(app.log, "already_setup", False)
    try:
        assert app.log.setup(loglevel="CRITICAL", redirect_stdouts=True)
        assert root.level == logging.getLevelName(settings.LOGGING["root"]["level"]) != logging.CRITICAL
        formats = [handler.formatter._fmt for handler in root.handlers if handler.formatter]
        assert formats == [settings.LOGGING["formatters"]["plain"]["format"]]
        assert not isinstance(sys.stdout, LoggingProxy)
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])


@pytest.mark.django_db
def test_a_late_retry_state_does_not_replace_the_success_its_retry_wrote():
    backend = app.backend
    backend.store_result("late", None, "STARTED")
    backend.store_result("late", {"developers": 1}, "SUCCESS")
    backend.store_result("late", None, "RETRY")  # the first delivery's write, held up by a database outage
    backend.store_result("late", None, tasks.POSTPONED)
    assert TaskResult.objects.get(task_id="late").status == "SUCCESS"
    backend.store_result("early", None, "STARTED")
    backend.store_result("early", None, "RETRY")
    assert TaskResult.objects.get(task_id="early").status == "RETRY"


def test_beat_runs_discovery_hourly_on_the_hour_and_the_heart_beat_every_minute():
    schedule = app.conf.beat_schedule
    discovery = schedule["discovery-scraper"]
    assert discovery["task"] == tasks.discovery_scraper.name
    assert discovery["schedule"] == crontab(minute="0")
    assert discovery["schedule"].minute == {0} and len(discovery["schedule"].hour) == 24
    heart_beat = schedule["heart-beat"]
    assert heart_beat["task"] == tasks.heart_beat_task.name
    assert heart_beat["schedule"] == crontab()


def test_registered_task_names_match_the_description():
    names = {"github.tasks.full_profile_sync", "github.tasks.full_repository_sync",
             "github.tasks.discovery_scraper", "github.tasks.heart_beat_task"}
    assert names <= set(app.tasks)


@pytest.mark.django_db
def test_a_login_github_does_not_have_and_nobody_stored_fails_the_task(start_simulator):
    start_simulator(World.from_dict(TINY_WORLD))
    outcome = tasks.full_profile_sync.apply(kwargs={"username": "alcie"})
    assert outcome.state == "FAILURE"
    assert str(outcome.result) == "GitHub has no user or organisation 'alcie'"
    assert not Developer.objects.exists()


@pytest.mark.django_db
def test_a_developer_we_knew_who_disappeared_is_marked_gone_and_the_task_succeeds(start_simulator):
    world = World.from_dict(TINY_WORLD)
    start_simulator(world)
    run_sync("alice")
    world.delete_user("alice")
    outcome = tasks.full_profile_sync.apply(kwargs={"username": "alice"})
    assert outcome.state == "SUCCESS" and outcome.result["gone"]
    assert Developer.objects.get(github_id=1).gone_at is not None


@pytest.mark.django_db
@pytest.mark.parametrize(("task", "kwargs"), [
    ("full_profile_sync", {"username": "alice"}),
    ("sync_developers", {"usernames": ["alice", "bob"]}),
    ("full_repository_sync", {"username": "alice", "repo_name": "notes"}),
    ("discovery_scraper", {}),
])
def test_a_task_opens_one_client_for_its_admission_and_its_sync(start_simulator, monkeypatch, task, kwargs):
    start_simulator(World.from_dict(TINY_WORLD))
    run_sync("alice")  # discovery then has stubs to choose from
    opened = []
    original = GitHubClient.__init__

    def counted(self, *args, **options):
        opened.append(self)
        original(self, *args, **options)

    monkeypatch.setattr(GitHubClient, "__init__", counted)
    outcome = getattr(tasks, task).apply(kwargs=kwargs)
    assert outcome.state == "SUCCESS", outcome.result
    assert len(opened) == 1


@pytest.mark.django_db
def test_a_batch_whose_first_read_meets_a_database_restart_is_retried_not_failed(
        start_simulator, monkeypatch, settings):
    settings.GITHUB_API_MODE = "hybrid"  # the mode discovery queues batches in
    start_simulator(World.from_dict(TINY_WORLD))
    original = graphql_sync.read_through_graphql
    calls = []

    def restarting(logins):
        calls.append(logins)
        if len(calls) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return original(logins)

    monkeypatch.setattr(graphql_sync, "read_through_graphql", restarting)
    outcome = tasks.sync_developers.apply(kwargs={"usernames": ["alice", "bob"]})
    assert outcome.state == "SUCCESS", outcome.result
    assert calls[:2] == [["alice", "bob"], ["alice", "bob"]]  # refused once, read again by the retry
    assert [row["login"] for row in outcome.result["developers"]] == ["alice", "bob"], outcome.result
