"""Secondary rate limits (concurrency and per minute) and injected faults (502, 503, dropped
connections, slow answers, latency) for reliability tests."""

import time

import pytest
import requests

from .conftest import NO_GRAPHQL, parallel, serving, tiny_world


def test_too_many_concurrent_requests_hit_the_secondary_limit():
    with serving(tiny_world(), secondary_concurrency=2, secondary_retry_after=7, latency=1.0) as (simulator, _):
        def call(_index):
            with requests.Session() as session:
                response = session.get(f"{simulator.base_url}/users/alice",
                                       headers={"Authorization": "token busy", "User-Agent": "t"})
                return response.status_code, response.headers.get("Retry-After"), response.json()["message"] \
                    if response.status_code != 200 else None

        results = parallel(6, call)
        assert sorted(r[0] for r in results) == [200, 200, 403, 403, 403, 403]
        for status, retry_after, message in results:
            if status == 403:
                assert retry_after == "7"
                assert message.startswith("You have exceeded a secondary rate limit.")
        stats = simulator.stats()["by_token"][simulator.token_label("busy")]
        assert stats == {"requests": 6, "quota_counted": 6, "not_modified": 0, "errors": 4, **NO_GRAPHQL}


def test_too_many_requests_per_minute_hit_the_secondary_limit():
    with serving(tiny_world(), secondary_per_minute=3) as (simulator, session):
        url = f"{simulator.base_url}/users/bob"
        assert [session.get(url).status_code for _ in range(3)] == [200, 200, 200]
        refused = session.get(url)
        assert refused.status_code == 403 and "secondary rate limit" in refused.json()["message"]
        assert 55 <= int(refused.headers["Retry-After"]) <= 60
        assert int(refused.headers["x-ratelimit-remaining"]) > 0          # not the primary limit
        assert session.get(url, headers={"Authorization": "token other"}).status_code == 200
        assert session.get(f"{simulator.base_url}/rate_limit").status_code == 200


@pytest.mark.parametrize("kind, status", [("502", 502), ("503", 503)])
def test_injected_server_errors(kind, status):
    with serving(tiny_world(), fault_rate=1.0, fault_kinds=[kind]) as (simulator, session):
        response = session.get(f"{simulator.base_url}/users/alice")
        assert response.status_code == status and response.json()["message"]
        assert response.headers["x-ratelimit-used"] == "1"
        assert simulator.stats()["total"] == {"requests": 1, "quota_counted": 1, "not_modified": 0, "errors": 1,
                                              **NO_GRAPHQL}


def test_injected_dropped_connections():
    with serving(tiny_world(), fault_rate=1.0, fault_kinds=["drop"]) as (simulator, session):
        with pytest.raises(requests.ConnectionError):
            session.get(f"{simulator.base_url}/users/alice")
        stats = simulator.stats()
        assert stats["by_status"] == {"dropped": 1} and stats["total"]["errors"] == 1


def test_injected_slow_answers_and_latency():
    with serving(tiny_world(), fault_rate=1.0, fault_kinds=["slow"], slow_seconds=0.3) as (simulator, session):
        started = time.monotonic()
        assert session.get(f"{simulator.base_url}/users/alice").status_code == 200
        assert time.monotonic() - started >= 0.3
        with pytest.raises(requests.Timeout):
            session.get(f"{simulator.base_url}/users/alice", timeout=0.1)
    with serving(tiny_world(), latency=0.2) as (simulator, session):
        started = time.monotonic()
        assert session.get(f"{simulator.base_url}/users/alice").status_code == 200
        assert time.monotonic() - started >= 0.2


def test_fault_rate_is_a_share_and_reproducible_per_seed():
    def statuses(seed):
        with serving(tiny_world(), fault_rate=0.3, fault_kinds=["502", "503"], seed=seed) as (simulator, session):
            return [session.get(f"{simulator.base_url}/users/alice").status_code for _ in range(200)]

    first = statuses(5)
    failed = sum(status != 200 for status in first)
    assert 30 <= failed <= 90 and {502, 503} <= set(first)
    assert statuses(5) == first and statuses(6) != first
