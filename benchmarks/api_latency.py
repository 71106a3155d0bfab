"""API latency at three sizes of the graph: p50/p95 of each read endpoint at 10,000, 100,000 and 1,000,000
developers.

    make bench                                  # or: python -m benchmarks.api_latency [--requests 50]
    python -m benchmarks.api_latency --small 100 --full 1000 --large 10000   # the same at 1/100, a quick check
    python -m benchmarks.api_latency --large 0  # the two smaller sizes only

It never touches your data: it runs against its own PostgreSQL databases on this machine, `gom9k_bench` for the
full size, `gom9k_bench_small` and `gom9k_bench_large` for the others (created when missing; `--database-url`
picks another server or name, which must contain "bench"). It migrates them and seeds them with
benchmarks/seed_database.py, bulk-loaded with COPY: 10 follows, 1 repository and 10 stars per developer, so the
small graph is 10,000 developers, 100,000 follows, 10,000 repositories and 100,000 stars, the full one ten times
that and the largest a hundred times (1,000,000 / 10,000,000 / 1,000,000 / 10,000,000). Then it serves each with
gunicorn as production runs it (one sync worker) and times every endpoint over real HTTP. It prints a markdown
table of p50 and p95 per endpoint and size, and each larger size's ratio to the small one, the aim judged at the
largest (p95 within 2x of the small one's), and writes it to the "API latency" section of BENCHMARKS.md.

Why a database per size rather than one reseeded: the aim is a ratio, so the sizes are measured side by side.
Requests go one at a time (latency, not throughput), each endpoint at the small size then at each larger one,
round after round, so whatever else the machine does at that moment weighs on both sides of the ratio alike.
With `--server wsgiref` or `client` (in this process) there is one database: the sizes are seeded and measured
one after the other. The client authenticates with a token: basic auth re-hashes the password on every request
(PBKDF2, 1,000,000 iterations, about 0.35 s here), which would measure the hasher instead of the API (`--auth
basic` measures it anyway).
"""
import argparse
import base64
import os
import secrets
import signal
import sys
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from benchmarks.graph_generator import NAME_SEARCH_TERM
from benchmarks.harness import (
    database_name,
    ensure_database,
    git_revision,
    load_average,
    machine_description,
    service_environment,
    with_database_name,
)
from benchmarks.latency import Endpoint, measure, profile, serve
from benchmarks.perf_common import BENCHMARKS_FILE, write_section
from benchmarks.seed_database import seed

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/gom9k_bench"
SECTION_KEY = "api-latency"
SECTION_TITLE = "API latency"
SECTION = (SECTION_KEY, SECTION_TITLE, "python -m benchmarks.api_latency")
AIM_RATIO = 2.0
BENCHMARK_USERNAME = "benchmark"
FOLLOWERS_THRESHOLD = 100
DEEPEST_PAGE = 200  # the last page number of 50 rows within API_PAGE_DEPTH (10,000)
STARS_THRESHOLD = 10


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


@dataclass
class ScaleResult:
    """Everything measured at one size: `seeding` is None when the graph already there was measured."""

    scale: Scale
    seeding: object  # benchmarks.seed_database.SeedReport
    endpoints: list
    timings: dict = field(default_factory=dict)  # endpoint key -> Timing
    headers: dict = field(default_factory=dict)


# --- the database and Django ----------------------------------------------------------------------------------


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
        if url.startswith(("postgres://", "postgresql://")) and ensure_database(url):
            print(f"Created database {database_name(url)}")
    # One user sends every timed request: the throttle is not what is timed.
    os.environ.update(service_environment(databases["default"], SECURE_SSL_REDIRECT="0", SECURE_COOKIES="0",
                                          API_THROTTLE_RATE=""))
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
    from github.api.pagination import Cursor, ordering_keys
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
    deepest_page = max(1, min(DEEPEST_PAGE, developers.count() // 50))  # 200 from 10,000 developers up
    # A cursor halfway down the list: keyset pagination costs the same at any depth.
    in_order = developers.order_by("github_id")
    middle = Cursor([in_order.values_list("github_id", flat=True)[developers.count() // 2]])
    middle_cursor = middle.encode(ordering_keys(in_order))
    name_matches = developers.filter(name__icontains=NAME_SEARCH_TERM).count()
    followed_matches = synced.filter(followers_count__gte=FOLLOWERS_THRESHOLD).count()
    stubs = developers.filter(followers_count=None).count()
    ranked = developers.filter(ranking__rank__isnull=False).count()  # `manage.py rank` ranks a seeded graph
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
        Endpoint("developers-search", "filtered", f"developers?search={NAME_SEARCH_TERM}",
                 f"{developer}?search={NAME_SEARCH_TERM}", f"{name_matches:,} match by name"),
        Endpoint("developers-ordering-ascending", "filtered", "developers?ordering=followers_count",
                 f"{developer}?ordering=followers_count", f"{stubs:,} stubs (null) first"),
        Endpoint("developers-ordering-deepest", "filtered",
                 f"developers?ordering=-followers_count&page={DEEPEST_PAGE}",
                 f"{developer}?ordering=-followers_count&page={deepest_page}",
                 f"offset {(deepest_page - 1) * 50:,}"),
        Endpoint("developers-rank", "filtered", "developers?ordering=-rank", f"{developer}?ordering=-rank",
                 f"{ranked:,} ranked"),
        Endpoint("developers-cursor", "list", "developers?cursor={halfway}",
                 f"{developer}?cursor={middle_cursor}", f"after row {developers.count() // 2:,}"),
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
        Endpoint("repositories-ordering", "filtered", "repositories?ordering=-stargazers_count",
                 f"{repo}?ordering=-stargazers_count"),
        Endpoint("repositories-rank", "filtered", "repositories?ordering=-rank", f"{repo}?ordering=-rank"),
        Endpoint("popular-stargazers", "nested", "repositories/{most starred}/stargazers/",
                 f"{repo}{popular.pk}/stargazers/", f"{popular.stargazers_count:,} stargazers"),
    ]


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


# --- the report ---------------------------------------------------------------------------------------------


def _ms(seconds):
    return f"{seconds * 1000:.1f}"


def _size(size):
    return f"{size / 1024:,.0f} KB" if size >= 10 * 1024 else f"{size / 1024:.1f} KB"


def render_report(  # pylint: disable=too-many-arguments,too-many-positional-arguments,too-many-locals
    results, command, machine, server, auth, *, requests, warmup, date=None, code=""
):
    """The markdown of the section: command, date, machine, data, the latency table and the verdict.

    `results` go smallest first: every larger size's ratios are against the smallest, and the aim is judged at
    the largest."""
    date = date or datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    small, larger, largest = results[0], results[1:], results[-1]
    s, f = small.scale.label, largest.scale.label
    labels = [result.scale.label for result in results]
    lines = [
        f"Command: `{command}` — {date}" + (f", {code}" if code else ""),
        "",
        f"Machine: {machine}. Server: {server_description(server)}; client: {client_description(server)}, "
        f"{auth} auth, one request at a time.",
        "",
        "| size | developers | follows | repositories | stars | seeding |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for result in results:
        scale, report = result.scale, result.seeding
        seeding = f"{report.total_seconds:.0f} s" if report else "reused from the previous run"
        lines.append(f"| {scale.label} | {scale.developers:,} | {scale.follows:,} | {scale.repositories:,} | "
                     f"{scale.stars:,} | {seeding} |")
    # One larger size: "p50 ratio"; more: "p50 ratio 100k", "p50 ratio 1M", ...
    suffixes = [""] if len(larger) == 1 else [f" {result.scale.label}" for result in larger]
    ratio_headers = [f"{p} ratio{suffix}" for suffix in suffixes for p in ("p50", "p95")]
    sizes = " → ".join(labels)
    lines += [
        "",
        f"Latency in ms over {requests} requests per endpoint and size (after {warmup} warm-up requests); "
        f"ratio = at {' and at '.join(labels[1:])} / at {s}; aim: p95 ratio ≤ {AIM_RATIO:g}"
        + ("." if len(larger) == 1 else f" at {f}."),
        "",
        "| kind | endpoint | " + " | ".join(f"p50 {label} | p95 {label}" for label in labels) + " | "
        + " | ".join(ratio_headers) + f" | aim | body {sizes} | data {sizes} |",
        "| --- | --- |" + " ---: |" * (2 * len(labels) + len(ratio_headers)) + " :---: | ---: | --- |",
    ]
    missed = []
    measured = [key for key in small.timings if all(key in result.timings for result in larger)]
    for endpoint in small.endpoints:
        if endpoint.key not in measured:
            continue
        timings = [result.timings[endpoint.key] for result in results]
        before = timings[0]
        ratios = [(after.p50 / before.p50, after.p95 / before.p95 if before.p95 else float("inf"))
                  for after in timings[1:]]
        met = ratios[-1][1] <= AIM_RATIO
        if not met:
            missed.append(f"{endpoint.label} ({ratios[-1][1]:.1f}x)")
        notes = [next(e for e in result.endpoints if e.key == endpoint.key).note or "—" for result in results]
        data = notes[0] if len(set(notes)) == 1 else " → ".join(notes)
        lines.append(
            f"| {endpoint.kind} | `{endpoint.label}` | "
            + " | ".join(f"{_ms(timing.p50)} | {_ms(timing.p95)}" for timing in timings) + " | "
            + " | ".join(f"{p50:.2f} | {p95:.2f}" for p50, p95 in ratios)
            + f" | {'pass' if met else '**miss**'} | "
            + " → ".join(_size(timing.body_bytes) for timing in timings) + f" | {data} |"
        )
    total = len(measured)
    lines += ["", f"Aim met by {total - len(missed)} of {total} endpoints"
              + ("." if len(larger) == 1 else f" at {f}.")
              + (f" Missed: {'; '.join(missed)}." if missed else "")]
    retried = sum(timing.retries for result in results for timing in result.timings.values())
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
                        help="the full size's database, its graph replaced (BENCH_DATABASE_URL); the small and "
                             "largest sizes use the same name + '_small' and '_large' on the same server")
    parser.add_argument("--small", type=int, default=10_000, help="developers at the small size")
    parser.add_argument("--full", type=int, default=100_000, help="developers at the full size")
    parser.add_argument("--large", type=int, default=1_000_000, help="developers at the largest size (0: none)")
    parser.add_argument("--only", choices=["small", "full", "large"],
                        help="measure one size (BENCHMARKS.md untouched)")
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


def benchmark_databases(args, roles, scales):
    """{scale label: (alias, url)}: side by side, the full size in the named database and the others beside it
    (name + "_small", name + "_large"), `--full 0` included; one size alone, or in process, in the named
    database."""
    if args.server != "gunicorn" or len(scales) == 1:
        return {scale.label: ("default", args.database_url) for scale in scales}
    name = database_name(args.database_url)
    default = "full" if "full" in roles else roles[-1]  # Django needs a "default" alias: the largest, without full
    return {scale.label: ("default" if role == default else role,
                          args.database_url if role == "full"
                          else with_database_name(args.database_url, f"{name}_{role}"))
            for role, scale in zip(roles, scales, strict=True)}


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
    load = load_average()
    code = f"commit {git_revision()}"  # now: other changes may land while it runs
    name = database_name(args.database_url)
    if "bench" not in name.lower() and not args.allow_any_database:
        sys.exit(f"Refusing to seed {name!r}: the benchmark replaces the graph tables' contents. Use a database "
                 "whose name contains 'bench', or --allow-any-database.")
    sizes = {"small": args.small, "full": args.full, "large": args.large}
    roles = [args.only] if args.only else [role for role, developers in sizes.items() if developers]
    scales = [Scale(_label(sizes[role]), sizes[role]) for role in roles]
    databases = benchmark_databases(args, roles, scales)
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
    machine = machine_description(load)
    body = render_report(results, command, machine, args.server, args.auth,
                         requests=args.requests, warmup=args.warmup, code=code)
    print()
    print(body)
    if not args.no_write:
        print(f"Wrote the {SECTION_TITLE!r} section of {write_section(*SECTION, body, path=Path(args.output))}")
    return 0


def _label(developers):
    """10000 -> "10k", 1000000 -> "1M"."""
    if developers % 1_000_000 == 0:
        return f"{developers // 1_000_000:,}M"
    return f"{developers // 1000:,}k" if developers % 1000 == 0 else f"{developers:,}"


if __name__ == "__main__":
    sys.exit(main())
