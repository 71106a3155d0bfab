"""The REST syncs: reading GitHub's lists page by page, and what a full profile or repository sync reads.

A list is held in memory as compact rows until it has been read to its end, then stored through
github/ingest.py (which replaces its relation set only then). A list the quota stops part-way leaves where it
stopped (ListProgress), and the next sync continues from there while its page 1 is unchanged: a list longer
than one window's budget is read across windows instead of from page 1 every time.
"""
import logging
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone

from github.client import GitHubClient, GitHubError, GitHubResponse, NotFound
from github.ingest import (
    FOLLOWERS,
    FOLLOWING,
    STARGAZERS,
    STARRED,
    ListRead,
    SyncResult,
    store_list,
    store_members,
    store_owned_repositories,
    upsert_profile,
    upsert_repositories,
)
from github.models import Developer, ListProgress, Repository

logger = logging.getLogger(__name__)

# GitHub's answer past the last page it serves of a list (page 401 of stargazers).
PAGINATION_LIMITED = 422


# Reading lists.

def list_is_fresh(synced_at):
    """Was the list read whole recently enough that an unchanged page 1 can be trusted for the rest?"""
    interval = timedelta(days=settings.GITHUB_FULL_READ_DAYS)
    return synced_at is not None and timezone.now() - synced_at < interval


def read_list(client: GitHubClient, path: str, *, trust_unchanged: bool, resume: ListProgress | None = None):
    """Read a whole list (a ListRead), continuing from `resume` when an earlier read stopped part-way.

    `path` is the list's path as the client names it (GitHubClient.followers and the like); a read stopped
    part-way is stored under it.

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


# The syncs.

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
        known = Developer.objects.named(self.result.login).first()
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
        self.progress = lists_in_progress(*self.client.lists_of(self.developer.login))
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
        for path, count_field, relation in ((self.client.followers(developer.login), "followers_count", FOLLOWERS),
                                            (self.client.following(developer.login), "following_count", FOLLOWING)):
            trust = count_field not in counts_moved and list_is_fresh(getattr(developer, relation.synced_field))
            listed = self._read(path, trust)
            if listed.items is None:
                self.result.lists_skipped_unchanged += 1
                continue
            written, *added_removed = store_members(self.client, listed, relation, developer, distance=distance)
            self._count_edges(added_removed)
            self.result.developers_written += written

    def _sync_starred(self):
        developer = self.developer
        trust = list_is_fresh(developer.starred_synced_at)  # GitHub reports no count of stars given
        listed = self._read(self.client.starred(developer.login), trust)
        if listed.items is None:
            self.result.lists_skipped_unchanged += 1
            return
        ids = upsert_repositories(listed.items, owner_distance=(developer.seed_distance or 0) + 1)
        self._count_edges(store_list(self.client, listed, relation=STARRED, owner=developer,
                                    member_pks=ids.values()))
        self.result.repositories_written += len(ids)

    def _sync_owned_repositories(self, count_moved):
        developer = self.developer
        trust = not count_moved and list_is_fresh(developer.repositories_synced_at)
        listed = self._read(self.client.repositories(developer.login), trust)
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
    result = SyncResult(repository=repository.full_name)
    owner_login, name = repository.full_name.split("/", 1)
    trust = not count_moved and list_is_fresh(repository.stargazers_synced_at)
    path = client.stargazers(owner_login, name)
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
    result = SyncResult(repository=f"{owner}/{name}")
    try:
        response = client.repository(owner, name, conditional=False)
    except NotFound:
        Repository.objects.named(f"{owner}/{name}").update(gone_at=timezone.now())
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
