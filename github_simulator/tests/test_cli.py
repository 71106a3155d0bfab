"""The command line server and its HTTP control API."""

import json
import signal
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import requests

from .conftest import serving, tiny_world

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def running(*arguments):
    """The command line server on a free port: yields its base URL; SIGTERM must end it cleanly."""
    with subprocess.Popen(  # noqa: S603 (our own interpreter and module, test-chosen arguments)
        [sys.executable, "-m", "github_simulator", "--port", "0", *arguments], cwd=ROOT,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    ) as process:
        try:
            yield process.stdout.readline().strip()
        finally:
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=10) == 0


def test_command_line_serves_a_generated_world_until_terminated():
    with running("--users", "200", "--seed", "3", "--tokens", "a,b", "--rate-limit", "5", "--window", "10",
                 "--graphql-limit", "7") as base:
        assert base.startswith("http://127.0.0.1:")
        with requests.Session() as session:
            session.headers.update({"Authorization": "token a", "User-Agent": "cli-test"})
            users = session.get(f"{base}/users", params={"per_page": 3})
            assert users.status_code == 200 and len(users.json()) == 3
            assert users.headers["x-ratelimit-limit"] == "5"
            assert session.get(f"{base}/users", headers={"Authorization": "token c"}).status_code == 401
            login = users.json()[0]["login"]
            assert session.get(f"{base}/users/{login}").json()["login"] == login
            graphql = session.post(f"{base}/graphql", json={"query": f'{{ user(login: "{login}") {{ login }} }}'})
            assert graphql.json() == {"data": {"user": {"login": login}}}
            assert (graphql.headers["x-ratelimit-limit"], graphql.headers["x-ratelimit-resource"]) == ("7", "graphql")


def test_command_line_loads_a_json_world(tmp_path):
    path = tmp_path / "world.json"
    path.write_text(json.dumps({"users": [{"login": "solo", "name": "Sölo"}]}), encoding="utf-8")
    with running("--world", str(path), "--no-control") as base:
        assert requests.get(f"{base}/users/solo", headers={"User-Agent": "t"}, timeout=5).json()["name"] == "Sölo"
        assert requests.get(f"{base}/_simulator/stats", headers={"User-Agent": "t"}, timeout=5).status_code == 404


def test_command_line_help():
    result = subprocess.run([sys.executable, "-m", "github_simulator", "--help"], cwd=ROOT, capture_output=True,
                            text=True, check=True)
    for option in ("--port", "--users", "--seed", "--world", "--tokens", "--rate-limit", "--window", "--fault-rate",
                   "--latency", "--host", "--graphql-limit", "--graphql-per-minute", "--graphql-node-seconds",
                   "--graphql-timeout", "500,000 nodes", "20,000 nodes", "502"):
        assert option in " ".join(result.stdout.split())      # whatever the terminal's width


def test_control_api_mutates_the_world_and_reads_statistics():
    with serving(tiny_world()) as (simulator, session):
        base = simulator.base_url
        session.get(f"{base}/users/bob")
        followed = session.post(f"{base}/_simulator/world/follow", json=["carol", "bob"])
        assert followed.status_code == 200 and followed.json() == {"result": None}
        assert session.get(f"{base}/users/bob").json()["followers"] == 2
        truth = session.post(f"{base}/_simulator/world/followers_of", json={"login": "bob"}).json()
        assert truth == {"result": ["alice", "carol"]}
        assert session.post(f"{base}/_simulator/world/follow", json=["nobody", "bob"]).status_code == 404
        assert session.post(f"{base}/_simulator/world/follow", json=["acme", "bob"]).status_code == 422
        assert session.post(f"{base}/_simulator/world/__init__", json=[]).status_code == 404
        stats = session.get(f"{base}/_simulator/stats").json()
        assert stats["total"]["requests"] == 2                        # control calls are not counted
        assert session.post(f"{base}/_simulator/reset_stats").ok
        assert simulator.stats()["total"]["requests"] == 0
        assert session.post(f"{base}/_simulator/reset_quotas").ok
        assert session.get(f"{base}/users/bob").headers["x-ratelimit-used"] == "1"
