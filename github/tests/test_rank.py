"""Rank: the power iteration against networkx, what compute_and_store writes, the task, the command and the API."""
import random

import networkx
import numpy as np
import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from github import rank, tasks
from github.models import Developer, DeveloperRank, Follow, Repository
from github.tests.factories import DeveloperFactory, FollowFactory, RepositoryFactory, StarFactory, StubDeveloperFactory


def random_graph(seed, nodes=60, edges=240):
    """A directed graph with dangling and isolated nodes, as (sources, targets) arrays."""
    rng = random.Random(seed)
    pairs = {(rng.randrange(nodes - 10), rng.randrange(nodes - 5)) for _ in range(edges)}  # the last 10: dangling
    pairs = sorted((a, b) for a, b in pairs if a != b)
    return np.array([a for a, _ in pairs]), np.array([b for _, b in pairs]), nodes


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_pagerank_agrees_with_networkx(seed):
    sources, targets, count = random_graph(seed)
    graph = networkx.DiGraph()
    graph.add_nodes_from(range(count))
    graph.add_edges_from(zip(sources.tolist(), targets.tolist(), strict=True))
    expected = networkx.pagerank(graph, alpha=0.85, tol=1e-12, max_iter=1000)
    ranks = rank.pagerank(sources, targets, count)
    assert ranks.sum() == pytest.approx(1.0, abs=1e-12)
    assert max(abs(ranks[node] - expected[node]) for node in range(count)) < 1e-6
    assert np.argsort(-ranks)[:5].tolist() == sorted(expected, key=lambda node: -expected[node])[:5]


def test_pagerank_of_no_graph_and_of_nodes_without_edges():
    assert rank.pagerank(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), 0).tolist() == []
    assert rank.pagerank(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), 4).tolist() == [0.25] * 4


@pytest.fixture
def graph(db):  # pylint: disable=unused-argument
    """Developers (a stub among them) following each other, and repositories they starred."""
    sources, targets, count = random_graph(7, nodes=25, edges=80)
    developers = [DeveloperFactory() for _ in range(count - 3)] + [StubDeveloperFactory() for _ in range(3)]
    for a, b in zip(sources.tolist(), targets.tolist(), strict=True):
        FollowFactory(follower=developers[a], followee=developers[b])
    repositories = [RepositoryFactory(owner=developers[index]) for index in range(6)]
    for index, developer in enumerate(developers[:12]):
        for repository in repositories[index % 3:index % 3 + 3]:
            StarFactory(developer=developer, repository=repository)
    return developers, repositories


def expected_ranks(developers):
    graph = networkx.DiGraph()
    graph.add_nodes_from(developer.github_id for developer in developers)
    graph.add_edges_from(Follow.objects.values_list("follower__github_id", "followee__github_id"))
    return networkx.pagerank(graph, alpha=0.85, tol=1e-12, max_iter=1000)


def test_compute_and_store_writes_every_rank_in_slices(graph, monkeypatch, django_assert_max_num_queries):
    developers, repositories = graph
    monkeypatch.setattr(rank, "READ_CHUNK_ROWS", 7)  # several chunks of every table
    monkeypatch.setattr(rank, "WRITE_SLICE_ROWS", 10)  # several COPY slices of both tables on PostgreSQL
    DeveloperRank.objects.filter(developer=developers[0]).update(rank=0.5, computed_at=timezone.now())  # replaced
    with django_assert_max_num_queries(45):  # statements per slice and per index, not per row
        report = rank.compute_and_store()
    assert (report.developers, report.repositories) == (len(developers), 6)
    expected = expected_ranks(developers)
    stored = dict(Developer.objects.values_list("github_id", "ranking__rank"))
    assert max(abs(stored[github_id] - value) for github_id, value in expected.items()) < 1e-6
    assert set(Developer.objects.values_list("ranking__computed_at", flat=True)) == {report.computed_at}
    assert DeveloperRank.objects.count() == len(developers)
    for repository in Repository.objects.select_related("ranking"):
        stargazers = repository.stargazers.values_list("github_id", flat=True)
        assert repository.ranking.rank == pytest.approx(sum(stored[github_id] for github_id in stargazers),
                                                        abs=1e-12)
        assert repository.ranking.computed_at == report.computed_at
    assert Repository.objects.filter(stargazers=None).values_list("ranking__rank", flat=True).distinct().get() == 0.0
    assert {repository.pk for repository in repositories} == set(Repository.objects.values_list("pk", flat=True))


def test_the_task_and_the_command_compute_the_same_ranks(graph, capsys):  # pylint: disable=unused-argument
    result = tasks.rank_graph.apply().get()
    assert result["developers"] == Developer.objects.count()
    first = dict(Developer.objects.values_list("github_id", "ranking__rank"))
    call_command("rank")
    assert "ranked 25 developers" in capsys.readouterr().out
    assert dict(Developer.objects.values_list("github_id", "ranking__rank")) == pytest.approx(first, abs=1e-15)


def test_the_rank_task_is_scheduled_daily(settings):
    schedule = settings.CELERY_BEAT_SCHEDULE["rank"]
    assert schedule["task"] == "github.tasks.rank_graph"
    assert len(schedule["schedule"].hour) == 1 and len(schedule["schedule"].minute) == 1


def test_rank_orders_and_filters_the_lists(graph, api):
    rank.compute_and_store()
    developers = api.get("/github/developers/", {"ordering": "-rank", "page_size": 100}).json()["results"]
    ranks = [developer["rank"] for developer in developers]
    assert ranks == sorted(ranks, reverse=True) and len(ranks) == 25
    middle = ranks[10]
    above = api.get("/github/developers/", {"rank__gte": middle, "page_size": 100}).json()["results"]
    assert {developer["rank"] for developer in above} == {value for value in ranks if value >= middle}
    below = api.get("/github/developers/", {"rank__lte": middle, "page_size": 100}).json()["count"]
    assert below == sum(value <= middle for value in ranks)
    repositories = api.get("/github/repositories/", {"ordering": "-rank"}).json()["results"]
    assert [r["rank"] for r in repositories] == sorted((r["rank"] for r in repositories), reverse=True)
    assert repositories[0]["rank_computed_at"] is not None


def test_unranked_developers_come_last_when_descending(graph, api):
    developers, _repositories = graph
    rank.compute_and_store()
    newcomer = DeveloperFactory()
    listed = api.get("/github/developers/", {"ordering": "-rank", "page_size": 100}).json()["results"]
    assert listed[-1]["login"] == newcomer.login and listed[-1]["rank"] is None
    assert len(listed) == len(developers) + 1


def test_rows_stored_while_ranking_keep_their_rank_row(graph, monkeypatch):  # pylint: disable=unused-argument
    """Their insert trigger wrote into the table being replaced: the new table must have them too."""
    created = []
    compute = rank.pagerank

    def pagerank_while_the_crawl_stores(*args):
        created.append(RepositoryFactory(owner=DeveloperFactory()))
        return compute(*args)

    monkeypatch.setattr(rank, "pagerank", pagerank_while_the_crawl_stores)
    rank.compute_and_store()
    repository = Repository.objects.select_related("ranking", "owner__ranking").get(pk=created[0].pk)
    assert repository.ranking.rank is None and repository.owner.ranking.rank is None
    assert DeveloperRank.objects.count() == Developer.objects.count()


@pytest.mark.parametrize("path", ["/github/developers/", "/github/repositories/"])
def test_ordering_by_rank_joins_the_rank_table_inner_and_counts_without_it(graph, api, path):
    """The inner join is what lets PostgreSQL walk the rank index (a left join sorts every row); the count
    needs no join since every row has a rank row. The page's rows are chosen in a subquery (the walk), then read
    with their rank (the deferred join of github.api.pagination.skipping: a left join of the page's rows only)."""
    with CaptureQueriesContext(connection) as queries:
        assert api.get(path, {"ordering": "-rank"}).status_code == 200
    statements = [query["sql"] for query in queries.captured_queries]
    count = next(sql for sql in statements if "COUNT(*)" in sql)
    page = next(sql for sql in statements if '"rank" DESC' in sql)
    assert "COUNT(*)" in count and "rank" not in count
    walk = page.split(" IN (SELECT ", 1)[1]
    assert 'INNER JOIN "github_developerrank"' in walk or 'INNER JOIN "github_repositoryrank"' in walk
    assert "LEFT OUTER JOIN" not in walk


@pytest.mark.parametrize("parameter", ["rank__gte", "rank__lte"])
def test_a_bad_rank_bound_is_a_400_naming_it(api, parameter):
    response = api.get("/github/developers/", {parameter: "high"})
    assert response.status_code == 400 and parameter in response.json()


@pytest.mark.parametrize("piece", [1, 7, 26, 1000])
def test_binary_copy_stream_parsed_in_pieces_of_any_size(monkeypatch, piece):
    monkeypatch.setattr(rank._BinaryCopy, "PARSE_BYTES", 100)
    values = np.array([[1, -2], [2**62, 3], [0, 2**40]], dtype=np.int64).repeat(20, axis=0)
    target = rank._BinaryCopy(2)
    rows = np.zeros(len(values), dtype=target.row)
    rows["fields"], rows["length0"], rows["length1"] = 2, 8, 8
    rows["value0"], rows["value1"] = values[:, 0], values[:, 1]
    stream = target.SIGNATURE + bytes(8) + rows.tobytes() + target.TRAILER
    for start in range(0, len(stream), piece):
        target.write(stream[start:start + piece])
    first, second = target.finish()
    assert first.tolist() == values[:, 0].tolist() and second.tolist() == values[:, 1].tolist()


def test_a_truncated_binary_copy_stream_is_an_error():
    target = rank._BinaryCopy(1)
    target.write(target.SIGNATURE + bytes(8) + bytes(5))
    with pytest.raises(ValueError, match="ended early"):
        target.finish()
