"""Pagination of the API's lists: page numbers over the first API_PAGE_DEPTH rows, keyset cursors for any depth,
and a count that stays cheap on millions of rows.

Why bounded: an OFFSET reads and throws away every row before the page, and COUNT(*) reads every row of the list,
so both grow with the table. So:

- `count` is exact for a list of at most API_PAGE_DEPTH rows; above, PostgreSQL's planner estimate (an EXPLAIN
  of the list: for an unfiltered one, the table's pg_class.reltuples as of its last ANALYZE; for a filter, the
  columns' statistics), and the response says so in the `X-Count-Estimated: true` header. The estimate comes
  first: a list it puts above API_PAGE_DEPTH is not counted at all, a smaller one is counted with
  `LIMIT depth + 1`, so a count reads at most that many rows. Other databases count exactly.
- `page` reaches the rows within the first API_PAGE_DEPTH (page 200 at `page_size=50`); a deeper page answers
  400 naming `page`. The deepest page's `next` link is a cursor, so following `next` walks the whole list.
- `cursor` (`?cursor=` empty to start) pages by the last row's values of the list's ordering, `github_id` last
  (keyset pagination): every page costs what the first does, at any depth, with any filter or ordering.
"""
import base64
import binascii
import json
import math
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property, reduce
from operator import or_

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.paginator import Paginator
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connections
from django.db.models import F, Field, OrderBy, Q
from django.db.models.constants import LOOKUP_SEP
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import PageNumberPagination, remove_query_param, replace_query_param
from rest_framework.response import Response

COUNT_ESTIMATED_HEADER = "X-Count-Estimated"


class CountedQuerySet:
    """A queryset to page whose count comes from a cheaper queryset with the same answer.

    A nested list such as a hub's followers/ counts its edges on the edge table's index instead of counting
    developers through a semi-join; the foreign keys guarantee the two numbers agree.
    """

    def __init__(self, queryset, count_queryset):
        self.queryset = queryset
        self.ordered = queryset.ordered
        self.count_queryset = count_queryset

    def __getitem__(self, item):
        return self.queryset[item]


def _listed(object_list):
    """The queryset a page reads (inside a CountedQuerySet or not)."""
    return getattr(object_list, "queryset", object_list)


def bounded_count(queryset, limit):
    """(count, estimated). On PostgreSQL the planner's estimate of the rows first (an EXPLAIN, no row read): above
    `limit`, that estimate; else a count that stops at limit + 1 rows, exact when it does not get there (limit + 1,
    estimated, when it does). Other databases count exactly."""
    queryset = queryset.order_by()
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return queryset.count(), False
    try:
        sql, params = queryset.query.get_compiler(using=queryset.db).as_sql()
    except EmptyResultSet:  # a filter Django knows no row matches (`followers_count__lt=-2**63`)
        return 0, False
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        (plan,) = cursor.fetchone()
    estimate = int((json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"]["Plan Rows"])
    if estimate > limit:
        return estimate, True
    exact = queryset[:limit + 1].count()
    return (exact, False) if exact <= limit else (limit + 1, True)


class BoundedCountPaginator(Paginator):
    """Django's paginator with the count of `bounded_count`."""

    @cached_property
    def counted(self):
        """(count, estimated) of the whole list."""
        counted = getattr(self.object_list, "count_queryset", self.object_list)
        return bounded_count(counted, settings.API_PAGE_DEPTH)

    @cached_property
    def count(self):  # pylint: disable=invalid-overridden-method  # Django's is a cached_property too
        return self.counted[0]

    def page(self, number):
        """Django's page, its rows read by `skipping`."""
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        return self._get_page(skipping(self.object_list, bottom, top), number, self)


def skipping(object_list, bottom, top):
    """Rows `bottom` to `top` of the list, chosen on the order's unique column alone, then read whole (a deferred
    join): an OFFSET walks the index of `github_id` without reading the rows it skips, and the rank (a joined
    table) is joined to the page's rows only, not to every row a filter matches before the sort. Page 100 of the
    developers cost 59 ms at 1,000,000 (5,000 developer and rank rows read to keep 50), the first page of
    `name__icontains=lovelace` 64 ms of rank lookups for its 9,206 matches."""
    queryset = _listed(object_list)
    try:
        keys = ordering_keys(queryset)
    except ValueError:
        return object_list[bottom:top]
    unique = keys[-1].name
    manager = queryset.model._default_manager  # pylint: disable=protected-access  # Django's public API
    rows = manager.filter(**{f"{unique}__in": queryset.values(unique)[bottom:top]})
    rows.query.select_related = queryset.query.select_related
    return rows.order_by(*(key.order() for key in keys))


# --- keyset cursors ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Key:
    """One term of a list's order: a field path (`ranking__rank` included), its direction and its model field."""

    name: str
    descending: bool
    field: Field  # the model field at the end of `name`

    @property
    def nullable(self):
        """Whether the column holds nulls (they sort as its smallest value, see StrictOrderingFilter)."""
        return self.field.null

    def reversed(self):
        """The same term in the opposite direction (what a `previous` page reads, then turns round)."""
        return Key(self.name, not self.descending, self.field)

    def order(self):
        """The order_by term, nulls the smallest value in both directions."""
        if not self.nullable:
            return f"-{self.name}" if self.descending else self.name
        return F(self.name).desc(nulls_last=True) if self.descending else F(self.name).asc(nulls_first=True)

    def after(self, value):
        """The rows strictly after `value` in this order, or None: no row."""
        if value is None:
            return None if self.descending else Q(**{f"{self.name}__isnull": False})
        if not self.descending:
            return Q(**{f"{self.name}__gt": value})
        below = Q(**{f"{self.name}__lt": value})
        return below | Q(**{f"{self.name}__isnull": True}) if self.nullable else below

    def start(self, value):
        """A condition implied by 'at or after `value`' that an index on the column can start from, or None."""
        if value is None:
            return Q(**{f"{self.name}__isnull": True}) if self.descending and self.nullable else None
        if not self.descending:
            return Q(**{f"{self.name}__gte": value})
        return None if self.nullable else Q(**{f"{self.name}__lte": value})

    def equal(self, value):
        """The rows whose value is `value`."""
        return Q(**{f"{self.name}__isnull": True}) if value is None else Q(**{self.name: value})

    def parse(self, value):
        """A cursor's JSON value as the column compares it; django.core.exceptions.ValidationError if it is not
        one."""
        if value is None:
            return None
        if isinstance(value, (list, dict)) or (isinstance(value, str) and "\x00" in value):
            raise DjangoValidationError("not a value of this column")
        value = self.field.to_python(value)
        self.field.run_validators(value)
        return value


def ordering_keys(queryset):
    """The Keys of the queryset's order: what a cursor compares; ValueError when the order is not plain fields
    ending on a unique one (a cursor could then skip or repeat rows)."""
    keys = []
    for term in queryset.query.order_by or queryset.model._meta.ordering:
        if isinstance(term, OrderBy) and isinstance(term.expression, F):
            name, descending = term.expression.name, term.descending
        elif isinstance(term, str):
            name, descending = term.lstrip("-"), term.startswith("-")
        else:
            raise ValueError(f"{term!r} is not a field")
        keys.append(Key(name, descending, _field(queryset.model, name)))
    if not keys or not (keys[-1].field.unique or keys[-1].field.primary_key):
        raise ValueError("the order does not end on a unique field")
    return keys


def _field(model, path):
    """The model field at the end of a `ranking__rank`-style path."""
    *relations, name = path.split(LOOKUP_SEP)
    for relation in relations:
        model = model._meta.get_field(relation).related_model
    return model._meta.get_field(name)


def _value(instance, path):
    """The value at `path` on `instance` (None when a relation on the way is missing)."""
    for name in path.split(LOOKUP_SEP):
        instance = getattr(instance, name, None)
        if instance is None:
            return None
    return instance


def keyset(keys, values):
    """The rows after the row whose ordering values are `values`, or None when there are none."""
    alternatives, equal = [], Q()
    for key, value in zip(keys, values, strict=True):
        after = key.after(value)
        if after is not None:
            alternatives.append(equal & after)
        equal &= key.equal(value)
    if not alternatives:
        return None
    condition = reduce(or_, alternatives)
    start = keys[0].start(values[0])
    return condition if start is None else start & condition


class CursorEncoder(DjangoJSONEncoder):
    """Django's JSON, date-times to the microsecond (Django's own rounds them to milliseconds, and a cursor must
    name its row's value exactly)."""

    def default(self, o):
        return o.isoformat() if isinstance(o, datetime) else super().default(o)


class Cursor:
    """A position in a list: after (or, `backwards`, before) the row with these ordering values."""

    def __init__(self, values, backwards=False):
        self.values, self.backwards = list(values), backwards

    def encode(self, keys):
        """The cursor as the opaque text of `?cursor=`: the ordering's field names, the values, the direction."""
        data = {"o": [key.name for key in keys], "v": self.values, "b": self.backwards}
        text = json.dumps(data, separators=(",", ":"), cls=CursorEncoder)
        return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, text, keys):
        """The cursor `text` names for a list ordered by `keys`; ValueError (its message for the client) when it
        is not one of that list's."""
        try:
            data = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
            fields, values, backwards = data["o"], data["v"], data["b"]
        except (ValueError, TypeError, KeyError, binascii.Error) as exc:
            raise ValueError("Not a cursor of this list: use the `next` or `previous` link of a page.") from exc
        if fields != [key.name for key in keys] or not isinstance(values, list) or len(values) != len(keys) \
                or not isinstance(backwards, bool):
            raise ValueError("This cursor belongs to another ordering: start again with `cursor=` empty.")
        try:
            return cls([key.parse(value) for key, value in zip(keys, values, strict=True)], backwards)
        except DjangoValidationError as exc:
            raise ValueError("Not a cursor of this list: use the `next` or `previous` link of a page.") from exc


# --- the API's pagination ------------------------------------------------------------------------------------


class StablePageNumberPagination(PageNumberPagination):
    """`page` (up to API_PAGE_DEPTH rows deep) or `cursor`, and `page_size` (at most 100); the querysets it
    pages are always totally ordered (github_id last)."""

    page_size_query_param = "page_size"
    max_page_size = 100
    cursor_query_param = "cursor"
    django_paginator_class = BoundedCountPaginator
    page_query_description = (
        "A page number, within the first API_PAGE_DEPTH rows of the list (10,000 by default: page 200 at "
        "page_size=50, 100 at 100); deeper is a 400 naming `page`: narrow the filter, or use `cursor`.")
    cursor_query_description = (
        "Keyset pagination, at any depth and with any filter or ordering: empty for the first page, then the "
        "`next` or `previous` link's (404 for one that is not this list's). Instead of `page`: both are a 400.")

    def __init__(self):
        self.request = self.listed = self.cursor_page = self.counter = self.keys = None

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        self.listed = _listed(queryset)
        self.cursor_page = None
        if self.cursor_query_param in request.query_params:
            if self.page_query_param in request.query_params:
                both = [f"Page with `{self.page_query_param}` or with `{self.cursor_query_param}`, not both."]
                raise ValidationError({self.page_query_param: both, self.cursor_query_param: both})
            return self._paginate_by_cursor(queryset, request)
        return super().paginate_queryset(queryset, request, view)

    def get_page_number(self, request, paginator):
        number = super().get_page_number(request, paginator)
        try:
            too_deep = int(number) > self.deepest_page(paginator.per_page)
        except (TypeError, ValueError):
            too_deep = False  # not a number: Django's paginator answers 404 "Invalid page."
        if too_deep:
            raise ValidationError({self.page_query_param: [
                f"Page numbers reach the first {settings.API_PAGE_DEPTH:,} rows of a list (page "
                f"{self.deepest_page(paginator.per_page):,} at page_size={paginator.per_page}). Narrow the filter, "
                f"or page with `{self.cursor_query_param}` (start with `{self.cursor_query_param}=`)."]})
        return number

    @staticmethod
    def deepest_page(page_size):
        """The last page number within the first API_PAGE_DEPTH rows."""
        return max(1, math.ceil(settings.API_PAGE_DEPTH / page_size))

    def _paginate_by_cursor(self, queryset, request):
        self.page_size = self.get_page_size(request)
        self.counter = self.django_paginator_class(queryset, self.page_size)
        text = request.query_params[self.cursor_query_param]
        try:
            self.keys = ordering_keys(self.listed)
        except ValueError as exc:
            raise ValidationError({self.cursor_query_param: ["This list does not page by cursor: use `page`."]}) \
                from exc
        try:
            cursor = Cursor.decode(text, self.keys) if text else None
        except ValueError as exc:  # 404, as DRF's CursorPagination and an unreadable `page` answer
            raise NotFound(f"Invalid cursor: {exc}") from exc
        keys = [key.reversed() for key in self.keys] if cursor and cursor.backwards else self.keys
        rows = self.listed.order_by(*(key.order() for key in keys))
        if cursor is not None:
            condition = keyset(keys, cursor.values)
            rows = rows.filter(condition) if condition is not None else rows.none()
        rows = list(rows[:self.page_size + 1])
        more = len(rows) > self.page_size
        rows = rows[:self.page_size]
        if cursor and cursor.backwards:
            rows.reverse()
            self.cursor_page = (rows, bool(rows), more and bool(rows))  # (rows, has next, has previous)
        else:
            self.cursor_page = (rows, more, cursor is not None and bool(rows))
        return rows

    def _cursor_link(self, row, backwards):
        cursor = Cursor([_value(row, key.name) for key in self.keys], backwards)
        url = remove_query_param(self.request.build_absolute_uri(), self.page_query_param)
        return replace_query_param(url, self.cursor_query_param, cursor.encode(self.keys))

    def get_next_link(self):
        if self.cursor_page is not None:
            rows, has_next, _has_previous = self.cursor_page
            return self._cursor_link(rows[-1], backwards=False) if has_next else None
        if self.page.paginator.counted[1] and len(self.page) < self.page.paginator.per_page:
            return None  # the count was an estimate, and the list ended before it
        if self.page.has_next() and self.page.number >= self.deepest_page(self.page.paginator.per_page):
            try:  # beyond the page numbers' reach
                self.keys = ordering_keys(self.listed)
            except ValueError:
                return super().get_next_link()
            return self._cursor_link(self.page[-1], backwards=False)
        return super().get_next_link()

    def get_previous_link(self):
        if self.cursor_page is not None:
            rows, _has_next, has_previous = self.cursor_page
            return self._cursor_link(rows[0], backwards=True) if has_previous else None
        return super().get_previous_link()

    def get_paginated_response(self, data):
        count, estimated = (self.counter if self.cursor_page is not None else self.page.paginator).counted
        response = Response({
            "count": count,
            "next": self.get_next_link(),
            "previous": self.get_previous_link(),
            "results": data,
        })
        if estimated:
            response[COUNT_ESTIMATED_HEADER] = "true"
        return response

    def get_paginated_response_schema(self, schema):
        response = super().get_paginated_response_schema(schema)
        response["properties"]["count"]["description"] = (
            "Rows in the list: exact up to API_PAGE_DEPTH (10,000 by default), PostgreSQL's estimate above it "
            f"(the `{COUNT_ESTIMATED_HEADER}: true` header says so)")
        return response

    def get_schema_operation_parameters(self, view):
        page, *others = super().get_schema_operation_parameters(view)
        # Within reach whatever the page size: deeper pages depend on it (ceil(API_PAGE_DEPTH / page_size)).
        page["schema"] |= {"minimum": 1, "maximum": self.deepest_page(self.max_page_size)}
        return [page, *others, {
            "name": self.cursor_query_param, "required": False, "in": "query",
            "description": self.cursor_query_description,
            "schema": {"type": "string", "pattern": "^[A-Za-z0-9_=-]*$"},  # base64url, as Cursor.encode writes it
        }]
