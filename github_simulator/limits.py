"""Who is calling, and may they: credentials, the primary quota and the secondary limits.

GitHub counts the primary quota per token (per IP without one) in a window that starts with the
caller's first counted request and ends at ``x-ratelimit-reset``. A request takes its unit when it
is admitted, before it is answered, so that concurrent clients can never overspend; a 304 gives
its unit back afterwards (GitHub does not count conditional hits).
"""

import base64
import hashlib
import math
import threading
import time
from collections import deque
from dataclasses import dataclass

from .api import error

RATE_LIMIT_DOCS = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"


@dataclass(frozen=True)
class Limits:
    """Primary quota per window (per token / per IP without one) and the optional secondary
    limits per caller (None = off)."""

    rate_limit: int = 5000
    window_seconds: float = 3600
    unauthenticated_limit: int = 60
    secondary_concurrency: int | None = None
    secondary_per_minute: int | None = None
    secondary_retry_after: int = 60


def token_label(token):
    """The statistics label of ``token``: a short hash, so statistics never leak credentials."""
    return "token:" + hashlib.sha256(token.encode()).hexdigest()[:10]


class Caller:
    """The identity a request's quota is charged to."""

    __slots__ = ("label", "limit", "user_id", "ip", "rejected")

    def __init__(self, label, limit, ip, user_id=None, rejected=False):
        self.label = label           # statistics key; never the raw token
        self.limit = limit
        self.ip = ip
        self.user_id = user_id       # for "API rate limit exceeded for user ID N."; None: anonymous
        self.rejected = rejected     # bad credentials: answer 401

    @classmethod
    def identify(cls, authorization, client_ip, tokens, limits):
        """``Authorization: token X``, ``Bearer X`` or basic ``user:X``. With ``tokens``, only those
        are accepted; bad credentials are charged to the IP, like any unauthenticated request."""
        if not authorization:
            return cls("anonymous", limits.unauthenticated_limit, client_ip)
        scheme, _, value = authorization.strip().partition(" ")
        scheme, value, token = scheme.lower(), value.strip(), None
        if scheme in ("token", "bearer"):
            token = value
        elif scheme == "basic":
            try:
                _, _, token = base64.b64decode(value, validate=True).decode().partition(":")
            except ValueError:
                token = None
        if not token or (tokens and token not in tokens):
            return cls("invalid", limits.unauthenticated_limit, client_ip, rejected=True)
        label = token_label(token)
        return cls(label, limits.rate_limit, client_ip, user_id=int(label[6:13], 16))

    @property
    def bucket_key(self):
        """Quotas are per token, and per IP for everything without a valid token."""
        return self.label if self.user_id is not None else f"ip:{self.ip}"

    def exhausted(self):
        """GitHub's 403 for a spent primary quota."""
        if self.user_id is not None:
            message = f"API rate limit exceeded for user ID {self.user_id}."
        else:
            message = (f"API rate limit exceeded for {self.ip}. (But here's the good news: Authenticated "
                       "requests get a higher rate limit. Check out the documentation for more details.)")
        return error(403, message, RATE_LIMIT_DOCS + "#about-the-primary-rate-limit")


class _Bucket:
    """One caller's primary window and secondary-limit bookkeeping."""

    __slots__ = ("limit", "used", "reset", "in_flight", "recent")

    def __init__(self, limit):
        self.limit = limit
        self.used = 0
        self.reset = None        # epoch second the current window ends; None before the first use
        self.in_flight = 0
        self.recent = deque()    # admission times within the last minute

    def roll(self, now):
        """Start afresh once the window has ended."""
        if self.reset is not None and now >= self.reset:
            self.used, self.reset = 0, None


class Ticket:
    """The outcome of admission: a refusal to send, or the right to answer (``counted`` when a
    unit was taken, ``admitted`` while it holds a concurrency slot)."""

    __slots__ = ("bucket", "window", "counted", "admitted", "refusal")

    def __init__(self, bucket):
        self.bucket = bucket
        self.window = None
        self.counted = False
        self.admitted = False
        self.refusal = None


class Quotas:
    """Every caller's bucket, behind one lock."""

    def __init__(self, limits):
        self.limits = limits
        self._buckets = {}
        self._lock = threading.Lock()

    def admit(self, caller, free):
        """Take a unit (unless ``free``: ``/rate_limit``) or refuse: primary quota spent (nothing
        taken), secondary limit hit (taken: GitHub saw the request)."""
        now = time.time()
        with self._lock:
            bucket = self._buckets.get(caller.bucket_key)
            if bucket is None:
                bucket = self._buckets[caller.bucket_key] = _Bucket(caller.limit)
            bucket.roll(now)
            ticket = Ticket(bucket)
            if free:
                return ticket
            if bucket.used >= bucket.limit:
                if not caller.rejected:         # a bad token still gets its 401
                    ticket.refusal = caller.exhausted()
                return ticket
            if bucket.reset is None:
                bucket.reset = math.ceil(now + self.limits.window_seconds)
            bucket.used += 1
            ticket.counted, ticket.window = True, bucket.reset
            if not caller.rejected:
                ticket.refusal = self._secondary(bucket, now)
                if ticket.refusal is None:
                    bucket.in_flight += 1
                    ticket.admitted = True
            return ticket

    def settle(self, ticket, refund):
        """Release the concurrency slot, give the unit back when ``refund`` (a 304) and it is still
        the same window; returns the ``x-ratelimit-*`` headers as they now stand."""
        bucket = ticket.bucket
        with self._lock:
            if ticket.admitted:
                bucket.in_flight -= 1
            if refund and ticket.counted and bucket.reset == ticket.window:
                bucket.used -= 1
                ticket.counted = False
            now = time.time()
            bucket.roll(now)
            reset = bucket.reset if bucket.reset is not None else math.ceil(now + self.limits.window_seconds)
            used = bucket.used
        return [("x-ratelimit-limit", str(bucket.limit)),
                ("x-ratelimit-remaining", str(max(bucket.limit - used, 0))),
                ("x-ratelimit-reset", str(reset)),
                ("x-ratelimit-used", str(used)),
                ("x-ratelimit-resource", "core")]

    def usage(self, ticket):
        """``(limit, used, reset)`` of the caller, for ``/rate_limit``."""
        with self._lock:
            bucket = ticket.bucket
            bucket.roll(time.time())
            return bucket.limit, bucket.used, bucket.reset or math.ceil(time.time() + self.limits.window_seconds)

    def reset(self):
        """A fresh window for every caller (secondary-limit history goes too)."""
        with self._lock:
            self._buckets.clear()

    def _secondary(self, bucket, now):
        """GitHub's 403 with ``retry-after`` when a secondary limit is hit, else None."""
        limits = self.limits
        retry_after = None
        if limits.secondary_concurrency is not None and bucket.in_flight >= limits.secondary_concurrency:
            retry_after = limits.secondary_retry_after
        if retry_after is None and limits.secondary_per_minute is not None:
            recent = bucket.recent
            while recent and recent[0] <= now - 60:
                recent.popleft()
            if len(recent) >= limits.secondary_per_minute:
                retry_after = max(1, math.ceil(recent[0] + 60 - now))
            else:
                recent.append(now)
        if retry_after is None:
            return None
        reply = error(403, "You have exceeded a secondary rate limit. Please wait a few minutes before you try "
                           "again. If you reach out to GitHub Support for help, please include the request ID.",
                      RATE_LIMIT_DOCS + "#about-secondary-rate-limits")
        reply.headers.append(("Retry-After", str(retry_after)))
        return reply
