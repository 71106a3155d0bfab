"""The crawl's status (github/status.py), its snapshots and their beat task, the dashboard, /metrics, and the
progress lines of `crawl` and `demo_seed`."""
import json
import re
from datetime import timedelta
from io import StringIO

import pytest
from celery import current_app, states
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_celery_results.models import TaskResult
from kombu import Connection

from github import dashboard, status
from github.client import credentials_from
from github.models import CrawlSnapshot, Developer, RateLimit
from github.tasks import crawl_snapshot, heart_beat_task
from github.tests.factories import DeveloperFactory, FollowFactory, RepositoryFactory, StarFactory, StubDeveloperFactory
from github.tests.support import TINY_WORLD, purge_queues
from github_simulator import World

pytestmark = pytest.mark.django_db
TOKEN = "ghp_secret-token-never-shown"


@pytest.fixture
def crawl():
    """Two fully synced developers, one profiled only, one due for a resync, two stubs (one gone); edges."""
    now = timezone.now()
    synced = {f"{name}_synced_at": now for name in ("followers", "following", "starred", "repositories")}
    alice = DeveloperFactory(login="alice", followers_count=500, **synced)
    bob = DeveloperFactory(login="bob", followers_count=20, **synced)
    carol = DeveloperFactory(login="carol", followers_count=None)
    dave = DeveloperFactory(login="dave", profile_synced_at=now - timedelta(days=3))
    StubDeveloperFactory(login="stub")
    StubDeveloperFactory(login="gone", gone_at=now)
    repository = RepositoryFactory(owner=alice, stargazers_count=42)
    FollowFactory(follower=bob, followee=alice)
    FollowFactory(follower=carol, followee=alice)
    FollowFactory(follower=dave, followee=bob)
    StarFactory(developer=bob, repository=repository)
    return {"alice": alice, "bob": bob, "carol": carol, "dave": dave, "repository": repository}


def quota_row(*, credential="token-abc", resource="core", limit=5000, remaining=4000, reset_in=timedelta(minutes=30)):
    reset = timezone.now() + reset_in
    return RateLimit.objects.create(credential=credential, resource=resource, rate_limit=limit,
                                    rate_remaining=remaining, rate_reset_raw=int(reset.timestamp()), rate_reset=reset)


def task_result(state, *, name="github.tasks.full_profile_sync", traceback=None, done=None, **fields):
    record = TaskResult.objects.create(task_id=f"task-{TaskResult.objects.count()}", task_name=name, status=state,
                                       traceback=traceback, task_kwargs=json.dumps({"username": "alice"}), **fields)
    if done:
        TaskResult.objects.filter(pk=record.pk).update(date_done=done)
    return record


def test_counts_match_the_database(crawl):
    snapshot = status.collect(broker=False)
    assert (snapshot.developers, snapshot.profiled, snapshot.fully_synced) == (6, 4, 2)
    assert (snapshot.repositories, snapshot.follows, snapshot.stars) == (1, 3, 1)
    assert (snapshot.never_synced, snapshot.due_for_resync) == (1, 1)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's statistics")
def test_big_tables_are_estimated_from_postgresql_statistics_not_counted(crawl, monkeypatch):
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE github_follow")
    monkeypatch.setattr(status, "EXACT_COUNT_BELOW", 1)
    with CaptureQueriesContext(connection) as queries:
        total = status.table_total(status.Follow)
    assert total == 3
    assert [query["sql"] for query in queries if "COUNT" in query["sql"].upper()] == []


def test_tasks_by_state_and_the_latest_failures_with_their_messages():
    task_result(states.STARTED)
    task_result(status.POSTPONED)
    task_result(status.POSTPONED)
    task_result(states.FAILURE, done=timezone.now() - timedelta(hours=1),
                traceback="Traceback ...\ngithub.client.TransientError: 502 from GitHub")
    task_result(states.FAILURE, traceback="Traceback ...\nHttpErrorException: API rate limit exceeded")
    counts = status.task_counts(broker=False)
    assert counts == {"queued": None, "running": 1, "postponed": 2, "retrying": 0, "failed": 2, "succeeded": 0}
    failures = status.latest_failures()
    assert [failure["message"] for failure in failures] == [
        "HttpErrorException: API rate limit exceeded", "github.client.TransientError: 502 from GitHub"]
    assert failures[0]["task"] == "full_profile_sync" and "alice" in failures[0]["arguments"]


@pytest.fixture
def empty_broker():
    purge_queues()


def test_queued_tasks_are_read_from_the_broker(empty_broker):
    heart_beat_task.apply_async()  # no worker runs here: it waits in the test run's own queue
    try:
        assert status.queued_tasks() == 1
    finally:
        purge_queues()
    assert status.queued_tasks() == 0


def test_queued_tasks_unknown_when_the_broker_does_not_answer(monkeypatch):
    monkeypatch.setattr(current_app, "connection_for_read",
                        lambda: Connection("amqp://guest:guest@127.0.0.1:1//", connect_timeout=1))
    assert status.queued_tasks() is None


def test_quota_per_token_and_bucket_within_the_allowed_fraction(settings):
    settings.GITHUB_QUOTA_FRACTION = 0.5
    quota_row(remaining=4000)
    quota_row(resource="search", limit=30, remaining=10)
    quota_row(credential="token-old", remaining=0, reset_in=-timedelta(minutes=5))  # window over: full again
    rows = {(row["credential"], row["resource"]): row for row in status.quotas()}
    assert rows["token-abc", "core"] | {"reset": None} == {
        "credential": "token-abc", "resource": "core", "limit": 5000, "remaining": 4000, "spent": 1000,
        "allowed": 1500, "allowed_per_window": 2500, "reset": None}
    assert rows["token-abc", "search"]["allowed"] == 0
    assert rows["token-old", "core"]["allowed"] == 2500
    assert status.quota_left(status.collect(broker=False)) == 4000


def snapshot_with(**fields):
    values = {"taken_at": timezone.now(), "developers": 10, "profiled": 5, "fully_synced": 4, "repositories": 3,
              "follows": 20, "stars": 7, "never_synced": 5, "due_for_resync": 0,
              "tasks": {"queued": 0, "running": 0, "postponed": 0, "retrying": 0, "failed": 0},
              "quotas": [], "failures": []}
    return CrawlSnapshot(**(values | fields))


def test_why_nothing_happens(settings):
    reset = timezone.now().replace(microsecond=0) + timedelta(minutes=20)
    quota = {"credential": "token-abc", "resource": "core", "limit": 5000, "remaining": 0, "spent": 5000,
             "allowed": 0, "allowed_per_window": 5000, "reset": reset.isoformat()}
    assert status.idle_reason(snapshot_with(tasks={"running": 1})) is None
    assert status.idle_reason(snapshot_with(quotas=[quota], tasks={"postponed": 3})) == (
        f"waiting for the quota at {reset:%H:%M} UTC")
    now = timezone.now()
    next_hour = (now + timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
    assert status.idle_reason(snapshot_with(taken_at=now)) == (
        f"waiting for the next discovery run at {next_hour:%H:%M} UTC")
    assert status.idle_reason(snapshot_with(taken_at=now, never_synced=0)).startswith("nothing left to crawl")


def test_eta_at_the_quota_or_at_discoverys_pace(settings):
    quota = {"credential": "token-abc", "resource": "core", "limit": 5000, "remaining": 5000, "spent": 0,
             "allowed": 5000, "allowed_per_window": 5000, "reset": timezone.now().isoformat()}
    slow = status.eta(snapshot_with(never_synced=100, due_for_resync=20, quotas=[quota]))
    assert (slow["bound_by"], slow["per_hour"], slow["hours"]) == ("discovery", 5, 24)  # 5 a run, hourly
    settings.DISCOVERY_BATCH_SIZE = 10_000
    fast = status.eta(snapshot_with(never_synced=2000, quotas=[quota]))
    assert (fast["bound_by"], fast["per_hour"], fast["hours"]) == ("quota", 1000, 2)  # 5 requests a stub
    assert status.eta(snapshot_with(never_synced=0))["at"] is None


def test_rates_between_snapshots():
    now = timezone.now()
    window = {"credential": "t", "resource": "core", "reset": (now + timedelta(minutes=10)).isoformat()}
    earlier = snapshot_with(taken_at=now - timedelta(minutes=30), quotas=[window | {"spent": 100}])
    later = snapshot_with(taken_at=now, profiled=15, follows=120, stars=27, quotas=[window | {"spent": 400}])
    assert status.rates(later, earlier) == pytest.approx(
        {"developers_profiled": 20, "edges": 240, "requests": 600}, rel=1e-3)
    # The earlier window ended in between: what the new one spent so far.
    ended = {"credential": "t", "resource": "core", "reset": (now - timedelta(minutes=5)).isoformat()}
    earlier.quotas = [ended | {"spent": 4000}]
    assert status.rates(later, earlier)["requests"] == pytest.approx(800)
    assert status.rates(later, None)["requests"] is None


def test_snapshot_task_stores_the_status_and_prunes_old_snapshots(crawl, settings, empty_broker):
    settings.SNAPSHOT_KEEP_DAYS = 7
    snapshot_with(taken_at=timezone.now() - timedelta(days=8)).save()
    kept = snapshot_with(taken_at=timezone.now() - timedelta(days=6))
    kept.save()
    result = crawl_snapshot.apply().get()
    assert result["pruned"] == 1
    latest = status.latest_snapshot()
    assert list(CrawlSnapshot.objects.order_by("taken_at")) == [kept, latest]
    assert (latest.developers, latest.follows, latest.tasks["queued"]) == (6, 3, 0)


def test_the_snapshot_task_is_on_the_beat_schedule():
    entry = current_app.conf.beat_schedule["crawl-snapshot"]
    assert entry["task"] == crawl_snapshot.name and entry["schedule"] == timedelta(minutes=5)


# The dashboard.

def test_dashboard_needs_a_login(client):
    response = client.get("/github/dashboard/")
    assert response.status_code == 302 and "/api-auth/login/" in response["Location"]


def test_dashboard_shows_the_numbers_charts_and_top_lists(client, user, crawl, django_assert_max_num_queries):
    quota_row()
    task_result(states.FAILURE, traceback="Traceback ...\nHttpErrorException: API rate limit exceeded")
    snapshot_with(taken_at=timezone.now() - timedelta(minutes=30)).save()
    client.force_login(user)
    client.get("/github/dashboard/")  # beat has not taken one for two intervals: takes one
    with django_assert_max_num_queries(8):  # session, user, snapshot, history, rates (2), top lists (2)
        response = client.get("/github/dashboard/")
    page = response.content.decode()
    assert response.status_code == 200
    assert '<div class="value" id="developers">6</div>' in page
    assert '<div class="value" id="fully-synced">2</div>' in page
    assert page.count("<svg") == 5 and 'class="no_data"' not in page
    # A line per series with two points: growth 4, edges 2, tasks 5, frontier 2 (quota has one point yet).
    assert page.count('class="line reactive nofill"') == 4 + 2 + 5 + 2
    assert "API rate limit exceeded" in page and "token-abc" in page
    assert page.index(">alice<") < page.index(">bob<")  # top developers by followers
    assert crawl["repository"].full_name in page
    assert re.findall(r'(?:src|href)="(?:https?:)?//', page) == []  # nothing fetched from elsewhere


def test_dashboard_takes_a_snapshot_when_beat_has_not(client, user, crawl):
    snapshot_with(taken_at=timezone.now() - timedelta(hours=1)).save()
    client.force_login(user)
    client.get("/github/dashboard/")
    assert CrawlSnapshot.objects.count() == 2 and status.latest_snapshot().developers == 6


@pytest.mark.parametrize("query, field", [("hours=0", "hours"), ("hours=abc", "hours"), ("hours=100000", "hours"),
                                          ("days=2", "days")])
def test_dashboard_refuses_bad_parameters_naming_them(client, user, query, field):
    client.force_login(user)
    response = client.get(f"/github/dashboard/?{query}")
    assert response.status_code == 400 and field in response.json()


def test_api_root_links_the_dashboard(api):
    assert api.get("/github/").json()["dashboard"].endswith("/github/dashboard/")


# /metrics.

def test_metrics_need_a_login_unless_public(anonymous, settings):
    assert anonymous.get("/metrics").status_code in (401, 403)
    settings.METRICS_PUBLIC = True
    assert anonymous.get("/metrics").status_code == 200


def test_metrics_in_prometheus_text_format_without_tokens(api, crawl, settings):
    settings.GITHUB_API_KEY = TOKEN
    label = credentials_from(TOKEN)[0].label
    quota_row(credential=label, remaining=4321)
    task_result(status.POSTPONED)
    response = api.get("/metrics", HTTP_ACCEPT="text/plain;version=0.0.4")
    body = response.content.decode()
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain; version=")
    for line in ('gitomatic_developers{state="stored"} 6.0', 'gitomatic_developers{state="fully_synced"} 2.0',
                 'gitomatic_edges{kind="follow"} 3.0', 'gitomatic_frontier_developers{queue="never_synced"} 1.0',
                 'gitomatic_tasks{state="postponed"} 1.0',
                 f'gitomatic_quota_remaining{{credential="{label}",resource="core"}} 4321.0'):
        assert line in body.splitlines()
    assert "gitomatic_crawl_rate_per_hour" in body
    assert TOKEN not in body and "secret" not in body


# Progress lines.

def test_progress_report_prints_only_changes_and_says_why_nothing_happens(crawl, empty_broker):
    report = status.ProgressReport()
    first = report.line()
    assert first.startswith("developers 6 stored, 4 profiled, 2 fully synced; frontier 1 never synced, 1 due")
    assert "tasks 0 queued, 0 running, 0 postponed" in first and "waiting for the next discovery run at" in first
    second = report.line()  # now with a rate: 0 profiled/hour
    assert "0 profiled/hour" in second
    assert report.line() is None
    DeveloperFactory(login="erin")
    assert "developers 7 stored, 5 profiled" in report.line()


class Terminal(StringIO):
    """A stream that says it is a terminal, so Django would colour it."""

    def isatty(self):
        return True


def test_crawl_progress_line_in_normal_colours(start_simulator):
    start_simulator(World.from_dict(TINY_WORLD))
    err = Terminal()
    call_command("crawl", "--seed", "alice", "--max-developers", "2", stdout=StringIO(), stderr=err,
                 force_color=True)
    text = err.getvalue()
    assert "2/2 developers synced" in text and "fully synced" in text and "quota left" in text
    assert "\x1b[31" not in text and "\x1b[1m" not in text  # Django's error style: bold red


def test_demo_seed_reports_the_crawl_and_why_it_waits(start_simulator, monkeypatch, empty_broker):
    start_simulator(World.from_dict(TINY_WORLD))
    queued = []
    monkeypatch.setattr("github.management.commands.demo_seed.full_profile_sync.delay", queued.append)
    out = StringIO()
    call_command("demo_seed", "--login", "alice", "--once", stdout=out)
    assert queued == ["alice"]
    line = out.getvalue().splitlines()[-1]
    assert "developers 0 stored" in line and "quota left" in line
    assert "waiting for the next discovery run at" in line or "nothing left to crawl" in line
    assert Developer.objects.count() == 0


def test_dashboard_refresh_interval_is_in_the_page(client, user):
    client.force_login(user)
    page = client.get("/github/dashboard/").content.decode()
    assert f'data-refresh-seconds="{dashboard.REFRESH_SECONDS}"' in page
