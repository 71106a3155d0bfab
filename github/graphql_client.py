"""GitHub's GraphQL API through the quota ledger's `graphql` bucket, beside the REST client it borrows from.

A query's cost is computed before it is sent, by GitHub's rule (connection requests / 100, rounded, at least
1), from what the caller built (`Query.requests`: it knows its own connections and page sizes); that many
points are reserved from a token's `graphql` row, and after the answer the difference to what GitHub charged
(`rateLimit.cost`; all of it for a 502; nothing for RATE_LIMITED) is given back. Tokens, the HTTP session,
the error classes, the retry of transient failures and the scrubbing of secrets are the REST client's
(github/client.py): one home each.

GitHub's GraphQL failures become the REST client's errors, so the tasks' policy applies unchanged:
RATE_LIMITED -> RateLimitExhausted (postpone), a secondary limit -> SecondaryRateLimit (retry after
`retry-after`), a 502 (the query ran out of time, its points charged) -> QueryTimeout, a TransientError the
caller answers by splitting the work smaller. Errors about one alias (NOT_FOUND) come back with the data.
"""
import functools
import logging
import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import requests
from django.conf import settings

from github import throttle
from github.client import (  # the REST client's plumbing, shared rather than copied
    BadCredentials,
    GitHubClient,
    GitHubError,
    HttpErrorException,
    RateLimitExhausted,
    TransientError,
    Unreachable,
    _message,
    _observed_at,
    _quota_error,
    _rate_state,
    send_retrying,
    transport_error,
)

logger = logging.getLogger(__name__)

REST, GRAPHQL, HYBRID = "rest", "graphql", "hybrid"
# GitHub's limits on one query: page sizes, ids of nodes(ids:), and the points rule's divisor.
MAX_PAGE = 100
MAX_NODE_IDS = 100
REQUESTS_PER_POINT = 100
MAX_NODES = 500_000
RATE_LIMIT_FIELD = "rateLimit { cost limit remaining resetAt }"


def api_mode() -> str:
    """GITHUB_API_MODE as it applies: unset means hybrid with a token and rest without; GraphQL needs a token
    (GitHub has no anonymous GraphQL), so without one every mode is rest. Said once per process and setting."""
    return _resolved_mode(settings.GITHUB_API_MODE, bool(settings.GITHUB_API_KEY.strip(" ,")))


@functools.cache
def _resolved_mode(configured: str, has_token: bool) -> str:
    if not has_token:
        mode = REST
        reason = "no GITHUB_API_KEY, and GitHub's GraphQL API needs a token"
    else:
        mode = configured or HYBRID
        reason = "GITHUB_API_MODE" if configured else "the default with a token"
    logger.info("GitHub API mode: %s (%s)", mode, reason)
    return mode


def graphql_url(api_url: str) -> str:
    """GITHUB_GRAPHQL_URL, or the GraphQL endpoint next to `api_url`: https://api.github.com/graphql, and
    https://HOST/api/graphql for an Enterprise Server base ending in /api/v3."""
    if settings.GITHUB_GRAPHQL_URL:
        return settings.GITHUB_GRAPHQL_URL
    base = api_url.rstrip("/")
    return (base.removesuffix("/v3") if base.endswith("/api/v3") else base) + "/graphql"


def points(requests_count: int) -> int:
    """GitHub's cost of a query of `requests_count` connection requests: / 100, rounded half up, at least 1."""
    return max(1, math.floor(requests_count / REQUESTS_PER_POINT + 0.5))


class QueryTimeout(TransientError):
    """GitHub gave up on the query (502): its points are charged; the same work in smaller queries may pass."""


@dataclass
class Query:
    """A query text with its variables and its connection requests as GitHub counts them (the caller's sum)."""

    text: str
    variables: dict = field(default_factory=dict)
    requests: int = 0
    nodes: int = 0

    @property
    def cost(self) -> int:
        """The points GitHub will charge."""
        return points(self.requests)


@dataclass
class Answer:
    """A query's `data` and its `errors` (each about one path, e.g. an alias GitHub did not find)."""

    data: dict
    errors: list = field(default_factory=list)
    charged: int = 0


class GraphQLClient:
    """POST queries to GitHub's GraphQL endpoint with the REST client's tokens and session."""

    def __init__(self, rest: GitHubClient):
        self.rest = rest
        self.url = graphql_url(rest.base_url)
        self.stats = {"queries": 0, "points": 0, "predicted_points": 0, "timeouts": 0, "wasted_points": 0}

    def query(self, query: Query) -> Answer:
        """Send `query` on the token with the most `graphql` budget; its answer, or the error a task acts on.

        A 5xx other than a timeout, or a failed connection, is sent again after each of
        GITHUB_TRANSIENT_RETRY_DELAYS, as the REST client does; a timeout is the caller's to split.
        """
        return send_retrying(functools.partial(self._send, query), f"POST {self.url}", final=(QueryTimeout,))

    def _send(self, query: Query) -> Answer:
        if query.nodes > MAX_NODES:
            raise ValueError(f"a query of {query.nodes} nodes exceeds GitHub's {MAX_NODES}")
        cost = query.cost
        refused = None
        for _ in self.rest.credentials:
            reservation = throttle.reserve(self.rest.labels, throttle.refresher(self.rest, throttle.GRAPHQL),
                                           throttle.GRAPHQL, cost)
            if reservation is None:
                break
            try:
                response = self._post(query, reservation.label)
            except Unreachable:
                throttle.refund(reservation, cost)
                raise
            if response.status_code == 401:
                throttle.refund(reservation, cost)
                throttle.mark_rejected(reservation.label, throttle.GRAPHQL)
                continue
            try:
                return self._answer(query, response, reservation)
            except RateLimitExhausted as error:
                refused = error  # this token's bucket is spent on GitHub's side: try the next one
        if refused is not None:
            raise refused
        if throttle.all_rejected(self.rest.labels, throttle.GRAPHQL):
            raise BadCredentials("GitHub rejected every configured token (401) for GraphQL", url=self.url)
        raise HttpErrorException(url=self.url)

    def _post(self, query: Query, label: str) -> requests.Response:
        credential = self.rest._by_label[label]  # pylint: disable=protected-access  # the REST client's tokens
        self.stats["queries"] += 1
        try:
            response = self.rest.session.post(
                self.url, json={"query": query.text, "variables": query.variables}, timeout=self.rest.timeout,
                headers={"Authorization": credential.authorization}, allow_redirects=False)
        except requests.RequestException as error:
            raise transport_error(f"POST {self.url}", error, self.url,
                                  self.rest._scrub) from None  # pylint: disable=protected-access
        logger.debug("POST %s (%d points) -> %s (%s)", self.url, query.cost, response.status_code, label)
        return response

    def _answer(self, query: Query, response: requests.Response, reservation: throttle.Reservation) -> Answer:
        """Settle the reservation with what GitHub charged, and turn the response into an Answer or an error."""
        status = response.status_code
        state = _rate_state(response)
        body = _body(response) if status in {200, 502} else {}
        unreadable, body = body is None, body or {}
        errors = body.get("errors") or []
        charged, timed_out = 0, False
        if status == 200 and isinstance(body.get("data"), dict):
            rate_limit = body["data"].get("rateLimit") or {}
            charged = rate_limit.get("cost", query.cost)
            state = state or _state_of(rate_limit, _observed_at(response))
        elif timed_out := status == 502 and any("timeout" in str(error.get("message")) for error in errors):
            charged = query.cost  # GitHub charges a query that timed out
        elif status == 200 and unreadable:
            charged = query.cost  # what it cost is unknown: the conservative reading
        elif status == 200 and not any(error.get("type") == "RATE_LIMITED" for error in errors):
            charged = 1  # a refused query (GitHub does not document its cost; the conservative reading)
        throttle.refund(reservation, reservation.units - charged)
        if state is not None:
            throttle.settle(reservation, state)
        self.stats["points"] += charged
        self.stats["predicted_points"] += query.cost
        text = self.rest._scrub(f"GitHub answered {status} for POST {self.url}")  # pylint: disable=protected-access
        if status in {403, 429}:
            raise _quota_error(text, _message(response), self.url, response)
        if timed_out:
            self.stats["timeouts"] += 1
            self.stats["wasted_points"] += charged
            raise QueryTimeout(f"{text}: the query timed out", status=status, url=self.url)
        if status >= 500 or unreadable:
            raise TransientError(f"{text}{' with invalid JSON' if unreadable else ''}", status=status, url=self.url)
        if status != 200:
            raise GitHubError(f"{text}: {_message(response)}", status=status, url=self.url)
        if any(error.get("type") == "RATE_LIMITED" for error in errors):
            raise RateLimitExhausted(f"{text}: RATE_LIMITED", reset_at=state.reset_at if state else None,
                                     status=status, url=self.url)
        if not isinstance(body.get("data"), dict):
            raise GitHubError(f"{text}: {errors[0].get('message') if errors else 'no data'}", status=status,
                              url=self.url)
        return Answer(body["data"], errors, charged)


def _body(response: requests.Response) -> dict | None:
    """The JSON object of a response; None when it is not JSON (a proxy's HTML page)."""
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else {}


def _state_of(rate_limit: Any, observed_at: datetime) -> throttle.RateState | None:
    """The bucket as a `rateLimit` field reports it, for an answer without `x-ratelimit-*` headers."""
    try:
        reset = datetime.fromisoformat(rate_limit["resetAt"].replace("Z", "+00:00"))
        return throttle.RateState(int(rate_limit["limit"]), int(rate_limit["remaining"]), int(reset.timestamp()),
                                  observed_at=observed_at, resource=throttle.GRAPHQL)
    except (KeyError, TypeError, ValueError, AttributeError):
        return None
