"""GraphQL's injected failures (faults.py): each kind as GitHub shapes it, what it charges, and a
token revoked mid-run."""

import pytest

from github_simulator import Simulator
from github_simulator.faults import GRAPHQL_FAULT_KINDS

from .conftest import serving, tiny_world

QUERY = '{ a: user(login: "alice") { login } b: user(login: "bob") { login } rateLimit { cost remaining } }'


def post(simulator, session, query=QUERY, **headers):
    return session.post(f"{simulator.base_url}/graphql", json={"query": query}, headers=headers)


def points_used(simulator):
    return simulator.stats()["total"]["graphql_points"]


def test_graphql_faults_are_off_by_default(served):
    simulator, session = served
    assert all(post(simulator, session).json()["data"]["a"] for _ in range(20))
    assert simulator.stats()["graphql_faults"] == dict.fromkeys(GRAPHQL_FAULT_KINDS, 0)


def test_rate_limited_is_a_200_and_the_bucket_stays_spent_until_its_reset():
    with serving(tiny_world(), graphql_fault_rate=1.0, graphql_fault_kinds=["rate_limited"],
                 window_seconds=1) as (simulator, session):
        refused = post(simulator, session)
        assert refused.status_code == 200
        assert [error["type"] for error in refused.json()["errors"]] == ["RATE_LIMITED"]
        assert "data" not in refused.json()
        assert refused.headers["x-ratelimit-remaining"] == "0"
        assert session.get(f"{simulator.base_url}/rate_limit").json()["resources"]["graphql"]["remaining"] == 0
        assert points_used(simulator) == 0  # another application's points, not this caller's
        assert session.get(f"{simulator.base_url}/users/alice").status_code == 200  # REST's bucket is its own
        assert simulator.stats()["graphql_faults"]["rate_limited"] == 1


def test_an_injected_timeout_is_githubs_502_with_its_points_charged():
    with serving(tiny_world(), graphql_fault_rate=1.0, graphql_fault_kinds=["timeout"]) as (simulator, session):
        timed_out = post(simulator, session)
        assert timed_out.status_code == 502 and timed_out.json()["data"] is None
        assert "This may be the result of a timeout" in timed_out.json()["errors"][0]["message"]
        assert timed_out.headers["x-ratelimit-used"] == "1" and points_used(simulator) == 1


@pytest.mark.parametrize("kind, status", [("502", 502), ("503", 503), ("secondary", 403)])
def test_refusals_answer_before_the_query_runs_and_charge_nothing(kind, status):
    with serving(tiny_world(), graphql_fault_rate=1.0, graphql_fault_kinds=[kind],
                 secondary_retry_after=7) as (simulator, session):
        refused = post(simulator, session)
        assert refused.status_code == status and refused.json()["message"]
        assert refused.headers["x-ratelimit-used"] == "0" and points_used(simulator) == 0
        if kind == "secondary":
            assert refused.headers["Retry-After"] == "7"
            assert "secondary rate limit" in refused.json()["message"]


def test_not_found_nulls_one_alias_and_keeps_the_others():
    with serving(tiny_world(), graphql_fault_rate=1.0, graphql_fault_kinds=["not_found"]) as (simulator, session):
        answer = post(simulator, session).json()
        [error] = answer["errors"]
        assert error["type"] == "NOT_FOUND" and error["path"][0] in {"a", "b"}
        missing = error["path"][0]
        assert answer["data"][missing] is None
        assert answer["data"][({"a", "b"} - {missing}).pop()]["login"] in {"alice", "bob"}
        assert answer["data"]["rateLimit"]["cost"] == 1 and points_used(simulator) == 1
        # A query without aliased objects (a nodes list) is answered whole.
        listed = post(simulator, session, '{ nodes(ids: ["MDQ6VXNlcjI="]) { id } }').json()
        assert "errors" not in listed


def test_a_rate_of_faults_mixes_the_kinds_from_a_seed():
    def run():
        with serving(tiny_world(), graphql_fault_rate=0.5, seed=5) as (simulator, session):
            statuses = [post(simulator, session).status_code for _ in range(60)]
            return statuses, simulator.stats()["graphql_faults"]

    statuses, injected = run()
    assert (statuses, injected) == run()
    assert 15 <= sum(injected.values()) <= 45 and all(injected.values())


def test_a_token_revoked_after_n_requests_answers_401_for_rest_and_graphql():
    with serving(tiny_world(), tokens=["first", "second"], token="first", revoke_after=2) as (simulator, session):
        assert session.get(f"{simulator.base_url}/users/alice").status_code == 200
        assert post(simulator, session).status_code == 200
        assert session.get(f"{simulator.base_url}/users/alice").status_code == 401
        assert (post(simulator, session).status_code, post(simulator, session).json()["message"]) == (
            401, "Bad credentials")
        assert post(simulator, session, Authorization="token second").status_code == 200
    with pytest.raises(ValueError, match="needs tokens"):
        Simulator(tiny_world(), revoke_after=1)
