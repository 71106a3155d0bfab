"""Sync services: GitHub payloads in, rows out.

Every list item is stored from the list payload itself (followers, following and stargazers as stub
developers, starred repositories whole with their owners as stubs): never one GET per item. A list is held
in memory as compact rows until it has been read to its end, then written, and its relation set replaced in
one transaction with the list marked read and its first page's validators stored (so a later 304 always
vouches for a stored relation); a list that was not read to its end changes no relation. A list the quota
stops part-way leaves where it stopped (ListProgress), and the next sync continues from there while its page 1
is unchanged: a list longer than one window's budget is read across windows instead of from page 1 every
time. Upserts go in bulk by github_id through github/bulk.py, so the SQL statements per ingested page are
bounded whatever the page holds.

Developers and repositories (nodes) are upserted in their own short statements, in github_id order, before the
transaction that replaces a relation set (edges) and marks the list read: concurrent syncs of overlapping users
then never hold row locks on nodes while waiting for each other, which is how PostgreSQL deadlocks arise.
"""
import functools
import logging
import math
import uuid
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import NamedTuple
from urllib.parse import quote

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from github.bulk import Upsert, replace_edges, seed_distance_lowered, set_column
from github.client import GitHubClient, GitHubError, GitHubResponse, NotFound
from github.models import Developer, Follow, ListProgress, Repository, Star

logger = logging.getLogger(__name__)

PAGE = 100
# GitHub's answer past the last page it serves of a list (page 401 of stargazers).
PAGINATION_LIMITED = 422
STARGAZERS_SHOWN = 40_000
# Fewest requests a never-synced developer can cost: the profile and four lists of one page each.
STUB_COST = 5


@dataclass
class SyncResult:
    """What a sync did: the task result users read at /github/tasks/{id}/."""

    login: str
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
        """A JSON-serialisable dict."""
        return asdict(self)


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


REPOSITORY_FLAGS = {
    "has_downloads": True, "has_issues": True, "has_pages": False, "has_projects": True, "has_wiki": True,
    "private": False, "archived": False, "disabled": False, "fork": False,
}
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
    return Upsert(Developer, ("id", "github_id", "login", "type", "seed_distance", "discovered_at"), name="login",
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
    unique = {github_id: (uuid.uuid4(), github_id, login, kind, distance, now) for github_id, login, kind in stubs}
    return _stub_upsert()(unique.values())


def upsert_profile(payload, *, seed_distance_if_new=0) -> Developer:
    """Insert or update a developer from its full profile payload; a new one counts as a seed."""
    now = timezone.now()
    fields = profile_fields(payload) | {"profiled_at": now, "profile_synced_at": now, "gone_at": None}
    columns = ("id", "github_id", "seed_distance", "discovered_at", *fields)
    _profile_upsert(columns)([(uuid.uuid4(), payload["id"], seed_distance_if_new, now, *fields.values())])
    return Developer.objects.get(github_id=payload["id"])


def upsert_listed_profiles(payloads) -> None:
    """Insert or update developers' profiles (counts included, where the payload has them) read without their
    lists: unlike upsert_profile, not marked synced, so discovery still syncs them (and its estimates can use
    the counts)."""
    now = timezone.now()
    rows, columns = [], None
    for payload in {payload["id"]: payload for payload in payloads}.values():
        fields = profile_fields(payload) | {"profiled_at": now}
        columns = columns or ("id", "github_id", "seed_distance", "discovered_at", *fields)
        rows.append((uuid.uuid4(), payload["id"], None, now, *fields.values()))
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
        columns = columns or ("id", "github_id", "owner_id", "discovered_at", *fields)
        rows.append((uuid.uuid4(), payload["id"], owners[payload["owner"]["id"]], now, *fields.values()))
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


def store_list(client: GitHubClient, listed: ListRead, relation: Relation, owner, member_pks: Iterable):
    """Store what a list read whole gave, in one transaction: `owner`'s relation set replaced (`replace_edges`),
    the list marked read and its first page's validators remembered, so that a later 304 always vouches for a
    stored relation. Returns (edges added, edges removed)."""
    with transaction.atomic():
        added_removed = replace_edges(relation.model, relation.fixed, owner.pk, relation.member, member_pks)
        set_column(type(owner), owner.pk, relation.synced_field, timezone.now())
        mark_read(client, listed)
    return added_removed


def store_members(client: GitHubClient, listed: ListRead, relation: Relation, owner, *, distance: int):
    """Store a list of developers read whole (followers, following, stargazers: stubs at `distance`) as `owner`'s
    relation set; returns (developers written, edges added, edges removed)."""
    ids = upsert_stub_developers([_stub(user) for user in listed.items], distance=distance)
    return (len(ids), *store_list(client, listed, relation, owner, ids.values()))


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


# Reading lists.

def pages_needed(count):
    """Requests a list of `count` items costs: one page even when empty."""
    return max(1, math.ceil((count or 0) / PAGE))


def _list_is_fresh(synced_at):
    """Was the list read whole recently enough that an unchanged page 1 can be trusted for the rest?"""
    interval = timedelta(days=settings.GITHUB_FULL_READ_DAYS)
    return synced_at is not None and timezone.now() - synced_at < interval


def read_list(client: GitHubClient, path: str, *, trust_unchanged: bool, resume: ListProgress | None = None):
    """Read a whole list (a ListRead), continuing from `resume` when an earlier read stopped part-way.

    Page 1 is conditional when `trust_unchanged`; a 304 there skips the list. When the caller cannot trust
    it (the parent's count moved, or the last whole read is too old) the list is read unconditionally. With
    `resume`, page 1 is conditional on the page 1 the stored part was read with: unchanged, the read goes on
    from the page where it stopped; changed, it starts again from this page 1. A read stopped by an error
    (the quota spent, GitHub failing) stores where it stopped before the error goes on up.
    GitHub serves only the first 400 pages of a repository's stargazers and answers 422 after them: what it
    shows is then the whole list there is to read.
    """
    pages = client.list_pages(path, conditional_first_page=trust_unchanged, resume=resume)
    first = next(pages)
    if first.not_modified and resume is None:
        return ListRead(None, None)
    if first.not_modified:
        logger.info("%s: continuing after the %d items read before", path, len(resume.items))
        items = list(resume.items)
        first = GitHubResponse(200, None, first.url, resume.etag, resume.last_modified)
    else:
        items = list(first.data)
    try:
        for page in pages:
            items.extend(page.data)
    except GitHubError as error:
        if error.status != PAGINATION_LIMITED:
            if error.url and not isinstance(error, NotFound):  # a list that is gone is not continued
                _keep_progress(path, first, items, error.url)
            raise
        logger.info("%s: GitHub shows only the first %d items", path, len(items))
    return ListRead(items, first, resume)


def _keep_progress(path: str, first: GitHubResponse, items: list, next_url: str) -> None:
    """Store where the read of `path` stopped: at `next_url`, with `items` read from the page 1 `first`."""
    ListProgress.objects.update_or_create(path=path, defaults={
        "etag": first.etag, "last_modified": first.last_modified, "next_url": next_url,
        "items": [_compact(item) for item in items]})
    logger.info("%s: stopped after %d items, to continue from %s", path, len(items), next_url)


def _compact(value):
    """A list item without GitHub's URLs: most of a payload's size, and nothing a sync reads."""
    if isinstance(value, dict):
        return {key: _compact(item) for key, item in value.items() if key != "url" and not key.endswith("_url")}
    return value


def lists_in_progress(*prefixes: str) -> dict[str, ListProgress]:
    """{path: where its read stopped} for the lists under these paths: one query for a whole sync."""
    condition = Q()
    for prefix in prefixes:
        condition |= Q(path__startswith=prefix)
    return {progress.path: progress for progress in ListProgress.objects.filter(condition)}


def _path(*segments):
    return "/" + "/".join(quote(str(segment), safe="") for segment in segments)


# The syncs.

def developers_by_login(login: str):
    """Developers whose login is `login` in any case, through the case-insensitive unique index (0 or 1)."""
    return Developer.objects.annotate(login_lower=Lower("login")).filter(login_lower=login.lower())


def fetch_profile(client: GitHubClient, login: str, known: Developer | None) -> GitHubResponse | None:
    """A profile by login, found again by id if the login moved; None (and marked gone) if GitHub lost it.

    The request is conditional when the developer is stored: a 304 says the stored profile is current.
    """
    try:
        return client.user(login, conditional=known is not None and known.profile_synced_at is not None)
    except ValidationError:
        if known is None:  # not a login GitHub could have, and nothing stored to look up by id
            raise
    except NotFound:
        if known is None:
            return None
    try:
        return client.user_by_id(known.github_id)
    except NotFound:
        Developer.objects.filter(pk=known.pk).update(gone_at=timezone.now())
        return None


class ProfileSync:
    """One `full_profile_sync`: the profile, followers, following, starred, owned repositories, stargazers."""

    def __init__(self, client: GitHubClient, login: str):
        self.client = client
        self.result = SyncResult(login=login)
        self.developer = None
        self.progress = {}

    def run(self) -> SyncResult:
        """Sync everything about the developer; a developer GitHub no longer has is marked gone."""
        known = developers_by_login(self.result.login).first()
        profile = fetch_profile(self.client, self.result.login, known)
        if profile is None:
            self.result.gone = True
            return self._finish()
        if profile.not_modified:
            now = timezone.now()
            Developer.objects.filter(pk=known.pk).update(profiled_at=now, profile_synced_at=now)
            self.developer = Developer.objects.get(pk=known.pk)
            counts_moved = set()
        else:
            before = known if known and known.github_id == profile.data["id"] else None
            self.developer = upsert_profile(profile.data)
            self.client.remember(profile)
            self.result.developers_written += 1
            counts_moved = self._moved_counts(before)
        self.result.login = self.developer.login
        self.progress = lists_in_progress(_path("users", self.developer.login) + "/",
                                          _path("repos", self.developer.login) + "/")
        self._sync_follow_lists(counts_moved)
        self._sync_starred()
        self._sync_owned_repositories("public_repos" in counts_moved)
        return self._finish()

    def _moved_counts(self, before: Developer | None) -> set:
        """Which of the profile's list counts differ from what was stored before this sync."""
        if before is None:
            return {"followers_count", "following_count", "public_repos"}
        return {name for name in ("followers_count", "following_count", "public_repos")
                if getattr(before, name) != getattr(self.developer, name)}

    def _sync_follow_lists(self, counts_moved):
        developer = self.developer
        distance = (developer.seed_distance or 0) + 1
        for name, count_field, relation in (("followers", "followers_count", FOLLOWERS),
                                            ("following", "following_count", FOLLOWING)):
            trust = count_field not in counts_moved and _list_is_fresh(getattr(developer, relation.synced_field))
            listed = self._read(_path("users", developer.login, name), trust)
            if listed.items is None:
                self.result.lists_skipped_unchanged += 1
                continue
            written, *added_removed = store_members(self.client, listed, relation, developer, distance=distance)
            self._count_edges(added_removed)
            self.result.developers_written += written

    def _sync_starred(self):
        developer = self.developer
        trust = _list_is_fresh(developer.starred_synced_at)  # GitHub reports no count of stars given
        listed = self._read(_path("users", developer.login, "starred"), trust)
        if listed.items is None:
            self.result.lists_skipped_unchanged += 1
            return
        ids = upsert_repositories(listed.items, owner_distance=(developer.seed_distance or 0) + 1)
        self._count_edges(store_list(self.client, listed, STARRED, developer, ids.values()))
        self.result.repositories_written += len(ids)

    def _sync_owned_repositories(self, count_moved):
        developer = self.developer
        trust = not count_moved and _list_is_fresh(developer.repositories_synced_at)
        listed = self._read(_path("users", developer.login, "repos"), trust)
        if listed.items is not None:
            ids, stored = store_owned_repositories(self.client, listed, developer)
            self.result.repositories_written += len(ids)
            moved = {item["id"] for item in listed.items if item["id"] in ids and (
                item["id"] not in stored or stored[item["id"]]["stargazers_count"] != item["stargazers_count"])}
        else:
            self.result.lists_skipped_unchanged += 1
            moved = set()
        for repository in Repository.objects.filter(owner=developer, gone_at__isnull=True).order_by("github_id"):
            self.result.add(sync_stargazers(self.client, repository, count_moved=repository.github_id in moved,
                                            distance=(developer.seed_distance or 0) + 1, progress=self.progress))

    def _read(self, path: str, trust: bool) -> ListRead:
        return read_list(self.client, path, trust_unchanged=trust, resume=self.progress.get(path))

    def _count_edges(self, added_removed):
        self.result.edges_added += added_removed[0]
        self.result.edges_removed += added_removed[1]

    def _finish(self) -> SyncResult:
        return self.result.with_requests_of(self.client)


def sync_stargazers(client: GitHubClient, repository: Repository, *, count_moved: bool, distance: int,
                    progress: dict[str, ListProgress] | None = None):
    """Read a repository's stargazers and replace its star set (GitHub shows at most 40,000 of them).

    `progress`: where reads of the sync's lists stopped (`lists_in_progress`), looked up here when not given.
    """
    result = SyncResult(login=repository.full_name)
    owner_login, name = repository.full_name.split("/", 1)
    trust = not count_moved and _list_is_fresh(repository.stargazers_synced_at)
    path = _path("repos", owner_login, name, "stargazers")
    resume = (lists_in_progress(path) if progress is None else progress).get(path)
    listed = read_list(client, path, trust_unchanged=trust, resume=resume)
    if listed.items is None:
        result.lists_skipped_unchanged += 1
        return result
    result.developers_written, result.edges_added, result.edges_removed = store_members(
        client, listed, STARGAZERS, repository, distance=distance)
    return result


def full_profile_sync(*, client: GitHubClient, login: str) -> SyncResult:
    """Sync one developer and everything the crawl keeps about them."""
    return ProfileSync(client, login).run()


def full_repository_sync(*, client: GitHubClient, owner: str, name: str) -> SyncResult:
    """Sync one repository (full payload, so subscribers_count is real), its owner's profile and stargazers."""
    result = SyncResult(login=f"{owner}/{name}")
    try:
        response = client.repository(owner, name, conditional=False)
    except NotFound:
        Repository.objects.annotate(full_name_lower=Lower("full_name")).filter(
            full_name_lower=f"{owner}/{name}".lower()).update(gone_at=timezone.now())
        result.gone = True
        return result.with_requests_of(client)
    payload = response.data
    stored = Repository.objects.filter(github_id=payload["id"]).values_list("stargazers_count", flat=True).first()
    owner_row = Developer.objects.filter(github_id=payload["owner"]["id"]).first()
    distance = owner_row.seed_distance if owner_row and owner_row.seed_distance is not None else 0
    ids = upsert_repositories([payload], owner_distance=distance, full=True)
    result.repositories_written = len(ids)
    owner_response = fetch_profile(client, payload["owner"]["login"], owner_row)
    if owner_response is not None and not owner_response.not_modified:
        upsert_profile(owner_response.data, seed_distance_if_new=distance)
        client.remember(owner_response)
        result.developers_written += 1
    repository = Repository.objects.get(github_id=payload["id"])
    result.add(sync_stargazers(client, repository, count_moved=stored != payload["stargazers_count"],
                               distance=distance + 1))
    return result.with_requests_of(client)


# Cost estimates and discovery.

def estimate_profile_cost(login: str) -> int:
    """Worst-case requests of a full_profile_sync of `login`, from what is stored (design section 3)."""
    developer = developers_by_login(login).first()
    return estimate_developer_cost(developer)


def estimate_developer_cost(developer: Developer | None) -> int:
    """1 + a page per 100 followers, following, starred and owned repositories + each repository's stargazer pages.

    A developer profiled alongside a list (its lists unread) has its counts but no stored stars or repositories:
    its starred list and each repository's stargazers count a page each, the least they can cost.
    """
    if developer is None or (developer.profile_synced_at is None and developer.profiled_at is None):
        return STUB_COST
    if developer.profile_synced_at is None:
        repositories = developer.public_repos or 0
        return (1 + pages_needed(developer.followers_count) + pages_needed(developer.following_count) + 1
                + pages_needed(repositories) + repositories)
    stars_given = Star.objects.filter(developer=developer).count()
    stargazer_pages = sum(
        pages_needed(count) for count in
        Repository.objects.filter(owner=developer, gone_at__isnull=True).values_list("stargazers_count", flat=True)
    )
    return (1 + pages_needed(developer.followers_count) + pages_needed(developer.following_count)
            + pages_needed(stars_given) + pages_needed(developer.public_repos) + stargazer_pages)


def estimate_repository_cost(owner: str, name: str) -> int:
    """Worst-case requests of a full_repository_sync: repository, owner, and the stargazer pages."""
    stars = Repository.objects.annotate(full_name_lower=Lower("full_name")).filter(
        full_name_lower=f"{owner}/{name}".lower()).values_list("stargazers_count", flat=True).first()
    return 2 + pages_needed(min(stars or 0, STARGAZERS_SHOWN))


def choose_discovery_batch(*, budget: int, limit: int) -> list[Developer]:
    """Whom to sync next, claimed so no other discovery run picks them while they are queued or running.

    Never-synced stubs nearest to the seeds first, then the developers synced longest ago (and not within
    DISCOVERY_RESYNC_HOURS); as many as `limit` and the budget allow (each at its estimated cost). While
    there is any budget the first is chosen whatever it costs: a sync costlier than the budget starts with
    what there is and continues later, so a window smaller than every candidate does not stop the crawl.
    """
    stubs, synced = discovery_queues()
    chosen, spent = [], 0
    with transaction.atomic():
        for developer in _candidates(stubs, synced, limit):
            cost = estimate_developer_cost(developer)
            if spent + cost > budget and (chosen or budget < 1):
                break
            chosen.append(developer)
            spent += cost
        Developer.objects.filter(pk__in=[developer.pk for developer in chosen]).update(
            sync_queued_at=timezone.now())
    return chosen


def resync_before() -> datetime:
    """Synced developers last synced before this are due for a resync (DISCOVERY_RESYNC_HOURS)."""
    return timezone.now() - timedelta(hours=settings.DISCOVERY_RESYNC_HOURS)


def discovery_queues():
    """Discovery's two queues in its order: (never-synced stubs, developers due for a resync), unclaimed ones.

    Each is read in the order of its partial index (developer_stub_queue_idx, developer_resync_queue_idx), so
    taking the first few rows is an index range scan whatever the size of the table.
    """
    stale_claim = timezone.now() - timedelta(seconds=settings.DISCOVERY_CLAIM_SECONDS)
    unclaimed = Q(sync_queued_at__isnull=True) | Q(sync_queued_at__lt=stale_claim)
    alive = Developer.objects.filter(unclaimed, gone_at__isnull=True)
    stubs = alive.filter(profile_synced_at__isnull=True).order_by(F("seed_distance").asc(nulls_last=True),
                                                                    "github_id")
    synced = alive.filter(profile_synced_at__lt=resync_before()).order_by("profile_synced_at", "github_id")
    return stubs, synced


def _candidates(stubs, synced, limit):
    """Up to `limit` developers, stubs first, locked for the caller's transaction.

    On PostgreSQL rows that a concurrent discovery run has locked are skipped rather than waited for; SQLite
    serialises writers anyway.
    """
    if transaction.get_connection().features.has_select_for_update_skip_locked:
        stubs, synced = stubs.select_for_update(skip_locked=True), synced.select_for_update(skip_locked=True)
    chosen = list(stubs[:limit])
    if len(chosen) < limit:
        chosen.extend(synced[: limit - len(chosen)])
    return chosen


def not_fully_synced(logins: Iterable[str]) -> list[str]:
    """Those of `logins` stored, not gone, whose profile or some list has not been read whole yet, in order."""
    lowered = {login.lower() for login in logins}
    done = set(Developer.objects.annotate(login_lower=Lower("login")).filter(
        login_lower__in=lowered, gone_at__isnull=True, profile_synced_at__isnull=False,
        followers_synced_at__isnull=False, following_synced_at__isnull=False, starred_synced_at__isnull=False,
        repositories_synced_at__isnull=False).values_list("login_lower", flat=True))
    stored = set(Developer.objects.annotate(login_lower=Lower("login")).filter(
        login_lower__in=lowered, gone_at__isnull=True).values_list("login_lower", flat=True))
    return [login for login in logins if login.lower() in stored - done]


def release_claim(login: str) -> None:
    """The developer's sync has ended (done, gone or failed): discovery may choose it again."""
    developers_by_login(login).update(
        sync_queued_at=None)
