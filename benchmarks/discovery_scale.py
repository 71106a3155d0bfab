"""Discovery at scale: how long `discovery_scraper` takes to choose its batch among 1,000,000 developers.

    python -m benchmarks.discovery_scale              # 1,000,000 developers, 10,000,000 follows, 1,000,000 stars
    python -m benchmarks.discovery_scale --quick      # 100,000 / 1,000,000 / 100,000, for a quick check

The graph is bulk-loaded with COPY by benchmarks/seed_database.py into its own PostgreSQL database
(`gom9k_perf_discovery`), once: a later run reuses it when its counts match (`--reseed` loads it again). The
loader gives every synced developer the same sync time and stubs no seed distance, which would make both of
discovery's orders trivial; so stubs get a distance of 1 to 6 and synced developers a last sync spread over the
past 48 hours (half of them due for a resync), from their github_id, then the table is analysed.

Measured, each in a transaction rolled back afterwards (a run's claims would otherwise change the next run's
answer): `discovery.choose_discovery_batch` as the task calls it (batch of DISCOVERY_BATCH_SIZE, and of 100), the
resync queue on its own (what discovery reads once no stub is left: its first rows plus each one's cost
estimate), and PostgreSQL's plan of both queues, which must be index scans of the partial queue indexes, not
scans of the table.
"""
import argparse
import statistics
import sys
import time

from benchmarks.harness import setup_django
from benchmarks.perf_common import database_url, header, write_section

DATABASE = "gom9k_perf_discovery"
SECTION = ("discovery-scale", "Discovery at scale", "python -m benchmarks.discovery_scale")
TARGET_MS = 100.0
FULL = {"developers": 1_000_000, "follows": 10_000_000, "repositories": 1_000_000, "stars": 1_000_000}
QUICK = {name: count // 10 for name, count in FULL.items()}


def graph_size():
    """(developers, follows, stars) stored now."""
    from github.models import Developer, Follow, Star  # pylint: disable=import-outside-toplevel

    return Developer.objects.count(), Follow.objects.count(), Star.objects.count()


def load(size):
    """Bulk-load the graph, then spread the queue columns the loader leaves uniform."""
    # pylint: disable=import-outside-toplevel
    from django.db import connection

    from benchmarks.seed_database import seed

    print(f"Loading {size['developers']:,} developers, {size['follows']:,} follows...", flush=True)
    print(seed(**size), flush=True)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE github_developer SET seed_distance = 1 + github_id % 6 WHERE profile_synced_at IS NULL")
        cursor.execute("UPDATE github_developer SET profile_synced_at = now() - (github_id % 2880) * interval "
                       "'1 minute' WHERE profile_synced_at IS NOT NULL")
        cursor.execute("VACUUM (ANALYZE) github_developer")


def timed(function, runs):
    """Milliseconds of `runs` calls of `function`, each in a transaction that is rolled back."""
    from django.db import transaction  # pylint: disable=import-outside-toplevel

    samples = []
    for _ in range(runs):
        with transaction.atomic():
            started = time.perf_counter()
            function()
            samples.append((time.perf_counter() - started) * 1000)
            transaction.set_rollback(True)
    return samples


def resync_leg(limit):
    """The resync queue's first `limit` developers, locked as discovery locks them, each with its cost."""
    from github import discovery  # pylint: disable=import-outside-toplevel

    _stubs, synced = discovery.discovery_queues()
    return [discovery.estimate_developer_cost(developer)
            for developer in synced.select_for_update(skip_locked=True)[:limit]]


def plan(queryset):
    """PostgreSQL's executed plan of the first five rows of a queue, as text."""
    from django.db import connection  # pylint: disable=import-outside-toplevel

    sql, params = queryset[:5].query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def main(argv=None):  # pylint: disable=too-many-locals
    """Load (or reuse) the graph, time discovery's choice, print and record the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of the size; BENCHMARKS.md is not written")
    parser.add_argument("--reseed", action="store_true", help="load the graph again even if its size matches")
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args(argv)
    size = QUICK if args.quick else FULL
    setup_django(database_url(DATABASE + ("_quick" if args.quick else "")))
    # pylint: disable=import-outside-toplevel
    from django.conf import settings

    from github import discovery

    if args.reseed or graph_size() != (size["developers"], size["follows"], size["stars"]):
        load(size)
    developers, follows, stars = graph_size()
    stubs, synced = discovery.discovery_queues()
    queue_sizes = stubs.count(), synced.count()
    batch = settings.DISCOVERY_BATCH_SIZE
    rows = []
    for label, function in (
        (f"choose_discovery_batch, batch of {batch} (the task's)",
         lambda: discovery.choose_discovery_batch(budget=5000, limit=batch)),
        ("choose_discovery_batch, batch of 100", lambda: discovery.choose_discovery_batch(budget=100_000, limit=100)),
        (f"resync queue alone, {batch} developers with their cost estimates", lambda: resync_leg(batch)),
    ):
        timed(function, 3)  # warm the cache: the task runs hourly on a live database
        samples = timed(function, args.runs)
        rows.append((label, statistics.median(samples), max(samples)))
    plans = {"stubs": plan(stubs), "resync": plan(synced)}
    scans = {name: "Seq Scan" not in text and "Index Scan using developer_" in text for name, text in plans.items()}
    table = ["| what | median ms | max ms | target |", "| --- | ---: | ---: | --- |"]
    table += [f"| {label} | {median:.2f} | {worst:.2f} | < {TARGET_MS:.0f} ms: "
              f"{'met' if worst < TARGET_MS else 'missed'} |" for label, median, worst in rows]
    body = (header(SECTION[2] + (" --quick" if args.quick else "")) +
            f"- Graph: {developers:,} developers ({queue_sizes[0]:,} never-synced stubs, {queue_sizes[1]:,} due "
            f"for a resync), {follows:,} follows, {stars:,} stars; bulk-loaded with COPY; {args.runs} runs each, "
            "warm cache, each in a rolled-back transaction\n\n" + "\n".join(table) + "\n\n"
            + "\n\n".join(f"Plan of the {name} queue (index scan: {'yes' if scans[name] else 'NO'}):\n\n```\n"
                          f"{text}\n```" for name, text in plans.items()))
    print(body)
    if not args.quick:
        write_section(*SECTION, body)
    return 0 if all(scans.values()) and all(worst < TARGET_MS for _label, _median, worst in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
