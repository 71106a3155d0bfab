"""Graph export: every format read back with the tool a researcher would use, compared with the database;
subgraphs, stubs, gzip, hostile text, bad parameters, streaming and the export_graph command."""
import csv
import gzip
import io
import json
import zipfile

import networkx
import pyarrow.parquet as pq
import pytest
from django.core.management import CommandError, call_command

from github import export, rank
from github.models import Developer, Follow, Repository, Star
from github.tests import factories

pytestmark = pytest.mark.django_db

# XML metacharacters, quotes, a CDATA end, newlines of three kinds, a tab, control characters XML 1.0 cannot
# carry, a line separator and an emoji.
HOSTILE = 'a<b>&amp;"\'</data>]]> x\r\ny\rz\n\tw \x01\x08\x0b\x0c\x1f\x7f \u2028 \U0001f600 end'
HOSTILE_IN_XML = HOSTILE.translate(dict.fromkeys((0x01, 0x08, 0x0B, 0x0C, 0x1F), "\ufffd"))


@pytest.fixture
def graph():
    """Berlin (two synced developers, one hostile), elsewhere, a stub; follows and stars between them."""
    hostile = factories.DeveloperFactory(login="hostile", name=HOSTILE, bio=HOSTILE, location="Berlin",
                                         followers_count=150)
    berliner = factories.DeveloperFactory(login="berliner", location="Berlin", followers_count=3)
    elsewhere = factories.DeveloperFactory(login="elsewhere", location="Lagos", followers_count=200)
    stub = factories.StubDeveloperFactory(login="stub")
    for follower, followee in [(hostile, berliner), (berliner, hostile), (elsewhere, hostile), (stub, berliner),
                               (elsewhere, stub), (hostile, elsewhere)]:
        factories.FollowFactory(follower=follower, followee=followee)
    tool = factories.RepositoryFactory(owner=hostile, name="tool", full_name="hostile/tool", description=HOSTILE,
                                       language="Python", topics=["cli", "graph"])
    lib = factories.RepositoryFactory(owner=elsewhere, name="lib", full_name="elsewhere/lib", language="Go")
    for developer, repository in [(berliner, tool), (elsewhere, tool), (stub, lib), (hostile, lib)]:
        factories.StarFactory(developer=developer, repository=repository)
    rank.compute_and_store()
    return {"hostile": hostile, "berliner": berliner, "elsewhere": elsewhere, "stub": stub, "tool": tool, "lib": lib}


def download(api, **params):
    response = api.get("/github/export/", params)
    assert response.status_code == 200, response.content
    return response, b"".join(response.streaming_content)


def read_graph(api, fmt="graphml", **params):
    """The export read back as a networkx graph, whichever format."""
    _response, data = download(api, format=fmt, **params)
    if fmt == "graphml":
        return networkx.read_graphml(io.BytesIO(data))
    if fmt == "gexf":
        return networkx.read_gexf(io.BytesIO(data))
    graph = networkx.DiGraph()
    if fmt == "jsonl":
        for line in data.decode("utf-8").split("\n")[:-1]:  # JSON Lines end lines with \n alone
            record = json.loads(line)
            if record.pop("element") == "node":
                graph.add_node(record.pop("id"), **record)
            else:
                graph.add_edge(record.pop("source"), record.pop("target"), **record)
        return graph
    archive = zipfile.ZipFile(io.BytesIO(data))  # pylint: disable=consider-using-with  # in memory
    if fmt == "csv":
        with archive.open("nodes.csv") as nodes, archive.open("edges.csv") as edges:
            for row in csv.DictReader(io.TextIOWrapper(nodes, encoding="utf-8", newline="")):
                graph.add_node(row.pop("Id"), label=row.pop("Label"), **row)
            for row in csv.DictReader(io.TextIOWrapper(edges, encoding="utf-8", newline="")):
                assert row.pop("Type") == "Directed"
                graph.add_edge(row.pop("Source"), row.pop("Target"), **row)
        return graph
    with archive.open("nodes.parquet") as nodes_file, archive.open("edges.parquet") as edges_file:
        nodes, edges = pq.read_table(nodes_file), pq.read_table(edges_file)
    for row in nodes.to_pylist():
        graph.add_node(row.pop("id"), **row)
    for row in edges.to_pylist():
        graph.add_edge(row.pop("source"), row.pop("target"), **row)
    return graph


FORMATS = ["graphml", "gexf", "csv", "parquet", "jsonl"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_reads_back_as_the_whole_graph(api, graph, fmt):
    exported = read_graph(api, fmt, nodes="both")
    developers, repositories = Developer.objects.select_related("ranking"), Repository.objects.all()
    assert exported.number_of_nodes() == developers.count() + repositories.count()
    assert exported.number_of_edges() == Follow.objects.count() + Star.objects.count()
    expected_edges = {(str(a), str(b), "follow") for a, b in Follow.objects.values_list("follower", "followee")}
    expected_edges |= {(str(a), str(b), "star") for a, b in Star.objects.values_list("developer", "repository")}
    assert {(a, b, data["kind"]) for a, b, data in exported.edges(data=True)} == expected_edges
    plain = export.text if fmt == "csv" else (lambda value: value)
    for developer in developers:
        node = exported.nodes[str(developer.pk)]
        assert node["label"] == developer.login and node["kind"] == "developer"
        assert node["github_id"] == plain(developer.github_id)
        assert node["rank"] == plain(developer.ranking.rank) and developer.ranking.rank > 0
        assert node["synced"] == plain(developer.profile_synced_at is not None)
        assert node["profiled"] == plain(developer.profiled_at is not None)
        if developer.followers_count is not None:
            assert node["followers_count"] == plain(developer.followers_count)
        if fmt in {"csv", "parquet", "jsonl"}:  # tables carry every column; XML leaves out the empty ones
            assert node["location"] == plain(developer.location)
    tool = exported.nodes[str(graph["tool"].pk)]
    assert (tool["kind"], tool["full_name"], tool["language"], tool["topics"]) == \
        ("repository", "hostile/tool", "Python", "cli,graph")
    assert tool["rank"] == plain(Repository.objects.get(pk=graph["tool"].pk).ranking.rank)


def test_profiled_and_synced_tell_a_listed_developer_from_a_stub_and_a_synced_one(api, graph):
    developers = {"berliner": graph["berliner"], "stub": graph["stub"], "listed": factories.ListedDeveloperFactory()}
    nodes = read_graph(api, "jsonl", nodes="developers").nodes
    flags = {name: (nodes[str(row.pk)]["profiled"], nodes[str(row.pk)]["synced"]) for name, row in developers.items()}
    assert flags == {"berliner": (True, True), "stub": (False, False), "listed": (True, False)}


@pytest.mark.parametrize("fmt", FORMATS)
def test_hostile_text_round_trips(api, graph, fmt):
    exported = read_graph(api, fmt, nodes="both")
    expected = HOSTILE_IN_XML if fmt in {"graphml", "gexf"} else HOSTILE
    developer = exported.nodes[str(graph["hostile"].pk)]
    assert developer["name"] == expected and developer["bio"] == expected
    assert exported.nodes[str(graph["tool"].pk)]["description"] == expected


def test_xml_formats_are_well_formed_xml_1_0(api, graph):  # pylint: disable=unused-argument
    from xml.dom import minidom  # pylint: disable=import-outside-toplevel  # the strict parser of the stdlib

    for fmt in ("graphml", "gexf"):
        _response, data = download(api, format=fmt, nodes="both")
        assert minidom.parseString(data).documentElement.tagName == fmt  # noqa: S318  # our own output


def test_parquet_types(api, graph):  # pylint: disable=unused-argument
    _response, data = download(api, format="parquet", nodes="both")
    with zipfile.ZipFile(io.BytesIO(data)) as archive, archive.open("nodes.parquet") as nodes:
        assert all(info.compress_type == zipfile.ZIP_STORED for info in archive.infolist())
        schema = pq.read_schema(nodes)
    assert str(schema.field("github_id").type) == "int64" and str(schema.field("rank").type) == "double"
    assert str(schema.field("created_at").type) == "timestamp[us, tz=UTC]"
    assert str(schema.field("synced").type) == "bool"
    assert str(schema.field("profiled").type) == "bool"


def test_developer_filters_choose_the_subgraph(api, graph):
    induced = read_graph(api, location__icontains="berlin")
    assert set(induced.nodes) == {str(graph["hostile"].pk), str(graph["berliner"].pk)}
    assert induced.number_of_edges() == 2  # hostile <-> berliner
    incident = read_graph(api, location__icontains="berlin", edges="incident")
    assert set(incident.nodes) == {str(developer.pk) for developer in Developer.objects.all()}
    assert incident.number_of_edges() == 5  # every follow but elsewhere -> stub
    popular = read_graph(api, followers_count__gte="100", **{"rank__gte": "0"})
    assert {node["label"] for _id, node in popular.nodes(data=True)} == {"hostile", "elsewhere"}


def test_stubs_left_out(api, graph):
    without = read_graph(api, "jsonl", stubs="false", nodes="both", edges="incident")
    assert str(graph["stub"].pk) not in without.nodes
    assert without.number_of_edges() == Follow.objects.count() - 2 + Star.objects.count() - 1
    assert read_graph(api, "jsonl", stubs="false").number_of_nodes() == 3


def test_repositories_as_nodes(api, graph):
    alone = read_graph(api, "jsonl", nodes="repositories", language="Python")
    assert list(alone.nodes) == [str(graph["tool"].pk)] and alone.number_of_edges() == 0
    stargazed = read_graph(api, "jsonl", nodes="repositories", language="Python", edges="incident")
    assert set(stargazed.nodes) == {str(graph[name].pk) for name in ("tool", "berliner", "elsewhere")}
    both = read_graph(api, "jsonl", nodes="both", location="Berlin", **{"repository.language": "Go"})
    assert {data["label"] for _id, data in both.nodes(data=True)} == {"hostile", "berliner", "elsewhere/lib"}
    assert {(data["kind"]) for _a, _b, data in both.edges(data=True)} == {"follow", "star"}
    assert both.number_of_edges() == 3  # hostile <-> berliner, hostile * lib


@pytest.mark.parametrize(("fmt", "content_type", "extension"), [
    ("graphml", "application/graphml+xml", ".graphml"), ("gexf", "application/gexf+xml", ".gexf"),
    ("csv", "application/zip", ".csv.zip"), ("parquet", "application/zip", ".parquet.zip"),
    ("jsonl", "application/x-ndjson", ".jsonl"),
])
def test_content_types_and_file_names(api, graph, fmt, content_type, extension):  # pylint: disable=unused-argument
    response, _data = download(api, format=fmt)
    assert response["Content-Type"] == content_type
    assert response["Content-Disposition"].startswith('attachment; filename="github-graph-')
    assert response["Content-Disposition"].endswith(f'{extension}"')


def test_gzip_on_request(api, graph):  # pylint: disable=unused-argument
    response, data = download(api, format="graphml", gzip="true")
    assert response["Content-Type"] == "application/gzip"
    assert response["Content-Disposition"].endswith('.graphml.gz"')
    assert networkx.read_graphml(io.BytesIO(gzip.decompress(data))).number_of_nodes() == Developer.objects.count()


@pytest.mark.parametrize(("params", "named"), [
    ({"format": "xlsx"}, ["format"]),
    ({"nodes": "people", "edges": "all"}, ["nodes", "edges"]),
    ({"stubs": "maybe", "gzip": "yes"}, ["stubs", "gzip"]),
    ({"format": "csv", "gzip": "true"}, ["gzip"]),
    ({"followers_count__gte": "many", "location__startswith": "B"}, ["followers_count__gte", "location__startswith"]),
    ({"repository.language": "Go"}, ["repository.language"]),
    ({"nodes": "both", "repository.stargazers_count__gte": "x", "ordering": "-rank"},
     ["repository.stargazers_count__gte", "ordering"]),
    ({"nodes": "repositories", "location": "Berlin"}, ["location"]),
])
def test_bad_parameters_are_a_400_naming_them(api, params, named):
    response = api.get("/github/export/", params)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert sorted(response.json()) == sorted(named)


def test_login_required(anonymous):
    assert anonymous.get("/github/export/").status_code in (401, 403)


def test_streamed_in_chunks_with_a_fixed_number_of_queries(api, graph, monkeypatch, django_assert_max_num_queries):
    for index in range(60):
        factories.DeveloperFactory(login=f"more-{index}", bio="x" * 200)
    monkeypatch.setattr(export, "FLUSH_BYTES", 1024)
    monkeypatch.setattr(export, "CHUNK_ROWS", 10)
    response = api.get("/github/export/", {"format": "jsonl", "nodes": "both"})
    with django_assert_max_num_queries(8):  # one query per node kind and edge kind, whatever the rows
        chunks = list(response.streaming_content)
    assert len(chunks) > 5 and max(len(chunk) for chunk in chunks) < 12 * 1024  # text is buffered by 8 KiB
    assert sum(chunk.count(b"\n") for chunk in chunks) == 64 + 2 + Follow.objects.count() + Star.objects.count()


def test_the_command_writes_the_same_file(graph, tmp_path):  # pylint: disable=unused-argument
    path = tmp_path / "berlin.gexf"
    err = io.StringIO()
    call_command("export_graph", "location__icontains=berlin", "--format", "gexf", "--edges", "incident",
                 "-o", str(path), stderr=err)
    assert err.getvalue() == ""  # quiet when not on a terminal
    exported = networkx.read_gexf(path)
    assert exported.number_of_nodes() == 4 and exported.number_of_edges() == 5


def test_the_command_names_bad_parameters():
    with pytest.raises(CommandError, match="bogus: Unknown parameter"):
        call_command("export_graph", "bogus=1")
    with pytest.raises(CommandError, match="NAME=VALUE"):
        call_command("export_graph", "location")


class Terminal(io.StringIO):
    """A stderr that says it is a terminal."""

    def isatty(self):
        return True


def test_the_command_shows_a_progress_bar_on_a_terminal(graph, tmp_path):
    terminal = Terminal()
    call_command("export_graph", "--format", "jsonl", "-o", str(tmp_path / "graph.jsonl"), stderr=terminal)
    total = Developer.objects.count() + Follow.objects.count()
    assert f"{total}.0/{total}.0" in terminal.getvalue() and "rows/s" in terminal.getvalue()  # unit_scale
    assert terminal.getvalue().rstrip().endswith(f"wrote {tmp_path / 'graph.jsonl'}")
