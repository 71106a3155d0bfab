"""Export and rank at scale: time and peak memory of `manage.py export_graph` in each format, and of
`manage.py rank`, on graphs of growing size, to show that the export's memory stays flat.

    python -m benchmarks.graph_export                      # 10,000 and 100,000 developers (10 follows each)
    python -m benchmarks.graph_export --sizes 1000000      # the issue's 1,000,000 / 10,000,000 (seeding ~12 min)
    python -m benchmarks.graph_export --quick              # 10,000 and 30,000; BENCHMARKS.md is not written

Each size has its own PostgreSQL database (`gom9k_perf_graph_<developers>`), migrated and bulk-loaded by
benchmarks/seed_database.py with 10 follows, 1 repository and 1 star per developer; a later run reuses it when
its counts match (`--reseed` loads it again). Every measured command runs in a process of its own, as an
operator would run it, and its peak memory is that process's maximum resident set size (`wait4`'s ru_maxrss);
PostgreSQL's own memory is not counted. The export writes developers and repositories as nodes with every
follow and star (`--nodes both`), to a file in a temporary folder. Rank runs first, so the export carries ranks.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.harness import BASE_DIR, ensure_database, service_environment
from benchmarks.perf_common import database_url, header, write_section

SECTION = ("graph-export", "Graph export and rank", "python -m benchmarks.graph_export")
FORMATS = ["graphml", "gexf", "csv", "parquet", "jsonl"]
EXPORT_TARGET_MB = 300
RANK_TARGET_SECONDS = 60
RANK_TARGET_MB = 2048


def sizes_of(developers):
    """Rows of each table at a size: 10 follows, 1 repository and 1 star per developer."""
    return {"developers": developers, "follows": 10 * developers, "repositories": developers, "stars": developers}


def run(command, environment):
    """Run `command`; (seconds, peak resident MB, stdout). Raises on a non-zero exit.

    The child is reaped with wait4, whose resource usage is that child's alone (RUSAGE_CHILDREN would be the
    maximum over every child so far).
    """
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        with subprocess.Popen(command, cwd=BASE_DIR, env=environment, stdout=out, stderr=err) as process:  # noqa: S603
            _pid, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        if os.waitstatus_to_exitcode(status):
            raise RuntimeError(f"{' '.join(command)} failed ({os.waitstatus_to_exitcode(status)}):\n{err.read()}")
        return seconds, usage.ru_maxrss / 1024, out.read()


def manage(*args):
    """The command line of `manage.py args` in this checkout's Python."""
    return [sys.executable, "manage.py", *args]


def counts(url):
    """(developers, follows, repositories, stars) stored in the database at `url`."""
    import psycopg2  # pylint: disable=import-outside-toplevel

    with psycopg2.connect(url) as connection, connection.cursor() as cursor:
        result = []
        for table in ("github_developer", "github_follow", "github_repository", "github_star"):
            cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608  # fixed table names
            result.append(cursor.fetchone()[0])
        return tuple(result)


def prepare(developers, reseed):
    """The environment of a migrated, seeded database of this size; seeds it when its counts differ."""
    url = database_url(f"gom9k_perf_graph_{developers}")
    ensure_database(url)
    environment = {**os.environ, **service_environment(url)}
    subprocess.run(manage("migrate", "--no-input", "-v", "0"), cwd=BASE_DIR, env=environment, check=True)  # noqa: S603
    size = sizes_of(developers)
    if reseed or counts(url) != tuple(size.values()):
        print(f"seeding {developers:,} developers...", flush=True)
        command = [sys.executable, "-m", "benchmarks.seed_database", "--developers", str(developers),
                   "--follows", str(size["follows"]), "--repositories", str(size["repositories"]),
                   "--stars", str(size["stars"])]
        print(run(command, environment)[2].strip(), flush=True)
    return environment


def measure(developers, reseed):
    """Rows of the results table for one size: rank, then each export format."""
    environment = prepare(developers, reseed)
    size = sizes_of(developers)
    label = f"{developers:,} / {size['follows']:,} follows"
    seconds, peak, stdout = run(manage("rank"), environment)
    phases = re.search(r"\((read .*)\)", stdout)
    rows = [(label, "rank", seconds, peak, "", phases.group(1) if phases else "")]
    print(rows[-1], flush=True)
    with tempfile.TemporaryDirectory(prefix="graph-export-") as folder:
        for fmt in FORMATS:
            path = Path(folder) / f"graph.{fmt}"
            seconds, peak, _stdout = run(manage("export_graph", "--format", fmt, "--nodes", "both", "-o",
                                                str(path)), environment)
            rows.append((label, f"export {fmt}", seconds, peak, f"{path.stat().st_size / 2**20:,.0f} MB", ""))
            print(rows[-1], flush=True)
            path.unlink()
    return rows


def verdicts(rows):
    """Each target against the figures: export peak under 300 MB and flat, rank time and memory."""
    exports = [row for row in rows if row[1].startswith("export")]
    ranks = [row for row in rows if row[1] == "rank"]
    lines = []
    worst = max(row[3] for row in exports)
    lines.append(f"- Export peak memory < {EXPORT_TARGET_MB} MB: {'met' if worst < EXPORT_TARGET_MB else 'MISSED'} "
                 f"(largest {worst:.0f} MB)")
    labels = list(dict.fromkeys(row[0] for row in rows))
    if len(labels) > 1:
        for fmt in FORMATS:
            peaks = [row[3] for row in exports if row[1] == f"export {fmt}"]
            lines.append(f"- export {fmt}: peak {' -> '.join(f'{peak:.0f}' for peak in peaks)} MB from "
                         f"{labels[0]} to {labels[-1]} (x{peaks[-1] / peaks[0]:.2f})")
    largest = ranks[-1]
    met = largest[2] < RANK_TARGET_SECONDS and largest[3] < RANK_TARGET_MB
    lines.append(f"- Rank < {RANK_TARGET_SECONDS} s and < {RANK_TARGET_MB} MB at {largest[0]}: "
                 f"{'met' if met else 'MISSED'} ({largest[2]:.1f} s, {largest[3]:.0f} MB)")
    return lines, worst < EXPORT_TARGET_MB and met


def main(argv=None):
    """Measure every size, print the table, write it to BENCHMARKS.md unless --quick."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sizes", default="10000,100000", help="developers per graph, comma-separated")
    parser.add_argument("--quick", action="store_true", help="10,000 and 30,000; BENCHMARKS.md is not written")
    parser.add_argument("--reseed", action="store_true", help="load the graphs again even if their sizes match")
    args = parser.parse_args(argv)
    sizes = [10_000, 30_000] if args.quick else [int(value) for value in args.sizes.split(",")]
    rows = [row for developers in sizes for row in measure(developers, args.reseed)]
    # The header describes the machine through Django's connection (the PostgreSQL version): set up on the last
    # database only now, so that no connection of this process is open while the commands run.
    import django  # pylint: disable=import-outside-toplevel

    os.environ.update(service_environment(database_url(f"gom9k_perf_graph_{sizes[-1]}")))
    django.setup()
    table = ["| developers / follows | what | seconds | peak MB | file | phases |",
             "| --- | --- | ---: | ---: | ---: | --- |"]
    table += [f"| {label} | {what} | {seconds:.1f} | {peak:.0f} | {size} | {phases} |"
              for label, what, seconds, peak, size, phases in rows]
    lines, met = verdicts(rows)
    command = SECTION[2] + ("" if args.sizes == "10000,100000" else f" --sizes {args.sizes}")
    body = (header(command) + "- Graph: developers with 10 follows, 1 repository and 1 star each (40% stubs), "
            "bulk-loaded with COPY; the export is `--nodes both` (every developer and repository, every follow "
            "and star); peak memory is the command's process (ru_maxrss)\n\n" + "\n".join(table) + "\n\n"
            + "\n".join(lines))
    print(body)
    if not args.quick:
        write_section(*SECTION, body)
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
