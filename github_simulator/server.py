"""The HTTP server: credentials, primary and secondary rate limits, conditional requests, fault
injection and statistics around :class:`~github_simulator.api.Api`.

Order of checks for one request, as GitHub applies them:

1. Credentials: ``Authorization: token X`` / ``Bearer X`` / basic ``user:X``. An unknown token
   answers 401 (counted against the caller's IP, like any unauthenticated request); no
   credentials is the unauthenticated client with its own, smaller quota per IP.
2. Primary limit: at zero remaining, 403 ``API rate limit exceeded ...`` (not counted: nothing
   left to count), conditional requests included. Otherwise one unit is taken. ``/rate_limit``
   never takes one.
3. Secondary limits (optional): more than K requests in flight, or more than P in the last minute,
   per caller: 403 with ``retry-after`` and GitHub's "secondary rate limit" message.
4. Latency and injected faults (optional): slow answers, 502, 503, dropped connections.
5. The 401 for bad credentials; GitHub's 403 without a ``User-Agent``; 400 for an unknown
   ``X-GitHub-Api-Version``.
6. The endpoint. A 200 whose ETag matches ``If-None-Match`` (or, without it, whose
   ``Last-Modified`` is not after ``If-Modified-Since``) becomes a 304 and its unit is given back.

So every request except ``/rate_limit``, 304s and requests refused for an exhausted quota counts,
errors included, and ``stats()`` can be compared exactly with the ``x-ratelimit-used`` a client saw.

GraphQL (``POST /graphql``; ``/api/graphql`` too under an Enterprise-style ``/api/v3`` prefix) has
its own bucket of points per token and never touches the REST one:

1. No token: 401 (GitHub's GraphQL API has no anonymous access); a bad token: 401.
2. Secondary limits: more than ``graphql_per_minute`` queries in the last minute (GitHub's 2,000),
   or more requests in flight than ``secondary_concurrency`` (counted with REST's): 403 with
   ``retry-after``. Then latency and faults, User-Agent and API version, as for REST.
3. The query is parsed, validated against GitHub's whole schema and checked against GitHub's
   limits (``graphql_rules.py``); a refused query answers 200 with ``errors`` and no ``data`` and
   costs 1 point (GitHub does not say; the conservative reading). A query the bucket cannot pay
   for answers 200 with a ``RATE_LIMITED`` error and costs nothing; ``rateLimit(dryRun: true)``
   costs nothing either.
4. It runs (``graphql_api.py``). Its time is modelled, not slept: ``graphql_node_seconds`` per
   node returned; beyond ``graphql_timeout`` the answer is GitHub's 502, its points still charged
   (by default 20,000 nodes returned time out, so a client has to size its batches).

GraphQL's own failures (``RATE_LIMITED`` in a 200, timeouts, secondary limits, ``NOT_FOUND`` for
one alias) and a token revoked mid-run can be injected too (``faults.py``; off by default).
"""

import contextlib
import json
import os
import random
import socket
import socketserver
import sys
import threading
import time
from email.utils import formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from . import fake, graphql_api
from .api import Api, Request
from .faults import GRAPHQL_FAULT_KINDS, REFUSALS, GraphQLFaults, Revocation
from .graphql_rules import QueryRefused, github_error, plan
from .limits import Caller, Limits, Quotas, token_label
from .replies import Reply, dump, error

SUPPORTED_API_VERSIONS = ("2022-11-28", "2026-03-10")
FAULT_KINDS = ("502", "503", "drop", "slow")
GRAPHQL_DOCS = "https://docs.github.com/graphql"
#: GitHub's answer to a query that ran out of time (its points are charged all the same).
GRAPHQL_TIMEOUT = ("Something went wrong while executing your query. This may be the result of a timeout, or it "
                   "could be a GitHub bug. Please include `{}` when reporting this issue.")
_STAT_KEYS = ("requests", "quota_counted", "not_modified", "errors", "graphql_queries", "graphql_points",
              "graphql_nodes")
_EXPOSED = ("ETag, Link, Location, Retry-After, X-GitHub-OTP, X-RateLimit-Limit, X-RateLimit-Remaining, "
            "X-RateLimit-Used, X-RateLimit-Resource, X-RateLimit-Reset, X-OAuth-Scopes, "
            "X-Accepted-OAuth-Scopes, X-Poll-Interval, X-GitHub-Media-Type, Deprecation, Sunset")
#: World methods reachable through the HTTP control API (mutations and ground truth).
CONTROL_METHODS = ("update_user", "update_repo", "follow", "unfollow", "star", "unstar", "rename_user",
                   "rename_repo", "delete_user", "delete_repo", "user", "repo", "followers_of",
                   "following_of", "starred_by", "repos_of", "stargazers_of", "logins", "summary")


class _Faults:
    """Injected latency and failures, drawn from their own seeded generator."""

    def __init__(self, rate, kinds, slow_seconds, latency, seed):
        if not 0.0 <= rate <= 1.0:
            raise ValueError("fault_rate must be between 0 and 1")
        if not kinds or set(kinds) - set(FAULT_KINDS):
            raise ValueError(f"fault_kinds must be a non-empty subset of {FAULT_KINDS}")
        self.rate, self.kinds, self.slow_seconds, self.latency = rate, tuple(kinds), slow_seconds, latency
        self._random = random.Random(seed)
        self._lock = threading.Lock()

    def apply(self):
        """Wait the latency (and a slow fault's delay); the fault kind drawn, or None."""
        fault = None
        if self.rate:
            with self._lock:
                if self._random.random() < self.rate:
                    fault = self._random.choice(self.kinds)
        delay = self.latency + (self.slow_seconds if fault == "slow" else 0)
        if delay:
            time.sleep(delay)
        return fault


class _Stats:
    """Requests, quota-counted requests, 304s and errors, in total, per token and per endpoint."""

    def __init__(self):
        self._lock = threading.Lock()
        self._data = None
        self.reset()

    def reset(self):
        """Start counting from zero."""
        with self._lock:
            self._data = {"total": dict.fromkeys(_STAT_KEYS, 0), "by_token": {}, "by_endpoint": {},
                          "by_status": {}}

    def record(self, label, endpoint, status, counted, graphql=None):  # pylint: disable=too-many-arguments
        """One request; ``status`` None for a dropped connection; ``graphql``: ``(points, nodes
        returned)`` of a GraphQL query."""
        with self._lock:
            data = self._data
            for group in (data["total"], data["by_token"].setdefault(label, dict.fromkeys(_STAT_KEYS, 0)),
                          data["by_endpoint"].setdefault(endpoint, dict.fromkeys(_STAT_KEYS, 0))):
                group["requests"] += 1
                group["quota_counted"] += counted
                group["not_modified"] += status == 304
                group["errors"] += status is None or status >= 400
                if graphql is not None:
                    group["graphql_queries"] += 1
                    group["graphql_points"] += graphql[0]
                    group["graphql_nodes"] += graphql[1]
            key = "dropped" if status is None else str(status)
            data["by_status"][key] = data["by_status"].get(key, 0) + 1

    def snapshot(self):
        """A deep copy, safe to keep while requests go on."""
        with self._lock:
            data = self._data
            return {"total": dict(data["total"]),
                    "by_token": {k: dict(v) for k, v in data["by_token"].items()},
                    "by_endpoint": {k: dict(v) for k, v in data["by_endpoint"].items()},
                    "by_status": dict(data["by_status"])}


class Simulator:  # pylint: disable=too-many-instance-attributes
    """A GitHub-compatible REST server for a :class:`~github_simulator.world.World`.

    ``tokens``: None or empty accepts any token (each distinct token gets its own quota); a list
    accepts only those and answers 401 to others. ``rate_limit`` per ``window_seconds`` per token,
    ``unauthenticated_limit`` per window per client IP. ``secondary_concurrency`` /
    ``secondary_per_minute``: per-caller secondary limits (None = off), answered with
    ``retry-after: secondary_retry_after`` (concurrency) or the seconds until a slot frees
    (per minute). ``fault_rate``: share of requests that fail with one of ``fault_kinds``
    (``"502"``, ``"503"``, ``"drop"`` = connection closed without an answer, ``"slow"`` = answered
    after ``slow_seconds``), drawn from ``random.Random(seed)``. ``latency``: seconds added to every
    answer. ``stargazer_page_cap``: GitHub's 400. ``path_prefix``: serve under e.g. ``/api/v3``
    like GitHub Enterprise Server. ``control``: also serve the ``/_simulator/`` control API (see
    :meth:`control_call`). ``cache_bytes``: budget of the rendered-page cache.

    GraphQL: ``graphql_limit`` points per window per token, ``graphql_per_minute`` queries a
    minute per token (None = off), ``graphql_node_seconds`` of modelled time per node returned,
    ``graphql_timeout`` seconds beyond which a query answers 502 (see the module docstring).
    ``graphql_fault_rate`` of queries meet one of ``graphql_fault_kinds`` (``faults.py``, drawn from
    ``seed`` too); ``revoke_after``: the first of ``tokens`` answers 401 after that many requests.
    """

    def __init__(self, world, tokens=None, *, rate_limit=5000,  # pylint: disable=too-many-arguments,too-many-locals
                 window_seconds=3600, unauthenticated_limit=60, secondary_concurrency=None,
                 secondary_per_minute=None, secondary_retry_after=60, fault_rate=0.0,
                 fault_kinds=("502", "503", "drop"), slow_seconds=5.0, latency=0.0, seed=0,
                 stargazer_page_cap=400, host="127.0.0.1", port=0, path_prefix="", control=True,
                 verbose=False, cache_bytes=128 * 2 ** 20, graphql_limit=5000, graphql_per_minute=2000,
                 graphql_node_seconds=0.0005, graphql_timeout=10.0, graphql_fault_rate=0.0,
                 graphql_fault_kinds=GRAPHQL_FAULT_KINDS, revoke_after=None):
        self.world = world
        self.api = Api(world, stargazer_page_cap=stargazer_page_cap, cache_bytes=cache_bytes)
        self.limits = Limits(rate_limit, window_seconds, unauthenticated_limit, secondary_concurrency,
                             secondary_per_minute, secondary_retry_after, graphql_limit, graphql_per_minute)
        self.graphql_node_seconds = graphql_node_seconds
        self.graphql_timeout = graphql_timeout
        self._tokens = frozenset(tokens or ())
        self._quotas = Quotas(self.limits)
        self._faults = _Faults(fault_rate, fault_kinds, slow_seconds, latency, seed)
        self._graphql_faults = GraphQLFaults(graphql_fault_rate, graphql_fault_kinds, seed)
        if revoke_after is not None and not tokens:
            raise ValueError("revoke_after needs tokens (the first one is revoked)")
        self._revocation = None if revoke_after is None else Revocation(list(tokens)[0], revoke_after)
        self._stats = _Stats()
        self._address = (host, port)
        self.path_prefix = path_prefix.rstrip("/")
        self._graphql_paths = {f"{self.path_prefix}/graphql", f"{self.path_prefix.removesuffix('/v3')}/graphql"}
        self.control = control
        self.verbose = verbose
        self.base_url = None
        self._request_ids = iter(range(1, 1 << 62))
        self._server = self._thread = None

    # -----------------------------------------------------------------------------------------
    # Life cycle
    # -----------------------------------------------------------------------------------------

    def start(self):
        """Serve in a background thread; returns the base URL (``http://127.0.0.1:PORT``)."""
        if self._server is not None:
            raise RuntimeError("simulator already started")
        self._server = _Server(self._address, self)
        host, port = self._server.server_address[:2]
        if host in ("0.0.0.0", "::", ""):  # noqa: S104 (naming the wildcard, not binding to it)
            host = "127.0.0.1"
        if ":" in host:
            host = f"[{host}]"
        self.base_url = f"http://{host}:{port}{self.path_prefix}"
        self.world.base_url = self.base_url
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name=f"github-simulator:{port}", daemon=True)
        self._thread.start()
        return self.base_url

    def stop(self):
        """Stop serving and close open keep-alive connections (idempotent)."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.close_connections()
        server.server_close()
        self._thread.join()

    def __enter__(self):
        if self._server is None:
            self.start()
        return self

    def __exit__(self, *exc_info):
        self.stop()

    # -----------------------------------------------------------------------------------------
    # Statistics and quotas
    # -----------------------------------------------------------------------------------------

    token_label = staticmethod(token_label)

    def stats(self):
        """``{"total", "by_token", "by_endpoint"}``, each with requests, quota_counted (REST units),
        not_modified, errors (status >= 400 or dropped), graphql_queries, graphql_points (charged)
        and graphql_nodes (returned); plus ``by_status`` and ``graphql_faults`` (injected, by
        kind). Token labels come
        from :meth:`token_label`; ``"anonymous"`` is without credentials, ``"invalid"`` with bad ones."""
        return {**self._stats.snapshot(), "graphql_faults": dict(self._graphql_faults.injected)}

    def reset_stats(self):
        """Count from zero."""
        self._stats.reset()

    def reset_quotas(self):
        """Give every caller a fresh primary window (secondary-limit history goes too)."""
        self._quotas.reset()

    # -----------------------------------------------------------------------------------------
    # One API request
    # -----------------------------------------------------------------------------------------

    def handle(self, method, target, headers, client_ip, body=b""):  # pylint: disable=too-many-arguments
        """Answer one API request: ``(Reply, or None for a dropped connection; rate-limit headers)``."""
        split = urlsplit(target)
        if method == "POST" and split.path in self._graphql_paths:
            return self._graphql(headers, body, client_ip)
        route = ("unknown", None, ())      # GitHub: 404 for what it does not serve
        if method in ("GET", "HEAD") and split.path.startswith(self.path_prefix + "/"):
            route = self.api.route(split.path[len(self.path_prefix):])
        caller = self._identify(headers, client_ip)
        ticket = self._quotas.admit(caller, free=route[0] == "/rate_limit" and not caller.rejected)
        reply, not_modified = ticket.refusal, False
        try:
            if reply is None:
                reply = self._respond(caller, route, split.query, headers)
            if reply is not None and reply.status == 200 and _not_modified(headers, reply):
                reply, not_modified = Reply(304, b"", etag=reply.etag, last_modified=reply.last_modified), True
        finally:
            rate_headers = self._quotas.settle(ticket, refund=not_modified)
        self._stats.record(caller.label, route[0], None if reply is None else reply.status, ticket.counted)
        return reply, rate_headers

    def _identify(self, headers, client_ip):
        """The request's caller; a revoked token's is rejected like a bad token's."""
        caller = Caller.identify(headers.get("Authorization"), client_ip, self._tokens, self.limits)
        if self._revocation is not None and self._revocation.revoked(caller):
            return Caller("invalid", self.limits.unauthenticated_limit, client_ip, rejected=True)
        return caller

    def _before_answering(self, caller, headers):
        """Latency and injected faults, then :func:`_refuse`: ``(dropped, refusal or None)``."""
        fault = self._faults.apply()
        if fault == "drop":
            return True, None
        if fault in ("502", "503"):
            return False, error(int(fault), "Bad Gateway" if fault == "502" else "Service Unavailable")
        return False, _refuse(caller, headers)

    def _respond(self, caller, route, query, headers):
        dropped, refusal = self._before_answering(caller, headers)
        if dropped or refusal is not None:
            return refusal
        request = Request(self._base(headers), parse_qsl(query, keep_blank_values=True), headers.get("Accept"))
        if route[0] == "/rate_limit":
            return Api.rate_limit(self._quotas.usage(caller), authenticated=caller.user_id is not None)
        return self.api.get(route[1], route[2], request)

    def _base(self, headers):
        host = headers.get("Host")
        return f"http://{host}{self.path_prefix}" if host else self.base_url

    def _graphql(self, headers, body, client_ip):
        """``POST /graphql``, in the order of the module docstring."""
        caller = self._identify(headers, client_ip)
        if caller.user_id is None:
            reply = (error(401, "Bad credentials", GRAPHQL_DOCS) if caller.rejected else
                     error(401, "This endpoint requires you to be authenticated.",
                           f"{GRAPHQL_DOCS}/guides/forming-calls-with-graphql#authenticating-with-graphql"))
            self._stats.record(caller.label, "/graphql", 401, 0, graphql=(0, 0))
            return reply, []
        ticket = self._quotas.admit_graphql(caller)
        reply, returned = ticket.refusal, 0
        try:
            if reply is None:
                reply, returned = self._graphql_answer(caller, headers, body, ticket, self._graphql_faults.draw())
        finally:
            rate_headers = self._quotas.settle(ticket)
        status = None if reply is None else reply.status
        self._stats.record(caller.label, "/graphql", status, 0, graphql=(ticket.counted, returned))
        if self.verbose:
            print(f"graphql {caller.label} status={status} points={ticket.counted} nodes={returned}",
                  file=sys.stderr, flush=True)
        return reply, rate_headers

    def _graphql_answer(self, caller, headers, body, ticket, fault):  # pylint: disable=too-many-arguments
        """``(Reply or None, nodes returned)`` of an admitted GraphQL request meeting ``fault`` (or None)."""
        dropped, refusal = self._before_answering(caller, headers)
        if dropped or refusal is not None:
            return refusal, 0
        if fault in REFUSALS:
            return self._graphql_faults.refusal(fault, self.limits.secondary_retry_after), 0
        self._spend_the_rest(ticket, fault)
        try:
            request = _graphql_request(body)  # query, variables, operationName
        except ValueError:
            return error(400, "Problems parsing JSON", GRAPHQL_DOCS), 0
        try:
            checked, refused = plan(*request), None
        except QueryRefused as exc:
            checked, refused = None, exc.errors
        points = 1 if checked is None else 0 if checked.dry_run else checked.points
        if points and not self._quotas.charge(ticket, points):
            message = f"API rate limit exceeded for user ID {caller.user_id}."
            return Reply(200, dump({"errors": [github_error(message, "RATE_LIMITED")]})), 0
        if refused is not None:
            return Reply(200, dump({"errors": refused})), 0
        return self._graphql_run(checked, headers, ticket, fault)

    def _spend_the_rest(self, ticket, fault):
        """On an injected ``rate_limited``, another application spends what is left of the ticket's window (not
        counted as this caller's), so that the query is refused as GitHub refuses one its bucket cannot pay."""
        if fault != "rate_limited":
            return
        limit, used, _ = self._quotas.state(ticket)
        if used < limit:
            self._quotas.charge(ticket, limit - used)
        ticket.counted = 0

    def _graphql_run(self, checked, headers, ticket, fault=None):
        """Execute a paid-for query: its answer, or the 502 of one that ran out of (modelled) time or meets an
        injected ``timeout``; an injected ``not_found`` nulls one alias."""

        def rate_limit():
            limit, used, reset = self._quotas.state(ticket)
            return {"cost": checked.points, "limit": limit, "remaining": max(limit - used, 0), "used": used,
                    "resetAt": fake.iso(reset), "nodeCount": checked.nodes}

        answer, returned = graphql_api.run(self.world, self._base(headers), checked, rate_limit)
        if fault == "timeout" or returned * self.graphql_node_seconds > self.graphql_timeout:
            timeout = {"data": None, "errors": [{"message": GRAPHQL_TIMEOUT.format(self.next_request_id())}]}
            return Reply(502, dump(timeout)), returned
        if fault == "not_found":
            answer = self._graphql_faults.not_found(answer)
        return Reply(200, dump(answer)), returned

    def next_request_id(self):
        """A unique ``x-github-request-id``."""
        return f"{os.getpid() & 0xFFFF:04X}:{next(self._request_ids):08X}:{int(time.time()) & 0xFFFFFFFF:08X}"

    # -----------------------------------------------------------------------------------------
    # Control API: /_simulator/... (not counted, not in statistics)
    # -----------------------------------------------------------------------------------------

    def control_path(self, path):
        """The control command of ``path`` (``stats``, ``world/follow``...), or None."""
        prefix = f"{self.path_prefix}/_simulator/"
        return path[len(prefix):] if self.control and path.startswith(prefix) else None

    def control_call(self, method, command, body):
        """``GET stats``; ``POST reset_stats``, ``POST reset_quotas``; ``POST world/<method>``
        with a JSON list (positional) or object (keyword) of arguments, answering
        ``{"result": ...}``: mutations and ground truth of :data:`CONTROL_METHODS`."""
        if command == "stats" and method == "GET":
            return Reply(200, dump(self.stats()))
        name = command.removeprefix("world/")
        if method != "POST" or not (command in ("reset_stats", "reset_quotas") or name in CONTROL_METHODS):
            return error(404, "Not Found")
        try:
            if command in ("reset_stats", "reset_quotas"):
                result = getattr(self, command)()
            else:
                arguments = json.loads(body or b"{}")
                call = getattr(self.world, name)
                result = call(*arguments) if isinstance(arguments, list) else call(**arguments)
        except KeyError as exc:
            return error(404, str(exc.args[0]) if exc.args else "Not Found")
        except (TypeError, ValueError) as exc:
            return error(422, str(exc))
        return Reply(200, dump({"result": result}))


def _refuse(caller, headers):
    """401 for bad credentials; GitHub's answers to a missing User-Agent or an unknown API version."""
    if caller.rejected:
        return error(401, "Bad credentials")
    if not headers.get("User-Agent"):
        return error(403, "Request forbidden by administrative rules. Please make sure your request has "
                          "a User-Agent header (https://docs.github.com/en/rest/overview/"
                          "resources-in-the-rest-api#user-agent-required). Check https://developer.github.com "
                          "for other possible causes.")
    version = headers.get("X-GitHub-Api-Version")
    if version is not None and version not in SUPPORTED_API_VERSIONS:
        return error(400, f"Unsupported 'X-GitHub-Api-Version' header value: '{version}'. "
                          f"Supported versions: {', '.join(SUPPORTED_API_VERSIONS)}.",
                     "https://docs.github.com/rest/overview/api-versions")
    return None


def _graphql_request(body):
    """``(query, variables, operationName)`` of a GraphQL request body; ValueError when it is not a
    JSON object (variables may come as a JSON string, as some clients send them)."""
    request = json.loads(body)
    if not isinstance(request, dict):
        raise ValueError(request)
    variables = request.get("variables")
    if isinstance(variables, str):
        variables = json.loads(variables)
    return request.get("query"), variables, request.get("operationName")


def _not_modified(headers, reply):
    """Whether a conditional request is answered by ``reply``'s ETag / Last-Modified."""
    if_none_match = headers.get("If-None-Match")
    if if_none_match is not None:
        if if_none_match.strip() == "*":
            return True
        ours = reply.etag.removeprefix("W/")
        return any(tag.strip().removeprefix("W/") == ours for tag in if_none_match.split(","))
    if_modified_since = headers.get("If-Modified-Since")
    if if_modified_since and reply.last_modified is not None:
        try:
            since = parsedate_to_datetime(if_modified_since).timestamp()
        except (TypeError, ValueError):
            return False
        return reply.last_modified <= since
    return False


def _avatar(user_id):
    """A small deterministic SVG so ``avatar_url`` works offline (GitHub serves these from a CDN):
    a symmetric 5x5 identicon drawn from the bits of the id."""
    hue = (user_id * 137) % 360
    cells = []
    for y in range(5):
        for x in range(3):
            if (user_id >> (y * 3 + x)) & 1:
                cells.extend(f'<rect x="{column}" y="{y}" width="1" height="1"/>' for column in sorted({x, 4 - x}))
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" viewBox="0 0 5 5">'
            f'<rect width="5" height="5" fill="#f0f0f0"/>'
            f'<g fill="hsl({hue},55%,50%)">{"".join(cells)}</g></svg>').encode()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"   # keep-alive: requests.Session reuses connections

    def version_string(self):
        return "GitHub.com"

    def setup(self):
        super().setup()
        # Headers and body go out in two writes: without this, Nagle's algorithm and delayed
        # ACKs add ~40 ms to every keep-alive answer.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self):  # pylint: disable=invalid-name
        """Every method goes through one path: GitHub answers 404 to those it does not serve."""
        self._serve()

    do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def _serve(self):
        sim = self.server.simulator
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        path = urlsplit(self.path).path
        command = sim.control_path(path)
        if command is not None:
            self._send(sim.control_call(self.command, command, body), [])
            return
        avatar = f"{sim.path_prefix}/avatars/u/"
        if path.startswith(avatar) and path[len(avatar):].isdigit():
            self._send(Reply(200, _avatar(int(path[len(avatar):]))), [("Cache-Control", "max-age=300")],
                       content_type="image/svg+xml")
            return
        reply, rate_headers = sim.handle(self.command, self.path, self.headers, self.client_address[0], body)
        if reply is None:               # injected fault: close without answering
            self.close_connection = True
            return
        headers = [("X-GitHub-Request-Id", sim.next_request_id()), *rate_headers,
                   ("X-GitHub-Media-Type", "github.v3; param=star; format=json"
                    if "star+json" in (self.headers.get("Accept") or "") else "github.v3; format=json"),
                   ("X-GitHub-Api-Version-Selected", self.headers.get("X-GitHub-Api-Version") or "2022-11-28"),
                   ("Access-Control-Expose-Headers", _EXPOSED), ("Access-Control-Allow-Origin", "*"),
                   ("Vary", "Accept, Authorization, Cookie, X-GitHub-OTP, Accept-Encoding")]
        if reply.etag is not None:
            private = "private" if self.headers.get("Authorization") else "public"
            headers.append(("Cache-Control", f"{private}, max-age=60, s-maxage=60"))
            headers.append(("ETag", reply.etag))
            headers.append(("Last-Modified", formatdate(reply.last_modified or time.time(), usegmt=True)))
        self._send(reply, headers)

    def _send(self, reply, headers, content_type="application/json; charset=utf-8"):
        self.send_response(reply.status)
        for name, value in headers + reply.headers:
            self.send_header(name, value)
        if reply.status != 304:
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        if self.command != "HEAD" and reply.status != 304:
            self.wfile.write(reply.body)

    def log_message(self, format, *args):  # noqa: A002 (the base class's signature)
        if self.server.simulator.verbose:
            super().log_message(format, *args)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024   # bursts of many clients must queue, not be refused

    def __init__(self, address, simulator):
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.simulator = simulator
        self._open = set()
        self._open_lock = threading.Lock()
        super().__init__(address, _Handler)

    def server_bind(self):
        # HTTPServer.server_bind resolves the host's FQDN, which can stall for seconds offline.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def handle_error(self, request, client_address):
        # A client that gave up (timeout, injected drop) is routine here, not worth a traceback.
        if self.simulator.verbose or not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)

    def process_request(self, request, client_address):
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request):
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def close_connections(self):
        """End idle keep-alive connections, whose threads would otherwise serve on after stop()."""
        with self._open_lock:
            open_now = list(self._open)
        for connection in open_now:
            with contextlib.suppress(OSError):   # already closed by the client
                connection.shutdown(socket.SHUT_RDWR)
