"""Admission: whether a task may start now, from the ledger's budget for the credentials of the client it holds.

Tasks and commands ask here before they spend; the ledger (github/throttle.py) knows credentials only by label
and the client refreshes stale rows, so this module takes the caller's client rather than opening its own.
"""
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from github import throttle
from github.client import GitHubClient

# Postponed tasks wake up spread over this many seconds after a reset, not all in the same second.
JITTER_SECONDS = (1.0, 60.0)


@dataclass(frozen=True)
class Decision:
    """Whether a task may start now; if not, when to try again (a reset plus jitter)."""

    can_start: bool
    allowed: int
    retry_at: datetime | None = None


def allowed_budget(*, client: GitHubClient, resource: str = throttle.CORE) -> int:
    """Units (REST requests, or GraphQL points) this service may still spend now, over every usable credential."""
    rows = throttle.current_rows(client.labels, throttle.refresher(client, resource), resource)
    return sum(max(0, throttle.allowed(row)) for row in rows)


def can_start(estimated_cost: int, *, client: GitHubClient, resource: str = throttle.CORE) -> Decision:
    """Whether a task that needs about `estimated_cost` units of `resource` may start now; if not, when to try
    again.

    A cost above what a whole window allows starts with whatever budget there is: it spans windows anyway
    (its lists continue where they stopped, github/sync.py), and waiting for a full window would wait
    forever while anyone else spends on the token. When GitHub rejected every credential the task starts
    too, and fails loudly with BadCredentials rather than waiting.
    """
    rows = throttle.current_rows(client.labels, throttle.refresher(client, resource), resource)
    budget = sum(max(0, throttle.allowed(row)) for row in rows)
    capacity = sum(max(0, row.rate_limit - throttle.quota_floor(row.rate_limit)) for row in rows)
    needed = estimated_cost if estimated_cost <= capacity else 1
    if budget >= max(1, needed) or all(row.rate_limit == 0 for row in rows):
        return Decision(can_start=True, allowed=budget)
    now = timezone.now()
    earliest_reset = min((row.rate_reset for row in rows), default=now)
    retry_at = max(earliest_reset, now) + timedelta(seconds=random.uniform(*JITTER_SECONDS))
    return Decision(can_start=False, allowed=budget, retry_at=retry_at)
