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

    python -m benchmarks.seed_database --developers 100000    # against DATABASE_URL, or the SQLite default

Never point it at data you want to keep: `python -m benchmarks.api_latency` runs it against its own database.
"""
import argparse
import io
import json
import random
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

# The term the benchmark's `name__icontains` filter looks for: one of the surnames below, so about 1 synced
# developer in len(LAST_NAMES) matches it, at any size.
NAME_SEARCH_TERM = "lovelace"

FIRST_NAMES = [
    "Ada", "Alan", "Alice", "Amara", "Anders", "Aneesh", "Anya", "Ari", "Barbara", "Ben", "Bjarne", "Carla", "Chen",
    "Chidi", "Claire", "Dana", "Dennis", "Diego", "Elena", "Emil", "Eva", "Farah", "Felix", "Fatima", "Grace",
    "Guido", "Hana", "Hugo", "Ines", "Ivan", "Jamal", "James", "Jin", "Joan", "Jonas", "Julia", "Kai", "Ken",
    "Kira", "Lars", "Lea", "Leila", "Linus", "Luca", "Maja", "Malik", "Marta", "Mateo", "Mei", "Mira", "Nadia",
    "Niklas", "Noor", "Olga", "Omar", "Pablo", "Priya", "Rafael", "Rania", "Ravi", "Rosa", "Sam", "Sara", "Sofia",
    "Tariq", "Tom", "Uma", "Vera", "Victor", "Wei", "Yara", "Yuki", "Zoe"
]
LAST_NAMES = [
    "Abbott", "Adeyemi", "Almeida", "Andersson", "Bauer", "Becker", "Brown", "Castro", "Chen", "Costa", "Dubois",
    "Eriksen", "Fischer", "Garcia", "Gupta", "Hansen", "Hoffmann", "Ibrahim", "Ito", "Jensen", "Kaur", "Khan",
    "Kim", "Kowalski", "Kumar", "Larsen", "Lee", "Lopez", "Lovelace", "Martin", "Meyer", "Moreau", "Muller",
    "Nakamura", "Nguyen", "Novak", "Okafor", "Olsen", "Park", "Patel", "Perez", "Petrov", "Quinn", "Ramos", "Rossi",
    "Sato", "Schmidt", "Silva", "Singh", "Smith", "Suzuki", "Tanaka", "Torres", "Wagner", "Wang", "Weber", "Wilson",
    "Yamamoto", "Yilmaz", "Zhang"
]
WORDS = [
    "async", "atlas", "beacon", "binary", "bolt", "byte", "cargo", "cinder", "cloud", "comet", "core", "crab",
    "delta", "drift", "echo", "ember", "fable", "falcon", "flux", "forge", "frost", "gadget", "garden", "glide",
    "graph", "harbor", "hydra", "index", "iron", "jet", "kernel", "kite", "lambda", "lantern", "ledger", "lens",
    "lumen", "magnet", "maple", "matrix", "meadow", "mesh", "nebula", "nimbus", "nova", "orbit", "otter", "pixel",
    "pulse", "quartz", "quill", "radar", "raven", "relay", "rocket", "rust", "sage", "shard", "signal", "sonar",
    "spark", "spruce", "stack", "swift", "tensor", "thunder", "tide", "token", "trail", "vector", "vertex",
    "willow", "yarn", "zephyr"
]
LOCATIONS = [
    "Berlin", "San Francisco", "London", "Bangalore", "Sao Paulo", "Tokyo", "Paris", "Toronto", "Lagos",
    "Amsterdam", "Seoul", "Beijing", "New York", "Sydney", "Warsaw", "Stockholm", "Remote", "Earth",
]
COMPANIES = ["@acme", "Initech", "Globex", "Umbrella", "Hooli", "Stark Industries", "Wayne Enterprises", "Freelance"]
LANGUAGES = [  # (language, weight): roughly GitHub's mix, with repositories that have none
    ("JavaScript", 16), ("Python", 15), ("TypeScript", 10), ("Java", 9), ("Go", 6), ("C++", 5), ("C", 4),
    ("Ruby", 4), ("PHP", 4), ("Rust", 4), ("Shell", 4), ("C#", 4), ("Kotlin", 2), ("Swift", 2),
    ("HTML", 3), (None, 8),
]
LICENSES = ["MIT", "Apache-2.0", "GPL-3.0", "BSD-3-Clause", None, None]
TOPICS = ["cli", "api", "web", "machine-learning", "database", "devops", "game", "library", "tooling", "docs"]

# Shape of the graph. Followees follow weight (rank + offset) ** -exponent over a random order of the
# developers: with 100,000 developers and 1,000,000 edges the biggest hub has about 17,000 followers, the
# hundredth about 1,000 and the median developer 2 or 3. Followers, owners and stargazers are less skewed.
FOLLOWEE_SHAPE = (1.0, 5)
FOLLOWER_SHAPE = (0.6, 10)
OWNER_SHAPE = (0.8, 10)
STARRED_SHAPE = (1.0, 5)
STARGAZER_SHAPE = (0.5, 10)
STUB_FRACTION = 0.4
OWNED_BY_STUB_FRACTION = 0.15
HUB_FRACTION = 0.01  # the most-followed 1% are synced developers: hubs are crawled first

GITHUB_EPOCH = datetime(2008, 2, 8, tzinfo=UTC)
GITHUB_SPAN_SECONDS = int((datetime(2025, 6, 1, tzinfo=UTC) - GITHUB_EPOCH).total_seconds())
GRAPH_TABLES = ("github_star", "github_follow", "github_repository", "github_developer")
# One row per developer and repository (rank null until computed), which their insert triggers keep complete.
RANK_TABLES = {"github_developer": "github_developerrank", "github_repository": "github_repositoryrank"}
COPY_CHUNK_ROWS = 200_000


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


def seed(  # pylint: disable=too-many-arguments,redefined-outer-name  # the issue's signature
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
    graph = _generate(random.Random(seed), developers, follows, repositories, stars)
    timings["generate"] = time.perf_counter() - started
    loader = _PostgresLoader if connection.vendor == "postgresql" else _SqliteLoader
    loader(connection, graph, timings).run()
    return SeedReport(developers, follows, repositories, stars, connection.vendor, timings)


# --- generation ---------------------------------------------------------------------------------------------


@dataclass
class _Graph:
    developers: list  # dicts of Developer field values, keyed by attribute name
    follows: list  # (follower index, followee index)
    repositories: list  # dicts of Repository field values; "owner" is a developer index
    stars: list  # (developer index, repository index)
    now: datetime


def _cum_weights(count, shape):
    exponent, offset = shape
    total, cumulative = 0.0, []
    for rank in range(count):
        total += (rank + 1 + offset) ** -exponent
        cumulative.append(total)
    return cumulative


def _github_time(rng):
    return GITHUB_EPOCH + timedelta(seconds=rng.randrange(GITHUB_SPAN_SECONDS))


def _uuid(rng):
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _pairs(rng, count, left, right, keep):
    """`count` distinct (a, b) pairs that `keep(a, b)` accepts; `left` and `right` are (population, cum weights)."""
    seen, pairs, idle_rounds = set(), [], 0
    width = max(right[0], default=0) + 1
    while len(pairs) < count:
        before = len(pairs)
        batch = int((count - before) * 1.3) + 64
        lefts = rng.choices(left[0], cum_weights=left[1], k=batch)
        for a, b in zip(lefts, rng.choices(right[0], cum_weights=right[1], k=batch), strict=True):
            if a * width + b in seen or not keep(a, b):
                continue
            seen.add(a * width + b)
            pairs.append((a, b))
            if len(pairs) == count:
                break
        idle_rounds = idle_rounds + 1 if len(pairs) == before else 0
        if idle_rounds > 50:
            raise ValueError(f"cannot draw {count:,} distinct pairs from a graph this small")
    return pairs


def _generate(rng, developer_count, follow_count, repository_count, star_count):
    """The whole graph, in memory: developer and repository dicts, edges as pairs of indexes."""
    generator = _Generator(rng, developer_count)
    developers = generator.developers()
    follows = generator.follows(follow_count)
    repositories = generator.repositories(repository_count, developers)
    stars = generator.stars(star_count, repository_count)
    _fill_counts(developers, follows, repositories, stars, generator.synced_count)
    return _Graph(developers, follows, repositories, stars, generator.now)


class _Generator:
    """Draws the graph's parts. Developer i is synced when i < synced_count and a stub after."""

    def __init__(self, rng, developer_count):
        self.rng = rng
        self.now = datetime.now(UTC)
        self.developer_count = developer_count
        self.synced_count = developer_count - int(developer_count * STUB_FRACTION)
        self.synced = range(self.synced_count)
        self.stubs = range(self.synced_count, developer_count)

    def developers(self):
        """Synced developers then stubs, with random github ids and logins unique in any case."""
        rng, now = self.rng, self.now
        github_ids = rng.sample(range(1, 200_000_000), self.developer_count)
        developers = []
        for index in range(self.developer_count):
            login = f"{rng.choice(WORDS)}{rng.choice(WORDS)}-{index}"  # "-{index}": unique in any case
            if rng.random() < 0.3:
                login = login.capitalize()
            row = {"id": _uuid(rng), "github_id": github_ids[index], "login": login, "discovered_at": now}
            if index < self.synced_count:
                row.update(self._profile(login))
            developers.append(row)
        return developers

    def _profile(self, login):
        """The fields a synced developer has and a stub does not."""
        rng, now = self.rng, self.now
        created = _github_time(rng)
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        return {
            "type": "Organization" if rng.random() < 0.05 else "User",
            "name": f"{first} {last}" if rng.random() < 0.9 else None,
            "location": rng.choice(LOCATIONS) if rng.random() < 0.6 else None,
            "bio": f"{rng.choice(WORDS).capitalize()} and {rng.choice(WORDS)} at heart." if rng.random() < 0.4
            else None,
            "company": rng.choice(COMPANIES) if rng.random() < 0.3 else None,
            "email": f"{login.lower()}@example.com" if rng.random() < 0.3 else None,
            "blog": f"https://{login.lower()}.example.com" if rng.random() < 0.2 else None,
            "twitter_username": login.lower()[:15] if rng.random() < 0.1 else None,
            "created_at": created,
            "updated_at": created + timedelta(seconds=rng.randrange(GITHUB_SPAN_SECONDS // 4)),
            "public_gists": int(rng.paretovariate(1.5)) - 1,
            "seed_distance": rng.randrange(0, 6),
            "profile_synced_at": now, "followers_synced_at": now, "following_synced_at": now,
            "starred_synced_at": now, "repositories_synced_at": now,
        }

    def follows(self, count):
        """(follower, followee) pairs: heavy-tailed followees, milder followers, a synced end on each."""
        rng, synced_count, everybody = self.rng, self.synced_count, self.developer_count
        # The most-followed 1% are synced developers (hubs get crawled); after them everybody is mixed.
        hub_count = min(max(1, int(everybody * HUB_FRACTION)), synced_count)
        rest = [*self.synced[hub_count:], *self.stubs]
        rng.shuffle(rest)
        followees = rng.sample(self.synced[:hub_count], hub_count) + rest
        followers = rng.sample(range(everybody), everybody)
        return _pairs(
            rng, count,
            (followers, _cum_weights(everybody, FOLLOWER_SHAPE)),
            (followees, _cum_weights(everybody, FOLLOWEE_SHAPE)),
            lambda a, b: a != b and (a < synced_count or b < synced_count),
        )

    def repositories(self, count, developers):
        """Repository dicts, owned mostly by synced developers (a few by stubs, as starred repositories are)."""
        rng = self.rng
        owner_order = rng.sample(self.synced, self.synced_count) or list(range(self.developer_count))
        owners = rng.choices(owner_order, cum_weights=_cum_weights(len(owner_order), OWNER_SHAPE), k=count)
        github_ids = rng.sample(range(1, 900_000_000), count)
        languages = rng.choices([name for name, _ in LANGUAGES], [weight for _, weight in LANGUAGES], k=count)
        repositories = []
        for index in range(count):
            owner = rng.choice(self.stubs) if self.stubs and rng.random() < OWNED_BY_STUB_FRACTION else owners[index]
            name = f"{rng.choice(WORDS)}-{rng.choice(WORDS)}-{index}"  # "-{index}": full_name unique in any case
            created = _github_time(rng)
            synced = rng.random() < 0.7
            repositories.append({
                "id": _uuid(rng),
                "github_id": github_ids[index],
                "owner": owner,
                "owner_github_id": developers[owner]["github_id"],
                "name": name,
                "full_name": f"{developers[owner]['login']}/{name}",
                "description": f"A {rng.choice(WORDS)} for {rng.choice(WORDS)}s." if rng.random() < 0.8 else None,
                "homepage": f"https://{name}.example.org" if rng.random() < 0.2 else None,
                "language": languages[index],
                "created_at": created,
                "updated_at": created + timedelta(seconds=rng.randrange(GITHUB_SPAN_SECONDS // 4)),
                "pushed_at": created + timedelta(seconds=rng.randrange(GITHUB_SPAN_SECONDS // 4)),
                "has_pages": rng.random() < 0.1,
                "archived": rng.random() < 0.05,
                "fork": rng.random() < 0.2,
                "subscribers_count": int(rng.paretovariate(1.2)) if synced else None,
                "open_issues_count": int(rng.paretovariate(1.3)) - 1,
                "forks_count": int(rng.paretovariate(1.1)) - 1,
                "topics": rng.sample(TOPICS, rng.randrange(0, 4)),
                "license": rng.choice(LICENSES),
                "discovered_at": self.now,
                "synced_at": self.now if synced else None,
                "stargazers_synced_at": self.now if synced else None,
            })
        return repositories

    def stars(self, count, repository_count):
        """(developer, repository) pairs: a few very popular repositories, a long tail of others."""
        if not (count and repository_count):
            return []
        rng, everybody = self.rng, self.developer_count
        return _pairs(
            rng, count,
            (rng.sample(range(everybody), everybody), _cum_weights(everybody, STARGAZER_SHAPE)),
            (rng.sample(range(repository_count), repository_count), _cum_weights(repository_count, STARRED_SHAPE)),
            lambda a, b: True,
        )


def _fill_counts(developers, follows, repositories, stars, synced_count):
    """Counts that agree with the edges (on synced developers only: a stub's profile was never read)."""
    followers, following = [0] * len(developers), [0] * len(developers)
    owned, stargazers = [0] * len(developers), [0] * len(repositories)
    for follower, followee in follows:
        following[follower] += 1
        followers[followee] += 1
    for repository in repositories:
        owned[repository["owner"]] += 1
    for _developer, repository in stars:
        stargazers[repository] += 1
    for index in range(synced_count):
        developers[index].update(
            followers_count=followers[index], following_count=following[index], public_repos=owned[index]
        )
    for index, repository in enumerate(repositories):
        repository["stargazers_count"] = repository["watchers_count"] = stargazers[index]


# --- loading ------------------------------------------------------------------------------------------------

_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


_COPY_FORMATS = {
    bool: lambda value: "t" if value else "f",
    str: lambda value: value.translate(_COPY_ESCAPES),
    datetime: datetime.isoformat,
    list: lambda value: json.dumps(value).translate(_COPY_ESCAPES),
    dict: lambda value: json.dumps(value).translate(_COPY_ESCAPES),
}


def _copy_text(value):
    """A value in COPY's text format."""
    if value is None:
        return "\\N"
    return _COPY_FORMATS.get(type(value), str)(value)


class _Loader:
    """Turns the generated graph into rows of each table's columns, in the model's column order."""

    def __init__(self, connection, graph, timings):
        from github.models import Developer, Follow, Repository, Star  # pylint: disable=import-outside-toplevel

        self.connection, self.graph, self.timings = connection, graph, timings
        self.models = {"developer": Developer, "follow": Follow, "repository": Repository, "star": Star}

    def run(self):
        """Replace the four tables' rows with the graph's, then refresh the planner's statistics."""
        raise NotImplementedError

    def _timed(self, phase, function, *args):
        started = time.perf_counter()
        result = function(*args)
        self.timings[phase] = self.timings.get(phase, 0.0) + time.perf_counter() - started
        return result

    def columns(self, name):
        """The model's concrete fields but an auto-increment primary key (the database numbers those)."""
        model = self.models[name]
        return [f for f in model._meta.concrete_fields if not (f.primary_key and f.get_internal_type().endswith(
            "AutoField"))]

    def converter(self, model_field):
        """A function from a Python value of this column to the value the database is sent."""
        raise NotImplementedError

    def fallback(self, model_field):
        """The value of a column the generator does not know about: the field's default, or now."""
        if getattr(model_field, "auto_now", False) or getattr(model_field, "auto_now_add", False):
            return self.graph.now
        return model_field.get_default()

    def object_rows(self, name, objects, keys):
        """Rows of the developer or repository table from the generated dicts; `keys` maps index -> pk."""
        columns = self.columns(name)
        getters = []
        for column in columns:
            convert = self.converter(column)
            if column.is_relation:  # the owner, a developer index in the generated dict
                getters.append(lambda obj, c=convert, n=column.name: c(keys[obj[n]]))
            else:
                default = self.fallback(column)
                getters.append(lambda obj, c=convert, n=column.attname, d=default: c(obj.get(n, d)))
        return columns, [[get(obj) for get in getters] for obj in objects]

    def edge_rows(self, name, ends, pairs, left_keys, right_keys):
        """Rows of an edge table: (left fk, right fk, then first_seen_at and any other column's default)."""
        left, right = (self.models[name]._meta.get_field(end) for end in ends)
        rest = [column for column in self.columns(name) if column not in (left, right)]
        left_values = list(map(self.converter(left), left_keys))
        right_values = list(map(self.converter(right), right_keys))
        constants = tuple(self.converter(column)(self.fallback(column)) for column in rest)
        if len(constants) == 1:  # the usual case, first_seen_at: a plain 3-tuple is faster to build
            (constant,) = constants
            return [left, right, *rest], [(left_values[a], right_values[b], constant) for a, b in pairs]
        return [left, right, *rest], [(left_values[a], right_values[b], *constants) for a, b in pairs]

    def tables(self):
        """(table name, columns, rows) for the four tables, parents first."""
        graph = self.graph
        developer_keys = [developer["id"] for developer in graph.developers]
        repository_keys = [repository["id"] for repository in graph.repositories]
        yield ("developer", *self.object_rows("developer", graph.developers, developer_keys))
        yield ("repository", *self.object_rows("repository", graph.repositories, developer_keys))
        yield ("follow", *self.edge_rows(
            "follow", ("follower", "followee"), graph.follows, developer_keys, developer_keys))
        yield ("star", *self.edge_rows(
            "star", ("developer", "repository"), graph.stars, developer_keys, repository_keys))


class _SqliteLoader(_Loader):
    """executemany in one transaction, then ANALYZE."""

    def converter(self, model_field):
        return lambda value: model_field.get_db_prep_save(value, self.connection)

    def run(self):
        from django.db import transaction  # pylint: disable=import-outside-toplevel

        with transaction.atomic(using=self.connection.alias), self.connection.cursor() as cursor:
            self._timed("load", self._clear, cursor)
            for name, columns, rows in self._timed("generate", lambda: list(self.tables())):
                table = self.models[name]._meta.db_table
                column_list = ", ".join(self.connection.ops.quote_name(c.column) for c in columns)
                marks = ", ".join("%s" for _ in columns)
                sql = f"INSERT INTO {self.connection.ops.quote_name(table)} ({column_list}) VALUES ({marks})"  # noqa: S608
                self._timed("load", cursor.executemany, sql, rows)
        with self.connection.cursor() as cursor:
            self._timed("analyze", cursor.execute, "ANALYZE")

    def _clear(self, cursor):
        for table in (*RANK_TABLES.values(), *GRAPH_TABLES):
            cursor.execute(f'DELETE FROM "{table}"')  # noqa: S608  (a constant table name)


class _PostgresLoader(_Loader):
    """COPY with secondary indexes and constraints dropped, rebuilt after; all in one transaction."""

    def converter(self, model_field):
        kind = "ForeignKey" if model_field.is_relation else model_field.get_internal_type()
        if kind == "JSONField":
            return lambda value: "\\N" if value is None else json.dumps(value).translate(_COPY_ESCAPES)
        if kind in {"CharField", "TextField"}:
            return lambda value: "\\N" if value is None else value.translate(_COPY_ESCAPES)
        if kind in {"UUIDField", "ForeignKey", "IntegerField", "BigIntegerField", "SmallIntegerField"}:
            return lambda value: "\\N" if value is None else str(value)
        if kind == "DateTimeField":
            now, now_text = self.graph.now, self.graph.now.isoformat()  # most bookkeeping times are `now`
            return lambda value: now_text if value is now else "\\N" if value is None else value.isoformat()
        return _copy_text

    def run(self):
        from django.db import transaction  # pylint: disable=import-outside-toplevel

        tables = [self.models[name]._meta.db_table for name in ("developer", "repository", "follow", "star")]
        with transaction.atomic(using=self.connection.alias), self.connection.cursor() as cursor:
            cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
            cursor.execute(f"TRUNCATE {', '.join([*tables, *RANK_TABLES.values()])} RESTART IDENTITY CASCADE")
            dropped = self._timed("load", self._drop_indexes_and_constraints, cursor, tables)
            for table in RANK_TABLES:  # their rank rows in one statement each below, not a trigger call per row
                cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
            for name, columns, rows in self._timed("generate", lambda: list(self.tables())):
                self._timed("load", self._copy, cursor, self.models[name]._meta.db_table, columns, rows)
            for table, rank_table in RANK_TABLES.items():
                key = table.removeprefix("github_") + "_id"
                self._timed("load", cursor.execute, f"INSERT INTO {rank_table} ({key}) SELECT id FROM {table}")  # noqa: S608
                cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
            self._timed("index", self._restore, cursor, dropped)
        self._timed("analyze", self._analyze, [*tables, *RANK_TABLES.values()])

    @staticmethod
    def _drop_indexes_and_constraints(cursor, tables):
        """Drop foreign keys, unique constraints and non-primary indexes of `tables`; returns how to restore."""
        cursor.execute(
            """
            SELECT con.conrelid::regclass::text, con.conname, pg_get_constraintdef(con.oid), con.contype
            FROM pg_constraint con
            WHERE con.conrelid = ANY(%s::regclass[]) AND con.contype IN ('f', 'u')
            ORDER BY con.contype = 'f' DESC, con.conname
            """,
            [tables],
        )
        constraints = cursor.fetchall()
        cursor.execute(
            """
            SELECT idx.indexrelid::regclass::text, pg_get_indexdef(idx.indexrelid)
            FROM pg_index idx
            WHERE idx.indrelid = ANY(%s::regclass[]) AND NOT idx.indisprimary
              AND NOT EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conindid = idx.indexrelid
                              AND con.conrelid = idx.indrelid AND con.contype IN ('p', 'u', 'x'))
            ORDER BY 1
            """,
            [tables],
        )
        indexes = cursor.fetchall()
        for table, name, _definition, _kind in constraints:  # foreign keys first
            cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        for name, _definition in indexes:
            cursor.execute(f"DROP INDEX {name}")
        return constraints, indexes

    @staticmethod
    def _restore(cursor, dropped):
        constraints, indexes = dropped
        for _name, definition in indexes:
            cursor.execute(definition)
        for table, name, definition, _kind in sorted(constraints, key=lambda item: item[3] == "f"):  # fks last
            cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')

    @staticmethod
    def _copy(cursor, table, columns, rows):
        column_list = ", ".join(f'"{c.column}"' for c in columns)
        sql = f'COPY "{table}" ({column_list}) FROM STDIN'
        raw = cursor.cursor
        for start in range(0, len(rows), COPY_CHUNK_ROWS):
            buffer = io.StringIO()
            buffer.writelines("\t".join(row) + "\n" for row in rows[start:start + COPY_CHUNK_ROWS])
            buffer.seek(0)
            if hasattr(raw, "copy_expert"):  # psycopg2
                raw.copy_expert(sql, buffer)
            else:  # psycopg 3
                with raw.copy(sql) as copy:
                    copy.write(buffer.getvalue())

    def _analyze(self, tables):
        # VACUUM (which also sets the visibility map, so index-only scans skip the heap) cannot run in a
        # transaction; inside one (a test) a plain ANALYZE does.
        verb = "ANALYZE" if self.connection.in_atomic_block else "VACUUM (ANALYZE)"
        with self.connection.cursor() as cursor:
            cursor.execute(f"{verb} {', '.join(tables)}")


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
