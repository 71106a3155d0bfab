"""Who is calling, and may they: credentials, the primary quota and the secondary limits.

GitHub counts the primary quota per token (per IP without one) in a window that starts with the
caller's first counted request and ends at ``x-ratelimit-reset``. A request takes its unit when it
is admitted, before it is answered, so that concurrent clients can never overspend; a 304 gives
its unit back afterwards (GitHub does not count conditional hits). GraphQL has a bucket of its own
per token (resource ``graphql``), paid in points once a query's cost is known.
"""

import base64
import hashlib
import math
import threading
import time
from collections import deque
from dataclasses import dataclass

from .replies import error

RATE_LIMIT_DOCS = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
RESOURCE_CORE, RESOURCE_GRAPHQL = "core", "graphql"


@dataclass(frozen=True)
class Limits:  # pylint: disable=too-many-instance-attributes
    """Primary quotas per window: REST's per token (per IP without one), GraphQL's points per
    token; the secondary limits per caller (None = off): requests in flight (REST and GraphQL
    together), REST requests a minute, GraphQL queries a minute (GitHub's 2,000 by default)."""

    rate_limit: int = 5000
    window_seconds: float = 3600
    unauthenticated_limit: int = 60
    secondary_concurrency: int | None = None
    secondary_per_minute: int | None = None
    secondary_retry_after: int = 60
    graphql_limit: int = 5000
    graphql_per_minute: int | None = 2000


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


class _Window:
    """One caller's primary window for one resource (``core`` or ``graphql``)."""

    __slots__ = ("limit", "used", "reset")

    def __init__(self, limit):
        self.limit = limit
        self.used = 0
        self.reset = None        # epoch second the current window ends; None before the first use

    def roll(self, now):
        """Start afresh once the window has ended."""
        if self.reset is not None and now >= self.reset:
            self.used, self.reset = 0, None

    def take(self, units, now, window_seconds):
        """Spend ``units``, opening the window on its first use."""
        if self.reset is None:
            self.reset = math.ceil(now + window_seconds)
        self.used += units


class _Flow:
    """One caller's secondary-limit bookkeeping: requests in flight (REST and GraphQL together, as
    GitHub counts them) and admission times within the last minute, per resource."""

    __slots__ = ("in_flight", "recent")

    def __init__(self):
        self.in_flight = 0
        self.recent = {RESOURCE_CORE: deque(), RESOURCE_GRAPHQL: deque()}


class Ticket:
    """The outcome of admission: a refusal to send, or the right to answer (``counted``: units or
    points taken; ``admitted`` while it holds a concurrency slot)."""

    __slots__ = ("window", "flow", "resource", "counted", "opened", "admitted", "refusal")

    def __init__(self, window, flow, resource):
        self.window = window
        self.flow = flow
        self.resource = resource
        self.opened = None       # the window (its reset) the units were taken from
        self.counted = 0
        self.admitted = False
        self.refusal = None


class Quotas:
    """Every caller's windows (one per resource) and secondary-limit bookkeeping, behind one lock."""

    def __init__(self, limits):
        self.limits = limits
        self._windows = {}       # (resource, bucket key) -> _Window
        self._flows = {}         # bucket key -> _Flow
        self._lock = threading.Lock()

    def _ticket(self, caller, resource, now):
        """A ticket on ``caller``'s window of ``resource`` (callers hold the lock)."""
        key = caller.bucket_key
        window = self._windows.get((resource, key))
        if window is None:
            limit = caller.limit if resource == RESOURCE_CORE else self._graphql_limit(caller)
            window = self._windows[(resource, key)] = _Window(limit)
        flow = self._flows.get(key)
        if flow is None:
            flow = self._flows[key] = _Flow()
        window.roll(now)
        return Ticket(window, flow, resource)

    def _graphql_limit(self, caller):
        """GraphQL needs a token: without one its limit is 0, as ``/rate_limit`` shows it."""
        return self.limits.graphql_limit if caller.user_id is not None else 0

    def admit(self, caller, free):
        """A REST request: take a unit (unless ``free``: ``/rate_limit``) or refuse: primary quota
        spent (nothing taken), secondary limit hit (taken: GitHub saw the request)."""
        now = time.time()
        with self._lock:
            ticket = self._ticket(caller, RESOURCE_CORE, now)
            window = ticket.window
            if free:
                return ticket
            if window.used >= window.limit:
                if not caller.rejected:         # a bad token still gets its 401
                    ticket.refusal = caller.exhausted()
                return ticket
            window.take(1, now, self.limits.window_seconds)
            ticket.counted, ticket.opened = 1, window.reset
            if not caller.rejected:
                self._enter(ticket, self.limits.secondary_per_minute, now)
            return ticket

    def admit_graphql(self, caller):
        """A GraphQL query: only the secondary limits here (``graphql_per_minute`` queries a
        minute, the concurrency shared with REST); its points are taken by :meth:`charge` once
        its cost is known."""
        now = time.time()
        with self._lock:
            ticket = self._ticket(caller, RESOURCE_GRAPHQL, now)
            self._enter(ticket, self.limits.graphql_per_minute, now)
            return ticket

    def charge(self, ticket, points):
        """Take ``points`` from the ticket's window; False (nothing taken) when it cannot pay."""
        now = time.time()
        with self._lock:
            window = ticket.window
            window.roll(now)
            if window.limit - window.used < points:
                return False
            window.take(points, now, self.limits.window_seconds)
            ticket.counted, ticket.opened = points, window.reset
            return True

    def settle(self, ticket, refund=False):
        """Release the concurrency slot, give the units back when ``refund`` (a 304) and it is
        still the same window; returns the ``x-ratelimit-*`` headers as they now stand."""
        with self._lock:
            window = ticket.window
            if ticket.admitted:
                ticket.flow.in_flight -= 1
            if refund and ticket.counted and window.reset == ticket.opened:
                window.used -= ticket.counted
                ticket.counted = 0
            limit, used, reset = self._usage(window, time.time())
        return [("x-ratelimit-limit", str(limit)),
                ("x-ratelimit-remaining", str(max(limit - used, 0))),
                ("x-ratelimit-reset", str(reset)),
                ("x-ratelimit-used", str(used)),
                ("x-ratelimit-resource", ticket.resource)]

    def state(self, ticket):
        """``(limit, used, reset)`` of the ticket's window now (GraphQL's ``rateLimit`` field)."""
        with self._lock:
            return self._usage(ticket.window, time.time())

    def usage(self, caller):
        """``{resource: (limit, used, reset)}`` of the caller, for ``/rate_limit``."""
        now = time.time()
        with self._lock:
            return {resource: self._usage(self._ticket(caller, resource, now).window, now)
                    for resource in (RESOURCE_CORE, RESOURCE_GRAPHQL)}

    def reset(self):
        """A fresh window for every caller (secondary-limit history goes too)."""
        with self._lock:
            self._windows.clear()
            self._flows.clear()

    def _usage(self, window, now):
        window.roll(now)
        reset = window.reset if window.reset is not None else math.ceil(now + self.limits.window_seconds)
        return window.limit, window.used, reset

    def _enter(self, ticket, per_minute, now):
        """Take a concurrency slot, or set GitHub's secondary-limit refusal on the ticket."""
        ticket.refusal = self._secondary(ticket.flow, ticket.resource, per_minute, now)
        if ticket.refusal is None:
            ticket.flow.in_flight += 1
            ticket.admitted = True

    def _secondary(self, flow, resource, per_minute, now):
        """GitHub's 403 with ``retry-after`` when a secondary limit is hit, else None."""
        limits = self.limits
        retry_after = None
        if limits.secondary_concurrency is not None and flow.in_flight >= limits.secondary_concurrency:
            retry_after = limits.secondary_retry_after
        if retry_after is None and per_minute is not None:
            recent = flow.recent[resource]
            while recent and recent[0] <= now - 60:
                recent.popleft()
            if len(recent) >= per_minute:
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
