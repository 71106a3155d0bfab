"""Reads for the API: querysets and the relation ids a page of developers or repositories shows.

Relation ids are read from the edge tables directly (index-only, no join with the developer table), one query
per relation for a whole page, so a page costs the same number of queries whatever its size. Each object shows
at most API_RELATION_PREVIEW ids per relation, in index order: a hub has a million followers, and its full
list is the paged nested endpoint (followers_url and the like), as on GitHub.
"""
from collections import defaultdict
from contextlib import contextmanager

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Window
from django.db.models.functions import RowNumber

from github.models import Developer, Follow, Repository, Star


def _group(model, ids, key, value, order=None):
    """{str(key): [str(value), ...]}: for each of `ids`, the first API_RELATION_PREVIEW values of the rows of
    `model` whose `key` it is, ordered by `order` (`value` by default)."""
    order = order or value
    if connection.vendor == "postgresql":
        return _group_laterally(model, ids, key, value, order)
    ranked = model.objects.filter(**{f"{key}__in": ids}).annotate(
        position=Window(RowNumber(), partition_by=F(key), order_by=F(order).asc())
    ).filter(position__lte=settings.API_RELATION_PREVIEW).order_by(key, order)
    grouped = defaultdict(list)
    for key_value, member in ranked.values_list(key, value):
        grouped[str(key_value)].append(str(member))
    return grouped


def _group_laterally(model, ids, key, value, order):
    """`_group` on PostgreSQL: a LIMIT per key on the (key, order) index, so a hub costs its first 100 index
    entries, where a window over the page's keys reads every edge of every hub on the page (a page of the top
    hubs at 10,000,000 follows: a million rows, to keep 5,000).

    The ids come back as text (uuid::text in SQL): psycopg2 would build a uuid.UUID per value only for the URL
    to format it back."""
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    key, value, order = (quote(model._meta.get_field(name).column) for name in (key, value, order))
    sql = ("SELECT keys.id::text, preview.member::text "  # noqa: S608  # model table and column names
           "FROM unnest(%s::uuid[]) WITH ORDINALITY AS keys(id, position) "
           f"CROSS JOIN LATERAL (SELECT {value} AS member, {order} AS sort FROM {table} WHERE {key} = keys.id "
           f"ORDER BY {order} LIMIT %s) AS preview ORDER BY keys.position, preview.sort")
    grouped = defaultdict(list)
    with connection.cursor() as cursor:
        cursor.execute(sql, [[str(pk) for pk in ids], settings.API_RELATION_PREVIEW])
        for key_value, member in cursor.fetchall():
            grouped[key_value].append(member)
    return grouped


def _attach(rows, relations: dict):
    """Set each attribute of `relations` ({attribute: (model, key, value, order)}, `_group`'s arguments) on each
    of `rows`: the ids of that relation's first members; one query per relation."""
    ids = [row.pk for row in rows]
    if not ids:
        return rows
    grouped = {attribute: _group(model, ids, key, value, order=order)
               for attribute, (model, key, value, order) in relations.items()}
    for row in rows:
        for attribute, members in grouped.items():
            setattr(row, attribute, members[str(row.pk)])
    return rows


def attach_developer_relations(developers):
    """Set followers_ids, following_ids, starred_ids and repository_ids on each developer; 4 queries in all."""
    return _attach(developers, {
        "followers_ids": (Follow, "followee", "follower", None),
        "following_ids": (Follow, "follower", "followee", None),
        "starred_ids": (Star, "developer", "repository", None),
        "repository_ids": (Repository, "owner", "id", "github_id"),
    })


def attach_repository_relations(repositories):
    """Set stargazer_ids on each repository; 1 query in all."""
    return _attach(repositories, {"stargazer_ids": (Star, "repository", "developer", None)})


def followers_of(developer):
    """The developers who follow `developer`."""
    return Developer.objects.filter(pk__in=Follow.objects.filter(followee=developer).values("follower_id"))


def following_of(developer):
    """The developers `developer` follows."""
    return Developer.objects.filter(pk__in=Follow.objects.filter(follower=developer).values("followee_id"))


def starred_by(developer):
    """The repositories `developer` starred."""
    return Repository.objects.filter(pk__in=Star.objects.filter(developer=developer).values("repository_id"))


def stargazers_of(repository):
    """The developers who starred `repository`."""
    return Developer.objects.filter(pk__in=Star.objects.filter(repository=repository).values("developer_id"))


# The dashboard's top lists: by rank (github/rank.py), and by the counts GitHub reports until it is computed.
# Filtered on the rank row (every row has one, github.models.DeveloperRank) for an inner join that walks the rank
# index.
TOP_DEVELOPERS_ORDER = (F("ranking__rank").desc(nulls_last=True), F("followers_count").desc(nulls_last=True))
TOP_REPOSITORIES_ORDER = (F("ranking__rank").desc(nulls_last=True), F("stargazers_count").desc())


def top_developers(limit=10):
    """The developers who matter most in the crawled graph (the ordering reads its index)."""
    return Developer.objects.select_related("ranking").filter(ranking__isnull=False).order_by(
        *TOP_DEVELOPERS_ORDER, "github_id")[:limit]


def top_repositories(limit=10):
    """The repositories that matter most in the crawled graph."""
    return Repository.objects.select_related("owner", "ranking").filter(ranking__isnull=False).order_by(
        *TOP_REPOSITORIES_ORDER, "github_id")[:limit]


@contextmanager
def consistent_snapshot():
    """One transaction whose reads all see the same snapshot of the graph, for reads that take many queries
    (an export, the rank computation): REPEATABLE READ on PostgreSQL; SQLite's transactions are snapshots.

    Inside a transaction already (a test), that transaction's isolation is used.
    """
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if connection.vendor == "postgresql" and outermost:
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        yield
