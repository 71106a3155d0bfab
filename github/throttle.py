"""The quota ledger: GitHub's rate limit per credential, shared by every worker through the database.

Each request takes one unit from a ledger row with one conditional UPDATE before it is sent, so workers on
any number of machines together never spend more than the allowed budget. Rows follow GitHub's
`x-ratelimit-*` headers monotonically, and a row whose window has ended is re-read from `GET /rate_limit`
(free) instead of trusted: a stale row can never postpone work forever.

The ledger knows credentials only by label; the client holds the tokens and does the HTTP. Call the client
outside `transaction.atomic()`: a reservation inside a transaction would hold the row lock, serialising every
worker, and a rollback would hand back quota GitHub has already charged.
"""
import functools
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Case, F, Q, Value, When
from django.db.models.functions import Least
from django.utils import timezone

from github.models import RateLimit

CORE = "core"
# GraphQL's bucket of points per token (github/graphql_client.py), beside REST's `core`.
GRAPHQL = "graphql"
# A rejected token is tried again after its reset, or after this long when its reset has already passed.
REJECTED_RETRY = timedelta(hours=1)
# Before a window's first request GitHub reports a reset that moves with the clock: a reset up to this many
# seconds after the stored one can be the same window.
RESET_DRIFT = 60
# A row with no budget left before its reset is read again from GET /rate_limit (free) at most this often per
# process: GitHub may have started a new window early, and with no request sent no header would tell.
EXHAUSTED_RECHECK_SECONDS = 60.0

Refresh = Callable[[str], None]


@dataclass(frozen=True)
class RateState:
    """One reading of a rate limit, from `x-ratelimit-*` headers or `GET /rate_limit`.

    `observed_at` is GitHub's clock (the `Date` header): comparing it with a stored reset tells a new window
    from a reading taken before the current window started, whatever our own clock says.
    """

    limit: int
    remaining: int
    reset: int
    observed_at: datetime
    resource: str = CORE

    @property
    def reset_at(self) -> datetime:
        """The reset as an aware datetime."""
        return datetime.fromtimestamp(self.reset, tz=UTC)


@dataclass(frozen=True)
class Reservation:
    """`units` taken from a credential's row (one REST request, or a GraphQL query's points), in the window that
    row was in; `limit` and `remaining` are the row's right after they were taken (what `settle` compares
    GitHub's answer with)."""

    label: str
    resource: str
    reset: int
    limit: int
    remaining: int
    units: int = 1

    @property
    def reset_at(self) -> datetime:
        """The reset of the reservation's window as an aware datetime."""
        return datetime.fromtimestamp(self.reset, tz=UTC)


def quota_floor(limit: int) -> int:
    """The part of `limit` this service leaves to others: (1 - GITHUB_QUOTA_FRACTION) x limit, rounded up."""
    return math.ceil(round((1 - settings.GITHUB_QUOTA_FRACTION) * limit, 6))


def allowed(row: RateLimit) -> int:
    """What this service may still spend from `row` in its window (negative when over the floor)."""
    return row.rate_remaining - quota_floor(row.rate_limit)


def record(label: str, state: RateState) -> None:
    """Fold a reading into the ledger, never rolling it back within a window.

    A reading of a later window replaces the row once the stored window has ended by GitHub's clock;
    otherwise (same window, or a window that had not started when the row was read) `remaining` only goes
    down, so in-flight reservations and older responses arriving late are never undone. One exception: GitHub
    reports more remaining than the row, before the row's reset, with a reset that no drift of one window
    explains (more than RESET_DRIFT later, or earlier and sent by GitHub after the reading the row holds, which
    a late answer of an old window never is; both times are GitHub's clock, so local clock skew plays no part).
    GitHub then started another window early (GitHub Enterprise Server restarts and reconfigurations do), and
    the ledger takes GitHub's window rather than waiting out its own.
    """
    fields = {
        "rate_limit": state.limit,
        "rate_remaining": state.remaining,
        "rate_reset_raw": state.reset,
        "rate_reset": state.reset_at,
        "updated": timezone.now(),  # .update() skips auto_now: the time must move with the count
        "read_at": state.observed_at,
    }
    # One UPDATE for both cases (it runs after every request): a later window replaces `remaining`, the same
    # window only lowers it; a reading of an older window matches neither and changes nothing.
    later_window = Q(rate_reset_raw__lt=state.reset, rate_reset__lte=state.observed_at)
    same_window = Q(rate_reset_raw=state.reset) | Q(rate_reset_raw__lt=state.reset, rate_reset__gt=state.observed_at)
    other_reset = (Q(rate_reset_raw__lt=state.reset - RESET_DRIFT)
                   | Q(rate_reset_raw__gt=state.reset, read_at__lt=state.observed_at))
    moved_early = Q(rate_reset__gt=state.observed_at, rate_remaining__lt=state.remaining) & other_reset
    remaining = Case(When(later_window | moved_early, then=Value(state.remaining)),
                     default=Least(F("rate_remaining"), Value(state.remaining)))
    rows = RateLimit.objects.filter(later_window | same_window | moved_early, credential=label,
                                    resource=state.resource)
    if rows.update(**fields | {"rate_remaining": remaining}):
        return
    RateLimit.objects.get_or_create(credential=label, resource=state.resource, defaults=fields)


def mark_rejected(label: str, resource: str = CORE) -> None:
    """Skip a credential GitHub refused (401) until its reset, or for REJECTED_RETRY if that has passed.

    A limit of 0 marks the row as rejected: GitHub never reports one.
    """
    retry_at = timezone.now() + REJECTED_RETRY
    rejected = {"rate_limit": 0, "rate_remaining": 0, "updated": timezone.now()}
    row, created = RateLimit.objects.get_or_create(
        credential=label,
        resource=resource,
        defaults=rejected | {"rate_reset_raw": int(retry_at.timestamp()), "rate_reset": retry_at},
    )
    if created:
        return
    rows = RateLimit.objects.filter(pk=row.pk)
    rows.update(**rejected)
    rows.filter(rate_reset__lte=timezone.now()).update(rate_reset_raw=int(retry_at.timestamp()), rate_reset=retry_at)


def all_rejected(labels: Sequence[str], resource: str = CORE) -> bool:
    """Whether GitHub rejected every one of these credentials: an error to fix, not a quota to wait for."""
    rows = RateLimit.objects.filter(credential__in=labels, resource=resource)
    return len(labels) == rows.filter(rate_limit=0).count()


def reserve(labels: Sequence[str], refresh: Refresh, resource: str = CORE, units: int = 1) -> Reservation | None:
    """Take `units` from the credential with the most allowed budget; None when no credential has that many.

    The UPDATE only succeeds while the row still has budget, so concurrent workers cannot overspend; losing
    such a race re-reads the rows. That loop ends: every lost race means somebody else took a unit.
    """
    seen = _last_seen.get((labels[0], resource)) if len(labels) == 1 else None
    # One credential whose row was read in a window that has not ended: take a unit straight away. The window
    # and limit are conditions of the UPDATE, so a row refreshed, rejected (limit 0) or moved to another
    # window since matches nothing, and the rows are read as below.
    if seen and seen.rate_reset > timezone.now() and (reservation := _take(seen, units)):
        return reservation
    rows = current_rows(labels, refresh, resource)
    while True:
        _remember_rows(rows)
        candidates = sorted((row for row in rows if allowed(row) >= units), key=allowed, reverse=True)
        if not candidates:
            return None
        for row in candidates:
            if reservation := _take(row, units):
                return reservation
        rows = list(RateLimit.objects.filter(credential__in=labels, resource=resource))


# (label, resource) -> the row this process last read: where a single credential's next unit is taken from.
_last_seen: dict[tuple[str, str], RateLimit] = {}


def _remember_rows(rows: Sequence[RateLimit]) -> None:
    for row in rows:
        _last_seen[row.credential, row.resource] = row


def _take(row: RateLimit, units: int = 1) -> Reservation | None:
    """Take `units` from `row` if it is still in the window and limit read and above the floor: one statement.

    Hand-written SQL, as the per-request statements of the ledger are the hottest in a crawl; UPDATE ...
    RETURNING (PostgreSQL, SQLite >= 3.35) also tells what is left, which `settle` needs.
    """
    table = connection.ops.quote_name(RateLimit._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET rate_remaining = rate_remaining - %s, updated = %s WHERE credential = %s "
            "AND resource = %s AND rate_limit = %s AND rate_reset_raw = %s AND rate_remaining >= %s "
            "RETURNING rate_remaining",
            [units, connection.ops.adapt_datetimefield_value(timezone.now()), row.credential, row.resource,
             row.rate_limit, row.rate_reset_raw, quota_floor(row.rate_limit) + units],
        )
        taken = cursor.fetchone()
    if taken is None:
        return None
    return Reservation(label=row.credential, resource=row.resource, reset=row.rate_reset_raw, limit=row.rate_limit,
                       remaining=taken[0], units=units)


def settle(reservation: Reservation, state: RateState) -> None:
    """Fold GitHub's answer to a reserved request into the ledger, unless it tells nothing new.

    An answer from the reservation's own window and limit that leaves at least as much as the reservation
    did is skipped: the row is at most what the reservation left, so min(row, answer) would change nothing,
    and the usual request saves a statement. Any other answer (a new window, another application spending on
    the token) is recorded. The one gap: units of uncharged 304s given back after the reservation can lift the
    row above what the reservation left, so while another application spends on the same token the ledger can
    stay that many units (at most the requests in flight, one per worker) above GitHub's figure until the
    next answer below its reservation corrects it; GitHub's own 403 still guards its limit.
    """
    if (state.resource == reservation.resource and state.reset == reservation.reset
            and state.limit == reservation.limit and state.remaining >= reservation.remaining):
        return
    record(reservation.label, state)


def refund(reservation: Reservation, units: int = 1) -> None:
    """Give back `units` GitHub did not charge (a 304; a GraphQL query charged less than reserved), unless the
    reservation's window has ended since.

    The row's reset may have moved on within the same window (it drifts until a window's first request),
    so the test is the reservation's own reset still being ahead, not an equal reset.
    """
    if units < 1 or timezone.now() >= reservation.reset_at:
        return
    RateLimit.objects.filter(
        credential=reservation.label,
        resource=reservation.resource,
        rate_reset_raw__gte=reservation.reset,
        rate_remaining__lte=F("rate_limit") - units,
    ).update(rate_remaining=F("rate_remaining") + units, updated=timezone.now())


def current_rows(labels: Sequence[str], refresh: Refresh, resource: str = CORE) -> list[RateLimit]:
    """The rows of `labels` in that order, each one missing or past its reset first re-read by `refresh`."""
    rows = _rows(labels, resource)
    now = timezone.now()
    stale = [label for label in labels if label not in rows or rows[label].rate_reset <= now
             or _recheck_due(rows[label])]
    if not stale:
        return [rows[label] for label in labels]
    if labels[0] not in rows and resource == CORE:
        _claim_row_one(labels)
    for label in stale:
        refresh(label)
    rows = _rows(labels, resource)
    return [rows[label] for label in labels if label in rows]


# (label, resource) -> when this process first found the row without budget (time.monotonic()), or last re-read it.
_exhausted_since: dict[tuple[str, str], float] = {}


def _recheck_due(row: RateLimit) -> bool:
    """Whether to re-read a row that has had no budget for EXHAUSTED_RECHECK_SECONDS (a rejected one waits)."""
    key = row.credential, row.resource
    if allowed(row) >= 1 or row.rate_limit == 0:
        _exhausted_since.pop(key, None)
        return False
    now = time.monotonic()
    since = _exhausted_since.setdefault(key, now)
    if now - since < EXHAUSTED_RECHECK_SECONDS:
        return False
    _exhausted_since[key] = now
    return True


def refresher(client, resource: str = CORE) -> Refresh:
    """The client's free re-read of one bucket from GET /rate_limit, as `current_rows` calls it."""
    if resource == CORE:
        return client.refresh_rate_limit
    return functools.partial(client.refresh_rate_limit, resource=resource)


def _rows(labels: Sequence[str], resource: str) -> dict[str, RateLimit]:
    return {row.credential: row for row in RateLimit.objects.filter(credential__in=labels, resource=resource)}


def _claim_row_one(labels: Sequence[str]) -> None:
    """Keep id 1 the first credential's core row after a token change: relabel row 1 if nobody uses it.

    The relabelled row is marked stale (reset at the epoch), so the refresh that follows overwrites it.
    """
    epoch = datetime.fromtimestamp(0, tz=UTC)
    try:
        with transaction.atomic():
            RateLimit.objects.filter(pk=1, resource=CORE).exclude(credential__in=labels).update(
                credential=labels[0], rate_reset_raw=0, rate_reset=epoch
            )
    except IntegrityError:
        pass  # another worker created the first credential's row meanwhile; it keeps its own id
