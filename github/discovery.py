"""Discovery: whom to sync next (the never-synced nearest to the seeds, then the longest unsynced), claimed so
that concurrent runs do not pick them twice; and what a REST sync may cost, from what is stored, before it starts.
Independent of the transport: github/sync.py and github/graphql_sync.py both sync whom it chooses.
"""
import math
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from github.client import PER_PAGE, STARGAZERS_SHOWN
from github.models import Developer, Repository, Star

# Fewest requests a never-synced developer can cost: the profile and four lists of one page each.
STUB_COST = 5


def pages_needed(count):
    """Requests a list of `count` items costs: one page even when empty."""
    return max(1, math.ceil((count or 0) / PER_PAGE))


def estimate_profile_cost(login: str) -> int:
    """Worst-case requests of a full_profile_sync of `login`, from what is stored."""
    developer = Developer.objects.named(login).first()
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
    stars = Repository.objects.named(f"{owner}/{name}").values_list("stargazers_count", flat=True).first()
    return 2 + pages_needed(min(stars or 0, STARGAZERS_SHOWN))


def choose_discovery_batch(*, budget: int, limit: int,
                           estimate: Callable[[Developer], int] = estimate_developer_cost) -> list[Developer]:
    """Whom to sync next, claimed so no other discovery run picks them while they are queued or running.

    Never-synced stubs nearest to the seeds first, then the developers synced longest ago (and not within
    DISCOVERY_RESYNC_HOURS); as many as `limit` and the REST budget allow (each at its `estimate`d REST cost:
    a transport that reads a developer through GraphQL passes 0 for it, its points being checked when its task
    starts). While there is any budget the first is chosen whatever it costs: a sync costlier than the budget
    starts with what there is and continues later, so a window smaller than every candidate does not stop the
    crawl.
    """
    stubs, synced = discovery_queues()
    chosen, spent = [], 0
    with transaction.atomic():
        for developer in _candidates(stubs, synced, limit):
            cost = estimate(developer)
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
    """Those of `logins` stored, not gone, whose profile, some list or some owned repository's stargazers have not
    been read whole yet, in order."""
    unread_stargazers = Repository.objects.filter(owner=OuterRef("pk"), gone_at__isnull=True,
                                                  stargazers_synced_at__isnull=True)
    unfinished = (Q(profile_synced_at__isnull=True) | Q(followers_synced_at__isnull=True)
                  | Q(following_synced_at__isnull=True) | Q(starred_synced_at__isnull=True)
                  | Q(repositories_synced_at__isnull=True) | Exists(unread_stargazers))
    stored = Developer.objects.filter(unfinished, login__lower__in=[login.lower() for login in logins],
                                      gone_at__isnull=True).values_list("login", flat=True)
    unfinished_logins = {login.lower() for login in stored}
    return [login for login in logins if login.lower() in unfinished_logins]


def release_claim(login: str) -> None:
    """The developer's sync has ended (done, gone or failed): discovery may choose it again."""
    release_claims([login])


def release_claims(logins: Iterable[str]) -> None:
    """release_claim of each of these developers, in one statement."""
    Developer.objects.filter(login__lower__in=[login.lower() for login in logins]).update(sync_queued_at=None)
