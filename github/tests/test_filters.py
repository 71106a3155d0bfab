"""Every filter of the read API, with a value that matches and one that does not."""
import json
from datetime import UTC, datetime

import pytest
from django.db import connection

from github.api.filters import DeveloperFilter, RateLimitFilter, RepositoryFilter
from github.models import Developer, DeveloperRank, RateLimit, Repository, RepositoryRank
from github.tests.factories import (
    DeveloperFactory,
    ListedDeveloperFactory,
    RepositoryFactory,
    StubDeveloperFactory,
)

pytestmark = pytest.mark.django_db

EARLY = datetime(2012, 1, 1, tzinfo=UTC)
LATE = datetime(2020, 6, 1, tzinfo=UTC)


def compared(field, **lookups):
    """A case per lookup of `field`, in the order given, each a (value, expected): `exact` is the field itself,
    `lt` is field__lt, and so on."""
    return [(field if lookup == "exact" else f"{field}__{lookup}", value, expected)
            for lookup, (value, expected) in lookups.items()]


def assert_filtered(api, path, key, query, expected):
    """`path` with `query` answers 200 and the results whose `key`s are `expected`: in that order for an
    ordering, in any order otherwise."""
    response = api.get(path, query)
    assert response.status_code == 200, response.json()
    found = [item[key] for item in response.json()["results"]]
    assert found == expected if "ordering" in query else sorted(found) == sorted(expected)


def rank(node, value):
    """Give a developer or repository a rank, as github/rank.py stores it (in the row its insert created)."""
    model = DeveloperRank if isinstance(node, Developer) else RepositoryRank
    assert model.objects.filter(pk=node.pk).update(rank=value, computed_at=LATE) == 1


@pytest.fixture
def developers():
    DeveloperFactory(login="Ada", github_id=1, name="Ada Lovelace", bio="Engines", location="London",
                     company="Analytical", email="ada@example.com", followers_count=500, following_count=3,
                     public_gists=7, public_repos=40, created_at=EARLY, updated_at=LATE)
    DeveloperFactory(login="grace", github_id=2, name="Grace Hopper", bio=None, location="Arlington",
                     company=None, email=None, followers_count=20, following_count=30, public_gists=0,
                     public_repos=2, created_at=LATE, updated_at=LATE)
    StubDeveloperFactory(login="stub", github_id=3)
    rank(Developer.objects.get(github_id=1), 0.6)
    rank(Developer.objects.get(github_id=2), 0.3)


DEVELOPER_CASES = [
    ("login", "ada", ["Ada"]),
    ("login", "ADA", ["Ada"]),
    ("github_id", "2", ["grace"]),
    ("synced", "true", ["Ada", "grace"]),
    ("synced", "false", ["stub"]),
    ("profiled", "true", ["Ada", "grace"]),
    ("profiled", "false", ["stub"]),
    *compared("name", exact=("Grace Hopper", ["grace"]), icontains=("love", ["Ada"]), isnull=("true", ["stub"])),
    *compared("bio", exact=("Engines", ["Ada"]), icontains=("ENGINE", ["Ada"]), isnull=("true", ["grace", "stub"])),
    *compared("location", exact=("London", ["Ada"]), icontains=("arling", ["grace"]),
              isnull=("false", ["Ada", "grace"])),
    *compared("company", exact=("Analytical", ["Ada"]), icontains=("lyt", ["Ada"]), isnull=("true", ["grace", "stub"])),
    *compared("email", exact=("ada@example.com", ["Ada"]), icontains=("EXAMPLE", ["Ada"]), isnull=("false", ["Ada"])),
    ("email", "ADA@Example.com", ["Ada"]),  # email addresses match in any case, as on GitHub
    # The old service's text filters: `contains` is case-sensitive, `lte`/`gte` compare as text.
    *compared("login", lte=("b", ["Ada"]), gte=("h", ["stub"])),
    ("name__contains", "Love", ["Ada"]),
    ("name__contains", "love", []),
    *compared("name", lte=("B", ["Ada"]), gte=("Grace", ["grace"])),
    ("bio__contains", "gine", ["Ada"]),
    ("bio__contains", "ENGINE", []),
    *compared("bio", lte=("F", ["Ada"]), gte=("F", [])),
    *compared("location", lte=("Arlington", ["grace"]), gte=("B", ["Ada"])),
    *compared("company", lte=("B", ["Ada"]), gte=("B", [])),
    *compared("email", lte=("b", ["Ada"]), gte=("b", [])),
    *compared("followers_count", exact=("20", ["grace"]), lt=("500", ["grace"]), lte=("500", ["Ada", "grace"]),
              gt=("20", ["Ada"]), gte=("20", ["Ada", "grace"])),
    *compared("following_count", exact=("3", ["Ada"]), lt=("30", ["Ada"]), lte=("30", ["Ada", "grace"]),
              gt=("3", ["grace"]), gte=("31", [])),
    *compared("public_gists", exact=("0", ["grace"]), lt=("7", ["grace"]), lte=("7", ["Ada", "grace"]),
              gt=("0", ["Ada"]), gte=("7", ["Ada"])),
    *compared("public_repos", exact=("40", ["Ada"]), lt=("40", ["grace"]), lte=("2", ["grace"]), gt=("2", ["Ada"]),
              gte=("2", ["Ada", "grace"])),
    *compared("created_at", exact=("2012-01-01T00:00:00Z", ["Ada"]), lt=("2015-01-01T00:00:00Z", ["Ada"]),
              lte=("2020-06-01T00:00:00Z", ["Ada", "grace"]), gt=("2015-01-01T00:00:00Z", ["grace"]),
              gte=("2020-06-01T00:00:00Z", ["grace"])),
    *compared("updated_at", exact=("2020-06-01T00:00:00Z", ["Ada", "grace"]), lt=("2020-06-01T00:00:00Z", []),
              lte=("2020-06-01T00:00:00Z", ["Ada", "grace"]), gt=("2019-01-01T00:00:00Z", ["Ada", "grace"]),
              gte=("2021-01-01T00:00:00Z", [])),
    ("search", "hopper", ["grace"]),
    ("search", "ada", ["Ada"]),
    ("ordering", "-followers_count", ["Ada", "grace", "stub"]),
    ("ordering", "followers_count", ["stub", "grace", "Ada"]),  # nulls are the smallest value
    ("ordering", "-login", ["stub", "grace", "Ada"]),
    ("rank__gte", "0.3", ["Ada", "grace"]),
    ("rank__lte", "0.5", ["grace"]),
    ("ordering", "-rank", ["Ada", "grace", "stub"]),
]


@pytest.mark.parametrize(("param", "value", "expected"), DEVELOPER_CASES)
def test_developer_filters(api, developers, param, value, expected):
    assert_filtered(api, "/github/developers/", "login", {param: value}, expected)


def test_profiled_and_synced_tell_a_listed_profile_from_a_stub_and_a_synced_developer(api, developers):
    """A developer a GraphQL list brought with its profile is profiled but not synced: still due for discovery,
    and found with profiled=true&synced=false."""
    ListedDeveloperFactory(login="listed", github_id=4, followers_count=12)
    response = api.get("/github/developers/", {"profiled": "true", "synced": "false"})
    assert [item["login"] for item in response.json()["results"]] == ["listed"]
    listed = response.json()["results"][0]
    assert listed["profiled_at"] is not None and listed["synced_at"] is None and listed["followers_count"] == 12
    synced = api.get("/github/developers/", {"login": "Ada"}).json()["results"][0]
    assert synced["synced_at"] is not None and synced["profiled_at"] == synced["synced_at"]


@pytest.fixture
def repositories():
    ada = DeveloperFactory(login="ada", github_id=1)
    grace = DeveloperFactory(login="grace", github_id=2)
    RepositoryFactory(owner=ada, github_id=10, name="Engine", full_name="ada/Engine", language="Python",
                      description="Difference engine notes", homepage=None, archived=True, disabled=False,
                      fork=False, private=False, has_downloads=True, has_issues=True, has_pages=True,
                      has_projects=False, has_wiki=True, stargazers_count=900, subscribers_count=30,
                      watchers_count=900, open_issues_count=4, forks_count=12, created_at=EARLY, updated_at=LATE,
                      pushed_at=LATE)
    RepositoryFactory(owner=grace, github_id=20, name="cobol", full_name="grace/cobol", language="COBOL",
                      description="Compilers", homepage="https://example.com", archived=False, disabled=True,
                      fork=True, private=False, has_downloads=False, has_issues=False, has_pages=False,
                      has_projects=True, has_wiki=False, stargazers_count=5, subscribers_count=None,
                      watchers_count=5, open_issues_count=0, forks_count=0, created_at=LATE, updated_at=LATE,
                      pushed_at=EARLY)
    rank(Repository.objects.get(github_id=20), 0.25)
    return {"ada": ada, "grace": grace}


REPOSITORY_CASES = [
    ("owner_login", "ADA", ["ada/Engine"]),
    ("owner_github_id", "2", ["grace/cobol"]),
    ("github_id", "10", ["ada/Engine"]),
    ("name", "engine", ["ada/Engine"]),
    ("full_name", "GRACE/COBOL", ["grace/cobol"]),
    ("language", "Python", ["ada/Engine"]),
    ("language", "python", ["ada/Engine"]),  # GitHub matches languages in any case
    ("language", "cobol", ["grace/cobol"]),
    ("language__isnull", "false", ["ada/Engine", "grace/cobol"]),
    ("language__isnull", "true", []),
    ("description__icontains", "ENGINE", ["ada/Engine"]),
    ("description", "Compilers", ["grace/cobol"]),
    ("description", "compilers", []),
    ("description__contains", "engine", ["ada/Engine"]),
    ("description__contains", "Engine", []),
    ("description__isnull", "false", ["ada/Engine", "grace/cobol"]),
    ("homepage", "https://example.com", ["grace/cobol"]),
    ("homepage__isnull", "true", ["ada/Engine"]),
    ("homepage__isnull", "false", ["grace/cobol"]),
    ("archived", "true", ["ada/Engine"]),
    ("disabled", "true", ["grace/cobol"]),
    ("fork", "false", ["ada/Engine"]),
    ("private", "false", ["ada/Engine", "grace/cobol"]),
    ("has_downloads", "false", ["grace/cobol"]),
    ("has_issues", "true", ["ada/Engine"]),
    ("has_pages", "true", ["ada/Engine"]),
    ("has_projects", "true", ["grace/cobol"]),
    ("has_wiki", "false", ["grace/cobol"]),
    *compared("stargazers_count", exact=("5", ["grace/cobol"]), lt=("900", ["grace/cobol"]),
              lte=("900", ["ada/Engine", "grace/cobol"]), gt=("5", ["ada/Engine"]), gte=("901", [])),
    *compared("subscribers_count", exact=("30", ["ada/Engine"]), lt=("31", ["ada/Engine"]), lte=("29", []),
              gt=("0", ["ada/Engine"]), gte=("30", ["ada/Engine"])),
    *compared("watchers_count", exact=("900", ["ada/Engine"]), lt=("6", ["grace/cobol"]), lte=("5", ["grace/cobol"]),
              gt=("5", ["ada/Engine"]), gte=("5", ["ada/Engine", "grace/cobol"])),
    *compared("open_issues_count", exact=("0", ["grace/cobol"]), lt=("4", ["grace/cobol"]),
              lte=("4", ["ada/Engine", "grace/cobol"]), gt=("0", ["ada/Engine"]), gte=("5", [])),
    *compared("forks_count", exact=("12", ["ada/Engine"]), lt=("12", ["grace/cobol"]),
              lte=("12", ["ada/Engine", "grace/cobol"]), gt=("0", ["ada/Engine"]),
              gte=("0", ["ada/Engine", "grace/cobol"])),
    *compared("created_at", exact=("2012-01-01T00:00:00Z", ["ada/Engine"]), lt=("2015-01-01T00:00:00Z", ["ada/Engine"]),
              lte=("2012-01-01T00:00:00Z", ["ada/Engine"]), gt=("2012-01-01T00:00:00Z", ["grace/cobol"]),
              gte=("2012-01-01T00:00:00Z", ["ada/Engine", "grace/cobol"])),
    *compared("updated_at", exact=("2020-06-01T00:00:00Z", ["ada/Engine", "grace/cobol"]),
              lt=("2020-06-01T00:00:00Z", []), lte=("2020-06-01T00:00:00Z", ["ada/Engine", "grace/cobol"]),
              gt=("2020-06-01T00:00:00Z", []), gte=("2020-06-01T00:00:00Z", ["ada/Engine", "grace/cobol"])),
    *compared("pushed_at", exact=("2012-01-01T00:00:00Z", ["grace/cobol"]),
              lt=("2015-01-01T00:00:00Z", ["grace/cobol"]), lte=("2020-06-01T00:00:00Z", ["ada/Engine", "grace/cobol"]),
              gt=("2015-01-01T00:00:00Z", ["ada/Engine"]), gte=("2020-06-01T00:00:00Z", ["ada/Engine"])),
    ("search", "compilers", ["grace/cobol"]),
    ("search", "ada/", ["ada/Engine"]),
    ("ordering", "-stargazers_count", ["ada/Engine", "grace/cobol"]),
    ("ordering", "pushed_at", ["grace/cobol", "ada/Engine"]),
    ("rank__gte", "0.25", ["grace/cobol"]),
    ("rank__lte", "0.2", []),
    ("ordering", "-rank", ["grace/cobol", "ada/Engine"]),  # unranked last
]


@pytest.mark.parametrize(("param", "value", "expected"), REPOSITORY_CASES)
def test_repository_filters(api, repositories, param, value, expected):
    assert_filtered(api, "/github/repositories/", "full_name", {param: value}, expected)


def test_repository_owner_filter_takes_the_owners_uuid(api, repositories):
    body = api.get("/github/repositories/", {"owner": str(repositories["grace"].pk)}).json()
    assert [item["full_name"] for item in body["results"]] == ["grace/cobol"]


@pytest.fixture
def rate_limits():
    RateLimit.objects.create(credential="first", rate_limit=5000, rate_remaining=1749, rate_reset_raw=1601853380,
                             rate_reset=datetime.fromtimestamp(1601853380, UTC))
    RateLimit.objects.create(credential="second", rate_limit=60, rate_remaining=60, rate_reset_raw=1601856000,
                             rate_reset=datetime.fromtimestamp(1601856000, UTC))


RATE_LIMIT_CASES = [
    *compared("rate_limit", exact=("60", ["second"]), lte=("60", ["second"]), gte=("60", ["first", "second"])),
    *compared("rate_remaining", exact=("1749", ["first"]), lte=("1748", ["second"]), gte=("1749", ["first"])),
    *compared("rate_reset", exact=("2020-10-04T23:16:20Z", ["first"]), lte=("2020-10-04T23:16:19Z", []),
              gte=("2020-10-04T23:16:21Z", ["second"])),
    *compared("rate_reset_raw", exact=("1601856000", ["second"]), lte=("1601856000", ["first", "second"]),
              gte=("1601853381", ["second"])),
]


@pytest.mark.parametrize(("param", "value", "expected"), RATE_LIMIT_CASES)
def test_rate_limit_filters(api, rate_limits, param, value, expected):
    response = api.get("/github/rate_limit/", {param: value})
    assert response.status_code == 200, response.json()
    found = {RateLimit.objects.get(pk=item["url"].rstrip("/").rsplit("/", 1)[-1]).credential
             for item in response.json()["results"]}
    assert found == set(expected)


@pytest.mark.parametrize(("filterset", "cases", "tested_apart"), [
    (DeveloperFilter, DEVELOPER_CASES, set()),
    (RepositoryFilter, REPOSITORY_CASES, {"owner"}),
    (RateLimitFilter, RATE_LIMIT_CASES, set()),
], ids=["developers", "repositories", "rate_limits"])
def test_every_filter_has_a_case(filterset, cases, tested_apart):
    covered = {param for param, _value, _expected in cases} | tested_apart
    assert set(filterset().filters) <= covered


# The filters restored from the old service and made case-insensitive, each with the index that serves it.
INDEXED_FILTERS = [
    (DeveloperFilter, {"login__lte": "b"}), (DeveloperFilter, {"login__gte": "b"}),
    (DeveloperFilter, {"name__contains": "Love"}), (DeveloperFilter, {"name__lte": "B"}),
    (DeveloperFilter, {"name__gte": "B"}), (DeveloperFilter, {"bio__contains": "gine"}),
    (DeveloperFilter, {"bio__lte": "F"}), (DeveloperFilter, {"bio__gte": "F"}),
    (DeveloperFilter, {"location__lte": "B"}), (DeveloperFilter, {"location__gte": "B"}),
    (DeveloperFilter, {"company__lte": "B"}), (DeveloperFilter, {"company__gte": "B"}),
    (DeveloperFilter, {"email__lte": "b"}), (DeveloperFilter, {"email__gte": "b"}),
    (DeveloperFilter, {"email": "Ada@example.com"}),
    (RepositoryFilter, {"language": "python"}), (RepositoryFilter, {"language__isnull": "true"}),
    (RepositoryFilter, {"description": "Compilers"}), (RepositoryFilter, {"description__contains": "engine"}),
    (RepositoryFilter, {"description__isnull": "true"}), (RepositoryFilter, {"homepage": "https://example.com"}),
]


@pytest.mark.parametrize(("filterset", "data"), INDEXED_FILTERS)
def test_the_restored_filters_can_use_an_index(filterset, data):
    """With sequential scans priced out, PostgreSQL's plan for each filter finds its rows through an index
    condition: the filter can stay fast at any size (a plan on a near-empty table would choose a sequential scan
    whatever the indexes). Unordered, so that reading the github_id index whole is no shortcut either."""
    if connection.vendor != "postgresql":
        pytest.skip("the indexes are PostgreSQL's (SQLite has no trigram index)")
    queryset = filterset(data=data, queryset=filterset.Meta.model.objects.all()).qs.order_by()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    plan = queryset.explain()
    assert "Index Cond" in plan and "Seq Scan" not in plan, plan


def test_postgresql_estimates_an_icontains_from_the_expressions_statistics():
    """Without statistics of UPPER(name) (migration 0018) every `icontains` is guessed at a fixed share of the
    table, whatever the word: the plan and the count's choice between exact and estimated then go wrong for a
    word as common as one name in ten."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's planner statistics")
    Developer.objects.bulk_create(
        Developer(github_id=number, login=f"dev{number}", name=f"Ada Lovelace {number}" if number % 10 == 0
                  else f"Grace Hopper {number}") for number in range(1, 3001))
    with connection.cursor() as cursor:
        cursor.execute('ANALYZE "github_developer"')
    plan = Developer.objects.filter(name__icontains="lovelace").explain(format="json")
    estimate = json.loads(plan)[0]["Plan"]["Plan Rows"]
    assert 150 <= estimate <= 600, plan  # 300 match
