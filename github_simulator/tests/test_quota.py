"""The primary rate limit: per token (and per IP without one), headers on every response, 403 at
zero with GitHub's message, a window that resets at x-ratelimit-reset, /rate_limit for free."""

import re
import time

from .conftest import NO_GRAPHQL, serving, tiny_world

RATE_HEADERS = ("x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-used", "x-ratelimit-reset",
                "x-ratelimit-resource")


def quota(response):
    return {name: response.headers[name] for name in RATE_HEADERS}


def test_every_response_carries_rate_limit_headers():
    with serving(tiny_world(), tokens=["good"], token="good") as (simulator, session):
        base = simulator.base_url
        ok = session.get(f"{base}/users/octocat")
        responses = [
            ok,
            session.get(f"{base}/users/nobody"),                                             # 404
            session.get(f"{base}/users/octocat", headers={"If-None-Match": ok.headers["ETag"]}),  # 304
            session.get(f"{base}/repos/octocat/Hello-World/stargazers", params={"page": 999}),    # 422
            session.get(f"{base}/rate_limit"),
            session.get(f"{base}/users/octocat", headers={"Authorization": "token bad"}),  # 401
            session.get(f"{base}/nowhere"),                                                      # 404
        ]
        assert [r.status_code for r in responses] == [200, 404, 304, 422, 200, 401, 404]
        for response in responses:
            assert response.headers["x-ratelimit-resource"] == "core"
            assert set(RATE_HEADERS) <= set(response.headers)
            assert re.fullmatch(r"[0-9A-F]{4}:[0-9A-F]{8}:[0-9A-F]{8}", response.headers["x-github-request-id"])
            if response.status_code != 304:
                assert response.headers["Content-Type"] == "application/json; charset=utf-8"
                assert int(response.headers["Content-Length"]) == len(response.content)
        assert (quota(ok)["x-ratelimit-limit"], quota(ok)["x-ratelimit-used"]) == ("5000", "1")
        assert responses[5].headers["x-ratelimit-limit"] == "60"      # bad credentials: the IP's quota


def test_quota_counts_errors_too_and_refuses_at_zero():
    with serving(tiny_world(), rate_limit=4, window_seconds=3600) as (simulator, session):
        base = simulator.base_url
        seen = [quota(session.get(f"{base}/users/{login}")) for login in ("octocat", "nobody", "alice", "nobody")]
        assert [(q["x-ratelimit-used"], q["x-ratelimit-remaining"]) for q in seen] == \
            [("1", "3"), ("2", "2"), ("3", "1"), ("4", "0")]
        assert len({q["x-ratelimit-reset"] for q in seen}) == 1
        assert int(seen[0]["x-ratelimit-reset"]) - time.time() > 3500
        refused = session.get(f"{base}/users/octocat")
        assert refused.status_code == 403
        assert quota(refused)["x-ratelimit-remaining"] == "0" and quota(refused)["x-ratelimit-used"] == "4"
        user_id = int(simulator.token_label("tests-token")[6:13], 16)
        assert refused.json()["message"] == f"API rate limit exceeded for user ID {user_id}."
        assert "tests-token" not in refused.text
        limits = session.get(f"{base}/rate_limit")                 # still answers, and costs nothing
        assert limits.status_code == 200 and limits.json()["resources"]["core"]["remaining"] == 0
        stats = simulator.stats()
        assert stats["total"] == {"requests": 6, "quota_counted": 4, "not_modified": 0, "errors": 3, **NO_GRAPHQL}
        assert stats["by_endpoint"]["/rate_limit"]["quota_counted"] == 0


def test_rate_limit_endpoint_is_free_and_agrees_with_the_headers():
    with serving(tiny_world(), rate_limit=50, window_seconds=10) as (simulator, session):
        base = simulator.base_url
        before = session.get(f"{base}/rate_limit")
        rate = before.json()["rate"]
        assert rate == {"limit": 50, "used": 0, "remaining": 50, "reset": rate["reset"]}
        for _ in range(3):
            session.get(f"{base}/users/alice")
        for _ in range(5):
            body = session.get(f"{base}/rate_limit").json()
        assert body["resources"]["core"]["used"] == 3 and body["rate"]["remaining"] == 47
        response = session.get(f"{base}/users/alice")
        assert response.headers["x-ratelimit-used"] == "4"
        assert int(response.headers["x-ratelimit-reset"]) == body["rate"]["reset"]


def test_window_resets_at_x_ratelimit_reset():
    with serving(tiny_world(), rate_limit=3, window_seconds=1) as (simulator, session):
        base = simulator.base_url
        for _ in range(3):
            last = session.get(f"{base}/users/bob")
        assert session.get(f"{base}/users/bob").status_code == 403
        reset = int(last.headers["x-ratelimit-reset"])
        time.sleep(max(reset - time.time(), 0) + 0.05)
        fresh = session.get(f"{base}/users/bob")
        assert fresh.status_code == 200
        assert quota(fresh)["x-ratelimit-used"] == "1" and int(quota(fresh)["x-ratelimit-reset"]) > reset


def test_each_token_has_its_own_quota_and_reset_quotas_refills():
    with serving(tiny_world(), rate_limit=2) as (simulator, session):
        base = simulator.base_url
        for _ in range(3):
            session.get(f"{base}/users/bob")
        assert session.get(f"{base}/users/bob").status_code == 403
        other = session.get(f"{base}/users/bob", headers={"Authorization": "token another"})
        assert other.status_code == 200 and other.headers["x-ratelimit-used"] == "1"
        simulator.reset_quotas()
        assert session.get(f"{base}/users/bob").headers["x-ratelimit-used"] == "1"


def test_unauthenticated_clients_get_60_per_window_per_ip():
    with serving(tiny_world(), token=None) as (simulator, session):
        base = simulator.base_url
        statuses = [session.get(f"{base}/users/carol").status_code for _ in range(61)]
        assert statuses == [200] * 60 + [403]
        refused = session.get(f"{base}/users/carol")
        assert refused.json()["message"].startswith("API rate limit exceeded for 127.0.0.1. (But here's the good news:")
        assert refused.headers["x-ratelimit-limit"] == "60"
        assert simulator.stats()["by_token"]["anonymous"]["quota_counted"] == 60


def test_the_unauthenticated_limit_is_configurable():
    with serving(tiny_world(), token=None, unauthenticated_limit=2) as (simulator, session):
        codes = [session.get(f"{simulator.base_url}/users/alice").status_code for _ in range(3)]
        assert codes == [200, 200, 403]
