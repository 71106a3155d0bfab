"""Rank: PageRank of the follow graph for developers, and for repositories the sum of their stargazers' ranks.

Computed with numpy and scipy over edges read from the database in chunks: a sparse matrix, never a Python
graph object, so 1,000,000 developers and 10,000,000 follows fit in well under 2 GB. Developers and
repositories are matched to matrix positions by github_id (sorted arrays and `searchsorted`), so nothing holds
a Python object per row. Everything is read in one transaction (REPEATABLE READ on PostgreSQL, a consistent
snapshot: every edge's ends are among the developers read). The ranks go to narrow tables of their own
(github.models.DeveloperRank, RepositoryRank), replaced whole: the crawl's writes never wait for them.
"""
import io
import logging
import re
import time
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from django.db import OperationalError, connection, transaction
from django.utils import timezone
from scipy import sparse

from github.models import Developer, DeveloperRank, Follow, Repository, RepositoryRank, Star
from github.selectors import consistent_snapshot

logger = logging.getLogger(__name__)

DAMPING = 0.85
# The iteration stops when the L1 change of the rank vector falls below this (the ranks sum to 1), or after
# MAX_ITERATIONS (the error shrinks by the damping factor each step: 0.85**200 is 1e-14).
TOLERANCE = 1e-12
MAX_ITERATIONS = 200
READ_CHUNK_ROWS = 100_000
WRITE_SLICE_ROWS = 50_000  # rows per COPY of the ranks into PostgreSQL
SWAP_LOCK_TIMEOUT = 5  # seconds the swap waits for readers of the old rank table, per attempt
SWAP_ATTEMPTS = 60
SWAP_PAUSE = 10  # seconds between attempts


def pagerank(sources, targets, count, damping=DAMPING):
    """PageRank of a directed graph of `count` nodes with edges sources[i] -> targets[i] (integer arrays).

    The textbook's random surfer: with probability `damping` it follows an out-edge of its node, chosen
    uniformly, otherwise it jumps to a node chosen uniformly; from a node without out-edges (dangling) it
    jumps uniformly. The result sums to 1 and is what networkx.pagerank computes with the same damping.
    """
    if count == 0:
        return np.zeros(0)
    out_degree = np.bincount(sources, minlength=count).astype(np.float64)
    # Column-stochastic transition matrix: entry (target, source) is 1 / out-degree of the source.
    transition = sparse.csr_matrix(
        (1.0 / out_degree[sources], (targets, sources)), shape=(count, count), dtype=np.float64)
    dangling = out_degree == 0
    ranks = np.full(count, 1.0 / count)
    for _ in range(MAX_ITERATIONS):
        previous = ranks
        ranks = damping * (transition @ previous + previous[dangling].sum() / count) + (1.0 - damping) / count
        if np.abs(ranks - previous).sum() < TOLERANCE:
            break
    return ranks


@dataclass
class RankReport:
    """What one computation ranked, when, and how long its phases took (seconds)."""

    developers: int
    follows: int
    repositories: int
    stars: int
    computed_at: datetime
    seconds: dict

    def as_dict(self):
        """A JSON-serialisable summary (the task's result)."""
        return {"developers": self.developers, "follows": self.follows, "repositories": self.repositories,
                "stars": self.stars, "computed_at": self.computed_at.isoformat(),
                "seconds": {name: round(value, 3) for name, value in self.seconds.items()}}

    def __str__(self):
        phases = ", ".join(f"{name} {value:.1f}s" for name, value in self.seconds.items())
        return (f"ranked {self.developers:,} developers ({self.follows:,} follows) and {self.repositories:,} "
                f"repositories ({self.stars:,} stars) at {self.computed_at:%Y-%m-%d %H:%M:%S} UTC ({phases})")


def compute_and_store():
    """Compute every developer's and repository's rank from the stored graph and write them back."""
    seconds = {}
    started = time.perf_counter()
    with consistent_snapshot():
        developer_ids = _read_ids(Developer)
        follower, followee = _read_edges(Follow, "follower_id", "followee_id", Developer, Developer)
        repository_ids = _read_ids(Repository)
        stargazer, starred = _read_edges(Star, "developer_id", "repository_id", Developer, Repository)
    seconds["read"] = time.perf_counter() - started

    started = time.perf_counter()
    developer_ranks = pagerank(np.searchsorted(developer_ids, follower), np.searchsorted(developer_ids, followee),
                               len(developer_ids))
    repository_ranks = np.bincount(np.searchsorted(repository_ids, starred),
                                   weights=developer_ranks[np.searchsorted(developer_ids, stargazer)],
                                   minlength=len(repository_ids))
    seconds["compute"] = time.perf_counter() - started

    started = time.perf_counter()
    computed_at = timezone.now()
    _store_ranks(DeveloperRank, developer_ids, developer_ranks, computed_at)
    _store_ranks(RepositoryRank, repository_ids, repository_ranks, computed_at)
    seconds["write"] = time.perf_counter() - started
    report = RankReport(len(developer_ids), len(follower), len(repository_ids), len(stargazer), computed_at, seconds)
    logger.info("%s", report)
    return report


def _fetch_chunks(sql, columns):
    """The rows of `sql` (`columns` non-null bigints) as int64 arrays, read in chunks: on PostgreSQL as COPY's
    binary format parsed by numpy (ten times faster than a Python tuple per row), elsewhere through a
    server-side cursor READ_CHUNK_ROWS rows at a time."""
    if connection.vendor == "postgresql":
        target = _BinaryCopy(columns)
        with connection.cursor() as cursor:
            cursor.cursor.copy_expert(f"COPY ({sql}) TO STDOUT (FORMAT binary)", target)
        return target.finish()
    parts = [[] for _ in range(columns)]
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql)
        while rows := cursor.fetchmany(READ_CHUNK_ROWS):
            block = np.array(rows, dtype=np.int64).reshape(len(rows), columns)
            for index in range(columns):
                parts[index].append(block[:, index])
    return _joined(parts)


def _joined(parts):
    return [np.concatenate(part) if part else np.zeros(0, dtype=np.int64) for part in parts]


class _BinaryCopy:
    """The file COPY ... TO STDOUT (FORMAT binary) writes to, for rows of non-null bigint columns: each row is
    a 16-bit field count, then per field a 32-bit length (8) and the big-endian value, so whole rows are a
    numpy record array. Parsed as the bytes arrive, about a megabyte at a time."""

    SIGNATURE = b"PGCOPY\n\xff\r\n\x00"
    HEADER = len(SIGNATURE) + 8  # flags and header extension length, both 32 bits (and zero)
    TRAILER = b"\xff\xff"  # a field count of -1
    PARSE_BYTES = 1 << 20

    def __init__(self, columns):
        fields = [("fields", ">i2")]
        for index in range(columns):
            fields += [(f"length{index}", ">i4"), (f"value{index}", ">i8")]
        self.row = np.dtype(fields)
        self.columns = columns
        self.buffer = bytearray()
        self.parts = [[] for _ in range(columns)]
        self.started = False

    def write(self, data):
        """Take the next bytes of the stream."""
        self.buffer += data
        if not self.started and len(self.buffer) >= self.HEADER:
            if not self.buffer.startswith(self.SIGNATURE):
                raise ValueError("not PostgreSQL's binary COPY format")
            del self.buffer[:self.HEADER]
            self.started = True
        if self.started and len(self.buffer) >= self.PARSE_BYTES:
            self._parse(len(self.buffer) // self.row.itemsize * self.row.itemsize)

    def _parse(self, size):
        rows = np.frombuffer(bytes(self.buffer[:size]), dtype=self.row)
        for index in range(self.columns):
            self.parts[index].append(rows[f"value{index}"].astype(np.int64))
        del self.buffer[:size]

    def finish(self):
        """The columns read, once the stream has ended with its trailer."""
        if not self.started or not self.buffer.endswith(self.TRAILER):
            raise ValueError("binary COPY stream ended early")
        del self.buffer[-len(self.TRAILER):]
        self._parse(len(self.buffer))
        return _joined(self.parts)


def _read_ids(model):
    """The github_ids of every row of `model`, sorted."""
    return _fetch_chunks(f"SELECT github_id FROM {model._meta.db_table} ORDER BY github_id", 1)[0]


def _read_edges(edge_model, left_column, right_column, left_model, right_model):  # pylint: disable=too-many-arguments
    """Both ends' github_ids of every edge of `edge_model` (foreign keys joined to github_id in SQL)."""
    return _fetch_chunks(
        f"SELECT a.github_id, b.github_id FROM {edge_model._meta.db_table} e "
        f"JOIN {left_model._meta.db_table} a ON a.id = e.{left_column} "
        f"JOIN {right_model._meta.db_table} b ON b.id = e.{right_column}", 2)


def _store_ranks(rank_model, github_ids, ranks, computed_at):
    """Replace every row of `rank_model` (DeveloperRank or RepositoryRank) by ranks[i] for the row with
    github_ids[i] of the model it ranks; rows added since the graph was read have a null rank until the next run.

    PostgreSQL: a fresh table is loaded (COPY into a temporary table, one INSERT ... SELECT joined on github_id),
    given the same indexes and analysed, all out of the readers' way; then swapped in under the old one's name.
    Elsewhere (SQLite): DELETE and INSERT in one transaction.
    """
    computed_at = connection.ops.adapt_datetimefield_value(computed_at)
    if connection.vendor == "postgresql":
        _load_and_swap(rank_model, github_ids, ranks, computed_at)
        return
    table, column, ranked = _names(rank_model)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table}")  # noqa: S608  # model table names
        cursor.executemany(
            f"INSERT INTO {table} ({column}, rank, computed_at) SELECT m.id, %s, %s FROM {ranked} m "
            "WHERE m.github_id = %s",
            [(value, computed_at, github_id)
             for github_id, value in zip(github_ids.tolist(), ranks.tolist(), strict=True)])
        cursor.execute(_completion(rank_model))


def _names(rank_model):
    """The rank table, its key column and the table of the model it ranks."""
    key = rank_model._meta.pk
    return rank_model._meta.db_table, key.column, key.related_model._meta.db_table


def _completion(rank_model):
    """The statement that gives a rank row (rank null) to every row without one: those stored since the graph
    was read, whose trigger wrote into the table being replaced."""
    table, column, ranked = _names(rank_model)
    return (f"INSERT INTO {table} ({column}) SELECT m.id FROM {ranked} m "  # noqa: S608  # model table names
            f"WHERE NOT EXISTS (SELECT 1 FROM {table} r WHERE r.{column} = m.id)")


def _load_and_swap(rank_model, github_ids, ranks, computed_at):
    """PostgreSQL: load the ranks into `<table>_new` with the indexes of `<table>`, then swap it in."""
    table, column, ranked = _names(rank_model)
    fresh = f"{table}_new"
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {fresh}")  # a run that failed before its swap
        cursor.execute("CREATE TEMPORARY TABLE rank_stage (github_id bigint, rank float8)")
        _copy_into_stage(cursor, github_ids, ranks)
        cursor.execute(f"CREATE TABLE {fresh} (LIKE {table} INCLUDING DEFAULTS)")
        cursor.execute(f"INSERT INTO {fresh} ({column}, rank, computed_at) SELECT m.id, s.rank, %s "
                       f"FROM rank_stage s JOIN {ranked} m ON m.github_id = s.github_id", [computed_at])
        cursor.execute("DROP TABLE rank_stage")
        # Indexes built after the load (one sort each, faster than maintaining them row by row), named as the
        # old table's with a suffix until the swap.
        cursor.execute("SELECT c.relname, pg_get_indexdef(i.indexrelid), i.indisprimary FROM pg_index i "
                       "JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = %s::regclass", [table])
        indexes = cursor.fetchall()
        for name, definition, primary in indexes:
            cursor.execute(re.sub(rf"^CREATE (UNIQUE )?INDEX {name} ON \S+ ",
                                  rf"CREATE \1INDEX {name}_new ON {fresh} ", definition))
            if primary:
                cursor.execute(f"ALTER TABLE {fresh} ADD CONSTRAINT {name}_new PRIMARY KEY USING INDEX {name}_new")
        cursor.execute(f"ANALYZE {fresh}")  # the planner's statistics, before any query reads it
    _swap(rank_model, fresh, [name for name, _definition, _primary in indexes])


def _copy_into_stage(cursor, github_ids, ranks):
    """COPY the (github_id, rank) pairs into rank_stage, WRITE_SLICE_ROWS rows of text at a time."""
    for start in range(0, len(github_ids), WRITE_SLICE_ROWS):
        rows = zip(github_ids[start:start + WRITE_SLICE_ROWS].tolist(),
                   ranks[start:start + WRITE_SLICE_ROWS].tolist(), strict=True)
        buffer = io.StringIO("".join(f"{github_id}\t{value!r}\n" for github_id, value in rows))
        cursor.cursor.copy_expert("COPY rank_stage (github_id, rank) FROM STDIN", buffer)


def _swap(rank_model, fresh, indexes):
    """Put `fresh` in the place of the rank table in one short transaction, and complete it there.

    Dropping the old table waits for every transaction reading it (an export streaming for minutes), and
    readers arriving meanwhile would queue behind that wait: so the lock is only waited for SWAP_LOCK_TIMEOUT
    at a time, and tried again after a pause, SWAP_ATTEMPTS times.
    """
    table = rank_model._meta.db_table
    for attempt in range(1, SWAP_ATTEMPTS + 1):
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(f"SET LOCAL lock_timeout = '{SWAP_LOCK_TIMEOUT}s'")
                cursor.execute(f"DROP TABLE {table}")
                cursor.execute(f"ALTER TABLE {fresh} RENAME TO {table}")
                for name in indexes:
                    cursor.execute(f"ALTER INDEX {name}_new RENAME TO {name}")
                cursor.execute(_completion(rank_model))
            return
        except OperationalError:
            if attempt == SWAP_ATTEMPTS:
                raise
            logger.warning("%s is in use; swapping its new ranks in again in %s s", table, SWAP_PAUSE)
            time.sleep(SWAP_PAUSE)
