"""Failures only GraphQL has, and a token revoked mid-run: off by default, for reliability runs.

REST's faults (502, 503, dropped connections, slow answers) apply to GraphQL too (``server.py``);
these are the ones that look different there, drawn per query from their own seeded generator:

- ``rate_limited``: another application spends the rest of the token's GraphQL window, so the query
  answers GitHub's HTTP 200 with a ``RATE_LIMITED`` error and ``x-ratelimit-remaining: 0`` (and
  ``/rate_limit`` agrees) until the window resets;
- ``timeout``: the query runs, its points are charged, and it answers GitHub's 502 timeout;
- ``502``, ``503``: a gateway error before the query runs (no points);
- ``secondary``: GitHub's 403 secondary-limit answer with ``retry-after`` (no points);
- ``not_found``: one top-level alias of the answer (a ``user``/``node`` field, not a ``nodes``
  list) is null with a ``NOT_FOUND`` error about it, as for a login renamed or gone meanwhile.

``revoke_after``: after that many API requests (REST and GraphQL together) the first configured
token is revoked: every later request with it answers 401, as when its owner deletes it.
"""

import random
import threading

from .graphql_rules import github_error
from .limits import RATE_LIMIT_DOCS, token_label
from .replies import error

GRAPHQL_FAULT_KINDS = ("rate_limited", "timeout", "502", "503", "secondary", "not_found")
#: Kinds answered before the query runs, without charging its points.
REFUSALS = ("502", "503", "secondary")


class GraphQLFaults:
    """Which GraphQL fault, if any, a query meets (``rate`` of queries, ``kinds`` in equal shares)."""

    def __init__(self, rate=0.0, kinds=GRAPHQL_FAULT_KINDS, seed=0):
        if not 0.0 <= rate <= 1.0:
            raise ValueError("graphql_fault_rate must be between 0 and 1")
        if not kinds or set(kinds) - set(GRAPHQL_FAULT_KINDS):
            raise ValueError(f"graphql_fault_kinds must be a non-empty subset of {GRAPHQL_FAULT_KINDS}")
        self.rate, self.kinds = rate, tuple(kinds)
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self.injected = dict.fromkeys(self.kinds, 0)

    def draw(self):
        """The fault kind of the next query, or None."""
        if not self.rate:
            return None
        with self._lock:
            if self._random.random() >= self.rate:
                return None
            kind = self._random.choice(self.kinds)
            self.injected[kind] += 1
            return kind

    @staticmethod
    def refusal(kind, retry_after):
        """The answer of a fault in :data:`REFUSALS`."""
        if kind == "secondary":
            reply = error(403, "You have exceeded a secondary rate limit. Please wait a few minutes before you try "
                               "again.", RATE_LIMIT_DOCS + "#about-secondary-rate-limits")
            reply.headers.append(("Retry-After", str(retry_after)))
            return reply
        return error(int(kind), "Bad Gateway" if kind == "502" else "Service Unavailable")

    def not_found(self, answer):
        """``answer`` with one aliased object field nulled and its NOT_FOUND error (unchanged without one)."""
        data = answer.get("data") or {}
        aliases = sorted(key for key, value in data.items() if key != "rateLimit" and not isinstance(value, list))
        if not aliases:
            return answer
        with self._lock:
            alias = self._random.choice(aliases)
        errors = [*answer.get("errors", []), github_error(f"Could not resolve to a node for {alias}.", "NOT_FOUND",
                                                          path=[alias])]
        return {**answer, "data": {**data, alias: None}, "errors": errors}


class Revocation:
    """Revokes ``token`` once ``after`` API requests have been answered."""

    def __init__(self, token, after):
        if after < 0:
            raise ValueError("revoke_after must be 0 or more")
        self.label, self.remaining = token_label(token), after
        self._lock = threading.Lock()

    def revoked(self, caller):
        """Count one request; whether its caller (a :class:`~github_simulator.limits.Caller`) holds the
        revoked token."""
        with self._lock:
            if self.remaining > 0:
                self.remaining -= 1
                return False
        return caller.label == self.label
