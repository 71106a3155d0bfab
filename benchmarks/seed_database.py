"""Fill the database with a synthetic, heavy-tailed GitHub graph, fast: the data behind the API benchmarks.

`seed()` *replaces* the contents of the four graph tables (developers, follows, repositories, stars) with a
deterministic graph shaped like a real crawl:

- follows: a few hubs with thousands of followers, most developers with a handful (a Zipf-like law on
  followees, a milder one on followers); every (follower, followee) pair once, nobody follows themself, and
  every edge has at least one synced end (edges are only ever read from a synced developer's lists);
- stub developers (github_id and login only, like the ones a crawl learns from somebody's list) mixed in;
- repositories owned mostly by synced developers, with `owner_github_id` equal to the owner's `github_id`;
- stars: a few very popular repositories, a long tail of repositories with one or two stargazers;
- counts that agree with the edges: followers_count, following_count and public_repos of a synced developer,
  and stargazers_count and watchers_count of every repository, are what the tables hold.

Rows are valid for the models: UUID primary keys, logins and full names unique in any case, every
`auto_now_add` column filled, and any column added later to a model filled with that field's default.

On PostgreSQL the rows go in with COPY inside one transaction, with the tables' secondary indexes, unique
constraints and foreign keys dropped first and rebuilt after the load (one sort per index instead of a
million index insertions and deferred foreign-key checks), then VACUUM ANALYZE. On SQLite they go in with
`executemany` in one transaction, then ANALYZE.

The graph is drawn as the rows are sent (benchmarks/graph_generator.py), so memory stays flat however many edges
there are: a 1,000,000-developer, 10,000,000-edge graph holds a few hundred bytes per developer, never the edges.
Phases timed: `generate` (what is drawn before the first row: keys, logins, owners, each developer's number of
edges), `load` (drawing the rows and sending them), `index` (rebuilding indexes and constraints), `analyze`.

    python -m benchmarks.seed_database --developers 100000    # against DATABASE_URL, or the SQLite default

Never point it at data you want to keep: `python -m benchmarks.api_latency` runs it against its own database.
"""
import argparse
import random
import time
from dataclasses import dataclass, field

from benchmarks.graph_generator import Graph
from benchmarks.graph_loader import load_graph


@dataclass
class SeedReport:
    """What `seed()` loaded and how long each phase took, in seconds."""

    developers: int
    follows: int
    repositories: int
    stars: int
    vendor: str
    seconds: dict = field(default_factory=dict)

    @property
    def total_seconds(self):
        """All phases together."""
        return sum(self.seconds.values())

    def __str__(self):
        phases = ", ".join(f"{name} {value:.1f}s" for name, value in self.seconds.items())
        return (
            f"{self.developers:,} developers, {self.follows:,} follows, {self.repositories:,} repositories, "
            f"{self.stars:,} stars in {self.total_seconds:.1f}s on {self.vendor} ({phases})"
        )


def seed(  # pylint: disable=too-many-arguments,redefined-outer-name  # its callers' names
    developers=100_000, follows=1_000_000, repositories=100_000, stars=None, seed=1, *, using="default"
):
    """Replace the graph tables' rows with a generated graph of these sizes; returns a SeedReport.

    `stars` defaults to as many as `follows`. The same arguments always produce the same graph (`seed` is the
    random seed); only the bookkeeping timestamps (discovered_at, *_synced_at, first_seen_at) are today's.
    """
    # Imported here so that `import benchmarks.seed_database` works before Django is set up.
    from django.db import connections  # pylint: disable=import-outside-toplevel

    stars = follows if stars is None else stars
    if developers < 2 and (follows or stars):
        raise ValueError("edges need at least 2 developers")
    connection = connections[using]
    timings = {}
    started = time.perf_counter()
    graph = Graph(random.Random(seed), developers, follows, repositories, stars)
    timings["generate"] = time.perf_counter() - started
    load_graph(connection, graph, timings)
    return SeedReport(developers, follows, repositories, stars, connection.vendor, timings)


def main(argv=None):
    """Seed the database Django is configured for (DATABASE_URL, or the SQLite default)."""
    import os  # pylint: disable=import-outside-toplevel

    import django  # pylint: disable=import-outside-toplevel

    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--developers", type=int, default=100_000)
    parser.add_argument("--follows", type=int, help="default: 10 per developer")
    parser.add_argument("--repositories", type=int, help="default: 1 per developer")
    parser.add_argument("--stars", type=int, help="default: as many as follows")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "git_o_matic_9k.settings")
    django.setup()
    follows = args.follows if args.follows is not None else 10 * args.developers
    report = seed(
        developers=args.developers,
        follows=follows,
        repositories=args.repositories if args.repositories is not None else args.developers,
        stars=args.stars,
        seed=args.seed,
    )
    print(report)


if __name__ == "__main__":
    main()
