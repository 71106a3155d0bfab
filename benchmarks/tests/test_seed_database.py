"""The benchmark's loader and report, at tiny sizes: exact row counts, valid rows, and a report that renders.

Timings are not asserted (they belong in BENCHMARKS.md); these tests only keep the benchmark runnable.
"""
from collections import Counter

import pytest
from django.db.models.functions import Lower

from benchmarks import api_latency, latency
from benchmarks.graph_generator import NAME_SEARCH_TERM
from benchmarks.harness import machine_description
from benchmarks.perf_common import write_section
from benchmarks.seed_database import seed
from github.models import Developer, DeveloperRank, Follow, Repository, RepositoryRank, Star

pytestmark = pytest.mark.django_db

SIZES = {"developers": 80, "follows": 500, "repositories": 40, "stars": 300}


def test_seed_loads_exactly_the_requested_rows():
    report = seed(**SIZES, seed=7)

    assert (report.developers, report.follows, report.repositories, report.stars) == (80, 500, 40, 300)
    assert Developer.objects.count() == 80
    assert Follow.objects.count() == 500
    assert Repository.objects.count() == 40
    assert Star.objects.count() == 300
    assert report.total_seconds > 0


def test_a_reseed_leaves_one_rank_row_per_developer_and_repository():
    seed(**SIZES, seed=7)
    seed(**SIZES, seed=8)
    developers = set(Developer.objects.values_list("pk", flat=True))
    assert set(DeveloperRank.objects.values_list("pk", flat=True)) == developers
    assert RepositoryRank.objects.filter(rank=None).count() == Repository.objects.count() == 40


def test_seeded_rows_are_valid_for_the_models():
    seed(**SIZES, seed=7)

    logins = list(Developer.objects.values_list(Lower("login"), flat=True))
    assert len(set(logins)) == len(logins)
    full_names = list(Repository.objects.values_list(Lower("full_name"), flat=True))
    assert len(set(full_names)) == len(full_names)
    for repository in Repository.objects.select_related("owner"):
        assert repository.owner_github_id == repository.owner.github_id
        assert repository.full_name == f"{repository.owner.login}/{repository.name}"
    developer_ids = set(Developer.objects.values_list("pk", flat=True))
    repository_ids = set(Repository.objects.values_list("pk", flat=True))
    assert set(Follow.objects.values_list("follower_id", flat=True)) <= developer_ids
    assert set(Follow.objects.values_list("followee_id", flat=True)) <= developer_ids
    assert set(Star.objects.values_list("developer_id", flat=True)) <= developer_ids
    assert set(Star.objects.values_list("repository_id", flat=True)) <= repository_ids
    assert all(follow.follower_id != follow.followee_id for follow in Follow.objects.all())
    assert not Developer.objects.filter(discovered_at=None).exists()
    assert not Follow.objects.filter(first_seen_at=None).exists()
    assert not Star.objects.filter(first_seen_at=None).exists()
    for developer in Developer.objects.all():
        developer.full_clean(validate_constraints=False)


def test_counts_agree_with_the_edges_and_stubs_have_no_profile():
    seed(**SIZES, seed=7)

    followers = Counter(Follow.objects.values_list("followee_id", flat=True))
    following = Counter(Follow.objects.values_list("follower_id", flat=True))
    stars = Counter(Star.objects.values_list("repository_id", flat=True))
    synced = Developer.objects.exclude(profile_synced_at=None)
    stubs = Developer.objects.filter(profile_synced_at=None)
    assert synced.exists() and stubs.exists()
    for developer in synced:
        assert developer.followers_count == followers[developer.pk]
        assert developer.following_count == following[developer.pk]
    for stub in stubs:
        assert stub.name is None and stub.followers_count is None and stub.created_at is None
    # Every edge was read from a synced developer's list: at least one end is synced.
    stub_ids = set(stubs.values_list("pk", flat=True))
    assert not any(edge.follower_id in stub_ids and edge.followee_id in stub_ids for edge in Follow.objects.all())
    for repository in Repository.objects.all():
        assert repository.stargazers_count == stars[repository.pk]


def test_the_graph_is_heavy_tailed():
    seed(developers=400, follows=4000, repositories=50, stars=100, seed=1)

    in_degrees = sorted(Counter(Follow.objects.values_list("followee_id", flat=True)).values(), reverse=True)
    assert in_degrees[0] >= 20 * sorted(in_degrees)[len(in_degrees) // 2]


def test_seed_replaces_the_previous_graph_and_is_deterministic():
    seed(**SIZES, seed=7)
    first = sorted(Developer.objects.values_list("github_id", "login"))
    seed(developers=30, follows=60, repositories=10, stars=20, seed=7)
    assert (Developer.objects.count(), Follow.objects.count()) == (30, 60)
    seed(**SIZES, seed=7)
    assert sorted(Developer.objects.values_list("github_id", "login")) == first


def test_seed_refuses_impossible_sizes():
    with pytest.raises(ValueError):
        seed(developers=3, follows=100, repositories=0, stars=0)


def test_the_report_runs_and_writes_its_section(tmp_path):
    options = api_latency.RunOptions(requests=2, warmup=1)
    small = api_latency.benchmark_scale(api_latency.Scale("tiny", 40), options, log=lambda message: None)
    full = api_latency.benchmark_scale(api_latency.Scale("bigger", 80), options, log=lambda message: None)
    assert set(small.timings) == set(full.timings) == {endpoint.key for endpoint in full.endpoints}
    assert all(len(timing.seconds) == 2 for timing in full.timings.values())

    body = api_latency.render_report(
        [small, full], "python -m benchmarks.api_latency", machine_description(), "client", "token",
        requests=2, warmup=1, date="2000-01-01",
    )
    assert "| kind | endpoint | p50 tiny | p95 tiny | p50 bigger | p95 bigger |" in body
    assert f"developers?name__icontains={NAME_SEARCH_TERM}" in body
    assert "Aim met by" in body

    output = tmp_path / "BENCHMARKS.md"
    output.write_text("# Benchmarks\n\n## Quota efficiency\n\nkept\n")
    write_section(*api_latency.SECTION, body, path=output)
    write_section(*api_latency.SECTION, body.replace("2000-01-01", "2000-01-02"), path=output)
    text = output.read_text()
    assert text.count("## API latency") == 1
    assert "2000-01-02" in text and "2000-01-01" not in text
    assert "## Quota efficiency\n\nkept" in text


class FlakyTransport:
    """Answers each path's first request with `first`, then 200."""

    def __init__(self, first):
        self.first, self.seen = first, set()

    def get(self, path):
        if path in self.seen:
            return 200, 10
        self.seen.add(path)
        if isinstance(self.first, Exception):
            raise self.first
        return self.first, 0


@pytest.mark.parametrize("first", [503, ConnectionError("dropped")])
def test_measure_retries_a_5xx_or_a_dropped_connection_and_counts_it(monkeypatch, first):
    monkeypatch.setattr(latency.time, "sleep", lambda seconds: None)
    endpoint = latency.Endpoint("health", "list", "health", "/health/")

    (timings,) = latency.measure([(FlakyTransport(first), [endpoint])], requests=3, warmup=1)

    assert timings["health"].retries == 1
    assert len(timings["health"].seconds) == 3


def test_measure_fails_on_a_4xx():
    endpoint = latency.Endpoint("missing", "detail", "missing", "/missing/")

    with pytest.raises(RuntimeError, match="answered 404"):
        latency.measure([(FlakyTransport(404), [endpoint])], requests=1, warmup=1)
