"""API latency at two sizes of the graph: p50/p95 of each read endpoint at 10,000 developers and at 100,000.

    make bench                                  # or: python -m benchmarks.api_latency [--requests 50]

It never touches your data: it runs against its own PostgreSQL databases on this machine, `gom9k_bench` for the
full size and `gom9k_bench_small` for the small one (created when missing; `--database-url` picks another server
or name, which must contain "bench"). It migrates them and seeds them with benchmarks/seed_database.py: the
small graph (10,000 developers, 100,000 follows, 10,000 repositories, 100,000 stars) and the full one (100,000 /
1,000,000 / 100,000 / 1,000,000). Then it serves each with gunicorn as production runs it (one sync worker) and
times every endpoint over real HTTP. It prints a markdown table of p50 and p95 per endpoint and size, and the
full/small ratio of p95 against the aim (full size within 2x of the small one), and writes it to the
"API latency" section of BENCHMARKS.md.

Why two databases rather than one reseeded: the aim is a ratio, so both sizes are measured side by side. Requests
go one at a time (latency, not throughput), each endpoint at the small size then at the full size, round after
round, so whatever else the machine does at that moment weighs on both sides of the ratio alike. With `--server
wsgiref` or `client` (in this process) there is one database: the sizes are seeded and measured one after the
other. The client authenticates with a token: basic auth re-hashes the password on every request (PBKDF2,
1,000,000 iterations, about 0.35 s here), which would measure the hasher instead of the API (`--auth basic`
measures it anyway).
"""
import argparse
import base64
import math
import os
import platform
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

from benchmarks.perf_common import BASE_DIR, BENCHMARKS_FILE, free_port, write_section
from benchmarks.seed_database import NAME_SEARCH_TERM, seed

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/gom9k_bench"
SECTION_KEY = "api-latency"
SECTION_TITLE = "API latency"
SECTION = (SECTION_KEY, SECTION_TITLE, "python -m benchmarks.api_latency")
AIM_RATIO = 2.0
BENCHMARK_USERNAME = "benchmark"
FOLLOWERS_THRESHOLD = 100
STARS_THRESHOLD = 10
RETRIES = 5


@dataclass(frozen=True)
class Scale:
    """A size of the graph: developers, with 10 follows, 1 repository and 10 stars per developer."""

    label: str
    developers: int

    @property
    def follows(self):
        """Follow edges: 10 per developer."""
        return 10 * self.developers

    @property
    def repositories(self):
        """Repositories: 1 per developer."""
        return self.developers

    @property
    def stars(self):
        """Stars: 10 per developer."""
        return 10 * self.developers


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


@dataclass
class ScaleResult:
    """Everything measured at one size: `seeding` is None when the graph already there was measured."""

    scale: Scale
    seeding: object  # benchmarks.seed_database.SeedReport
    endpoints: list
    timings: dict = field(default_factory=dict)  # endpoint key -> Timing
    headers: dict = field(default_factory=dict)


# --- the database and Django ----------------------------------------------------------------------------------


def database_name(url):
    """The database name in a database URL."""
    return urlsplit(url).path.lstrip("/")


def ensure_postgres_database(url):
    """Create the database of a postgres:// URL when it does not exist yet (connecting to `postgres`)."""
    import psycopg2  # pylint: disable=import-outside-toplevel
    from psycopg2 import sql  # pylint: disable=import-outside-toplevel

    parts = urlsplit(url)
    maintenance = urlunsplit(parts._replace(path="/postgres"))
    connection = psycopg2.connect(maintenance)
    try:
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database_name(url)])
            if cursor.fetchone() is None:
                cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database_name(url))))
                print(f"Created database {database_name(url)}")
    finally:
        connection.close()


def with_database_name(url, name):
    """`url` with another database name."""
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def configure_django(databases):
    """Point Django at the benchmark databases ({alias: url}, "default" among them), DEBUG off; migrate them.

    Everything is set before Django is: the settings read DATABASE_URL once, at import.
    """
    # pylint: disable=import-outside-toplevel
    import dj_database_url
    import django
    from django.conf import settings
    from django.core.management import call_command

    for url in databases.values():
        if url.startswith(("postgres://", "postgresql://")):
            ensure_postgres_database(url)
    os.environ["DATABASE_URL"] = databases["default"]
    os.environ["DJANGO_SETTINGS_MODULE"] = "git_o_matic_9k.settings"
    os.environ["DEBUG"] = "0"  # DEBUG keeps every query in memory: not what production runs
    os.environ["SECURE_SSL_REDIRECT"] = "0"
    os.environ["SECURE_COOKIES"] = "0"
    os.environ["API_THROTTLE_RATE"] = ""  # one user sends every timed request: the throttle is not what is timed
    if not os.environ.get("SECRET_KEY"):
        key_file = BASE_DIR / "var" / "secret_key"
        os.environ["SECRET_KEY"] = (
            key_file.read_text(encoding="utf-8").strip() if key_file.exists() else secrets.token_urlsafe(50)
        )
    for alias, url in databases.items():
        if alias != "default":
            settings.DATABASES[alias] = dj_database_url.parse(url, conn_max_age=60)
    django.setup()
    for alias in databases:
        call_command("migrate", database=alias, interactive=False, verbosity=0)


def benchmark_credentials(auth="token", using="default"):
    """Headers that authenticate the benchmark user (created when missing; it can only read)."""
    # pylint: disable=import-outside-toplevel
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    user, _created = get_user_model().objects.using(using).get_or_create(username=BENCHMARK_USERNAME)
    if auth == "basic":
        password = secrets.token_urlsafe(16)
        user.set_password(password)
        user.save(using=using, update_fields=["password"])
        pair = base64.b64encode(f"{BENCHMARK_USERNAME}:{password}".encode()).decode()
        return {"Authorization": f"Basic {pair}"}
    token, _created = Token.objects.using(using).get_or_create(user=user)
    return {"Authorization": f"Token {token.key}"}


# --- what is measured ---------------------------------------------------------------------------------------


def endpoints_for_current_graph(using="default"):
    """The endpoints, pointed at landmarks of the seeded graph: its biggest hub, an ordinary developer, ..."""
    # pylint: disable=import-outside-toplevel,too-many-locals
    from github.models import Developer, Repository

    developers, repositories = Developer.objects.using(using), Repository.objects.using(using)
    synced = developers.exclude(followers_count=None)
    hub = synced.order_by("-followers_count", "github_id").first()
    # An ordinary developer and repository: 5 followers or stars, as at every size (the median is 2 or 3).
    ordinary = (synced.filter(followers_count=5).order_by("github_id").first()
                or synced.filter(followers_count__range=(1, 10)).order_by("github_id").first() or hub)
    popular = repositories.order_by("-stargazers_count", "github_id").first()
    repository = (repositories.filter(stargazers_count=5).order_by("github_id").first()
                  or repositories.filter(stargazers_count__range=(1, 10)).order_by("github_id").first() or popular)
    # The same offset at both sizes (rows 4,951-5,000), so the ratio compares table sizes, not offsets.
    deep_page = max(1, min(100, developers.count() // 50))
    name_matches = developers.filter(name__icontains=NAME_SEARCH_TERM).count()
    followed_matches = synced.filter(followers_count__gte=FOLLOWERS_THRESHOLD).count()
    starred_matches = repositories.filter(language="Python", stargazers_count__gte=STARS_THRESHOLD).count()
    developer, repo = "/github/developers/", "/github/repositories/"
    return [
        Endpoint("developers", "list", "developers", developer),
        Endpoint("developers-100", "list", "developers?page_size=100", f"{developer}?page_size=100"),
        Endpoint("developers-deep", "list", "developers?page=100", f"{developer}?page={deep_page}",
                 f"offset {(deep_page - 1) * 50:,}"),
        Endpoint("developer-hub", "detail", "developers/{top hub}/", f"{developer}{hub.pk}/",
                 f"{hub.followers_count:,} followers"),
        Endpoint("developer-ordinary", "detail", "developers/{ordinary}/", f"{developer}{ordinary.pk}/",
                 f"{ordinary.followers_count:,} followers"),
        Endpoint("developers-followers-gte", "filtered", f"developers?followers_count__gte={FOLLOWERS_THRESHOLD}",
                 f"{developer}?followers_count__gte={FOLLOWERS_THRESHOLD}",
                 f"{followed_matches:,} match"),
        Endpoint("developers-login", "filtered", "developers?login={ordinary, other case}",
                 f"{developer}?login={quote(ordinary.login.swapcase())}"),
        Endpoint("developers-name", "filtered", f"developers?name__icontains={NAME_SEARCH_TERM}",
                 f"{developer}?name__icontains={NAME_SEARCH_TERM}",
                 f"{name_matches:,} match"),
        Endpoint("developers-ordering", "filtered", "developers?ordering=-followers_count",
                 f"{developer}?ordering=-followers_count"),
        Endpoint("hub-followers", "nested", "developers/{top hub}/followers/", f"{developer}{hub.pk}/followers/",
                 f"{hub.followers_count:,} followers"),
        Endpoint("ordinary-following", "nested", "developers/{ordinary}/following/",
                 f"{developer}{ordinary.pk}/following/", f"{ordinary.following_count:,} followed"),
        Endpoint("repositories", "list", "repositories", repo),
        Endpoint("repository-ordinary", "detail", "repositories/{ordinary}/", f"{repo}{repository.pk}/",
                 f"{repository.stargazers_count:,} stars"),
        Endpoint("repository-popular", "detail", "repositories/{most starred}/", f"{repo}{popular.pk}/",
                 f"{popular.stargazers_count:,} stars"),
        Endpoint("repositories-filtered", "filtered",
                 f"repositories?language=Python&stargazers_count__gte={STARS_THRESHOLD}",
                 f"{repo}?language=Python&stargazers_count__gte={STARS_THRESHOLD}",
                 f"{starred_matches:,} match"),
        Endpoint("popular-stargazers", "nested", "repositories/{most starred}/stargazers/",
                 f"{repo}{popular.pk}/stargazers/", f"{popular.stargazers_count:,} stargazers"),
    ]


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
        except requests.ConnectionError:
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
        command = [
            sys.executable, "-m", "gunicorn", "git_o_matic_9k.wsgi", "--bind", f"127.0.0.1:{port}",
            "--workers", "1", "--timeout", "300", "--log-level", "warning",
        ]
        env = {**os.environ, "LOG_LEVEL": "WARNING", "DATABASE_URL": database_url or os.environ["DATABASE_URL"]}
        process = subprocess.Popen(command, cwd=BASE_DIR, env=env)  # noqa: S603  (our own interpreter)
        try:
            wait_until_healthy(base_url, process)
            transport = HttpTransport(base_url, headers)
            yield transport
            transport.close()
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
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
                raise RuntimeError(f"{endpoint.path} answered {status}")
            # A 5xx or a dropped connection: on a shared machine, typically PostgreSQL being restarted by some
            # other job. Retried after a pause, counted in the report, and only the answered attempt is timed.
            timing.retries += 1
            if progress:
                progress(f"  {endpoint.path} answered {status}; retrying in {2 ** attempt} s")
            time.sleep(2 ** attempt)
        raise AssertionError("unreachable")

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


@dataclass(frozen=True)
class RunOptions:
    """How a run seeds and measures."""

    requests: int = 100  # timed requests per endpoint and size
    warmup: int = 3  # untimed ones first
    auth: str = "token"
    seed_value: int = 1
    reseed: bool = True  # False: measure the graph already in the database


def prepare(scale, options, using="default", log=print):
    """Seed the graph at `scale` in database `using` (unless told not to); returns an unmeasured ScaleResult."""
    seeding = None
    if options.reseed:
        log(f"Seeding {scale.label}: {scale.developers:,} developers, {scale.follows:,} follows, "
            f"{scale.repositories:,} repositories, {scale.stars:,} stars")
        seeding = seed(scale.developers, scale.follows, scale.repositories, scale.stars, seed=options.seed_value,
                       using=using)
        log(f"  {seeding}")
    endpoints = endpoints_for_current_graph(using)
    return ScaleResult(scale, seeding, endpoints, headers=benchmark_credentials(options.auth, using))


def benchmark_scale(scale, options, server="client", log=print):
    """Seed the default database at `scale` and time every endpoint on it; returns the ScaleResult."""
    result = prepare(scale, options, log=log)
    log(f"Measuring {len(result.endpoints)} endpoints x {options.requests} requests through {server}")
    with serve(server, result.headers) as transport:
        (result.timings,) = measure([(transport, result.endpoints)], options.requests, options.warmup, log)
    return result


def benchmark_side_by_side(scales, databases, options, log=print):
    """Each scale in its own database ({scale label: (alias, url)}) behind its own gunicorn, timed interleaved."""
    results = [prepare(scale, options, databases[scale.label][0], log) for scale in scales]
    log(f"Measuring {len(results[0].endpoints)} endpoints x {options.requests} requests x {len(scales)} sizes "
        "through gunicorn, sizes interleaved")
    with ExitStack() as stack:
        targets = [
            (stack.enter_context(serve("gunicorn", result.headers, databases[result.scale.label][1])),
             result.endpoints)
            for result in results
        ]
        timings = measure(targets, options.requests, options.warmup, log)
    for result, result_timings in zip(results, timings, strict=True):
        result.timings = result_timings
    return results


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
        if explain and timer.queries and connection.vendor == "postgresql":
            _seconds, sql, params = timer.slowest(1)[0]
            with connection.cursor() as cursor:
                cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
                for (line,) in cursor.fetchall():
                    log(f"      | {line}")


# --- the report ---------------------------------------------------------------------------------------------


def machine_description():
    """nproc, memory, CPU model, OS, and the versions that matter."""
    # pylint: disable=import-outside-toplevel
    import django
    from django.db import connection

    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    model, memory = platform.processor() or "unknown CPU", "unknown memory"
    try:
        model = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(encoding="utf-8"), re.M).group(1)
        kib = int(re.search(r"^MemTotal:\s*(\d+) kB", Path("/proc/meminfo").read_text(encoding="utf-8"), re.M).group(1))
        memory = f"{kib / 1024 / 1024:.1f} GiB memory"
    except (OSError, AttributeError):
        pass
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            database = f"PostgreSQL {cursor.fetchone()[0].split()[0]} (same machine)"
    else:
        database = f"{connection.vendor} {connection.Database.sqlite_version}"
    return (f"{cpus} CPUs ({model}), {memory}, {platform.system()} {platform.release()}; {database}; "
            f"Python {platform.python_version()}, Django {django.get_version()}")


def code_version():
    """The commit measured, and whether the service's code had uncommitted changes ("" outside git)."""
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=BASE_DIR, capture_output=True,  # noqa: S607
                                text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "github", "git_o_matic_9k"],  # noqa: S607
                               cwd=BASE_DIR, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""
    return f"commit {commit}" + (" with uncommitted changes in github/ or git_o_matic_9k/" if dirty else "")


def _ms(seconds):
    return f"{seconds * 1000:.1f}"


def _size(size):
    return f"{size / 1024:,.0f} KB" if size >= 10 * 1024 else f"{size / 1024:.1f} KB"


def render_report(  # pylint: disable=too-many-arguments,too-many-positional-arguments,too-many-locals
    small, full, command, machine, server, auth, *, requests, warmup, date=None, code=""
):
    """The markdown of the section: command, date, machine, data, the latency table and the verdict."""
    date = date or datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    s, f = small.scale.label, full.scale.label
    lines = [
        f"Command: `{command}` — {date}" + (f", {code}" if code else ""),
        "",
        f"Machine: {machine}. Server: {server_description(server)}; client: {client_description(server)}, "
        f"{auth} auth, one request at a time.",
        "",
        "| size | developers | follows | repositories | stars | seeding |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for result in (small, full):
        scale, report = result.scale, result.seeding
        seeding = f"{report.total_seconds:.0f} s" if report else "reused from the previous run"
        lines.append(f"| {scale.label} | {scale.developers:,} | {scale.follows:,} | {scale.repositories:,} | "
                     f"{scale.stars:,} | {seeding} |")
    lines += [
        "",
        f"Latency in ms over {requests} requests per endpoint and size (after {warmup} warm-up requests); "
        f"ratio = at {f} / at {s}; aim: p95 ratio ≤ {AIM_RATIO:g}.",
        "",
        f"| kind | endpoint | p50 {s} | p95 {s} | p50 {f} | p95 {f} | p50 ratio | p95 ratio | aim | "
        f"body {s} → {f} | data {s} → {f} |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | :---: | ---: | --- |",
    ]
    missed = []
    full_endpoints = {endpoint.key: endpoint for endpoint in full.endpoints}
    for endpoint in small.endpoints:
        if endpoint.key not in full.timings:
            continue
        before, after = small.timings[endpoint.key], full.timings[endpoint.key]
        ratio = after.p95 / before.p95 if before.p95 else float("inf")
        met = ratio <= AIM_RATIO
        if not met:
            missed.append(f"{endpoint.label} ({ratio:.1f}x)")
        notes = (endpoint.note or "—", full_endpoints[endpoint.key].note or "—")
        data = notes[0] if notes[0] == notes[1] else " → ".join(notes)
        lines.append(
            f"| {endpoint.kind} | `{endpoint.label}` | {_ms(before.p50)} | {_ms(before.p95)} | {_ms(after.p50)} | "
            f"{_ms(after.p95)} | {after.p50 / before.p50:.2f} | {ratio:.2f} | {'pass' if met else '**miss**'} | "
            f"{_size(before.body_bytes)} → {_size(after.body_bytes)} | {data} |"
        )
    total = len([key for key in small.timings if key in full.timings])
    lines += ["", f"Aim met by {total - len(missed)} of {total} endpoints."
              + (f" Missed: {'; '.join(missed)}." if missed else "")]
    retried = sum(timing.retries for result in (small, full) for timing in result.timings.values())
    if retried:
        lines += ["", f"{retried} request(s) answered 5xx or dropped the connection and were retried (only the "
                      "answered attempt is timed); see the run's output for which."]
    return "\n".join(lines) + "\n"


def server_description(server):
    """How the service was run, in words."""
    return {
        "gunicorn": "gunicorn with 1 sync worker per size (as the Procfile runs it), DEBUG off",
        "wsgiref": "wsgiref in a thread, DEBUG off",
        "client": "none (Django's test Client in process), DEBUG off",
    }[server]


def client_description(server):
    """How the requests were made, in words."""
    if server == "gunicorn":
        return "requests.Session on the same machine, the sizes interleaved request by request"
    if server == "wsgiref":
        return "requests.Session on the same machine, one size after the other"
    return "Django's test Client, one size after the other"


# --- command line -------------------------------------------------------------------------------------------


def parse_args(argv):
    """The command line's options."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.api_latency", description=__doc__.split("\n", 1)[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL),
                        help="the full size's database, its graph replaced (BENCH_DATABASE_URL); the small size "
                             "uses the same name + '_small' on the same server")
    parser.add_argument("--small", type=int, default=10_000, help="developers at the small size")
    parser.add_argument("--full", type=int, default=100_000, help="developers at the full size")
    parser.add_argument("--only", choices=["small", "full"], help="measure one size (BENCHMARKS.md untouched)")
    parser.add_argument("--requests", type=int, default=50, help="timed requests per endpoint and size")
    parser.add_argument("--warmup", type=int, default=3, help="untimed requests per endpoint and size first")
    parser.add_argument("--server", choices=["gunicorn", "wsgiref", "client"], default="gunicorn",
                        help="gunicorn: sizes side by side; wsgiref/client: in this process, one size after the other")
    parser.add_argument("--auth", choices=["token", "basic"], default="token")
    parser.add_argument("--seed", type=int, default=1, help="random seed of the generated graph")
    parser.add_argument("--reuse", action="store_true",
                        help="measure the graphs a previous run left in the databases instead of seeding again")
    parser.add_argument("--profile", action="store_true",
                        help="then time each endpoint's SQL in process and print EXPLAIN ANALYZE of its slowest query")
    parser.add_argument("--output", default=str(BENCHMARKS_FILE), help="the markdown file to update")
    parser.add_argument("--no-write", action="store_true", help="print the table, do not update --output")
    parser.add_argument("--allow-any-database", action="store_true",
                        help="allow a database whose name does not contain 'bench' (its graph is replaced!)")
    return parser.parse_args(argv)


def benchmark_databases(args, scales):
    """{scale label: (alias, url)}: side by side, the full size in the named database and the small one beside
    it (name + "_small"); in process, both in the named database, one after the other."""
    if args.server != "gunicorn":
        return {scale.label: ("default", args.database_url) for scale in scales}
    databases = {scales[-1].label: ("default", args.database_url)}
    if len(scales) == 2:
        small_url = with_database_name(args.database_url, f"{database_name(args.database_url)}_small")
        databases[scales[0].label] = ("small", small_url)
    return databases


def print_results(results):
    """p50, p95 and body size per endpoint, one size after the other."""
    for result in results:
        print(f"{result.scale.label}:")
        for endpoint in result.endpoints:
            timing = result.timings[endpoint.key]
            print(f"  {endpoint.label:<60} p50 {_ms(timing.p50):>8} ms  p95 {_ms(timing.p95):>8} ms  "
                  f"{_size(timing.body_bytes):>9}  {endpoint.note}")


def main(argv=None):
    """Seed both sizes, measure them, print the report and write it to BENCHMARKS.md."""
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    # A plain `kill` unwinds like Ctrl-C does, so the gunicorn servers are stopped on the way out.
    signal.signal(signal.SIGTERM, lambda _signum, _frame: sys.exit(143))
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    code = code_version()  # now: other changes may land while it runs
    name = database_name(args.database_url)
    if "bench" not in name.lower() and not args.allow_any_database:
        sys.exit(f"Refusing to seed {name!r}: the benchmark replaces the graph tables' contents. Use a database "
                 "whose name contains 'bench', or --allow-any-database.")
    scales = [Scale(_label(args.small), args.small), Scale(_label(args.full), args.full)]
    if args.only:
        scales = [scales[0] if args.only == "small" else scales[1]]
    databases = benchmark_databases(args, scales)
    configure_django(dict(databases.values()))
    print("Benchmark databases: " + ", ".join(f"{label}: {database_name(url)}"
                                               for label, (_alias, url) in databases.items()))
    options = RunOptions(args.requests, args.warmup, args.auth, args.seed, reseed=not args.reuse)
    if args.server == "gunicorn":
        results = benchmark_side_by_side(scales, databases, options)
    else:
        results = [benchmark_scale(scale, options, args.server) for scale in scales]
    print_results(results)
    if args.profile:  # in this process, on its default database: the full size (or the only one)
        profile(results[-1].endpoints, results[-1].headers)
    if len(results) < 2:
        return 0
    command = " ".join(["python -m benchmarks.api_latency", *argv]).strip()
    if os.environ.get("MAKELEVEL"):
        command = f"make bench` (`{command}"
    machine = machine_description() + (f"; load average {load:.2f} when it started" if load is not None else "")
    body = render_report(results[0], results[1], command, machine, args.server, args.auth,
                         requests=args.requests, warmup=args.warmup, code=code)
    print()
    print(body)
    if not args.no_write:
        print(f"Wrote the {SECTION_TITLE!r} section of {write_section(*SECTION, body, path=Path(args.output))}")
    return 0


def _label(developers):
    """10000 -> "10k"."""
    return f"{developers // 1000:,}k" if developers % 1000 == 0 else f"{developers:,}"


if __name__ == "__main__":
    sys.exit(main())
