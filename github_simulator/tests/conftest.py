"""Shared fixtures: GitHub's vendored OpenAPI schemas, worlds, running simulators, and clients in parallel."""

import json
import re
import threading
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import jsonschema
import pytest
import requests

from github_simulator import Simulator, World

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "schema" / "rest-subset.json"
#: The GraphQL counters of statistics where no GraphQL query was made.
NO_GRAPHQL = {"graphql_queries": 0, "graphql_points": 0, "graphql_nodes": 0}
_DATE_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")


def _nullable_to_json_schema(node):
    """OpenAPI 3.0's ``nullable: true`` as JSON Schema: plain validators ignore the keyword and
    would then reject every ``null`` GitHub legitimately serves."""
    if isinstance(node, list):
        return [_nullable_to_json_schema(n) for n in node]
    if not isinstance(node, dict):
        return node
    node = {k: _nullable_to_json_schema(v) for k, v in node.items() if k not in ("example", "examples")}
    if node.pop("nullable", False):
        if "enum" in node:
            node["enum"] = [*node["enum"], None]
        if isinstance(node.get("type"), str):
            node["type"] = [node["type"], "null"]
        else:
            node = {"anyOf": [node, {"type": "null"}]}
    return node


_FORMATS = jsonschema.FormatChecker()


@_FORMATS.checks("date-time")
def _is_date_time(value):
    return not isinstance(value, str) or bool(_DATE_TIME.match(value))


@_FORMATS.checks("uri")
def _is_uri(value):
    if not isinstance(value, str):
        return True
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


@_FORMATS.checks("email")
def _is_email(value):
    return not isinstance(value, str) or re.match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", value) is not None


class Schemas:
    """Response schemas of GitHub's operations, from the vendored description."""

    def __init__(self):
        self.document = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))

    def response(self, path, status="200"):
        content = self.document["paths"][path]["get"]["responses"][status]["content"]
        return _nullable_to_json_schema(content["application/json"]["schema"])

    def variant(self, path, item_title):
        """One branch of an ``anyOf`` of arrays, chosen by the title of its items (GitHub puts the
        ``application/vnd.github.star+json`` shape and the plain one side by side)."""
        schema = self.response(path)
        matches = [s for s in schema["anyOf"] if s["items"].get("title") == item_title]
        assert len(matches) == 1, f"no single {item_title!r} variant for {path}"
        return matches[0]

    @staticmethod
    def validate(payload, schema):
        jsonschema.Draft7Validator(schema, format_checker=_FORMATS).validate(payload)


@pytest.fixture(scope="session")
def schemas():
    return Schemas()


@pytest.fixture(scope="session")
def big_world():
    """A generated world shared by read-only tests (never mutate it)."""
    return World.generate(users=1500, seed=7)


@contextmanager
def serving(world, token="tests-token", **options):
    """A started simulator and a keep-alive session with GitHub's recommended headers (and
    ``token``, unless None: the anonymous quota is only 60 requests)."""
    with Simulator(world, **options) as simulator, requests.Session() as session:
        session.headers.update({"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28",
                                "User-Agent": "github-simulator-tests"})
        if token is not None:
            session.headers["Authorization"] = f"token {token}"
        yield simulator, session


@pytest.fixture
def served():
    """A simulator of a fresh :func:`tiny_world` and its session (modules of read-only tests
    override it with one over ``big_world``)."""
    with serving(tiny_world()) as pair:
        yield pair


def tiny_world():
    """A small exact world: people, an organisation, forks, renamable things, a private repo."""
    return World.from_dict({
        "users": [
            {"login": "octocat", "id": 1, "name": "The Octocat 🐙", "location": "San Francisco"},
            {"login": "alice", "id": 2, "bio": "Zoë's friend ✨"},
            {"login": "bob", "id": 3},
            {"login": "carol", "id": 4},
            {"login": "acme", "id": 10, "type": "Organization", "blog": "https://acme.example"},
        ],
        "repos": [
            {"full_name": "octocat/Hello-World", "id": 100, "description": "My first repo", "language": "C",
             "license": "mit", "topics": ["demo"]},
            {"full_name": "octocat/spoon-knife", "id": 101},
            {"full_name": "alice/Hello-World", "id": 102, "fork_of": "octocat/Hello-World"},
            {"full_name": "alice/secret", "id": 103, "private": True},
            {"full_name": "acme/rocket", "id": 104, "archived": True},
        ],
        "follows": [["alice", "octocat"], ["bob", "octocat"], ["carol", "octocat"], ["alice", "bob"],
                    ["octocat", "acme"]],
        "stars": [["alice", "octocat/Hello-World"], ["bob", "octocat/Hello-World"],
                  ["alice", "acme/rocket", "2021-05-06T07:08:09Z"], ["octocat", "acme/rocket"]],
    })


def hub(world):
    """The login with the most followers."""
    return max(world.logins(), key=lambda login: len(world.followers_of(login)))


def collect(session, url, **params):
    """Follow rel="next" verbatim, as GitHub tells clients to; returns (items, pages)."""
    items, pages = [], 0
    response = session.get(url, params=params)
    while True:
        assert response.status_code == 200, response.text
        items.extend(response.json())
        pages += 1
        if "next" not in response.links:
            return items, pages
        response = session.get(response.links["next"]["url"])


def parallel(count, call):
    """Run ``call(index)`` in ``count`` threads released together; results in index order."""
    barrier = threading.Barrier(count)
    results = {}

    def run(index):
        barrier.wait()
        results[index] = call(index)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [results[i] for i in range(count)]
