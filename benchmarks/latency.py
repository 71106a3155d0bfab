"""Timing the service's read endpoints over HTTP: what is requested (Endpoint), the server under test (gunicorn
in a subprocess as production runs it, wsgiref in a thread, or Django's test Client in process), the measuring
loop that interleaves sizes request by request and retries what a shared machine drops, and an in-process SQL
profile of each endpoint. benchmarks/api_latency.py decides what to seed and what to report.
"""
import math
import os
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

from benchmarks.harness import free_port, start_gunicorn, stop

RETRIES = 5


@dataclass(frozen=True)
class Endpoint:
    """One request that is timed: `key` matches it across sizes, `label` is what the table shows."""

    key: str
    kind: str  # list, detail, filtered, nested
    label: str
    path: str
    note: str = ""  # what differs between sizes, e.g. "17,000 followers"


@dataclass
class Timing:
    """Latencies of one endpoint at one size, in seconds, and the size of its response body in bytes."""

    seconds: list = field(default_factory=list)
    body_bytes: int = 0
    retries: int = 0  # requests repeated after a 5xx or a dropped connection

    def percentile(self, percent):
        """Nearest-rank percentile."""
        ordered = sorted(self.seconds)
        return ordered[max(0, math.ceil(percent / 100 * len(ordered)) - 1)]

    @property
    def p50(self):
        """The median latency."""
        return self.percentile(50)

    @property
    def p95(self):
        """The 95th percentile latency."""
        return self.percentile(95)



class ClientTransport:
    """Requests through Django's test Client, in this process (used by the tests and by --server client)."""

    def __init__(self, headers):
        from django.test import Client  # pylint: disable=import-outside-toplevel

        self.client = Client(HTTP_HOST="127.0.0.1", headers=headers)

    def get(self, path):
        """(status code, body length) of GET `path`."""
        response = self.client.get(path)
        return response.status_code, len(response.content)

    def close(self):
        """Nothing to release."""


class HttpTransport:
    """Requests over HTTP with one requests.Session."""

    def __init__(self, base_url, headers):
        import requests  # pylint: disable=import-outside-toplevel

        self.base_url = base_url
        self.session = requests.Session()
        self.session.headers.update(headers)

    def get(self, path):
        """(status code, body length) of GET `path`."""
        response = self.session.get(self.base_url + path, timeout=300)
        return response.status_code, len(response.content)

    def close(self):
        """Close the session's connections."""
        self.session.close()


def wait_until_healthy(base_url, process=None, timeout=60):
    """Wait for the service's /health/ to answer 200 (or for `process` to die)."""
    import requests  # pylint: disable=import-outside-toplevel

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the server exited with code {process.returncode}")
        try:
            if requests.get(f"{base_url}/health/", timeout=5).status_code == 200:
                return
        except (requests.ConnectionError, requests.Timeout):  # still booting: the first answer loads Django
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the server at {base_url} did not answer /health/ within {timeout}s")


@contextmanager
def serve(kind, headers, database_url=None):
    """A transport to the service: `gunicorn` (a subprocess, as production runs), `wsgiref` (a thread), `client`.

    gunicorn serves `database_url`; the other two serve this process's default database.
    """
    if kind == "client":
        yield ClientTransport(headers)
        return
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    if kind == "gunicorn":
        env = {**os.environ, "LOG_LEVEL": "WARNING", "DATABASE_URL": database_url or os.environ["DATABASE_URL"]}
        process = start_gunicorn(port, env, timeout=300)
        try:
            wait_until_healthy(base_url, process)
            transport = HttpTransport(base_url, headers)
            yield transport
            transport.close()
        finally:
            stop(process, timeout=20)
        return
    # pylint: disable=import-outside-toplevel
    from wsgiref.simple_server import WSGIRequestHandler, make_server

    from django.core.wsgi import get_wsgi_application

    class QuietHandler(WSGIRequestHandler):
        """No access log on the console."""

        def log_message(self, format, *args):  # pylint: disable=redefined-builtin
            """No access log."""

    server = make_server("127.0.0.1", port, get_wsgi_application(), handler_class=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        wait_until_healthy(base_url)
        transport = HttpTransport(base_url, headers)
        yield transport
        transport.close()
    finally:
        server.shutdown()
        server.server_close()


def measure(targets, requests=100, warmup=3, progress=None):
    """Time `targets` ([(transport, endpoints)], one per size): {target index: {endpoint key: Timing}}.

    `warmup` untimed requests per endpoint first (at least one, which checks it answers 200), then `requests`
    rounds; in each round every endpoint is requested once at every size, the sizes one right after the other.
    """
    timings = [{endpoint.key: Timing() for endpoint in endpoints} for _transport, endpoints in targets]

    def get(index, endpoint):
        timing = timings[index][endpoint.key]
        for attempt in range(RETRIES + 1):
            started = time.perf_counter()
            try:
                status, size = targets[index][0].get(endpoint.path)
            except OSError as error:  # the server dropped the connection (requests' errors are OSErrors)
                status, size = repr(error), 0
            elapsed = time.perf_counter() - started
            if status == 200:
                timing.body_bytes = size
                return elapsed
            if attempt == RETRIES or (isinstance(status, int) and status < 500):
                break
            # A 5xx or a dropped connection: on a shared machine, typically PostgreSQL being restarted by some
            # other job. Retried after a pause, counted in the report, and only the answered attempt is timed.
            timing.retries += 1
            if progress:
                progress(f"  {endpoint.path} answered {status}; retrying in {2 ** attempt} s")
            time.sleep(2 ** attempt)
        raise RuntimeError(f"{endpoint.path} answered {status}")

    rows = list(zip(*(endpoints for _transport, endpoints in targets), strict=True))
    for row in rows:
        for _ in range(max(warmup, 1)):
            for index, endpoint in enumerate(row):
                get(index, endpoint)
    for round_number in range(requests):
        for row in rows:
            for index, endpoint in enumerate(row):
                timings[index][endpoint.key].seconds.append(get(index, endpoint))
        if progress and (round_number + 1) % max(1, requests // 5) == 0:
            progress(f"  {round_number + 1}/{requests} rounds")
    return timings



class QueryTimer:
    """A database execute wrapper that keeps (seconds, sql, params) of every query."""

    def __init__(self):
        self.queries = []

    def __call__(self, execute, sql, params, many, context):  # pylint: disable=too-many-arguments
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.queries.append((time.perf_counter() - started, sql, params))

    @property
    def seconds(self):
        """Time spent in the database, all queries together."""
        return sum(seconds for seconds, _sql, _params in self.queries)

    def slowest(self, count):
        """The `count` slowest queries, slowest first."""
        return sorted(self.queries, key=lambda query: query[0], reverse=True)[:count]


def profile(endpoints, headers, explain=True, log=print):
    """Each endpoint once in this process: time in SQL, queries, and EXPLAIN ANALYZE of the slowest query."""
    # pylint: disable=import-outside-toplevel,too-many-locals
    from django.db import connection
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1", headers=headers)
    for endpoint in endpoints:
        client.get(endpoint.path)  # warm
        timer = QueryTimer()
        with connection.execute_wrapper(timer):
            started = time.perf_counter()
            client.get(endpoint.path)
            total = time.perf_counter() - started
        log(f"{endpoint.label}: {total * 1000:.1f} ms, {len(timer.queries)} queries, SQL {timer.seconds * 1000:.1f} "
            f"ms, Python {(total - timer.seconds) * 1000:.1f} ms")
        for seconds, sql, _params in timer.slowest(3):
            log(f"    {seconds * 1000:7.1f} ms  {sql[:400]}")
        explainable = [query for query in timer.slowest(len(timer.queries)) if not query[1].startswith("EXPLAIN")]
        if explain and explainable and connection.vendor == "postgresql":
            _seconds, sql, params = explainable[0]
            with connection.cursor() as cursor:
                cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
                for (line,) in cursor.fetchall():
                    log(f"      | {line}")
