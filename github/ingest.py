"""Ingestion: GitHub payloads in, rows out, whichever transport read them (github/sync.py through REST,
github/graphql_sync.py through GraphQL, mapped to REST's payload shapes).

Every list item is stored from the list payload itself (followers, following and stargazers as stub
developers, starred repositories whole with their owners as stubs): never one GET per item. A list read to its
end is written, and its relation set replaced in one transaction with the list marked read and its first page's
validators stored (so a later 304 always vouches for a stored relation); a list that was not read to its end
changes no relation. Upserts go in bulk by github_id through github/bulk.py, so the SQL statements per ingested
page are bounded whatever the page holds.

Developers and repositories (nodes) are upserted in their own short statements, in github_id order, before the
transaction that replaces a relation set (edges) and marks the list read: concurrent syncs of overlapping users
then never hold row locks on nodes while waiting for each other, which is how PostgreSQL deadlocks arise.
"""
import functools
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import NamedTuple

from django.db import connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from github.bulk import Upsert, replace_edges, seed_distance_lowered, set_column
from github.client import GitHubClient, GitHubResponse
from github.models import REPOSITORY_FLAGS, Developer, Follow, ListProgress, Repository, Star


@dataclass
class SyncResult:
    """What a sync did, through either transport: the task result users read at /github/tasks/{id}/. It names
    what was synced: a developer's `login`, or a repository's `repository` (owner/name); the other is left out."""

    login: str | None = None
    repository: str | None = None
    requests: int = 0
    not_modified: int = 0
    developers_written: int = 0
    repositories_written: int = 0
    edges_added: int = 0
    edges_removed: int = 0
    lists_skipped_unchanged: int = 0
    gone: bool = False
    # The GraphQL bucket (github/graphql_sync.py): a batch's queries and points, shared by the batch's developers.
    graphql_queries: int = 0
    graphql_points: int = 0

    def add(self, partial: "SyncResult") -> None:
        """Count what a part of this sync (one repository's stargazers) wrote."""
        self.developers_written += partial.developers_written
        self.edges_added += partial.edges_added
        self.edges_removed += partial.edges_removed
        self.lists_skipped_unchanged += partial.lists_skipped_unchanged

    def with_requests_of(self, client: GitHubClient) -> "SyncResult":
        """This result with the quota requests and free 304s `client` spent on it."""
        self.requests = client.stats["quota_requests"]
        self.not_modified = client.stats["not_modified"]
        return self

    def as_dict(self):
        """A JSON-serialisable dict, without the name (login or repository) this sync is not of."""
        return {key: value for key, value in asdict(self).items()
                if value is not None or key not in ("login", "repository")}


# Payload -> column values.

def _text(value, limit=None):
    """GitHub text as a column value: NUL characters dropped (PostgreSQL refuses them), cut to the column."""
    if value is None:
        return None
    value = str(value).replace("\x00", "")
    return value[:limit] if limit else value


def _limit(model, field):
    return model._meta.get_field(field).max_length


def _timestamp(value):
    return parse_datetime(value) if value else None


def profile_fields(payload):
    """Developer columns from a public-user payload (GET /users/{login})."""
    fields = {
        "login": payload["login"],
        "type": payload.get("type"),
        "created_at": _timestamp(payload.get("created_at")),
        "updated_at": _timestamp(payload.get("updated_at")),
        "followers_count": payload.get("followers"),
        "following_count": payload.get("following"),
        "public_gists": payload.get("public_gists"),
        "public_repos": payload.get("public_repos"),
    }
    for name in ("name", "location", "company", "email", "blog", "twitter_username"):
        fields[name] = _text(payload.get(name), _limit(Developer, name))
    fields["bio"] = _text(payload.get("bio"))
    return fields


REPOSITORY_COUNTS = ("stargazers_count", "watchers_count", "open_issues_count", "forks_count")


def repository_fields(payload):
    """Repository columns from a repository or minimal-repository payload (not owner, not subscribers)."""
    license_info = payload.get("license") or {}
    fields = {
        "name": payload["name"],
        "full_name": payload["full_name"],
        "owner_github_id": payload["owner"]["id"],
        "description": _text(payload.get("description")),
        "homepage": _text(payload.get("homepage"), _limit(Repository, "homepage")),
        "language": _text(payload.get("language"), _limit(Repository, "language")),
        "created_at": _timestamp(payload.get("created_at")),
        "updated_at": _timestamp(payload.get("updated_at")),
        "pushed_at": _timestamp(payload.get("pushed_at")),
        "topics": payload.get("topics") or [],
        "license": _text(license_info.get("spdx_id"), _limit(Repository, "license")),
    }
    for flag, default in REPOSITORY_FLAGS.items():
        value = payload.get(flag)
        fields[flag] = default if value is None else bool(value)
    for count in REPOSITORY_COUNTS:
        fields[count] = payload.get(count) or 0
    return fields


def _stub(user):
    """The compact row a simple-user payload becomes: all a follower or stargazer list tells."""
    return user["id"], user["login"], user.get("type")


# Bulk upserts by github_id (github/bulk.py).

@functools.cache
def _stub_upsert() -> Upsert:
    # A GraphQL list member's type is unknown (None: a UserConnection may list organisations): the stored one stays.
    table = connection.ops.quote_name(Developer._meta.db_table)
    return Upsert(Developer, ("github_id", "login", "type", "seed_distance", "discovered_at"), name="login",
                  assignments={"seed_distance": seed_distance_lowered(Developer._meta.db_table),
                               "type": f"COALESCE(excluded.type, {table}.type)"})


@functools.cache
def _profile_upsert(columns: tuple[str, ...]) -> Upsert:
    return Upsert(Developer, columns, name="login", insert_only=("discovered_at", "seed_distance"))


@functools.cache
def _repository_upsert(columns: tuple[str, ...], lacking: tuple[str, ...] = ()) -> Upsert:
    return Upsert(Repository, columns, name="full_name", insert_only=("discovered_at", *lacking))


def upsert_stub_developers(stubs: Iterable[tuple], *, distance: int | None) -> dict[int, object]:
    """Insert or update (login, type) developers from list rows; return {github_id: pk as the database gives it}.

    Profile fields of developers already synced are left alone: a list tells only id, login and type. A
    known developer's seed distance is lowered to `distance` where that is nearer.
    """
    now = timezone.now()
    unique = {github_id: (github_id, login, kind, distance, now) for github_id, login, kind in stubs}
    return _stub_upsert()(unique.values())


def upsert_profile(payload, *, seed_distance_if_new=0) -> Developer:
    """Insert or update a developer from its full profile payload; a new one counts as a seed."""
    now = timezone.now()
    fields = profile_fields(payload) | {"profiled_at": now, "profile_synced_at": now, "gone_at": None}
    columns = ("github_id", "seed_distance", "discovered_at", *fields)
    _profile_upsert(columns)([(payload["id"], seed_distance_if_new, now, *fields.values())])
    return Developer.objects.get(github_id=payload["id"])


def upsert_listed_profiles(payloads) -> None:
    """Insert or update developers' profiles (counts included, where the payload has them) read without their
    lists: unlike upsert_profile, not marked synced, so discovery still syncs them (and its estimates can use
    the counts)."""
    now = timezone.now()
    rows, columns = [], None
    for payload in {payload["id"]: payload for payload in payloads}.values():
        fields = profile_fields(payload) | {"profiled_at": now}
        columns = columns or ("github_id", "seed_distance", "discovered_at", *fields)
        rows.append((payload["id"], None, now, *fields.values()))
    if rows:
        _profile_upsert(columns)(rows)


def set_subscribers_counts(counts: dict[int, int]) -> None:
    """Store repositories' subscribers_count ({github_id: count}) read without their full payload (so not
    marked synced)."""
    rows = list(Repository.objects.filter(github_id__in=counts).only("pk", "github_id"))
    for row in rows:
        row.subscribers_count = counts[row.github_id]
    Repository.objects.bulk_update(rows, ["subscribers_count"], batch_size=500)


def upsert_repositories(payloads, *, owner_distance: int | None, full=False, lacking=()) -> dict[int, object]:
    """Insert or update repositories (and their owners as stubs); return {github_id: pk as the database gives it}.

    `full` payloads (GET /repos/{owner}/{repo}) also carry subscribers_count and mark the repository synced.
    `lacking`: columns the payloads do not carry (a GraphQL read's): a new row gets their defaults, a stored
    one keeps its values.
    """
    unique = {payload["id"]: payload for payload in payloads}
    if not unique:
        return {}
    owners = upsert_stub_developers([_stub(p["owner"]) for p in unique.values()], distance=owner_distance)
    now = timezone.now()
    rows, columns = [], None
    for payload in unique.values():
        fields = repository_fields(payload) | {"gone_at": None}
        if full:
            fields |= {"subscribers_count": payload.get("subscribers_count"), "synced_at": now}
        columns = columns or ("github_id", "owner_id", "discovered_at", *fields)
        rows.append((payload["id"], owners[payload["owner"]["id"]], now, *fields.values()))
    return _repository_upsert(columns, tuple(lacking))(rows)


class Relation(NamedTuple):
    """A relation set as one GitHub list gives it: the edge table, the side the list belongs to, the side it
    lists, and the column of the owner's row that says when the list was last read whole."""

    model: type
    fixed: str
    member: str
    synced_field: str


FOLLOWERS = Relation(Follow, "followee", "follower", "followers_synced_at")
FOLLOWING = Relation(Follow, "follower", "followee", "following_synced_at")
STARRED = Relation(Star, "developer", "repository", "starred_synced_at")
STARGAZERS = Relation(Star, "repository", "developer", "stargazers_synced_at")


class ListRead(NamedTuple):
    """A list read whole: its items and page 1 (whose validators to remember), or items None when page 1 was
    unchanged and the list is skipped. `resumed` is the stored position the read started from, if any."""

    items: list | None
    first: GitHubResponse | None
    resumed: ListProgress | None = None
    lacking: tuple = ()  # repository columns the items do not carry (upsert_repositories' `lacking`)


def store_list(client: GitHubClient, listed: ListRead, *, relation: Relation, owner, member_pks: Iterable):
    """Store what a list read whole gave, in one transaction: `owner`'s relation set replaced (`replace_edges`),
    the list marked read and its first page's validators remembered, so that a later 304 always vouches for a
    stored relation. Returns (edges added, edges removed)."""
    with transaction.atomic():
        added_removed = replace_edges(relation.model, fixed_field=relation.fixed, fixed_pk=owner.pk,
                                     member_field=relation.member, member_pks=member_pks)
        set_column(type(owner), owner.pk, relation.synced_field, timezone.now())
        mark_read(client, listed)
    return added_removed


def store_members(client: GitHubClient, listed: ListRead, relation: Relation, owner, *, distance: int):
    """Store a list of developers read whole (followers, following, stargazers: stubs at `distance`) as `owner`'s
    relation set; returns (developers written, edges added, edges removed)."""
    ids = upsert_stub_developers([_stub(user) for user in listed.items], distance=distance)
    return (len(ids), *store_list(client, listed, relation=relation, owner=owner, member_pks=ids.values()))


def store_owned_repositories(client: GitHubClient, listed: ListRead, developer) -> tuple[dict, dict]:
    """Store a developer's repositories list read whole: the ones they own upserted, owned ones missing from it
    marked gone, the list marked read. Returns ({github_id: pk} written, {github_id: stored row before})."""
    owned = [item for item in listed.items if item["owner"]["id"] == developer.github_id]
    stored = {
        row["github_id"]: row for row in
        Repository.objects.filter(owner=developer).values("github_id", "stargazers_count", "gone_at")
    }
    ids = upsert_repositories(owned, owner_distance=developer.seed_distance, lacking=listed.lacking)
    with transaction.atomic():
        # Owned repositories missing from the whole list were deleted, made private or transferred.
        Repository.objects.filter(owner=developer, gone_at__isnull=True).exclude(pk__in=ids.values()).update(
            gone_at=timezone.now())
        set_column(Developer, developer.pk, "repositories_synced_at", timezone.now())
        mark_read(client, listed)
    return ids, stored


def mark_read(client: GitHubClient, listed: ListRead) -> None:
    """Within the transaction storing a list read whole: remember its page 1, forget where a read of it stopped."""
    client.remember(listed.first)
    if listed.resumed is not None:
        ListProgress.objects.filter(pk=listed.resumed.pk).delete()
