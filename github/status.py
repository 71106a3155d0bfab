"""The crawl's status in numbers: the one home of the counts the dashboard, its snapshots, /metrics and the
progress lines of `crawl` and `demo_seed` show.

Every statement is cheap on a big database: developer counts use the partial indexes discovery reads (stubs,
resync queue), task counts use django-celery-results' index on `status`, and the totals of the big tables come
from PostgreSQL's statistics once they are large (see `table_total`). The one statement that reads the
developer table whole counts `profiled` and `fully_synced` together (nullable columns no index covers); it runs
in the snapshot beat task every few minutes, on a page view only when beat has not taken a snapshot for two
intervals, and on each progress line of `crawl` and `demo_seed` (ProgressReport).
"""
import logging
from datetime import datetime, timedelta

from celery import current_app, states
from celery.schedules import crontab
from django.conf import settings
from django.db import connection
from django.db.models import Count, Q
from django.utils import timezone
from django_celery_results.models import TaskResult

from github import throttle
from github.discovery import STUB_COST, resync_before
from github.models import CrawlSnapshot, Developer, Follow, RateLimit, Repository, Star

logger = logging.getLogger(__name__)

POSTPONED = "POSTPONED"  # a task state of ours: re-enqueued for the quota's reset (github/tasks.py)
# Task states as the dashboard, /metrics and the progress lines name them; "queued" is read from the broker.
TASK_STATES = {states.STARTED: "running", POSTPONED: "postponed", states.RETRY: "retrying",
               states.FAILURE: "failed", states.SUCCESS: "succeeded"}
LATEST_FAILURES = 5
# Below this many rows an exact count is cheap; above it PostgreSQL's estimate is used (see table_total).
EXACT_COUNT_BELOW = 100_000
DISCOVERY_TASK = "github.tasks.discovery_scraper"


def table_total(model) -> int:
    """Rows in `model`'s table: exact on SQLite and for small tables, PostgreSQL's estimate for big ones.

    count(*) on PostgreSQL reads the whole table (or its smallest index): seconds for 10,000,000 edges, every
    few minutes. pg_class.reltuples, which autovacuum and ANALYZE keep within a few percent, costs nothing;
    while it is below EXACT_COUNT_BELOW (or -1, never analysed) the exact count is cheap and is used instead.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass", [model._meta.db_table])
            estimate = cursor.fetchone()[0]
        if estimate >= EXACT_COUNT_BELOW:
            return estimate
    return model.objects.count()


def graph_counts() -> dict:
    """Developers stored, profiled and fully synced; repositories; follow and star edges; the frontier."""
    alive = Developer.objects.filter(gone_at__isnull=True)
    read = Developer.objects.aggregate(
        profiled=Count("pk", filter=Q(profiled_at__isnull=False)),
        fully_synced=Count("pk", filter=Q(
            profile_synced_at__isnull=False, followers_synced_at__isnull=False, following_synced_at__isnull=False,
            starred_synced_at__isnull=False, repositories_synced_at__isnull=False)))
    return {
        "developers": table_total(Developer),
        **read,
        "repositories": table_total(Repository),
        "follows": table_total(Follow),
        "stars": table_total(Star),
        # The two discovery queues (their partial indexes), claimed developers included.
        "never_synced": alive.filter(profile_synced_at__isnull=True).count(),
        "due_for_resync": alive.filter(profile_synced_at__lt=resync_before()).count(),
    }


def queued_tasks() -> int | None:
    """Messages waiting in the broker's task queues (ETA tasks a worker holds are not counted); None when the
    broker cannot be asked."""
    try:
        with current_app.connection_for_read() as broker:
            broker.ensure_connection(max_retries=1, timeout=2)
            return sum(_queue_length(broker, name) for name in current_app.amqp.queues)
    except Exception as error:  # pylint: disable=broad-exception-caught  # any broker failure: count unknown
        logger.warning("queued tasks unknown, the broker did not answer: %s", type(error).__name__)
        return None


def _queue_length(broker, name) -> int:
    channel = broker.channel()  # one per queue: RabbitMQ closes a channel that asked for a missing queue
    try:
        return channel.queue_declare(queue=name, passive=True).message_count
    except broker.channel_errors:
        return 0  # never declared, so nothing is queued in it
    finally:
        channel.close()


def task_counts(*, broker: bool = True) -> dict:
    """Tasks by state: queued (broker), running, postponed, retrying, failed, succeeded (stored results)."""
    by_status = dict(TaskResult.objects.filter(status__in=TASK_STATES).values("status")
                     .annotate(count=Count("id")).values_list("status", "count"))
    counts = {"queued": queued_tasks() if broker else None}
    counts.update({name: by_status.get(state, 0) for state, name in TASK_STATES.items()})
    return counts


def latest_failures(limit: int = LATEST_FAILURES) -> list[dict]:
    """The latest failed tasks: name, arguments, when, and the exception's last line as Celery stored it."""
    records = TaskResult.objects.filter(status=states.FAILURE).order_by("-date_done")[:limit]
    return [{
        "task": (record.task_name or "").rsplit(".", 1)[-1],
        "arguments": record.task_kwargs if record.task_kwargs not in (None, "", "{}") else record.task_args,
        "at": record.date_done.isoformat() if record.date_done else None,
        "message": ((record.traceback or record.result or "").strip().splitlines() or [""])[-1],
    } for record in records]


def quotas() -> list[dict]:
    """Every ledger row (credential label, never a token): limit, remaining, allowed to spend, reset.

    A row whose window has ended counts as full again: GitHub resets it, and the ledger re-reads it only when
    a request is sent (this module never calls GitHub).
    """
    now = timezone.now()
    rows = []
    for row in RateLimit.objects.order_by("credential", "resource"):
        remaining = row.rate_limit if row.rate_reset <= now else row.rate_remaining
        rows.append({
            "credential": row.credential, "resource": row.resource, "limit": row.rate_limit,
            "remaining": remaining, "spent": row.rate_limit - remaining,
            "allowed": max(0, remaining - throttle.quota_floor(row.rate_limit)),
            "allowed_per_window": row.rate_limit - throttle.quota_floor(row.rate_limit),
            "reset": row.rate_reset.isoformat(),
        })
    return rows


def collect(*, broker: bool = True) -> CrawlSnapshot:
    """The crawl's status now, as an unsaved snapshot."""
    return CrawlSnapshot(taken_at=timezone.now(), **graph_counts(), tasks=task_counts(broker=broker),
                         quotas=quotas(), failures=latest_failures())


def take_snapshot() -> CrawlSnapshot:
    """Collect and store the status (the beat task, and the dashboard before the first one)."""
    snapshot = collect()
    snapshot.save()
    return snapshot


def prune_snapshots() -> int:
    """Delete snapshots older than SNAPSHOT_KEEP_DAYS; how many were deleted."""
    cutoff = timezone.now() - timedelta(days=settings.SNAPSHOT_KEEP_DAYS)
    deleted, _ = CrawlSnapshot.objects.filter(taken_at__lt=cutoff).delete()
    return deleted


def latest_snapshot() -> CrawlSnapshot | None:
    """The newest stored snapshot."""
    return CrawlSnapshot.objects.order_by("-taken_at").first()


def current_snapshot() -> CrawlSnapshot:
    """The newest snapshot, or a new one when there is none or beat has not taken one for two intervals."""
    snapshot = latest_snapshot()
    interval = settings.CELERY_BEAT_SCHEDULE["crawl-snapshot"]["schedule"]
    if snapshot is None or snapshot.taken_at < timezone.now() - 2 * interval:
        snapshot = take_snapshot()
    return snapshot


def history(since: datetime) -> list[CrawlSnapshot]:
    """Snapshots taken since `since`, oldest first (the index on taken_at)."""
    return list(CrawlSnapshot.objects.filter(taken_at__gte=since).order_by("taken_at"))


def hourly_rates(snapshot: CrawlSnapshot) -> dict:
    """`rates` between `snapshot` and the newest snapshot an hour or more before it (else the oldest kept)."""
    earlier = CrawlSnapshot.objects.filter(taken_at__lte=snapshot.taken_at - timedelta(hours=1)).order_by(
        "-taken_at").first() or CrawlSnapshot.objects.filter(taken_at__lt=snapshot.taken_at).order_by(
        "taken_at").first()
    return rates(snapshot, earlier)


# Derived figures: quota, rates, ETA, what the crawl is waiting for.

def core_quotas(snapshot: CrawlSnapshot) -> list[dict]:
    """The snapshot's ledger rows of GitHub's core bucket (what the crawl spends)."""
    return [row for row in snapshot.quotas if row["resource"] == throttle.CORE]


def quota_left(snapshot: CrawlSnapshot) -> int:
    """Requests this service may still send in the current windows, over every token (core bucket)."""
    return sum(row["allowed"] for row in core_quotas(snapshot))


def next_reset(snapshot: CrawlSnapshot) -> datetime | None:
    """The earliest reset of a core row whose window has not ended."""
    resets = [datetime.fromisoformat(row["reset"]) for row in core_quotas(snapshot)]
    future = [reset for reset in resets if reset > snapshot.taken_at]
    return min(future, default=None)


def rates(later: CrawlSnapshot, earlier: CrawlSnapshot | None) -> dict:
    """Per hour between two snapshots: developers profiled, edges stored, requests spent (within one window)."""
    if earlier is None or later.taken_at <= earlier.taken_at:
        return {"developers_profiled": None, "edges": None, "requests": None}
    hours = (later.taken_at - earlier.taken_at).total_seconds() / 3600
    # Spent in each core window since `earlier`: the row's window then had not ended yet (its reset drifts by
    # seconds before a window's first request, so the reset itself is no key), else a new window counts from 0.
    before = {row["credential"]: row for row in core_quotas(earlier)
              if datetime.fromisoformat(row["reset"]) > later.taken_at}
    spent = sum(row["spent"] - before[row["credential"]]["spent"] if row["credential"] in before else row["spent"]
                for row in core_quotas(later))
    return {
        "developers_profiled": (later.profiled - earlier.profiled) / hours,
        "edges": (later.follows + later.stars - earlier.follows - earlier.stars) / hours,
        "requests": max(0, spent) / hours,
    }


def discovery_schedule() -> crontab | None:
    """The crontab beat runs discovery on, or None when beat does not run it."""
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        if entry["task"] == DISCOVERY_TASK:
            return entry["schedule"]
    return None


def next_discovery(now: datetime) -> datetime | None:
    """When beat next runs discovery after `now`."""
    schedule = discovery_schedule()
    if schedule is None:
        return None
    last_run, until_next, _ = schedule.remaining_delta(now)
    return last_run + until_next


def eta(snapshot: CrawlSnapshot) -> dict:
    """When the frontier as it stands would be crawled, at the quota per hour and discovery's pace.

    Each developer is counted at STUB_COST requests (discovery's own worst-case estimate of a never-synced
    one); discovery queues at most DISCOVERY_BATCH_SIZE per run. The frontier grows as profiles are read, so
    this is a lower bound for a growing crawl.
    """
    frontier = snapshot.never_synced + snapshot.due_for_resync
    per_hour = {"quota": sum(row["allowed_per_window"] for row in core_quotas(snapshot)) / STUB_COST}
    if schedule := discovery_schedule():
        per_hour["discovery"] = settings.DISCOVERY_BATCH_SIZE * len(schedule.minute)
    bound = min(per_hour, key=per_hour.get) if per_hour["quota"] else None
    if not frontier or bound is None or not per_hour[bound]:
        return {"developers": frontier, "per_hour": None, "bound_by": bound, "hours": None, "at": None}
    hours = frontier / per_hour[bound]
    return {"developers": frontier, "per_hour": per_hour[bound], "bound_by": bound, "hours": hours,
            "at": snapshot.taken_at + timedelta(hours=hours)}


def idle_reason(snapshot: CrawlSnapshot) -> str | None:
    """Why nothing is happening (nothing queued, running or retrying), or None while the crawl works."""
    tasks = snapshot.tasks
    if tasks.get("queued") or tasks.get("running") or tasks.get("retrying"):
        return None
    reset = next_reset(snapshot)
    if reset and (tasks.get("postponed") or quota_left(snapshot) <= 0):
        return f"waiting for the quota at {reset:%H:%M} UTC"
    discovery = next_discovery(snapshot.taken_at)
    when = f"at {discovery:%H:%M} UTC" if discovery else "(beat does not run it)"
    if snapshot.never_synced + snapshot.due_for_resync:
        return f"waiting for the next discovery run {when}"
    return f"nothing left to crawl until a resync is due; next discovery run {when}"


def summary(snapshot: CrawlSnapshot) -> str:
    """One line: developers, frontier, tasks, quota, without the rate (which needs two snapshots)."""
    tasks = snapshot.tasks
    queued = "?" if tasks.get("queued") is None else tasks["queued"]
    reset = next_reset(snapshot)
    quota = f"quota left {quota_left(snapshot)}" + (f" (reset {reset:%H:%M} UTC)" if reset else "")
    return (f"developers {snapshot.developers} stored, {snapshot.profiled} profiled, {snapshot.fully_synced} "
            f"fully synced; frontier {snapshot.never_synced} never synced, {snapshot.due_for_resync} due; tasks "
            f"{queued} queued, {tasks.get('running', 0)} running, {tasks.get('postponed', 0)} postponed; {quota}")


class ProgressReport:
    """The status line of a foreground command, compared with the last one: a line only when it changed.

    `idle_reasons`: say why nothing happens (for a process that watches the workers; `crawl` works itself).
    The broker is asked for queued tasks until it fails to answer once.
    """

    def __init__(self, *, idle_reasons: bool = True):
        self.idle_reasons = idle_reasons
        self.broker = True
        self.previous: CrawlSnapshot | None = None
        self.last_line: str | None = None

    def line(self, *, note: str = "") -> str | None:
        """The status now, the rate since the previous line and a note (or why nothing happens); None if the
        same as the previous line."""
        snapshot = collect(broker=self.broker)
        self.broker = snapshot.tasks["queued"] is not None
        parts = [summary(snapshot)]
        rate = rates(snapshot, self.previous)["developers_profiled"]
        if rate is not None:
            parts.append(f"{rate:.0f} profiled/hour")
        if not note and self.idle_reasons:
            note = idle_reason(snapshot) or ""
        text = "; ".join([*parts, note] if note else parts)
        if text == self.last_line:
            return None
        self.last_line = text
        self.previous = snapshot
        return text
