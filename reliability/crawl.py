"""Drive a whole crawl through whatever Celery workers consume the queue, the way production runs it: the seed's
sync, then discovery rounds (each queues the next batch of never-synced developers) until none is left.

Used by the CI fault tests (a worker in the test process) and by reliability/crawl_faults.py (worker
subprocesses that get killed). A round waits until every claim discovery made has ended: a claim ends when
its sync ends, so a sync redelivered after its worker was killed, retried after a 502 or postponed for quota
keeps the round open until it has really finished.
"""
import time

from celery import states
from django.conf import settings
from django.db import DatabaseError, connection
from django_celery_results.models import TaskResult
from kombu.exceptions import OperationalError as BrokerError

from github import tasks
from github.models import Developer
from github.status import POSTPONED

# What the driver itself meets while the database or the broker restarts: it waits and asks again.
OUTAGES = (DatabaseError, BrokerError, ConnectionError, OSError)
# The states a task shows between its first start and its end.
IN_FLIGHT = (states.STARTED, states.RETRY, POSTPONED)


def _through_outages(function, deadline):
    while True:
        try:
            return function()
        except OUTAGES:
            if time.monotonic() > deadline:
                raise
            connection.close()
            time.sleep(1.0)


def _wait(condition, deadline, what, poll):
    while not _through_outages(condition, deadline):
        if time.monotonic() > deadline:
            raise TimeoutError(f"crawl timed out waiting for {what}")
        time.sleep(poll)


def drive_crawl(seed: str, *, timeout: float, poll: float = 0.2, on_round=None) -> dict:
    """Crawl the world reachable from `seed`; returns rounds, syncs queued and seconds taken."""
    started = time.monotonic()
    deadline = started + timeout
    first = _through_outages(lambda: tasks.full_profile_sync.delay(seed), deadline)
    _wait(lambda: TaskResult.objects.filter(task_id=first.id, status__in=states.READY_STATES).exists(),
          deadline, "the seed's sync", poll)
    rounds = queued = 0
    stubs = Developer.objects.filter(profile_synced_at__isnull=True, gone_at__isnull=True)
    claimed = Developer.objects.filter(sync_queued_at__isnull=False)
    while _through_outages(stubs.exists, deadline):
        # Queues on commit: at once, in autocommit.
        batch = _through_outages(lambda: tasks.discovery_scraper.apply().get()["queued"], deadline)
        rounds += 1
        queued += len(batch)
        if on_round:
            on_round(rounds, queued)
        if not batch:  # nothing affordable now: the quota comes back at its reset
            time.sleep(max(poll, 1.0))
        _wait(lambda: not claimed.exists(), deadline, f"round {rounds} ({len(batch)} syncs)", poll)
    # The last claim can end before the last task does: a sync the broker redelivered because its ack was lost
    # in a broker cut runs a second time, and may be retrying after its first delivery ended the claim.
    in_flight = TaskResult.objects.filter(status__in=IN_FLIGHT)
    _wait(lambda: not in_flight.exists(), deadline, "the tasks still in flight", poll)
    return {"rounds": rounds, "syncs_queued": queued + 1, "seconds": round(time.monotonic() - started, 1),
            "batch_size": settings.DISCOVERY_BATCH_SIZE}


def failed_tasks() -> list[str]:
    """Tasks that ended FAILURE (permanently: retries exhausted or not retryable), with their errors."""
    return [f"{row.task_name}{row.task_kwargs or row.task_args}: {row.result}"
            for row in TaskResult.objects.filter(status=states.FAILURE)]
