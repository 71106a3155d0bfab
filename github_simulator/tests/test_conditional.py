"""Conditional requests: an ETag and Last-Modified on every 200; a 304 for a validator that still
matches, free of quota; a change in the world changes the ETag of every response that shows it."""

from email.utils import formatdate, parsedate_to_datetime

import pytest

from .conftest import NO_GRAPHQL, serving, tiny_world

STAR = "application/vnd.github.star+json"
PATHS = (
    "/users/octocat", "/user/4", "/users/alice/followers", "/users/bob/followers", "/users/carol/following",
    "/users/octocat/followers", "/users/alice/starred", "/users/bob/starred", "/users/carol/starred",
    "/users/octocat/repos", "/users/alice/repos", "/repos/octocat/Hello-World", "/repos/alice/Hello-World",
    "/repos/octocat/spoon-knife", "/repos/octocat/spoon-knife/stargazers", "/repositories/104",
    "/repos/acme/rocket/stargazers", "/users", "/repositories", "/rate_limit", "/users/bob", "/users/carol",
)


def etags(session, base, paths=PATHS):
    tags = {}
    for path in paths:
        response = session.get(base + path)
        assert response.status_code == 200, path
        tags[path] = response.headers["ETag"]
    return tags


def test_every_200_has_validators(served):
    simulator, session = served
    for path in PATHS:
        for accept in (None, STAR):
            response = session.get(simulator.base_url + path, headers={"Accept": accept} if accept else {})
            assert response.status_code == 200
            assert response.headers["ETag"].startswith('W/"')
            assert parsedate_to_datetime(response.headers["Last-Modified"])


def test_matching_etag_answers_304_without_spending_quota(served):
    simulator, session = served
    url = f"{simulator.base_url}/users/octocat/followers"
    first = session.get(url)
    etag = first.headers["ETag"]
    for validator in (etag, etag.removeprefix("W/"), f'"nope", {etag}', "*"):
        again = session.get(url, headers={"If-None-Match": validator})
        assert again.status_code == 304 and again.content == b""
        assert again.headers["ETag"] == etag
        assert again.headers["x-ratelimit-used"] == "1" and again.headers["x-ratelimit-remaining"] == "4999"
    assert session.get(url, headers={"If-None-Match": 'W/"stale"'}).status_code == 200
    stats = simulator.stats()
    assert stats["total"] == {"requests": 6, "quota_counted": 2, "not_modified": 4, "errors": 0, **NO_GRAPHQL}
    assert stats["by_endpoint"]["/users/{username}/followers"]["not_modified"] == 4
    assert stats["by_token"][simulator.token_label("tests-token")]["not_modified"] == 4


def test_if_modified_since(served):
    simulator, session = served
    url = f"{simulator.base_url}/repos/octocat/Hello-World"
    modified = session.get(url).headers["Last-Modified"]
    assert session.get(url, headers={"If-Modified-Since": modified}).status_code == 304
    earlier = formatdate(parsedate_to_datetime(modified).timestamp() - 1, usegmt=True)
    assert session.get(url, headers={"If-Modified-Since": earlier}).status_code == 200
    simulator.world.star("carol", "octocat/Hello-World")     # in the same second: still seen
    changed = session.get(url, headers={"If-Modified-Since": modified})
    assert changed.status_code == 200 and changed.json()["stargazers_count"] == 3
    assert parsedate_to_datetime(changed.headers["Last-Modified"]) > parsedate_to_datetime(modified)


@pytest.mark.parametrize("change, shown_in", [
    (lambda w: w.follow("carol", "bob"),
     {"/users/bob", "/users/carol", "/user/4", "/users/bob/followers", "/users/carol/following"}),
    (lambda w: w.star("carol", "octocat/spoon-knife"),
     {"/users/carol/starred", "/repos/octocat/spoon-knife", "/repos/octocat/spoon-knife/stargazers",
      "/users/octocat/repos", "/repositories"}),
    (lambda w: w.star("carol", "octocat/Hello-World"),     # shown in starred lists and the fork's parent
     {"/users/carol/starred", "/users/alice/starred", "/users/bob/starred", "/repos/octocat/Hello-World",
      "/repos/alice/Hello-World", "/users/octocat/repos", "/repositories"}),
    (lambda w: w.update_user("octocat", name="Mona", bio="🐙"), {"/users/octocat"}),
    (lambda w: w.update_user("carol", site_admin=True),     # simple users show site_admin
     {"/users/carol", "/user/4", "/users/octocat/followers", "/users"}),
    (lambda w: w.update_repo("acme/rocket", description="To the moon"),
     {"/repositories/104", "/users/alice/starred", "/repositories"}),
])
def test_a_change_changes_the_etag_of_every_response_that_shows_it(served, change, shown_in):
    simulator, session = served
    base = simulator.base_url
    before = etags(session, base)
    change(simulator.world)
    after = etags(session, base)
    changed = {path for path in PATHS if before[path] != after[path]} - {"/rate_limit"}
    assert changed == shown_in
    for path in shown_in:
        assert session.get(base + path, headers={"If-None-Match": before[path]}).status_code == 200


def test_stale_validators_cost_quota_and_fresh_ones_do_not(served):
    simulator, session = served
    url = f"{simulator.base_url}/users/bob"
    old = session.get(url).headers["ETag"]
    simulator.world.follow("carol", "bob")
    refreshed = session.get(url, headers={"If-None-Match": old})
    assert refreshed.status_code == 200 and refreshed.json()["followers"] == 2
    assert refreshed.headers["x-ratelimit-used"] == "2"
    again = session.get(url, headers={"If-None-Match": refreshed.headers["ETag"]})
    assert again.status_code == 304 and again.headers["x-ratelimit-used"] == "2"


def test_validators_hold_without_the_page_cache():
    """Evicted pages are re-rendered: same body, same ETag; a change still shows."""
    with serving(tiny_world(), cache_bytes=1) as (simulator, session):
        url = f"{simulator.base_url}/users/octocat/followers"
        first, second = session.get(url), session.get(url)
        session.get(f"{simulator.base_url}/users/bob")                 # evicts the followers page
        assert first.headers["ETag"] == second.headers["ETag"] == session.get(url).headers["ETag"]
        assert session.get(url, headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
        simulator.world.unfollow("bob", "octocat")
        changed = session.get(url, headers={"If-None-Match": first.headers["ETag"],
                                            "If-Modified-Since": first.headers["Last-Modified"]})
        assert changed.status_code == 200 and [u["login"] for u in changed.json()] == ["alice", "carol"]
