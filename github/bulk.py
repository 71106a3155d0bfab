"""The crawl's bulk writes in hand-written SQL: nodes upserted by github_id, relation sets replaced.

Why not `bulk_create`: it builds a model instance per row and compiles its statement on every call, and with
the separate statements around it (ids read back, seed distances lowered, taken names checked) that was the
largest share of a worker's time per page (BENCHMARKS.md, "Worker throughput"). Here a statement's text is
built once per shape, rows are plain tuples, and one INSERT ... ON CONFLICT ... DO UPDATE ... RETURNING
writes a batch and hands back its primary keys, on PostgreSQL and SQLite (3.35 or later) alike. On PostgreSQL a
batch goes as one array a column (`INSERT ... SELECT * FROM unnest(...)`) rather than a parameter a value: the
driver quotes a handful of strings instead of thousands of values (a UUID each through a Python adapter), and
the server parses a short statement instead of thousands of constants; SQLite, which has no arrays, gets VALUES.

A new row's UUID primary key is made by the upsert, on PostgreSQL by the server (`gen_random_uuid()`): the rows of
a list are mostly known already, and a `uuid4` a row in Python, most of them thrown away on conflict, was a fifth
of a worker's time on full pages. Primary keys come back as text (`id::text` on PostgreSQL, hex on SQLite) and are
passed back to the database as they are, so the rows of a list never go through a model nor a `uuid.UUID`.
"""
import functools
import json
import uuid
from collections.abc import Callable, Iterable, Sequence
from contextlib import nullcontext
from datetime import datetime
from typing import NamedTuple

from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone

CHUNK = 1000
# Model fields whose Python values the database driver cannot take as they are.
CONVERTED_FIELDS = (models.UUIDField, models.DateTimeField, models.JSONField)


def batches(items: Sequence, columns: int):
    """`items` in slices small enough for one statement: CHUNK rows, or fewer where the database limits the
    parameters of a statement (SQLite: 999)."""
    limit = connection.features.max_query_params
    size = min(CHUNK, limit // columns) if limit else CHUNK
    for start in range(0, len(items), size):
        yield items[start:start + size]


def placeholders(count: int) -> str:
    """"(%s, %s, ...)": the parameters of one row of VALUES, or of an IN list."""
    return "(" + ", ".join(["%s"] * count) + ")"


def uses_arrays() -> bool:
    """Whether batches go to the database as arrays (PostgreSQL) rather than rows of VALUES."""
    return connection.vendor == "postgresql"


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


# Database types whose values' text needs no quoting inside an array literal.
PLAIN_ARRAY_TYPES = {"uuid", "bigint", "integer", "smallint", "boolean"}


def array_element(field: models.Field) -> Callable:
    """How a value of `field` is written inside a PostgreSQL array literal ("{...}")."""
    db_type = field.db_type(connection)
    if db_type in PLAIN_ARRAY_TYPES:
        return str
    if isinstance(field, models.JSONField):
        return lambda value: _quoted(json.dumps(value, cls=field.encoder))
    if isinstance(field, models.DateTimeField):
        return functools.lru_cache(maxsize=16)(lambda value: _quoted(value.isoformat()))  # mostly one: the sync's
    return lambda value: _quoted(str(value))


def array_literal(values: Iterable, element: Callable = str) -> str:
    """The text of a PostgreSQL array of `values` (None as NULL), each written by `element`."""
    return "{" + ",".join("NULL" if value is None else element(value) for value in values) + "}"


class Upsert:
    """INSERT rows of `model` or, where its `key` exists and a value differs, UPDATE them; return {key: primary key}.

    `columns` are model field names (a foreign key by its attname, `owner_id`, whose values are primary keys
    as the database returned them); a UUID primary key is not among them, the upsert makes it. On conflict
    every column but the primary key, the key and the `insert_only` ones is overwritten, or set by its own SQL
    in `assignments`. `name` is the column
    GitHub lets an owner give away (login, full name), unique case-insensitively here: a row still holding a
    name that GitHub now gives another id is renamed "~<github_id>" until its own next sync reads its new
    name, and the batch is written again. Two rows of one call with the same name (an account renamed while
    its list was being read, and its login taken by another) are the same case: the later row, read later,
    is the newer holder and keeps the name; the earlier one is written as "~<github_id>".
    """

    def __init__(  # pylint: disable=too-many-arguments  # keyword-only, each with its default
            self, model: type[models.Model], columns: Sequence[str], *, name: str | None = None,
            insert_only: Sequence[str] = ("discovered_at",), assignments: dict[str, str] | None = None,
            key: str = "github_id"):
        self.model, self.columns, self.name, self.key = model, tuple(columns), name, key
        fields = [model._meta.get_field(column) for column in self.columns]
        primary_key = model._meta.pk
        # A new row's primary key, made here: by the server on PostgreSQL, in Python (as SQLite stores it) otherwise.
        self._new_key = isinstance(primary_key, models.UUIDField) and primary_key.attname not in self.columns
        self._convert = [
            field.get_db_prep_value if isinstance(field, CONVERTED_FIELDS) and not field.is_relation else None
            for field in fields
        ]
        quote = connection.ops.quote_name
        table = quote(model._meta.db_table)
        inserted = [primary_key, *fields] if self._new_key else fields
        self._head = f"INSERT INTO {table} ({', '.join(quote(field.column) for field in inserted)}) "
        returned = quote(primary_key.column)
        if uses_arrays():
            self._elements = [array_element(field) for field in fields]
            selected = "gen_random_uuid(), *" if self._new_key else "*"
            self._head += f"SELECT {selected} FROM unnest(" + ", ".join(
                f"%s::{field.db_type(connection)}[]" for field in fields) + ")"
            returned += "::text" if isinstance(primary_key, models.UUIDField) else ""
        else:
            self._head += "VALUES "
        self._tail = (self._on_conflict(fields, assignments or {}, {primary_key.attname, key, *insert_only})
                      + f" RETURNING {quote(key)}, {returned}")
        self._select = f"SELECT {quote(key)}, {returned} FROM {table} WHERE {quote(key)} " + (
            f"= ANY(%s::{fields[self.columns.index(key)].db_type(connection)}[])" if uses_arrays() else "IN ")
        self._name_index = self.columns.index(name) if name else None
        self._key_index = self.columns.index(key)

    def _on_conflict(self, fields, assignments, kept) -> str:
        """ON CONFLICT ... DO UPDATE of every column not `kept`, WHERE one of them would change.

        A row that would not change is not written: an UPDATE of a PostgreSQL row writes a new version of it
        into every one of its indexes, as costly as an insert, and most rows of a recrawl are unchanged."""
        quote = connection.ops.quote_name
        table = quote(self.model._meta.db_table)
        updates = {quote(field.column): assignments.get(field.name, f"excluded.{quote(field.column)}")
                   for field in fields if field.attname not in kept}
        distinct = "IS DISTINCT FROM" if connection.vendor == "postgresql" else "IS NOT"
        changed = " OR ".join(f"{table}.{column} {distinct} {value}" for column, value in updates.items())
        return (f" ON CONFLICT ({quote(self.key)}) DO UPDATE SET "
                f"{', '.join(f'{column} = {value}' for column, value in updates.items())} WHERE {changed}")

    def __call__(self, rows: Iterable[Sequence]) -> dict:
        """Write `rows` (tuples in `columns` order, unique by key) in key order; return {key: primary key}."""
        ids, converted = {}, {}
        rows = sorted(self._one_holder_per_name(rows), key=lambda row: row[self._key_index])
        for batch in batches(rows, len(self.columns) + self._new_key):
            sql, params = self._statement(batch, converted)
            try:
                written = dict(self._execute(sql, params))
            except IntegrityError:  # a name in the batch is still held by another id: free it, write again
                if self.name is None:
                    raise
                self._free_names(batch)
                written = dict(self._execute(sql, params))
            ids.update(written)
            if len(written) < len(batch):  # rows left as they were returned nothing: read their keys
                ids.update(self._primary_keys([row[self._key_index] for row in batch
                                               if row[self._key_index] not in written]))
        return ids

    def _statement(self, batch, converted):
        """The INSERT of `batch` and its parameters: a column an array, or a value a parameter."""
        if uses_arrays():
            columns = zip(*batch, strict=True)
            return self._head + self._tail, [
                array_literal(values, element) for values, element in zip(columns, self._elements, strict=True)]
        params = []
        for row in batch:
            if self._new_key:
                params.append(uuid.uuid4().hex)
            params += [self._db_value(index, value, converted) for index, value in enumerate(row)]
        row = placeholders(len(self.columns) + self._new_key)
        return self._head + ", ".join([row] * len(batch)) + self._tail, params

    def _one_holder_per_name(self, rows: Iterable[Sequence]) -> list[Sequence]:
        """`rows` with each name held by the last row that has it; the others hold their "~<key>" placeholder."""
        rows = list(rows)
        if self.name is None:
            return rows
        name, key = self._name_index, self._key_index
        holder = {row[name].lower(): row[key] for row in rows}
        return [row if holder[row[name].lower()] == row[key] else (*row[:name], f"~{row[key]}", *row[name + 1:])
                for row in rows]

    def _primary_keys(self, keys):
        with connection.cursor() as cursor:
            if uses_arrays():
                cursor.execute(self._select, [array_literal(keys, self._elements[self._key_index])])
            else:
                cursor.execute(self._select + placeholders(len(keys)), keys)
            return cursor.fetchall()

    def _db_value(self, index, value, converted):
        """The value as the driver takes it; a value shared by many rows (the time of the sync) converted once."""
        convert = self._convert[index]
        if convert is None or value is None:
            return value
        if isinstance(value, datetime):
            if value not in converted:
                converted[value] = convert(value, connection)
            return converted[value]
        return convert(value, connection)

    def _execute(self, sql, params):
        # Inside a transaction a failed statement spoils it: a savepoint keeps a taken name's failure to this
        # statement. Outside one (a worker's usual case) the failed statement changed nothing and costs nothing.
        recoverable = self.name is not None and connection.in_atomic_block
        with transaction.atomic() if recoverable else nullcontext(), connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    def _free_names(self, batch):
        by_name = {row[self._name_index].lower(): row[self._key_index] for row in batch}
        lowered = f"{self.name}__lower"
        holders = self.model.objects.filter(**{f"{lowered}__in": list(by_name)}).values_list("pk", self.key, lowered)
        for pk, key, name_lower in holders:
            if by_name[name_lower] != key:
                self.model.objects.filter(pk=pk).update(**{self.name: f"~{key}"})


def replace_edges(model: type[models.Model], *, fixed_field: str, fixed_pk, member_field: str,
                  member_pks: Iterable) -> tuple[int, int]:
    """Make the rows of `model` with fixed_field=fixed_pk exactly those to `member_pks`; return (added, removed).

    `member_pks` are primary keys as the database returned them (`Upsert`); `fixed_pk` as a model holds it.
    """
    sql = _edge_statements(model, fixed_field, member_field)
    fixed = model._meta.get_field(fixed_field).get_db_prep_value(fixed_pk, connection)
    with connection.cursor() as cursor:
        cursor.execute(sql.select, [fixed])
        existing, wanted = {member_pk for (member_pk,) in cursor.fetchall()}, set(member_pks)
        removed, added = sorted(existing - wanted), sorted(wanted - existing)
        first_seen = model._meta.get_field("first_seen_at").get_db_prep_value(timezone.now(), connection)
        if uses_arrays():
            for batch in batches(removed, 1):
                cursor.execute(f"{sql.delete}= ANY({sql.members})", [fixed, array_literal(batch)])
            for batch in batches(added, 1):
                cursor.execute(f"{sql.insert}SELECT %s, unnest({sql.members}), %s ON CONFLICT DO NOTHING",
                               [fixed, array_literal(batch), first_seen])
        else:
            for batch in batches(removed, 2):
                cursor.execute(sql.delete + "IN " + placeholders(len(batch)), [fixed, *batch])
            for batch in batches(added, 3):
                cursor.execute(sql.insert + "VALUES " + ", ".join([placeholders(3)] * len(batch))
                               + " ON CONFLICT DO NOTHING",
                               [value for member_pk in batch for value in (fixed, member_pk, first_seen)])
    return len(added), len(removed)


class EdgeStatements(NamedTuple):
    """The SELECT of a relation set's members, the heads of its DELETE (up to the member column) and its INSERT
    (up to its rows), and the parameter of an array of members (PostgreSQL)."""

    select: str
    delete: str
    insert: str
    members: str


def _edge_statements(model, fixed_field, member_field) -> EdgeStatements:
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    fixed, member = (quote(model._meta.get_field(name).column) for name in (fixed_field, member_field))
    member_type = model._meta.get_field(member_field).db_type(connection)
    # The members as Upsert hands back primary keys (text), so that the two sets compare.
    selected = f"{member}::text" if uses_arrays() and member_type == "uuid" else member
    return EdgeStatements(f"SELECT {selected} FROM {table} WHERE {fixed} = %s",
                          f"DELETE FROM {table} WHERE {fixed} = %s AND {member} ",
                          f"INSERT INTO {table} ({fixed}, {member}, {quote('first_seen_at')}) ",
                          f"%s::{member_type}[]")


def keys_lacking(model: type[models.Model], field: str, keys: Sequence, key: str = "github_id") -> list:
    """Those of `keys` whose row of `model` is not gone and has no `field` yet, in key order.

    Asked after every GraphQL list read of thousands of members (who needs a profile): the ORM's `__in` prepared
    each value through the field, a sixth of a worker's time in a hybrid sync of full pages. One statement with
    an array on PostgreSQL, one a batch of parameters on SQLite.
    """
    quote = connection.ops.quote_name
    key_field = model._meta.get_field(key)
    sql = (f"SELECT {quote(key_field.column)} FROM {quote(model._meta.db_table)} WHERE {quote('gone_at')} IS NULL "
           f"AND {quote(model._meta.get_field(field).column)} IS NULL AND {quote(key_field.column)} ")
    order = f" ORDER BY {quote(key_field.column)}"
    with connection.cursor() as cursor:
        if uses_arrays():
            cursor.execute(f"{sql}= ANY(%s::{key_field.db_type(connection)}[]){order}", [array_literal(keys)])
            return [found for (found,) in cursor.fetchall()]
        lacking = []
        for batch in batches(sorted(keys), 1):
            cursor.execute(f"{sql}IN {placeholders(len(batch))}{order}", batch)
            lacking += [found for (found,) in cursor.fetchall()]
        return lacking


def set_column(model: type[models.Model], pk, field: str, value) -> None:
    """UPDATE one row's column: the mark a list leaves when it was read whole, once per list, so written without
    the ORM's compilation of an UPDATE on every call."""
    quote = connection.ops.quote_name
    column = model._meta.get_field(field)
    table, primary_key = quote(model._meta.db_table), quote(model._meta.pk.column)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {quote(column.column)} = %s WHERE {primary_key} = %s",
            [column.get_db_prep_value(value, connection), model._meta.pk.get_db_prep_value(pk, connection)],
        )


def seed_distance_lowered(table: str) -> str:
    """The SQL that keeps the smaller of a developer's stored and new seed distance (a null one is unknown)."""
    stored = f"{connection.ops.quote_name(table)}.seed_distance"
    new = "excluded.seed_distance"
    return f"CASE WHEN {stored} IS NULL OR {stored} > {new} THEN {new} ELSE {stored} END"
