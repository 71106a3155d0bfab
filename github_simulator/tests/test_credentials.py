"""Credentials as GitHub takes them (token, Bearer, basic user:token), 401 for unknown tokens,
statistics that never show a token, and GitHub's header requirements."""

import base64
import http.client
import json
from urllib.parse import urlsplit

import requests

from github_simulator import Simulator

from .conftest import NO_GRAPHQL, serving, tiny_world


def test_token_bearer_and_basic_are_one_caller():
    with serving(tiny_world(), tokens=["good", "spare"], token=None) as (simulator, session):
        url = f"{simulator.base_url}/users/octocat"
        basic = base64.b64encode(b"someone:good").decode()
        used = [session.get(url, headers={"Authorization": auth}).headers["x-ratelimit-used"]
                for auth in ("token good", "Bearer good", f"Basic {basic}", "bearer good")]
        assert used == ["1", "2", "3", "4"]
        label = Simulator.token_label("good")
        assert simulator.stats()["by_token"] == {label: {"requests": 4, "quota_counted": 4, "not_modified": 0,
                                                         "errors": 0, **NO_GRAPHQL}}


def test_unknown_or_malformed_credentials_answer_401():
    with serving(tiny_world(), tokens=["good"], token=None) as (simulator, session):
        url = f"{simulator.base_url}/users/octocat"
        for auth in ("token wrong", "Bearer ", f"Basic {base64.b64encode(b'user-only').decode()}", "Basic ###",
                     "Digest good"):
            response = session.get(url, headers={"Authorization": auth})
            assert response.status_code == 401, auth
            assert response.json() == {"message": "Bad credentials",
                                       "documentation_url": "https://docs.github.com/rest", "status": "401"}
        assert session.get(url).status_code == 200                       # no credentials: anonymous
        stats = simulator.stats()["by_token"]
        assert stats["invalid"]["errors"] == 5 and stats["anonymous"]["errors"] == 0


def test_any_token_is_accepted_without_a_token_list():
    with serving(tiny_world(), token=None) as (simulator, session):
        for token in ("a", "b", "a"):
            assert session.get(f"{simulator.base_url}/users/bob", headers={"Authorization": f"token {token}"}).ok
        stats = simulator.stats()["by_token"]
        assert stats[Simulator.token_label("a")]["requests"] == 2 and stats[Simulator.token_label("b")]["requests"] == 1


def test_statistics_never_contain_tokens():
    secret = "ghp_" + "x" * 36
    with serving(tiny_world(), token=secret) as (simulator, session):
        session.get(f"{simulator.base_url}/users/bob")
        session.get(f"{simulator.base_url}/users/bob", headers={"Authorization": "token ghp_other_secret"})
        text = json.dumps(simulator.stats())
        assert "ghp_" not in text and "x" * 8 not in text


def test_user_agent_is_required_and_api_versions_are_checked():
    with serving(tiny_world()) as (simulator, session):
        url = f"{simulator.base_url}/users/bob"
        connection = http.client.HTTPConnection(urlsplit(url).netloc, timeout=5)   # requests always sends one
        connection.request("GET", "/users/bob", headers={"Authorization": "token t"})
        no_agent = connection.getresponse()
        assert no_agent.status == 403 and "User-Agent" in json.loads(no_agent.read())["message"]
        connection.close()
        unsupported = session.get(url, headers={"X-GitHub-Api-Version": "2020-01-01"})
        assert unsupported.status_code == 400 and "2020-01-01" in unsupported.json()["message"]
        assert session.get(url).headers["X-GitHub-Api-Version-Selected"] == "2022-11-28"


def test_serves_under_a_github_enterprise_style_prefix():
    with serving(tiny_world(), path_prefix="/api/v3") as (simulator, session):
        base = simulator.base_url
        assert base.endswith("/api/v3")
        user = session.get(f"{base}/users/octocat").json()
        assert user["followers_url"] == f"{base}/users/octocat/followers"
        assert session.get(base.removesuffix("/api/v3") + "/users/octocat").status_code == 404
        response = session.get(f"{base}/users/octocat/followers", params={"per_page": 1})
        assert response.links["next"]["url"].startswith(f"{base}/user/1/followers?")
        assert requests.get(user["avatar_url"], timeout=5).headers["Content-Type"] == "image/svg+xml"
