"""Writing a generated graph (benchmarks/graph_generator.py) into the four graph tables, replacing their rows:
COPY on PostgreSQL with the secondary indexes, unique constraints and foreign keys dropped and rebuilt after,
executemany on SQLite; then the planner's statistics. Rows follow the models' columns, so a column added to a
model later is filled with that field's default.
"""
import io
import json
import time
from datetime import datetime
from itertools import islice

GRAPH_TABLES = ("github_star", "github_follow", "github_repository", "github_developer")
# One row per developer and repository (rank null until computed), which their insert triggers keep complete.
RANK_TABLES = {"github_developer": "github_developerrank", "github_repository": "github_repositoryrank"}
COPY_CHUNK_ROWS = 50_000  # rows a COPY statement sends: its buffer is the memory the load holds

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


class Loader:
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
        """Rows of the developer or repository table from the generated dicts, as they come; `keys` maps
        index -> pk."""
        columns = self.columns(name)
        getters = []
        for column in columns:
            convert = self.converter(column)
            if column.is_relation:  # the owner, a developer index in the generated dict
                getters.append(lambda obj, c=convert, n=column.name: c(keys[obj[n]]))
            else:
                default = self.fallback(column)
                getters.append(lambda obj, c=convert, n=column.attname, d=default: c(obj.get(n, d)))
        return columns, ([get(obj) for get in getters] for obj in objects)

    def edge_rows(self, name, ends, pairs, left_values, right_values):
        """Rows of an edge table, as the pairs come: (left fk, right fk, then first_seen_at and any other column's
        default); `left_values` and `right_values` map index -> the key as sent."""
        left, right = (self.models[name]._meta.get_field(end) for end in ends)
        rest = [column for column in self.columns(name) if column not in (left, right)]
        constants = tuple(self.converter(column)(self.fallback(column)) for column in rest)
        if len(constants) == 1:  # the usual case, first_seen_at: a plain 3-tuple is faster to build
            (constant,) = constants
            return [left, right, *rest], ((left_values[a], right_values[b], constant) for a, b in pairs)
        return [left, right, *rest], ((left_values[a], right_values[b], *constants) for a, b in pairs)

    def tables(self):
        """(table name, columns, rows) for the four tables, rows drawn as they are read: the edges first, which
        fix the counts the developers and repositories carry (foreign keys are checked at the end)."""
        graph = self.graph
        developer_keys = list(map(self.converter(self.models["follow"]._meta.get_field("follower")),
                                  graph.developer_keys))
        repository_keys = list(map(self.converter(self.models["star"]._meta.get_field("repository")),
                                   graph.repository_keys))
        yield ("follow", *self.edge_rows(
            "follow", ("follower", "followee"), graph.follows(), developer_keys, developer_keys))
        yield ("star", *self.edge_rows(
            "star", ("developer", "repository"), graph.stars(), developer_keys, repository_keys))
        yield ("developer", *self.object_rows("developer", graph.developers(), graph.developer_keys))
        yield ("repository", *self.object_rows("repository", graph.repositories(), graph.developer_keys))


class SqliteLoader(Loader):
    """executemany in one transaction, then ANALYZE."""

    def converter(self, model_field):
        return lambda value: model_field.get_db_prep_save(value, self.connection)

    def run(self):
        from django.db import transaction  # pylint: disable=import-outside-toplevel

        with transaction.atomic(using=self.connection.alias), self.connection.cursor() as cursor:
            self._timed("load", self._clear, cursor)
            for name, columns, rows in self.tables():
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


class PostgresLoader(Loader):
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
            for name, columns, rows in self.tables():
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
        lines = ("\t".join(row) + "\n" for row in rows)
        while True:
            buffer = io.StringIO()
            buffer.writelines(islice(lines, COPY_CHUNK_ROWS))
            if not buffer.tell():
                return
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


def load_graph(connection, graph, timings):
    """Replace the graph tables' rows on `connection` with `graph`'s, adding each phase's seconds to `timings`."""
    loader = PostgresLoader if connection.vendor == "postgresql" else SqliteLoader
    loader(connection, graph, timings).run()
