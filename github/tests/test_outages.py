"""Long outages, CI-sized: GitHub, PostgreSQL or RabbitMQ unreachable for a while costs time and nothing else.

Outages are made by TCP proxies between the service and the servers (reliability/outage_proxy.py), which stay
up for everybody else. The whole-crawl test (worker processes losing PostgreSQL, RabbitMQ and GitHub in turn)
needs a database and a broker shared with processes: it runs on PostgreSQL and RabbitMQ only (.ci/run's second
pass); the long run is `python -m reliability.outages` (RELIABILITY.md).
"""
import json
import os
import subprocess
import sys
import types
from urllib.parse import urlsplit

import pytest
from celery.beat import PersistentScheduler
from celery.exceptions import Retry
from django.conf import settings as django_settings
from django.utils import timezone

from git_o_matic_9k.celery import app
from github import tasks, throttle
from github.client import GitHubClient, Unreachable
from github.graphql_client import GraphQLClient, Query
from github.models import RateLimit
from github_simulator import World
from reliability.outage_proxy import OutageProxy

DATABASE_URL = os.environ.get("DATABASE_URL", "")
SHARED_SERVERS = (DATABASE_URL.startswith(("postgres://", "postgresql://"))
                  and django_settings.CELERY_BROKER_URL.startswith("amqp"))


@pytest.mark.skipif(not SHARED_SERVERS, reason="needs PostgreSQL and RabbitMQ shared with worker processes")
def test_workers_losing_postgresql_then_rabbitmq_then_github_come_back_and_lose_nothing(tmp_path):
    server = urlsplit(DATABASE_URL)
    command = [
        sys.executable, "-m", "reliability.outages", "--users", "40", "--workers", "2", "--database-outage", "10",
        "--broker-outage", "10", "--github-outage", "10", "--timeout", "300",
        "--server-url", f"{server.scheme}://{server.netloc}", "--database", f"{server.path.strip('/')}_outages",
        "--broker-url", django_settings.CELERY_BROKER_URL, "--log-dir", str(tmp_path),
    ]
    run = subprocess.run(command, cwd=django_settings.BASE_DIR, capture_output=True, text=True,  # noqa: S603
                         timeout=600, check=False)
    assert run.stdout, run.stderr[-4000:]
    report = json.loads(run.stdout)
    assert report["verdict"] == dict.fromkeys(report["verdict"], True), json.dumps(report, indent=1)[-4000:]
    assert [outage["outage"] for outage in report["outages"]] == ["database", "broker", "github"]
    assert set(report["task_states"]) == {"SUCCESS"}
    assert report["deliveries_logged"] >= report["syncs_queued"]
    assert run.returncode == 0


@pytest.fixture
def github_behind_a_proxy(start_simulator, settings):
    simulator = start_simulator(World.generate(users=5, seed=1), rate_limit=100, graphql_limit=100)
    with OutageProxy(urlsplit(simulator.base_url).port) as proxy:
        settings.GITHUB_API_URL = proxy.url(simulator.base_url)
        yield simulator, proxy


def remaining():
    return dict(RateLimit.objects.values_list("resource", "rate_remaining"))


@pytest.mark.django_db(transaction=True)
def test_requests_that_never_reached_github_give_their_quota_back(github_behind_a_proxy, settings):
    simulator, proxy = github_behind_a_proxy
    settings.GITHUB_TRANSIENT_RETRY_DELAYS = [0.01, 0.01]
    login = simulator.world.logins()[0]
    with GitHubClient() as client:
        graphql = GraphQLClient(client)
        query = Query(f'{{ user(login: "{login}") {{ login }} }}', requests=1)
        client.user(login)
        graphql.query(query)
        before = remaining()
        assert before == {throttle.CORE: 99, throttle.GRAPHQL: 99}
        proxy.cut()
        with pytest.raises(Unreachable):
            client.user(login)
        with pytest.raises(Unreachable):
            graphql.query(query)
        assert remaining() == before  # 3 tries each, none sent, none charged by GitHub nor by the ledger
        proxy.restore()
        client.user(login, conditional=False)
    assert remaining() == {throttle.CORE: 98, throttle.GRAPHQL: 99}
    assert simulator.stats()["total"]["quota_counted"] == 2 and simulator.stats()["total"]["errors"] == 0


@pytest.mark.django_db(transaction=True)
def test_a_sync_while_github_is_unreachable_is_retried_then_succeeds(github_behind_a_proxy, monkeypatch, settings):
    simulator, proxy = github_behind_a_proxy
    settings.GITHUB_TRANSIENT_RETRY_DELAYS = [0.01, 0.01]
    retried = []

    def retry(self, exc=None, countdown=None, **options):
        retried.append((type(exc).__name__, countdown))
        raise Retry(exc=exc, when=countdown)

    monkeypatch.setattr(tasks.GitHubTask, "retry", retry)
    login = simulator.world.logins()[0]
    proxy.cut()
    assert [tasks.full_profile_sync.apply(args=[login]).state for _ in range(3)] == ["RETRY"] * 3
    assert [name for name, _countdown in retried] == ["Unreachable"] * 3
    proxy.restore()
    assert tasks.full_profile_sync.apply(args=[login]).state == "SUCCESS"
    assert simulator.stats()["total"]["errors"] == 0
    row = RateLimit.objects.get(resource=throttle.CORE)
    assert row.rate_limit - row.rate_remaining == simulator.stats()["total"]["quota_counted"]


def test_the_retries_of_a_task_that_always_fails_span_twenty_minutes(monkeypatch):
    """The shortest waits backoff() can draw: ten minutes of GitHub (or database) outage cannot exhaust them."""
    monkeypatch.setattr(tasks, "random", types.SimpleNamespace(uniform=lambda low, high: low))
    task = tasks.full_profile_sync
    waits = []
    for retries in range(task.max_retries):
        task.push_request(retries=retries)
        try:
            waits.append(task.backoff())
        finally:
            task.pop_request()
    assert sum(waits) >= 20 * 60


def _beat(schedule_file, monkeypatch, moment):
    """A beat scheduler on `schedule_file` whose clock says `moment`."""
    monkeypatch.setattr(app, "now", lambda: moment)
    return PersistentScheduler(app=app, schedule_filename=str(schedule_file), lazy=False)


def _tick_until_idle(beat):
    for _ in range(20):  # one due entry a tick
        beat.tick()


def test_a_beat_killed_after_queueing_discovery_does_not_queue_it_again(tmp_path, monkeypatch):
    """Beat keeps when each entry last ran in its schedule file. Celery writes the file every 3 minutes unless
    told otherwise: a beat killed in between ran discovery again at start-up, for the hour it had queued it."""
    sent = []
    monkeypatch.setattr("celery.app.task.Task.apply_async",
                        lambda self, args=None, kwargs=None, **options: sent.append(self.name))
    running, left_behind = tmp_path / "running", tmp_path / "left-behind"
    running.mkdir()
    left_behind.mkdir()
    hour = timezone.now().replace(minute=0, second=0, microsecond=0)
    beat = _beat(running / "schedule", monkeypatch, hour - timezone.timedelta(minutes=30))
    monkeypatch.setattr(app, "now", lambda: hour - timezone.timedelta(seconds=30))
    _tick_until_idle(beat)  # the heart beat of 59 minutes past: the file is written a first time
    monkeypatch.setattr(app, "now", lambda: hour + timezone.timedelta(seconds=1))
    _tick_until_idle(beat)
    assert sent.count("github.tasks.discovery_scraper") == 1
    for path in running.iterdir():  # SIGKILL: the file as it is on disk now, nothing more written
        (left_behind / path.name).write_bytes(path.read_bytes())
    beat.close()
    restarted = _beat(left_behind / "schedule", monkeypatch, hour + timezone.timedelta(minutes=1))
    _tick_until_idle(restarted)
    restarted.close()
    assert sent.count("github.tasks.discovery_scraper") == 1, sent
