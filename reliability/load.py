"""The load run: gunicorn on PostgreSQL with the 1,000,000-edge benchmark graph, 50 concurrent locust clients
for 60 seconds on the list, detail, filtered and nested endpoints; then the same with a crawl running at full
speed beside it (a simulator, Celery workers writing into the same database, discovery every few seconds).

    python -m reliability.load                       # seeds gom9k_rel_load first unless --no-seed
    python -m reliability.load --no-seed --alone-only \
        --database-url postgres://postgres@127.0.0.1:5432/gom9k_bench_large    # the largest API benchmark graph

The database is this run's own (`gom9k_rel_load`), seeded with benchmarks/seed_database.py (100,000
developers, 1,000,000 follows, 100,000 repositories, 1,000,000 stars). Prints a JSON report: per scenario,
requests, failures, p50/p95/p99 (ms) and requests per second, overall and per endpoint, and the crawl's
throughput beside it.
"""
# Starting this machine's own tools and this interpreter's modules, with arguments built here, is the point.
# ruff: noqa: S603, S607
import argparse
import csv
import json
import os
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.harness import (
    BASE_DIR,
    PYTHON,
    free_port,
    load_average,
    log,
    machine_description,
    service_environment,
    simulator_process,
    start_gunicorn,
    stop,
)

DATABASE_URL = "postgres://postgres@127.0.0.1:5432/gom9k_rel_load"
AMQP_URL = "amqp://guest:guest@127.0.0.1:5672//"
QUEUE = "gom9k-rel-load"


def _environment(**extra):
    return {**os.environ, **service_environment(
        os.environ.get("LOAD_DATABASE_URL", DATABASE_URL), DJANGO_SETTINGS_MODULE="reliability.settings",
        ALLOWED_HOSTS="127.0.0.1", SECURE_COOKIES="0",
        RELIABILITY_QUEUE=QUEUE, CELERY_BROKER_URL=AMQP_URL,
        # The clients share one token: the per-user throttle would measure itself, not the service.
        API_THROTTLE_RATE="", **extra)}


def prepare(seed_graph):
    """Seed (when asked), and return a token and sample ids: the most-followed developers, the most-starred
    repositories, and random ones."""
    import django  # pylint: disable=import-outside-toplevel

    os.environ.update(_environment())
    django.setup()
    # pylint: disable=import-outside-toplevel
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from rest_framework.authtoken.models import Token

    from benchmarks.seed_database import seed
    from github.models import Developer, Repository

    if seed_graph:
        call_command("migrate", verbosity=0)
        log(f"seeded: {seed()}")
    user, _ = get_user_model().objects.get_or_create(username="load-test")
    token, _ = Token.objects.get_or_create(user=user)
    hubs = list(Developer.objects.order_by("-followers_count").values_list("pk", flat=True)[:20])
    some = list(Developer.objects.order_by("?").values_list("pk", flat=True)[:200])
    popular = list(Repository.objects.order_by("-stargazers_count").values_list("pk", flat=True)[:20])
    repositories = list(Repository.objects.order_by("?").values_list("pk", flat=True)[:200])
    return {"LOAD_TOKEN": token.key, "LOAD_DEVELOPERS": ",".join(str(pk) for pk in hubs + some),
            "LOAD_REPOSITORIES": ",".join(str(pk) for pk in popular + repositories)}


def run_locust(port, users, seconds, env, prefix):
    """Locust headless; the aggregated and per-endpoint rows of its stats CSV."""
    subprocess.run(
        [PYTHON, "-m", "locust", "-f", str(BASE_DIR / "reliability" / "locustfile.py"), "--headless", "-u", str(users),
         "-r", str(users), "-t", f"{seconds}s", "--host", f"http://127.0.0.1:{port}", "--csv", prefix, "--only-summary",
         "--loglevel", "WARNING"],
        cwd=BASE_DIR, env={**os.environ, **env}, check=False, capture_output=True,
    )
    rows = {}
    with open(f"{prefix}_stats.csv", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            rows[row["Name"]] = {
                "requests": int(row["Request Count"]), "failures": int(row["Failure Count"]),
                "p50_ms": float(row["50%"]), "p95_ms": float(row["95%"]), "p99_ms": float(row["99%"]),
                "requests_per_second": round(float(row["Requests/s"]), 1),
            }
    with open(f"{prefix}_failures.csv", encoding="utf-8") as handle:
        failures = list(csv.DictReader(handle))
    return {"all": rows.pop("Aggregated"), "endpoints": rows, "failure_kinds": failures}


class Crawl:
    """A crawl beside the load: a 5,000-user simulator, worker processes on the same database, discovery every
    3 seconds with a batch of 50."""

    def __init__(self, workers):
        self.simulator, self.base_url = simulator_process("--users", "5000")
        env = _environment(GITHUB_API_URL=self.base_url, GITHUB_API_KEY="load-token", DISCOVERY_BATCH_SIZE="50",
                           DATABASE_CONN_MAX_AGE="60")
        os.environ.update(GITHUB_API_URL=self.base_url, GITHUB_API_KEY="load-token")
        self.workers = [subprocess.Popen(  # pylint: disable=consider-using-with
            [PYTHON, "-m", "celery", "-A", "git_o_matic_9k", "worker", "-P", "threads", "-c", "4", "-Q", QUEUE,
             "-n", f"load{index}@%h", "--without-gossip", "--without-mingle"],
            cwd=BASE_DIR, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        ) for index in range(workers)]
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._discover, daemon=True)

    def _discover(self):
        # pylint: disable=import-outside-toplevel
        from django.conf import settings

        from github import tasks
        settings.GITHUB_API_URL, settings.GITHUB_API_KEY = self.base_url, "load-token"
        settings.DISCOVERY_BATCH_SIZE = 50
        tasks.full_profile_sync.delay(self._seed_login())
        while not self.stop.wait(3):
            tasks.discovery_scraper.apply()

    def _seed_login(self):
        import requests  # pylint: disable=import-outside-toplevel

        return requests.post(f"{self.base_url}/_simulator/world/logins", json=[], timeout=30).json()["result"][0]

    def stats(self):
        """The simulator's request counts."""
        import requests  # pylint: disable=import-outside-toplevel

        return requests.get(f"{self.base_url}/_simulator/stats", timeout=30).json()["total"]

    def close(self):
        """Stop discovery, the workers and the simulator."""
        self.stop.set()
        stop(*self.workers, self.simulator)


def main(argv=None):
    """Seed, serve, load; then load again beside a crawl; print the report."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--no-seed", action="store_true", help="the database is seeded already")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--web-workers", type=int, default=4)
    parser.add_argument("--crawl-workers", type=int, default=2)
    parser.add_argument("--out", default=str(BASE_DIR / "var" / "reliability-load"))
    parser.add_argument("--database-url", default=os.environ.get("LOAD_DATABASE_URL", DATABASE_URL),
                        help="the database to serve (LOAD_DATABASE_URL), e.g. the 1,000,000-developer graph that "
                             "`python -m benchmarks.api_latency` seeded: gom9k_bench_large, with --no-seed")
    parser.add_argument("--alone-only", action="store_true", help="skip the run beside a crawl (which writes into "
                                                                  "the database)")
    args = parser.parse_args(argv)
    os.environ["LOAD_DATABASE_URL"] = args.database_url
    Path(args.out).mkdir(parents=True, exist_ok=True)
    env = prepare(not args.no_seed)
    from django_celery_results.models import TaskResult  # pylint: disable=import-outside-toplevel

    from git_o_matic_9k.celery import app  # pylint: disable=import-outside-toplevel

    port = free_port()
    server = start_gunicorn(port, _environment(), workers=args.web_workers)
    report = {"started": datetime.now(UTC).isoformat(), "machine": machine_description(load_average()),
              "arguments": vars(args)}
    try:
        log("load alone")
        report["alone"] = run_locust(port, args.users, args.seconds, env, f"{args.out}/alone")
        if args.alone_only:
            print(json.dumps(report, indent=2))
            return 0 if report["alone"]["all"]["failures"] == 0 else 1
        app.control.purge()
        crawl = Crawl(args.crawl_workers)
        try:
            crawl.thread.start()
            time.sleep(10)  # the crawl up to speed
            before, done_before = crawl.stats(), TaskResult.objects.filter(status="SUCCESS").count()
            log("load beside a crawl")
            report["beside_a_crawl"] = run_locust(port, args.users, args.seconds, env, f"{args.out}/crawl")
            after, done_after = crawl.stats(), TaskResult.objects.filter(status="SUCCESS").count()
            report["beside_a_crawl"]["crawl"] = {
                "github_requests_per_second": round((after["requests"] - before["requests"]) / args.seconds, 1),
                "syncs_finished": done_after - done_before,
                "github_errors": after["errors"] - before["errors"],
            }
        finally:
            crawl.close()
    finally:
        stop(server)
    print(json.dumps(report, indent=2))
    failures = report["alone"]["all"]["failures"] + report["beside_a_crawl"]["all"]["failures"]
    return 0 if failures == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
