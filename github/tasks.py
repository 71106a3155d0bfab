"""Celery tasks: thin wrappers that take primitive arguments, call the sync services, and own the policy for
quota (postpone), GitHub hiccups (retry with backoff and jitter) and failure.

Postponing is never an error: a task that the quota cannot pay for now re-enqueues itself with the same id and
arguments for the reset time plus jitter, and shows the state POSTPONED meanwhile. A task that the ledger stops
part-way raises HttpErrorException("API rate limit exceeded") and ends FAILED: nothing was half-replaced.
"""
import json
import random
import uuid
from datetime import timedelta

import kombu.exceptions
from celery import Task, shared_task, states
from celery.exceptions import Ignore, Retry
from celery.utils.log import get_task_logger
from celery.utils.time import get_exponential_backoff_interval
from django.conf import settings
from django.db import IntegrityError, OperationalError, transaction
from django.utils import timezone
from django_celery_results.models import TaskResult

from github import admission, discovery, graphql_sync, ingest, rank, status, sync, throttle
from github.client import (
    GitHubClient,
    HttpErrorException,
    NotFound,
    RateLimitExhausted,
    SecondaryRateLimit,
    TransientError,
)
from github.models import Developer
from github.status import POSTPONED

logger = get_task_logger(__name__)

# RabbitMQ closes a channel holding an unacknowledged message longer than its consumer timeout (30 minutes by
# default), and a task waiting for its ETA is such a message: a longer wait is taken in several hops.
MAX_POSTPONE_HOP = timedelta(minutes=20)
# Races with a concurrent sync of the same developers (a unique name moving between rows) and database
# hiccups are worth another try too.
RETRYABLE_DATABASE_ERRORS = (IntegrityError, OperationalError)


class GitHubTask(Task):  # pylint: disable=abstract-method  # a base: each task's function is its run()
    """Base of the sync tasks: bounded retries and postponement. Late acknowledgement (a killed worker's task is
    redelivered) is every task's, in settings (CELERY_TASK_ACKS_LATE, CELERY_TASK_REJECT_ON_WORKER_LOST)."""

    # With backoff()'s waits, the retries of a task GitHub (or the database) fails every time span 20 minutes at
    # least: an outage of ten minutes costs time, not the task.
    max_retries = 10

    def backoff(self) -> float:
        """Seconds before the next retry: Celery's exponential step (5 s doubling, at most 600), with equal jitter
        (at least half the step). Not Celery's full jitter, which may draw 0 every time: the total wait needs a
        floor for the promise above."""
        step = get_exponential_backoff_interval(factor=5, retries=self.request.retries, maximum=600)
        return random.uniform(step / 2, step)

    def postpone(self, retry_at) -> Ignore:
        """Re-enqueue this very task (same id, same arguments) for `retry_at` and show POSTPONED; returns the
        Ignore for the caller to raise (`raise self.postpone(...)`), which ends this run leaving that state."""
        eta = min(retry_at, timezone.now() + MAX_POSTPONE_HOP)
        self.apply_async(args=self.request.args, kwargs=self.request.kwargs, task_id=self.request.id, eta=eta)
        self.update_state(state=POSTPONED, meta={"retry_at": retry_at.isoformat(), "eta": eta.isoformat(),
                                                 "reason": "waiting for GitHub quota"})
        logger.info("%s postponed until %s", self.name, retry_at.isoformat())
        return Ignore()

    def run_sync(self, client, estimate_cost, work):
        """Run `work()` if the quota allows `estimate_cost()` ({bucket: units}) on `client`'s credentials now;
        postpone or retry as GitHub requires.

        The estimate and the quota check read the database too, so they sit inside the retry policy: a worker
        starting a task while PostgreSQL restarts retries it instead of failing it for good.
        """
        try:
            for resource, cost in estimate_cost().items():
                decision = admission.can_start(cost, client=client, resource=resource)
                if not decision.can_start:
                    raise self.postpone(decision.retry_at)
            return work()
        except RateLimitExhausted as error:
            # GitHub says the quota is spent although the ledger allowed it (another app shares the token).
            reset_at = error.reset_at or timezone.now() + timedelta(minutes=5)
            raise self.postpone(reset_at + timedelta(seconds=random.uniform(*admission.JITTER_SECONDS))) from error
        except SecondaryRateLimit as error:
            raise self.retry(exc=error, countdown=error.retry_after + random.uniform(1, 30)) from error
        except (TransientError, *RETRYABLE_DATABASE_ERRORS) as error:
            raise self.retry(exc=error, countdown=self.backoff()) from error


def sync_profile(client: GitHubClient, login: str) -> ingest.SyncResult:
    """A full profile sync through the transport GITHUB_API_MODE chooses, failing for a login GitHub does not
    have and nobody stored: a typo is an error to report, while a developer the crawl knew and GitHub lost is
    marked gone (a row is left) and succeeds."""
    return found(login, graphql_sync.full_profile_sync(client=client, login=login))


def found(login: str, result: ingest.SyncResult) -> ingest.SyncResult:
    """`result` of syncing `login`, or NotFound when GitHub does not have it and nobody stored it (a typo)."""
    if result.gone and not Developer.objects.named(login).exists():
        raise NotFound(f"GitHub has no user or organisation '{login}'", status=404)
    return result


@shared_task(bind=True, base=GitHubTask)
def full_profile_sync(self, username):
    """Sync a developer: profile, followers, following, starred and owned repositories, their stargazers."""
    with GitHubClient() as client:
        return _sync_claimed(self, client, [username], lambda: sync_profile(client, username).as_dict(),
                             follow_up=lambda logins, eta: enqueue(full_profile_sync, eta=eta, username=logins[0]))


@shared_task(bind=True, base=GitHubTask)
def sync_developers(self, usernames):
    """Full profile syncs of several developers in one task, as discovery queues the never-synced ones in a
    GraphQL mode: their cold syncs share GraphQL queries (the first pages of many developers in one point)
    where a task each would pay a query each.

    Those fully synced that the mode no longer reads through GraphQL are skipped: a delivery of this same task
    before (its worker killed part-way) synced them, and syncing them again now would pay REST's price for lists
    just read whole. One that delivery left part-way (a REST sync of an organisation, say) is synced again.
    Which are due is read inside the retry policy: a database restart at the task's start retries it.
    """
    def work():
        wanted = set(graphql_sync.read_through_graphql(usernames)) | set(discovery.not_fully_synced(usernames))
        due = [login for login in usernames if login in wanted]
        results = graphql_sync.sync_developers(client, due)
        return {"developers": [found(login, result).as_dict() for login, result in zip(due, results, strict=True)],
                "skipped": [login for login in usernames if login not in due]}

    with GitHubClient() as client:
        return _sync_claimed(self, client, usernames, work,
                             follow_up=lambda logins, eta: enqueue(sync_developers, eta=eta, usernames=logins))


def _sync_claimed(task, client: GitHubClient, logins, work, *, follow_up):
    """Run `work()` for these developers, whom discovery may have claimed, then release them.

    Stopped part-way by the ledger, the task ends FAILED with the product's message, but the lists it did not
    reach are not given up: a profile read makes a developer synced, so discovery would not choose it again for
    DISCOVERY_RESYNC_HOURS. `follow_up(logins, eta)` queues a fresh sync of those not fully synced for when the
    quota is back instead, and they keep their claims.
    """
    try:
        outcome = task.run_sync(client, lambda: _estimated_costs(logins), work)
    except (Retry, Ignore):
        raise  # retried or postponed: still queued, so discovery must not queue it again
    except HttpErrorException:
        unfinished = discovery.not_fully_synced(logins)
        discovery.release_claims(set(logins) - set(unfinished))
        decision = admission.can_start(discovery.STUB_COST, client=client)
        eta = decision.retry_at if not decision.can_start else timezone.now()
        if unfinished:
            follow_up(unfinished, eta + timedelta(seconds=random.uniform(*admission.JITTER_SECONDS)))
        raise
    except Exception:
        discovery.release_claims(logins)
        raise
    discovery.release_claims(logins)
    return outcome


def _estimated_costs(logins) -> dict[str, int]:
    """{bucket: units} the syncs of these developers may cost together."""
    costs = {}
    for login in logins:
        for resource, cost in graphql_sync.estimate_profile_costs(login).items():
            costs[resource] = costs.get(resource, 0) + cost
    return costs


@shared_task(bind=True, base=GitHubTask)
def full_repository_sync(self, username, repo_name):
    """Sync a repository (full payload), its owner and its stargazers."""
    with GitHubClient() as client:
        return self.run_sync(
            client,
            lambda: {throttle.CORE: discovery.estimate_repository_cost(username, repo_name)},
            lambda: sync.full_repository_sync(client=client, owner=username, name=repo_name).as_dict(),
        )


def enqueue(task, *, eta=None, **arguments) -> TaskResult:
    """Send `task` with these keyword arguments (to start at `eta`, when given) and record it PENDING, so
    /github/task_runs/ lists it from the moment it is queued, whoever queued it (the API, discovery, or a sync
    the quota stopped part-way queueing its follow-up).

    Sent before it is recorded: a broker that is down raises kombu's OperationalError and leaves no record
    behind, and a process that dies in between leaves none either, since the worker stores the task's own
    record when it starts it (get_or_create: it may already have).
    """
    task_id = str(uuid.uuid4())
    task.apply_async(kwargs=arguments, task_id=task_id, eta=eta)
    record, _ = TaskResult.objects.get_or_create(task_id=task_id, defaults={
        "task_name": task.name, "status": states.PENDING, "task_args": "[]", "task_kwargs": json.dumps(arguments),
    })
    return record


@shared_task
def discovery_scraper(count=None):
    """Queue syncs of whom to crawl next: `count` developers (DISCOVERY_BATCH_SIZE when not given), as many of
    them as the allowed budget pays for."""
    with GitHubClient() as client:
        budget = admission.allowed_budget(client=client)
    batch = discovery.choose_discovery_batch(budget=budget, limit=count or settings.DISCOVERY_BATCH_SIZE,
                                             estimate=graphql_sync.estimate_rest_cost)
    logins = [developer.login for developer in batch]
    # Never-synced developers that GraphQL reads go together in one task (their queries are shared); the others
    # (re-syncs through REST's conditional requests, every sync in rest mode) are a task each.
    together = [developer.login for developer in batch if graphql_sync.uses_graphql(developer)]
    sends = [(sync_developers, together, {"usernames": together})] if len(together) > 1 else []
    sends += [(full_profile_sync, [login], {"username": login}) for login in logins
              if len(together) < 2 or login not in together]
    transaction.on_commit(lambda: _send_claimed(sends))
    logger.info("discovery queued %d developers (allowed budget %d): %s", len(logins), budget, ", ".join(logins))
    return {"queued": logins, "allowed_budget": budget}


def _send_claimed(sends) -> None:
    """enqueue each (task, logins, arguments) of discovery's; when the broker refuses one, the claims of the
    developers not sent are released before the error goes on, so that discovery chooses them again instead of
    leaving them claimed, and never synced, until the claims expire (DISCOVERY_CLAIM_SECONDS)."""
    for index, (task, _logins, arguments) in enumerate(sends):
        try:
            enqueue(task, **arguments)
        except kombu.exceptions.OperationalError:
            discovery.release_claims(login for _task, unsent, _arguments in sends[index:] for login in unsent)
            raise


@shared_task
def crawl_snapshot():
    """Record the crawl's status for the dashboard and /metrics, and drop snapshots past SNAPSHOT_KEEP_DAYS."""
    snapshot = status.take_snapshot()
    return {"taken_at": snapshot.taken_at.isoformat(), "pruned": status.prune_snapshots()}


@shared_task
def rank_graph():
    """Recompute every developer's PageRank and every repository's score (beat: daily by default)."""
    return rank.compute_and_store().as_dict()


@shared_task
def heart_beat_task():
    """Logs "ping" every minute: a sign that beat and a worker are alive."""
    logger.info("ping")
    return "ping"
