"""The long fault run: whole crawls of one simulator world on PostgreSQL + RabbitMQ with worker subprocesses,
undisturbed and disturbed, compared by their canonical dumps (reliability/canonical.py).

    python -m reliability.crawl_faults --users 300 --workers 4 --kills 12 --restart-services

Phases, each on its own fresh PostgreSQL database and Celery queue:

- reference: a calm simulator, N workers, nothing disturbed;
- faults: the simulator fails --fault-rate of requests (502, 503, dropped connections, slow answers) and
  enforces a secondary limit; meanwhile a worker is killed with SIGKILL at a random moment every few
  seconds (and started again) until --kills kills, and with --restart-services RabbitMQ, then PostgreSQL,
  are restarted once each part-way; the first of the two tokens is revoked (401) after --revoke-after
  requests; in hybrid and graphql mode --graphql-fault-rate of GraphQL queries meet GraphQL's own failures
  too (RATE_LIMITED in a 200, 502 timeouts with their points charged, 502, 503, secondary limits, NOT_FOUND
  for one alias; github_simulator/faults.py), and the primary windows are --fault-window seconds long so
  that a bucket another application spent comes back during the run;
- quota: two tokens with a small quota window (--quota per --window seconds each), N workers: the crawl
  has to wait for several window resets.

Each phase must end with every developer reachable from the seed synced, no task FAILED, no duplicate row,
every synced developer's relation sets equal to the world's; faults and quota must give the reference's dump.
The report (JSON on stdout) gives the figures for RELIABILITY.md, among them the GraphQL points and REST
requests each phase spent against the reference's (`spent_against_reference`, also on stderr).

Restarting RabbitMQ and PostgreSQL disturbs everybody using them on this machine: keep --restart-services for
the documented run. Needs `rabbitmqctl`, `rabbitmq-server` and `pg_ctlcluster` (run as root).
"""
# Starting this machine's own tools and this interpreter's modules, with arguments built here, is the point.
# ruff: noqa: S603, S607
import argparse
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.harness import (
    BASE_DIR,
    PYTHON,
    ensure_database,
    load_average,
    log,
    machine_description,
    service_environment,
    simulator_process,
    stop,
    wait_for_port,
)

SERVER_URL = "postgres://postgres@127.0.0.1:5432"
AMQP_URL = "amqp://guest:guest@127.0.0.1:5672//"
TOKENS = "reliability-token-a,reliability-token-b"
# Task states that must not outlast the crawl: a killed worker's task is redelivered and ends, a postponed one
# runs at its ETA.
UNFINISHED = {"PENDING", "STARTED", "RETRY", "POSTPONED"}
PART_WAY = '"exc_type": "HttpErrorException", "exc_message": ["API rate limit exceeded"]'


# The simulator and the workers.

def start_simulator(args, *, faults=False, quota=False):
    """A simulator subprocess on a free port; returns (process, base URL)."""
    arguments = ["--users", str(args.users), "--seed", str(args.world_seed), "--tokens", TOKENS]
    if faults:
        arguments += ["--fault-rate", str(args.fault_rate), "--fault-kinds", "502,503,drop,slow", "--slow-seconds", "1",
                      "--secondary-concurrency", str(max(1, args.workers - 1)), "--secondary-retry-after", "2",
                      "--fault-seed", str(args.chaos_seed)]
        if args.api_mode != "rest" and args.graphql_fault_rate:
            arguments += ["--graphql-fault-rate", str(args.graphql_fault_rate), "--window", str(args.fault_window)]
        if args.revoke_after:
            arguments += ["--revoke-after", str(args.revoke_after)]
    if quota:
        arguments += ["--rate-limit", str(args.quota), "--window", str(args.window)]
    return simulator_process(*arguments)


class Workers:
    """N `celery worker -P solo` subprocesses on the phase's queue: one process per worker, so a SIGKILL takes
    down the very process holding a task (its message goes back to the queue: acks_late)."""

    def __init__(self, count, env, log_dir):
        self.env, self.log_dir = env, log_dir
        self.processes = [None] * count
        self.kills = 0
        for index in range(count):
            self.start(index)

    def start(self, index):
        """Start (or start again) worker `index`."""
        with open(self.log_dir / f"worker-{index}.log", "a", encoding="utf-8") as log_file:  # the child keeps it open
            self.processes[index] = subprocess.Popen(  # pylint: disable=consider-using-with
                [PYTHON, "-m", "celery", "-A", "git_o_matic_9k", "worker", "-P", "solo", "-Q",
                 self.env["RELIABILITY_QUEUE"], "-n", f"reliability{index}@%h", "--without-gossip", "--without-mingle"],
                cwd=BASE_DIR, env=self.env, stdout=log_file, stderr=subprocess.STDOUT,
            )

    def kill_one(self, rng):
        """SIGKILL a random worker, then start it again."""
        index = rng.randrange(len(self.processes))
        self.processes[index].send_signal(signal.SIGKILL)
        self.processes[index].wait()
        self.kills += 1
        log(f"SIGKILL worker {index} (kill {self.kills})")
        self.start(index)

    def stop(self):
        """Warm shutdown of every worker."""
        stop(*self.processes)


def restart_rabbitmq():
    """Stop the RabbitMQ node and start it again; returns the seconds the broker was down."""
    started = time.monotonic()
    subprocess.run(["rabbitmqctl", "stop"], check=True, capture_output=True)
    wait_for_port(5672, up=False)
    subprocess.run(["rabbitmq-server", "-detached"], check=True, capture_output=True)
    wait_for_port(5672)
    return round(time.monotonic() - started, 1)


def restart_postgresql():
    """Restart the PostgreSQL cluster; returns the seconds it took."""
    started = time.monotonic()
    version = sorted(os.listdir("/etc/postgresql"))[-1]
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"], check=True,
                   capture_output=True)
    wait_for_port(5432)
    return round(time.monotonic() - started, 1)


class Chaos(threading.Thread):  # pylint: disable=too-many-instance-attributes  # its settings, then its state
    """Kills a worker every `interval` seconds (random between the two) until `kills` kills; restarts RabbitMQ
    after the third kill and PostgreSQL after the sixth when asked."""

    def __init__(self, workers, kills, restart_services, seed, interval=(2.0, 8.0)):  # pylint: disable=too-many-arguments
        super().__init__(daemon=True)
        self.workers, self.kills, self.restart_services, self.interval = workers, kills, restart_services, interval
        self.rng = random.Random(seed)
        self.done = threading.Event()
        self.events = []

    def run(self):
        while self.workers.kills < self.kills and not self.done.wait(self.rng.uniform(*self.interval)):
            self.workers.kill_one(self.rng)
            if self.restart_services and self.workers.kills == 3:
                self.events.append({"rabbitmq_restart_seconds": restart_rabbitmq()})
                log(f"RabbitMQ restarted: {self.events[-1]}")
            if self.restart_services and self.workers.kills == 6:
                self.events.append({"postgresql_restart_seconds": restart_postgresql()})
                log(f"PostgreSQL restarted: {self.events[-1]}")


# One phase, in a process of its own (Django is set up once per process, on the phase's database).

def run_phase(args):
    """Create the database, start workers, crawl (with chaos if asked), report as JSON on stdout."""
    import django  # pylint: disable=import-outside-toplevel

    ensure_database(f"{args.server_url}/{args.database}", fresh=True)
    django.setup()
    # pylint: disable=import-outside-toplevel
    from django.core.management import call_command

    from git_o_matic_9k.celery import app
    from reliability.crawl import drive_crawl
    from reliability.remote_world import RemoteWorld

    call_command("migrate", verbosity=0)
    app.control.purge()
    log_dir = Path(args.log_dir)
    log_dir.mkdir(parents=True, exist_ok=True)
    workers = Workers(args.workers, dict(os.environ), log_dir)
    chaos = (Chaos(workers, args.kills, args.restart_services, args.chaos_seed, args.kill_interval)
             if args.kills else None)
    world = RemoteWorld(os.environ["GITHUB_API_URL"])
    try:
        if chaos:
            chaos.start()
        outcome = drive_crawl(world.logins()[0], timeout=args.timeout, poll=0.5,
                              on_round=lambda rounds, queued: log(f"{args.database}: round {rounds}, {queued} syncs"))
        if chaos:
            chaos.done.set()
            chaos.join()
    finally:
        workers.stop()
    report = {**outcome, **_outcome_report(args, world, log_dir), "kills": workers.kills,
              "service_restarts": chaos.events if chaos else []}
    print(json.dumps(report))


def _outcome_report(args, world, log_dir):
    """What the phase stored and what it took: dump digest, failures, duplicates, the world's verdict, task
    states, retries and postponements logged, the simulator's counts. Writes the dump to --dump."""
    # pylint: disable=import-outside-toplevel
    from django_celery_results.models import TaskResult

    from github.graphql_client import REST, api_mode
    from github.graphql_sync import LACKING
    from reliability import canonical
    from reliability.crawl import failed_tasks

    dump = canonical.canonical_dump(omit=() if api_mode() == REST else LACKING)
    Path(args.dump).write_text(json.dumps(dump), encoding="utf-8")
    stats = world.session.get(f"{world.base_url}/_simulator/stats", timeout=30).json()
    logs = [path.read_text(encoding="utf-8") for path in log_dir.glob("*.log")]
    return {
        "database": args.database, "digest": canonical.digest(dump), "rows": canonical.summary(dump),
        "failed_tasks": failed_tasks(), "duplicates": canonical.duplicate_rows(),
        "dangling_edges": canonical.dangling_edges(), "world_differences": canonical.check_against_world(world)[:20],
        "task_states": {state: TaskResult.objects.filter(status=state).count()
                        for state in TaskResult.objects.values_list("status", flat=True).distinct()},
        "celery_retries_logged": sum(text.count(" retry: Retry in ") for text in logs),
        "postponements_logged": sum(text.count(" postponed until ") for text in logs),
        "simulator": {"total": stats["total"], "by_status": stats["by_status"],
                      "by_token": {label: value["quota_counted"] for label, value in stats["by_token"].items()},
                      "graphql_faults": {kind: count for kind, count in stats["graphql_faults"].items() if count}},
    }


def phase(args, name, *, faults=False, quota=False, kills=0):
    """Run one phase in a subprocess against its own simulator; its report."""
    simulator, base_url = start_simulator(args, faults=faults, quota=quota)
    stamp = f"{args.run_id}-{name}"
    database = f"{args.database_prefix}_{name}"
    env = {**os.environ, **service_environment(
        f"{args.server_url}/{database}", DJANGO_SETTINGS_MODULE="reliability.settings",
        RELIABILITY_QUEUE=f"gom9k-rel-{stamp}", CELERY_BROKER_URL=args.broker_url, GITHUB_API_URL=base_url,
        GITHUB_API_KEY=TOKENS, DISCOVERY_BATCH_SIZE=str(args.batch), LOG_LEVEL="INFO", DATABASE_CONN_MAX_AGE="0",
        GITHUB_API_MODE=args.api_mode)}
    command = [PYTHON, "-m", "reliability.crawl_faults", "--phase", "--database", database,
               "--server-url", args.server_url, "--kill-interval", ",".join(map(str, args.kill_interval)),
               "--dump", str(Path(args.log_root) / f"{name}.dump.json"), "--log-dir", str(Path(args.log_root) / name),
               "--workers", str(args.workers), "--kills", str(kills), "--timeout", str(args.timeout),
               "--chaos-seed", str(args.chaos_seed)]
    if args.restart_services and kills:
        command.append("--restart-services")
    log(f"phase {name}: simulator {base_url}, {args.workers} workers, {kills} kills")
    started = time.monotonic()
    try:
        result = subprocess.run(command, cwd=BASE_DIR, env=env, capture_output=True, text=True, check=False)
    finally:
        stop(simulator, timeout=30)
    if result.returncode != 0:
        raise SystemExit(f"phase {name} failed:\n{result.stderr[-4000:]}")
    report = json.loads(result.stdout.strip().splitlines()[-1])
    report["wall_seconds"] = round(time.monotonic() - started, 1)
    log(f"phase {name}: {report['rows']} in {report['seconds']} s, digest {report['digest']}")
    return report


def spent_against_reference(reports):
    """Each other phase's GraphQL points, GraphQL queries and quota-counted REST requests, with the
    reference's and the difference in percent: what its failures cost beyond time."""
    def figures(report):
        total = report["simulator"]["total"]
        return {"graphql_points": total["graphql_points"], "graphql_queries": total["graphql_queries"],
                "rest_requests": total["quota_counted"]}

    reference = figures(reports["reference"])
    return {name: {key: {"reference": reference[key], name: value,
                         "more_percent": round(100 * (value - reference[key]) / reference[key], 1)
                         if reference[key] else None}
                   for key, value in figures(report).items()}
            for name, report in reports.items() if name != "reference"}


def _interval(text):
    low, high = (float(value) for value in text.split(","))
    if not 0 < low <= high:
        raise argparse.ArgumentTypeError(f"MIN,MAX with 0 < MIN <= MAX, got {text!r}")
    return low, high


def crawl_parser(doc, users, workers):
    """The options every crawl under test starts with, after the first line of the script's `doc`: the
    simulator's world size and seed, the number of workers."""
    parser = argparse.ArgumentParser(description=doc.split("\n", 1)[0])
    parser.add_argument("--users", type=int, default=users, help="simulator world size")
    parser.add_argument("--world-seed", type=int, default=42)
    parser.add_argument("--workers", type=int, default=workers)
    return parser


def main(argv=None):
    """Parse the options; run the phases (or, with --phase, one phase in this process)."""
    parser = crawl_parser(__doc__, users=300, workers=4)
    parser.add_argument("--kills", type=int, default=12, help="SIGKILLs during the fault phase")
    parser.add_argument("--restart-services", action="store_true", help="restart RabbitMQ and PostgreSQL once")
    parser.add_argument("--fault-rate", type=float, default=0.1)
    parser.add_argument("--graphql-fault-rate", type=float, default=0.1,
                        help="share of GraphQL queries meeting GraphQL's own failures (faults phase, hybrid/graphql)")
    parser.add_argument("--fault-window", type=float, default=20,
                        help="primary window, seconds, of the faults phase with GraphQL faults")
    parser.add_argument("--revoke-after", type=int, default=100,
                        help="the faults phase revokes the first token after this many requests (0: never)")
    parser.add_argument("--quota", type=int, default=150, help="requests per window per token (quota phase)")
    parser.add_argument("--window", type=float, default=20, help="quota window, seconds (quota phase)")
    parser.add_argument("--batch", type=int, default=25, help="DISCOVERY_BATCH_SIZE")
    parser.add_argument("--timeout", type=float, default=1800)
    parser.add_argument("--chaos-seed", type=int, default=1)
    parser.add_argument("--kill-interval", type=_interval, default=(2.0, 8.0),
                        help="seconds between two SIGKILLs, drawn between MIN,MAX (default 2,8)")
    parser.add_argument("--server-url", default=SERVER_URL, help="PostgreSQL server (each phase creates its database)")
    parser.add_argument("--database-prefix", default="gom9k_rel", help="phase databases are PREFIX_<phase>")
    parser.add_argument("--broker-url", default=AMQP_URL, help="RabbitMQ (each phase uses a queue of its own)")
    parser.add_argument("--phases", default="reference,faults,quota")
    # rest: what RELIABILITY.md's figures prove. In hybrid and graphql mode a repository's topics, has_downloads,
    # has_pages and open_issues_count depend on which transport read it last (GraphQL does not carry them; a
    # redelivered task re-syncs through REST), so the dumps are compared without them.
    parser.add_argument("--api-mode", choices=["rest", "hybrid", "graphql"], default="rest", help="GITHUB_API_MODE")
    parser.add_argument("--log-root", default=str(BASE_DIR / "var" / "reliability"))
    parser.add_argument("--phase", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--database", help=argparse.SUPPRESS)
    parser.add_argument("--dump", help=argparse.SUPPRESS)
    parser.add_argument("--log-dir", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.phase:
        run_phase(args)
        return 0
    args.run_id = f"{int(time.time())}"
    Path(args.log_root).mkdir(parents=True, exist_ok=True)
    started = datetime.now(UTC)
    machine = machine_description(load_average())
    reports = {}
    for name in args.phases.split(","):
        reports[name] = phase(args, name, faults=name == "faults", quota=name == "quota",
                              kills=args.kills if name == "faults" else 0)
    dumps = {name: json.loads((Path(args.log_root) / f"{name}.dump.json").read_text(encoding="utf-8"))
             for name in reports}
    part_way = {"quota", *(["faults"] if args.api_mode != "rest" and args.graphql_fault_rate else [])}
    verdict = {
        "same_dump_as_reference": {name: dumps[name] == dumps["reference"] for name in dumps if name != "reference"},
        # The product wants a sync the ledger stops part-way to end FAILED with "API rate limit exceeded" (it
        # queues its own follow-up): in the quota phase, and in the faults phase when injected RATE_LIMITED
        # answers spend whole GraphQL windows. Any other failure, in any phase, is a failure of the run.
        "no_failed_tasks": all(not [failure for failure in report["failed_tasks"]
                                    if not (name in part_way and PART_WAY in failure)]
                               for name, report in reports.items()),
        "no_duplicates": all(not any(report["duplicates"].values()) for report in reports.values()),
        "relations_equal_the_world": all(not report["world_differences"] for report in reports.values()),
        "no_dangling_edges": all(not any(report["dangling_edges"].values()) for report in reports.values()),
        "no_task_left_unfinished": all(not set(report["task_states"]) & UNFINISHED for report in reports.values()),
    }
    spent = spent_against_reference(reports)
    for name, figures in spent.items():
        log(f"{name} against reference: {figures}")
    print(json.dumps({"started": started.isoformat(), "machine": machine,
                      "arguments": {k: v for k, v in vars(args).items() if v is not None},
                      "verdict": verdict, "spent_against_reference": spent, "phases": reports}, indent=2))
    return 0 if all(verdict["same_dump_as_reference"].values()) and all(list(verdict.values())[1:]) else 1


if __name__ == "__main__":
    sys.exit(main())
