"""Worker throughput: GitHub requests and list items a Celery worker handles per second, with 1, 2 and 4 processes.

    python -m benchmarks.worker_throughput            # 20,000-user world, the 200 biggest developers, 1/2/4 processes
    python -m benchmarks.worker_throughput --quick    # 5,000-user world, 20 developers, 1 and 2 processes
    python -m benchmarks.worker_throughput --full-pages-only --processes 1,2   # the full-page world alone

Real processes, as production runs them: the project's GitHub simulator in its own process (no rate limit of either
bucket, no latency), RabbitMQ as the broker (a queue of this benchmark's own, deleted after), PostgreSQL (its own
database `gom9k_perf_worker`), and `celery worker --concurrency N` (prefork: N worker processes). For each N the graph
tables, the quota ledger, the validators and task results are emptied, `full_profile_sync` of the same
developers (the world's developers with the longest lists, so pages are as full as on a big crawl) is queued,
and the clock runs from the worker's first GitHub request to the last task's end. Even those developers' lists
are mostly short (a repository's stargazers: a page of a few items), so the same is measured again with 1 and
2 processes on a world of full pages only (`full_page_world`): list items per second at 100 items a page.
Those runs are REST syncs (`GITHUB_API_MODE=rest`: a token makes `hybrid` the default); the full-page world is
then synced again in `hybrid` mode, the cold syncs through the simulator's GraphQL side (no latency either): list
items and developers profiled (the hubs and the members their lists name, counts included) per second and per
CPU-second, the rate GraphQL's pages reach a worker at. Reported:

- GitHub requests per second and list items ingested per second (items in the pages read), in wall time;
- the same per CPU-second of the worker processes (from /proc): what a worker can do on a core of its own,
  since on this machine the simulator, PostgreSQL and the workers share the same cores; and list items per
  CPU-second of the workers and of the PostgreSQL connections to the benchmark's database together (a shared
  machine's other databases not counted): the ingestion rate a process reaches where it has its cores to itself;
- peak resident memory of each worker process, sampled every half second against the developers written so
  far (a flat profile: memory does not grow with the developers handled);
- SQL statements per ingested page, counted in this process on a few of the same syncs.

Nothing is written to BENCHMARKS.md with --quick or --full-pages-only.
"""
import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from benchmarks.harness import BASE_DIR, service_environment, setup_django, simulator_process, stop
from benchmarks.perf_common import database_url, header, write_section

SECTION = ("worker-throughput", "Worker throughput", "python -m benchmarks.worker_throughput")
TOKEN = "worker-benchmark-token"  # noqa: S105 (the simulator's own fake token)
BROKER = "amqp://guest:guest@127.0.0.1:5672//"
TARGET_PER_PROCESS = 100
TARGET_SCALING = 1.6
TARGET_ITEMS_PER_PROCESS = 20_000  # list items per CPU-second of a worker process and PostgreSQL, full pages
# The full-page workload: lists of 3,000 (30 pages of 100) around 20 hubs.
FULL_PAGE_USERS, FULL_PAGE_HUBS, FULL_PAGE_LIST = 20_000, 20, 3_000
# service -> (process name, a word of its command line, whether only this process's children count: a shared
# machine runs other simulators). PostgreSQL is counted apart, by the connections to the benchmark's database.
SERVICES = {"simulator": ("python", "github_simulator", True), "RabbitMQ": ("beam.smp", "", False)}
# The rank tables too: their rows have no foreign key (CASCADE leaves them), and a run's orphans slowed the next.
RESET_TABLES = ("github_star", "github_follow", "github_repository", "github_developer", "github_developerrank",
                "github_repositoryrank", "github_ratelimit", "github_conditionalvalidator",
                "django_celery_results_taskresult")


def full_page_world(path, users=FULL_PAGE_USERS, hubs=FULL_PAGE_HUBS, size=FULL_PAGE_LIST):
    """Write a world whose lists are full pages: `hubs` accounts, each followed by and following `size` others
    (no repositories), so a hub's sync is its profile, 2 x size/100 full pages and two empty lists."""
    rng = random.Random(42)
    logins = [f"member{number}" for number in range(users)]
    follows = []
    for hub in logins[:hubs]:
        follows += [[other, hub] for other in rng.sample(logins[hubs:], size)]
        follows += [[hub, other] for other in rng.sample(logins[hubs:], size)]
    world = {"users": [{"login": login, "id": 1_000 + number} for number, login in enumerate(logins)],
             "follows": follows}
    Path(path).write_text(json.dumps(world), encoding="utf-8")
    return logins[:hubs]


def simulator_stats(base_url):
    """The simulator's request counters (its control API)."""
    with urllib.request.urlopen(f"{base_url}/_simulator/stats", timeout=10) as response:  # noqa: S310 (localhost)
        return json.load(response)["total"]


def biggest_developers(world_users, count):
    """The `count` logins with the longest lists (followers, following, starred, their repositories' stargazers),
    biggest first, and the world (generated here too: the same seed gives the simulator's world)."""
    from github_simulator import World  # pylint: disable=import-outside-toplevel

    world = World.generate(users=world_users, seed=42)
    items = {login: len(world.followers_of(login)) + len(world.following_of(login)) + len(world.starred_by(login))
             + sum(len(world.stargazers_of(name)) for name in world.repos_of(login)) for login in world.logins()}
    return sorted(items, key=items.get, reverse=True)[:count], world


def reset_tables():
    """Empty what a crawl writes, so each run does the same cold work."""
    from django.db import connection  # pylint: disable=import-outside-toplevel

    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(RESET_TABLES)} RESTART IDENTITY CASCADE")


def children(pid):
    """Process ids of the children of `pid` (the prefork pool's worker processes)."""
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in path.read_text(encoding="utf-8").split()] if path.exists() else []


def cpu_seconds(pid, *, with_ended_children=False):
    """User + system CPU seconds of a process so far (and of its children that have ended, if asked: PostgreSQL's
    postmaster collects those of the connections closed meanwhile)."""
    fields = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8").rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])
    if with_ended_children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / os.sysconf("SC_CLK_TCK")


def services_cpu():
    """CPU seconds used so far by this benchmark's simulator and the RabbitMQ server: where the cores went that
    the workers and PostgreSQL did not use."""
    totals = dict.fromkeys(SERVICES, 0.0)
    for proc in Path("/proc").iterdir():
        try:
            command = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            name = (proc / "comm").read_text(encoding="utf-8").strip()
            parent = int((proc / "stat").read_text(encoding="utf-8").rsplit(")", 1)[1].split()[1])
            service = next((service for service, (comm, word, ours) in SERVICES.items()
                            if name.startswith(comm) and word in command and (not ours or parent == os.getpid())),
                           None)
            if service:
                totals[service] += cpu_seconds(proc.name, with_ended_children=True)
        except (OSError, ValueError):  # not a process, or one that ended meanwhile
            continue
    return totals


def database_backends():
    """{pid: CPU seconds so far} of the PostgreSQL connections to this benchmark's database but this process's."""
    from django.db import connection  # pylint: disable=import-outside-toplevel

    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                       "AND pid <> pg_backend_pid()")
        pids = [pid for (pid,) in cursor.fetchall()]
    used = {}
    for pid in pids:
        try:
            used[pid] = cpu_seconds(pid)
        except (OSError, ValueError):  # closed meanwhile
            continue
    return used


def rss_mib(pid):
    """Resident memory of a process in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text(encoding="utf-8").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def finished_results():
    """(tasks ended, developers written, list items read) from the task results: a sync writes one row per item
    of each list it reads (developers of follower, following and stargazer lists, repositories of the others),
    plus the profile."""
    from django_celery_results.models import TaskResult  # pylint: disable=import-outside-toplevel

    ended = written = items = 0
    for state, result in TaskResult.objects.filter(task_name="github.tasks.full_profile_sync").values_list(
            "status", "result"):
        if state in {"SUCCESS", "FAILURE"}:
            ended += 1
            outcome = json.loads(result or "null")
            if isinstance(outcome, dict):
                written += outcome["developers_written"]
                items += outcome["developers_written"] + outcome["repositories_written"] - 1
    return ended, written, items


# pylint: disable-next=too-many-locals,too-many-arguments,too-many-positional-arguments
def run(processes, logins, base_url, queue, url, broker=BROKER, mode="rest"):
    """One measured run with `processes` worker processes syncing in GITHUB_API_MODE `mode`; returns its figures."""
    from github.models import Developer  # pylint: disable=import-outside-toplevel
    from github.tasks import full_profile_sync  # pylint: disable=import-outside-toplevel

    reset_tables()
    for login in logins:
        full_profile_sync.apply_async(args=[login], queue=queue)
    before = simulator_stats(base_url)
    env = {**os.environ, **service_environment(url, GITHUB_API_URL=base_url, GITHUB_API_KEY=TOKEN,
                                               CELERY_BROKER_URL=broker, GITHUB_API_MODE=mode)}
    services_before, database_before = services_cpu(), database_backends()
    database = {}  # pid -> the latest CPU seconds seen of the connections the workers opened
    worker = subprocess.Popen(  # noqa: S603  pylint: disable=consider-using-with  # stopped in the finally below
        [sys.executable, "-m", "celery", "-A", "git_o_matic_9k", "worker", "-Q", queue, "--concurrency",
         str(processes), "--pool", "prefork", "--without-gossip", "--without-mingle",
         "--without-heartbeat", "--prefetch-multiplier", "1"], cwd=BASE_DIR, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    samples, started, pids = [], None, set()
    try:
        while True:
            time.sleep(0.5)
            now, stats = time.perf_counter(), simulator_stats(base_url)
            if started is None and stats["requests"] > before["requests"]:
                started = now - 0.25  # the first request came within the last half second
            pids.update(children(worker.pid))
            database.update({pid: used - database_before.get(pid, 0.0) for pid, used in database_backends().items()})
            ended, written, items = finished_results()
            samples.append((written, {pid: rss_mib(pid) for pid in children(worker.pid)}))
            if ended == len(logins):
                break
        seconds = now - started
        cpu = sum(cpu_seconds(pid) for pid in pids if Path(f"/proc/{pid}").exists())
        services = {name: used - services_before[name] for name, used in services_cpu().items()}
        database.update({pid: used - database_before.get(pid, 0.0) for pid, used in database_backends().items()})
    finally:
        stop(worker)
    after = simulator_stats(base_url)
    requests = after["requests"] - before["requests"]
    return {"processes": processes, "seconds": seconds, "requests": requests, "cpu": cpu, "samples": samples,
            "items": items, "developers_written": written, "services": services, "mode": mode,
            "database_cpu": sum(database.values()),
            "profiled": Developer.objects.filter(profiled_at__isnull=False).count()}


def statements_per_page(logins):
    """SQL statements per GitHub page over cold syncs of `logins`, counted in this process."""
    # pylint: disable=import-outside-toplevel
    from django.db import connection

    from github import sync
    from github.client import GitHubClient

    # A counting wrapper, not CaptureQueriesContext: Django's query log keeps only the last 9,000 statements.
    statements = 0

    def count(execute, sql, params, many, context):
        nonlocal statements
        statements += 1
        return execute(sql, params, many, context)

    reset_tables()
    with connection.execute_wrapper(count), GitHubClient() as client:
        for login in logins:
            sync.full_profile_sync(client=client, login=login)
        pages = client.stats["requests"]
    return statements / pages, pages


def full_page_runs(processes, queue, url, broker):
    """The runs on the full-page world (`full_page_world`): {mode: one a number of worker processes}, REST's
    then hybrid's."""
    with tempfile.TemporaryDirectory() as folder:
        hubs = full_page_world(Path(folder) / "world.json")
        with simulator("--world", str(Path(folder) / "world.json")) as base_url:
            return {mode: [run(n, hubs, base_url, queue, url, broker, mode) for n in processes]
                    for mode in ("rest", "hybrid")}


def memory_profile(samples):
    """Peak RSS of the busiest worker process at each quarter of the developers written."""
    total = samples[-1][0] or 1
    marks = []
    for quarter in (0.25, 0.5, 0.75, 1.0):
        seen = [max(rss.values(), default=0) for written, rss in samples if written <= quarter * total]
        marks.append((int(quarter * total), max(seen, default=0)))
    return marks


@contextmanager
def simulator(*world):
    """A simulator serving `world` (its command-line arguments), and the settings of this process pointed at it."""
    from django.conf import settings  # pylint: disable=import-outside-toplevel

    # No limit of either bucket, nor GraphQL's 2,000 queries a minute (a second hybrid run within the minute of
    # the first met it and waited out its retry-after): what is measured is the worker, not a token's pace.
    process, base_url = simulator_process(*world, "--rate-limit", str(10**9), "--graphql-limit", str(10**9),
                                          "--graphql-per-minute", "0", "--tokens", TOKEN)
    settings.GITHUB_API_URL, settings.GITHUB_API_KEY = base_url, TOKEN
    try:
        yield base_url
    finally:
        stop(process, timeout=30)


def ingestion_rate(result):
    """List items per CPU-second of the worker processes and their PostgreSQL connections together."""
    return result["items"] / (result["cpu"] + result["database_cpu"])


CPU_HEADER = "| CPU-seconds: workers, PostgreSQL (this database), " + ", ".join(SERVICES) + " |"


def cpu_seconds_column(result):
    """The last column of a table: CPU-seconds of the workers, PostgreSQL and each service."""
    return ", ".join(f"{seconds:.1f}" for seconds in [result["cpu"], result["database_cpu"],
                                                      *result["services"].values()])


def table(results):
    """The Markdown table of runs with 1, 2, ... worker processes."""
    single = results[0]["requests"] / results[0]["seconds"]
    lines = ["| worker processes | requests | seconds | requests/s | list items/s | requests per worker CPU-second "
             "| items per worker CPU-second | items per CPU-second of workers and PostgreSQL | scaling vs 1 "
             + CPU_HEADER, "| ---: " * 10 + "|"]
    for result in results:
        rate = result["requests"] / result["seconds"]
        cpu = cpu_seconds_column(result)
        lines.append(f"| {result['processes']} | {result['requests']:,} | {result['seconds']:.1f} | {rate:,.0f} | "
                     f"{result['items'] / result['seconds']:,.0f} | {result['requests'] / result['cpu']:,.0f} | "
                     f"{result['items'] / result['cpu']:,.0f} | {ingestion_rate(result):,.0f} | {rate / single:.2f}x "
                     f"| {cpu} |")
    return "\n".join(lines)


def hybrid_table(results):
    """The Markdown table of the hybrid runs: list items and profiled developers, per second and per CPU-second
    of the worker processes and their PostgreSQL connections."""
    single = results[0]["items"] / results[0]["seconds"]
    lines = ["| worker processes | seconds | list items | list items/s | developers profiled | profiled/s "
             "| items per CPU-second of workers and PostgreSQL | profiled per CPU-second of workers and PostgreSQL "
             "| scaling vs 1 " + CPU_HEADER, "| ---: " * 10 + "|"]
    for result in results:
        both = result["cpu"] + result["database_cpu"]
        cpu = cpu_seconds_column(result)
        lines.append(f"| {result['processes']} | {result['seconds']:.1f} | {result['items']:,} | "
                     f"{result['items'] / result['seconds']:,.0f} | {result['profiled']:,} | "
                     f"{result['profiled'] / result['seconds']:,.0f} | {ingestion_rate(result):,.0f} | "
                     f"{result['profiled'] / both:,.0f} | {result['items'] / result['seconds'] / single:.2f}x "
                     f"| {cpu} |")
    return "\n".join(lines)


def full_page_text(full):
    """The full-page world's tables, REST's and hybrid's, and the memory of their single-process runs."""
    rest, hybrid = full["rest"], full["hybrid"]
    return (f"Full pages: cold `full_profile_sync` of {FULL_PAGE_HUBS} accounts each followed by and following "
            f"{FULL_PAGE_LIST:,} of a {FULL_PAGE_USERS:,}-account world (`full_page_world`), {rest[0]['items']:,} "
            f"list items; `GITHUB_API_MODE=rest` ({rest[0]['items'] / max(1, rest[0]['requests']):.0f} items a "
            "request)\n\n" + table(rest) + "\n\nThe same syncs in `GITHUB_API_MODE=hybrid` (cold syncs through "
            "the simulator's GraphQL side, list members profiled with their counts)\n\n" + hybrid_table(hybrid)
            + "\n\nPeak resident memory of the worker process (1 process) by developers written: REST "
            + ", ".join(f"{mib:.0f} MiB after {written:,}" for written, mib in memory_profile(rest[0]["samples"]))
            + "; hybrid " + ", ".join(f"{mib:.0f} MiB after {written:,}"
                                      for written, mib in memory_profile(hybrid[0]["samples"])) + "\n")


def full_pages_met(full):
    """Whether one process ingests TARGET_ITEMS_PER_PROCESS list items per CPU-second of it and PostgreSQL, in
    both modes."""
    return all(ingestion_rate(results[0]) >= TARGET_ITEMS_PER_PROCESS for results in full.values())


def main(argv=None):  # pylint: disable=too-many-locals
    """Run each configuration, print and record the figures; exit 1 when a target is missed."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--users", type=int, default=20_000)
    # 200 of the biggest developers write over 100,000 developer rows: enough to see a worker's memory stay flat.
    parser.add_argument("--developers", type=int, default=200, help="cold syncs of this many of the biggest")
    parser.add_argument("--processes", default="1,2,4")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--full-pages-only", action="store_true", help="only the full-page world (printed only)")
    parser.add_argument("--database", default="gom9k_perf_worker", help="the benchmark's own database")
    parser.add_argument("--broker", default=BROKER, help="RabbitMQ URL (a vhost of one's own on a shared machine)")
    args = parser.parse_args(argv)
    if args.quick:
        args.users, args.developers, args.processes = 5_000, 20, "1,2"
    processes = [int(n) for n in args.processes.split(",")]
    url = database_url(args.database)
    setup_django(url, fresh=True, CELERY_BROKER_URL=args.broker)
    from git_o_matic_9k.celery import app  # pylint: disable=import-outside-toplevel

    queue = f"gom9k-perf-worker-{os.getpid()}"
    try:
        if args.full_pages_only:
            full = full_page_runs(processes, queue, url, args.broker)
            print(full_page_text(full))
            return 0 if full_pages_met(full) else 1
        logins, world = biggest_developers(args.users, args.developers)
        with simulator("--users", str(args.users), "--seed", "42") as base_url:
            results = [run(n, logins, base_url, queue, url, args.broker) for n in processes]
            per_page, pages = statements_per_page(logins[-10:])
        full = full_page_runs(processes[:2], queue, url, args.broker)
    finally:
        with app.connection_for_write() as connection:
            connection.default_channel.queue_delete(queue)
    memory = memory_profile(results[0]["samples"])
    summary = world.summary()
    body = (header(SECTION[2] + (" --quick" if args.quick else ""))
            + f"- World: `World.generate(users={args.users}, seed=42)` ({summary['follows']:,} follows, "
            f"{summary['stars']:,} stars), served by `python -m github_simulator` with no rate limit and no latency; "
            f"RabbitMQ, PostgreSQL, `celery worker --pool prefork --concurrency N`\n"
            f"- Work: cold `full_profile_sync` of the world's {len(logins)} biggest developers, "
            f"{results[0]['items']:,} list items ({results[0]['items'] / max(1, results[0]['requests']):.0f} a "
            "request on average: most of their lists are short; `GITHUB_API_MODE=rest`)\n\n" + table(results)
            + "\n\n" + full_page_text(full) + "\n"
            f"SQL statements per GitHub page (cold syncs of {len(logins[-10:])} of the biggest, {pages} pages): "
            f"{per_page:.1f}\n\nPeak resident memory of a worker process (1 process) by developers written: "
            + ", ".join(f"{mib:.0f} MiB after {written:,}" for written, mib in memory) + "\n")
    print(body)
    if not args.quick:
        write_section(*SECTION, body)
    single = results[0]["requests"] / results[0]["seconds"]
    scaling = [r["requests"] / r["seconds"] / single for r in results if r["processes"] == 2]
    met = single >= TARGET_PER_PROCESS and all(value >= TARGET_SCALING for value in scaling) and full_pages_met(full)
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
