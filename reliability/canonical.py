"""What a crawl stored, in a form two crawls can be compared by: the canonical dump.

Only what GitHub said is kept (ids, names, profile and repository fields, counts, edges by GitHub id, gone or
not); what depends on when and in which order the crawl ran (UUIDs, *_synced_at, first_seen_at, seed
distances, claims) is left out, so an undisturbed crawl and a crawl through faults, kills and restarts of the
same world must give equal dumps. `check_against_world` then compares every synced developer's relation sets
with the simulator's ground truth: a relation left half-replaced shows up there even if both crawls agree.
"""
import hashlib
import json
from collections.abc import Sequence

from django.db.models import Count

from github.models import Developer, Follow, Repository, Star

DEVELOPER_FIELDS = ["github_id", "login", "type", "name", "location", "bio", "company", "email", "blog",
                    "twitter_username", "created_at", "updated_at", "followers_count", "following_count",
                    "public_gists", "public_repos"]
REPOSITORY_FIELDS = ["github_id", "owner_github_id", "owner__github_id", "name", "full_name", "description",
                     "homepage", "language", "created_at", "updated_at", "pushed_at", "has_downloads", "has_issues",
                     "has_pages", "has_projects", "has_wiki", "private", "archived", "disabled", "fork",
                     "stargazers_count", "watchers_count", "open_issues_count", "forks_count", "topics", "license"]


def _rows(queryset, fields):
    return sorted(json.loads(json.dumps(list(row), default=str)) for row in queryset.values_list(*fields))


def canonical_dump(omit: Sequence[str] = ()) -> dict:
    """Every developer, repository, follow and star as GitHub described them, sorted; without the repository
    columns `omit` (a hybrid crawl's are those GraphQL does not carry: they depend on which transport read a
    repository last)."""
    developers = Developer.objects.all()
    return {
        "developers": _rows(developers, DEVELOPER_FIELDS),
        "synced": sorted(developers.filter(profile_synced_at__isnull=False).values_list("github_id", flat=True)),
        "gone": sorted(developers.filter(gone_at__isnull=False).values_list("github_id", flat=True)),
        "repositories": _rows(Repository.objects.all(), [name for name in REPOSITORY_FIELDS if name not in omit]),
        "follows": _rows(Follow.objects.all(), ["follower__github_id", "followee__github_id"]),
        "stars": _rows(Star.objects.all(), ["developer__github_id", "repository__github_id"]),
    }


def digest(dump: dict) -> str:
    """A short fingerprint of a dump, for reports."""
    return hashlib.sha256(json.dumps(dump, sort_keys=True).encode()).hexdigest()[:16]


def summary(dump: dict) -> dict:
    """Row counts of a dump."""
    return {name: len(rows) for name, rows in dump.items()}


def duplicate_rows() -> dict:
    """Rows that share what should be unique (the constraints forbid it; this proves it after the fact)."""
    def duplicated(queryset, *fields):
        return queryset.values(*fields).annotate(n=Count("pk")).filter(n__gt=1).count()

    return {"developers": duplicated(Developer.objects, "github_id"),
            "repositories": duplicated(Repository.objects, "github_id"),
            "follows": duplicated(Follow.objects, "follower", "followee"),
            "stars": duplicated(Star.objects, "developer", "repository")}


def dangling_edges() -> dict:
    """Edges to a row that is not there (no database foreign key forbids it, github.models.edge_end: the crawl
    never writes one, and this proves it after the fact)."""
    developers, repositories = Developer.objects.values("pk"), Repository.objects.values("pk")
    return {"follows": Follow.objects.exclude(follower__in=developers, followee__in=developers).count(),
            "stars": Star.objects.exclude(developer__in=developers, repository__in=repositories).count()}


def check_against_world(world) -> list[str]:
    """Differences between every synced developer's stored relations and the world's (empty when none).

    Followers, following, starred and owned repositories of each synced developer, and the stargazers of
    each of their repositories, must be exactly the world's: any half-replaced set differs.
    """
    problems = []
    for developer in Developer.objects.filter(profile_synced_at__isnull=False, gone_at__isnull=True):
        login = developer.login
        stored = {
            "followers": set(Follow.objects.filter(followee=developer).values_list("follower__login", flat=True)),
            "following": set(Follow.objects.filter(follower=developer).values_list("followee__login", flat=True)),
            "starred": set(Star.objects.filter(developer=developer).values_list("repository__full_name", flat=True)),
        }
        truth = {
            "followers": set(world.followers_of(login)),
            "following": set(world.following_of(login)),
            "starred": set(world.starred_by(login)),
        }
        for name, logins in stored.items():
            if {value.lower() for value in logins} != {value.lower() for value in truth[name]}:
                problems.append(f"{login}: {name} differ ({len(logins)} stored, {len(truth[name])} in the world)")
        live = Repository.objects.filter(owner=developer, gone_at__isnull=True)
        owned = set(live.values_list("full_name", flat=True))
        if {name.lower() for name in owned} != {name.lower() for name in world.repos_of(login)}:
            problems.append(f"{login}: owned repositories differ ({len(owned)} stored)")
        for repository in live:
            stargazers = set(Star.objects.filter(repository=repository).values_list("developer__login", flat=True))
            expected = set(world.stargazers_of(repository.full_name))
            if {value.lower() for value in stargazers} != {value.lower() for value in expected}:
                problems.append(f"{repository.full_name}: stargazers differ ({len(stargazers)} stored, "
                                f"{len(expected)} in the world)")
    return problems
