"""Long outages: a whole crawl by worker subprocesses that lose PostgreSQL, then RabbitMQ, then GitHub, each for
a while, through TCP proxies (reliability/outage_proxy.py) between them and the servers, which stay up for
everybody else.

    python -m reliability.outages --database-outage 180 --broker-outage 180 --github-outage 600

The driver (this process) reaches PostgreSQL and RabbitMQ directly; the workers only through the proxies. Each
outage starts once the crawl is under way and ends after its seconds; the next starts once the workers have
finished syncs again after it (they came back by themselves). The run must end as any crawl: every developer
reachable from the seed synced, relation sets equal to the world's, no duplicate, no edge to nothing, no task
FAILED or left unfinished, and the ledger must count no more REST requests than GitHub did, but for those in
flight when a cut reset their connection (GitHub may have charged them). JSON report on stdout.
"""
# Starting this interpreter's modules with arguments built here is the point.
# ruff: noqa: S603
import json
import os
import signal
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from benchmarks.harness import (
    BASE_DIR,
    ensure_database,
    load_average,
    log,
    machine_description,
    secret_key,
    simulator_process,
    stop,
)
from reliability.crawl_faults import AMQP_URL, SERVER_URL, TOKENS, UNFINISHED, Workers, crawl_parser
from reliability.outage_proxy import OutageProxy


class Outages(threading.Thread):
    """Cuts (or stalls) each proxy in turn for its seconds, once syncs are finishing; records what happened."""

    def __init__(self, plan, progress, mode):
        super().__init__(daemon=True)
        self.plan, self.progress, self.mode = plan, progress, mode
        self.events = []
        self.done = threading.Event()

    def _wait_for_progress(self, syncs, limit=600):
        """Until `syncs` more syncs have ended; False if that took longer than `limit` seconds."""
        target = self.progress() + syncs
        deadline = time.monotonic() + limit
        while self.progress() < target:
            if time.monotonic() > deadline or self.done.wait(0.5):
                return False
        return True

    def run(self):
        for name, proxy, seconds in self.plan:
            if not self._wait_for_progress(2):
                return
            started = time.monotonic()
            (proxy.cut if self.mode == "cut" else proxy.stall)()
            log(f"{name} {self.mode} for {seconds} s")
            self.done.wait(seconds)
            proxy.restore()
            back = self._wait_for_progress(1)
            self.events.append({"outage": name, "seconds": seconds, "mode": self.mode,
                                "first_sync_after_it_seconds": round(time.monotonic() - started - seconds, 1)
                                if back else None})
            log(f"{name} restored: {self.events[-1]}")


def run(args):  # pylint: disable=too-many-locals
    """The crawl through the outages; the report."""
    database_url = f"{args.server_url}/{args.database}"
    ensure_database(database_url, fresh=True)
    simulator, github_url = simulator_process("--users", str(args.users), "--seed", str(args.world_seed),
                                              "--tokens", TOKENS)
    proxies = {"database": OutageProxy(urlsplit(database_url).port or 5432).start(),
               "broker": OutageProxy(urlsplit(args.broker_url).port or 5672).start(),
               "github": OutageProxy(urlsplit(github_url).port).start()}
    env = {
        **os.environ, "DJANGO_SETTINGS_MODULE": "reliability.settings",
        "RELIABILITY_QUEUE": f"gom9k-outages-{int(time.time())}", "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": args.broker_url, "GITHUB_API_URL": github_url, "GITHUB_API_KEY": TOKENS,
        "DISCOVERY_BATCH_SIZE": str(args.batch), "GITHUB_API_MODE": args.api_mode, "LOG_LEVEL": "INFO",
        "SECRET_KEY": secret_key(), "DATABASE_CONN_MAX_AGE": "0",
    }
    os.environ.update(env)
    worker_env = env | {"DATABASE_URL": proxies["database"].url(database_url),
                        "CELERY_BROKER_URL": proxies["broker"].url(args.broker_url),
                        "GITHUB_API_URL": proxies["github"].url(github_url)}
    import django  # pylint: disable=import-outside-toplevel

    django.setup()
    # pylint: disable=import-outside-toplevel
    from django.core.management import call_command

    from git_o_matic_9k.celery import app
    from github.models import Developer
    from reliability.crawl import drive_crawl
    from reliability.crawl_faults import _outcome_report
    from reliability.remote_world import RemoteWorld

    call_command("migrate", verbosity=0)
    app.control.purge()
    log_dir = Path(args.log_dir)
    log_dir.mkdir(parents=True, exist_ok=True)
    for old in log_dir.glob("*.log"):
        old.unlink()
    world = RemoteWorld(github_url)
    logins = world.logins()
    synced = Developer.objects.filter(profile_synced_at__isnull=False)
    plan = [(name, proxies[name], seconds) for name, seconds in
            (("database", args.database_outage), ("broker", args.broker_outage), ("github", args.github_outage))
            if seconds]
    outages = Outages(plan, lambda: _count(synced), args.mode)
    workers = Workers(args.workers, worker_env, log_dir)
    try:
        outages.start()
        outcome = drive_crawl(logins[0], timeout=args.timeout, poll=0.5,
                              on_round=lambda rounds, queued: log(f"round {rounds}, {queued} syncs"))
        outages.done.set()
        outages.join()
        workers.stop()
        args.dump = str(log_dir / "dump.json")
        report = {**outcome, **_outcome_report(args, world, log_dir), "outages": outages.events,
                  "proxies": {name: proxy.counts for name, proxy in proxies.items()}}
    finally:
        workers.stop()
        for proxy in proxies.values():
            proxy.stop()
        stop(simulator, timeout=30)
    logs = [path.read_text(encoding="utf-8") for path in log_dir.glob("*.log")]
    report["deliveries_logged"] = sum(line.count("full_profile_sync[") for log in logs for line in log.splitlines()
                                      if line.endswith("] received"))
    report["ledger_minus_github"] = _ledger_minus_github(report["simulator"])
    report["verdict"] = {
        "every_reachable_developer_synced": report["rows"]["developers"] == report["rows"]["synced"] > 0,
        "outages_done": len(outages.events) == len(plan) and all(e["first_sync_after_it_seconds"] is not None
                                                                 for e in outages.events),
        "no_failed_tasks": not report["failed_tasks"],
        "no_duplicates": not any(report["duplicates"].values()),
        "no_dangling_edges": not any(report["dangling_edges"].values()),
        "relations_equal_the_world": not report["world_differences"],
        "no_task_left_unfinished": not set(report["task_states"]) & UNFINISHED,
        # A request in flight when its connection was reset may or may not have been charged: the ledger keeps
        # its unit. Any other unit the ledger counts beyond GitHub's was lost to a request that never reached it.
        "no_quota_lost_to_outages": 0 <= report["ledger_minus_github"] <= report["proxies"]["github"]["reset"],
    }
    return report


def _count(queryset):
    from django.db import DatabaseError, connection  # pylint: disable=import-outside-toplevel

    try:
        return queryset.count()
    except DatabaseError:
        connection.close()
        return 0


def _ledger_minus_github(simulator_stats):
    """REST units the ledger counts as spent beyond what GitHub counted (0: none lost to a failed request)."""
    from github import throttle  # pylint: disable=import-outside-toplevel
    from github.models import RateLimit  # pylint: disable=import-outside-toplevel

    spent = sum(row.rate_limit - row.rate_remaining for row in RateLimit.objects.filter(resource=throttle.CORE))
    return spent - simulator_stats["total"]["quota_counted"]


def main(argv=None):
    """Parse the options, run, print the report; exit 1 unless every verdict holds."""
    parser = crawl_parser(__doc__, users=60, workers=2)
    parser.add_argument("--batch", type=int, default=10, help="DISCOVERY_BATCH_SIZE")
    parser.add_argument("--database-outage", type=float, default=180, help="seconds (0: none)")
    parser.add_argument("--broker-outage", type=float, default=180, help="seconds (0: none)")
    parser.add_argument("--github-outage", type=float, default=600, help="seconds (0: none)")
    parser.add_argument("--mode", choices=["cut", "stall"], default="cut",
                        help="cut: connections reset and refused (a server down); stall: nothing flows (a partition)")
    parser.add_argument("--api-mode", choices=["rest", "hybrid", "graphql"], default="rest")
    parser.add_argument("--timeout", type=float, default=3600)
    parser.add_argument("--server-url", default=SERVER_URL, help="PostgreSQL server")
    parser.add_argument("--database", default="gom9k_outages")
    parser.add_argument("--broker-url", default=AMQP_URL)
    parser.add_argument("--log-dir", default=str(BASE_DIR / "var" / "outages"))
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # stop the workers, proxies and simulator too
    started = datetime.now(UTC)
    machine = machine_description(load_average())
    report = run(args)
    print(json.dumps({"started": started.isoformat(), "machine": machine, "arguments": vars(args), **report},
                     indent=2))
    return 0 if all(report["verdict"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
