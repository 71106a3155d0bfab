"""Paging exactly as GitHub: per_page 30 by default, 100 at most, Link headers (next, last, prev,
first) pointing at id-based URLs, none when one page holds everything, the stargazer cap."""

import pytest

from github_simulator import World
from github_simulator.api import PAGINATION_LIMITED

from .conftest import collect, hub, serving, tiny_world


@pytest.fixture(scope="module")
def served(big_world):
    with serving(big_world) as pair:
        yield pair


def test_per_page_defaults_to_30_and_is_capped_at_100(served, big_world):
    simulator, session = served
    login = hub(big_world)
    url = f"{simulator.base_url}/users/{login}/followers"
    assert len(big_world.followers_of(login)) > 100
    assert len(session.get(url).json()) == 30
    assert len(session.get(url, params={"per_page": 0}).json()) == 30
    assert len(session.get(url, params={"per_page": 7}).json()) == 7
    assert len(session.get(url, params={"per_page": 1000}).json()) == 100


def test_link_header_relations(served, big_world):
    simulator, session = served
    login = hub(big_world)
    user_id = big_world.user(login)["id"]
    total = len(big_world.followers_of(login))
    last = -(-total // 10)
    base = f"{simulator.base_url}/user/{user_id}/followers?per_page=10&page="
    url = f"{simulator.base_url}/users/{login}/followers"

    first = session.get(url, params={"per_page": 10})
    assert first.headers["Link"] == f'<{base}2>; rel="next", <{base}{last}>; rel="last"'
    middle = session.get(url, params={"per_page": 10, "page": 3})
    assert middle.headers["Link"] == (f'<{base}2>; rel="prev", <{base}4>; rel="next", '
                                      f'<{base}{last}>; rel="last", <{base}1>; rel="first"')
    final = session.get(url, params={"per_page": 10, "page": last})
    assert final.headers["Link"] == f'<{base}{last - 1}>; rel="prev", <{base}1>; rel="first"'
    assert len(final.json()) == total - 10 * (last - 1)
    beyond = session.get(url, params={"per_page": 10, "page": last + 5})
    assert beyond.json() == [] and set(beyond.links) == {"prev", "first"}


def test_no_link_header_when_one_page_holds_everything():
    with serving(tiny_world()) as (simulator, session):
        response = session.get(f"{simulator.base_url}/users/octocat/followers")
        assert [u["login"] for u in response.json()] == ["alice", "bob", "carol"]
        assert "Link" not in response.headers
        empty = session.get(f"{simulator.base_url}/users/acme/following")
        assert empty.json() == [] and "Link" not in empty.headers


@pytest.mark.parametrize("kind", ["followers", "following", "starred", "repos"])
def test_following_next_links_reads_every_list_exactly(served, big_world, kind):
    simulator, session = served
    truth = {"followers": big_world.followers_of, "following": big_world.following_of,
             "starred": big_world.starred_by, "repos": big_world.repos_of}[kind]
    key = "login" if kind in ("followers", "following") else "full_name"
    checked_multi_page = False
    for login in sorted(big_world.logins(), key=lambda name: -len(truth(name)))[:3] + big_world.logins()[:5]:
        items, pages = collect(session, f"{simulator.base_url}/users/{login}/{kind}", per_page=13)
        assert [item[key] for item in items] == truth(login)
        checked_multi_page |= pages > 2
    assert checked_multi_page


def test_stargazers_pages_read_every_stargazer(served, big_world):
    simulator, session = served
    name = max((n for login in big_world.logins() for n in big_world.repos_of(login)),
               key=lambda n: len(big_world.stargazers_of(n)))
    items, pages = collect(session, f"{simulator.base_url}/repos/{name}/stargazers", per_page=50)
    assert [u["login"] for u in items] == big_world.stargazers_of(name) and pages > 1


def test_users_since_pages_through_every_account(served, big_world):
    simulator, session = served
    response = session.get(f"{simulator.base_url}/users", params={"per_page": 100})
    assert response.links["first"]["url"] == f"{simulator.base_url}/users{{?since}}"
    assert response.links["next"]["url"] == f"{simulator.base_url}/users?per_page=100&since={response.json()[-1]['id']}"
    items, pages = collect(session, f"{simulator.base_url}/users", per_page=100)
    assert [u["login"] for u in items] == big_world.logins() and pages == 15
    ids = [u["id"] for u in items]
    assert ids == sorted(ids) and ids[-1] > len(ids)     # gaps in the id sequence, like GitHub's
    assert session.get(f"{simulator.base_url}/users", params={"since": ids[-1]}).json() == []


def test_repositories_since_lists_public_repositories_only(served, big_world):
    simulator, session = served
    items, _ = collect(session, f"{simulator.base_url}/repositories", since=0, per_page=100)
    public = {n for login in big_world.logins() for n in big_world.repos_of(login)}
    assert {r["full_name"] for r in items} == public and not any(r["private"] for r in items)


def test_stargazers_stop_at_page_400_with_githubs_message():
    users = [{"login": f"fan{i}"} for i in range(402)] + [{"login": "star"}]
    stars = [[f"fan{i}", "star/famous"] for i in range(402)]
    world = World.from_dict({"users": users, "repos": [{"full_name": "star/famous", "id": 5}], "stars": stars})
    with serving(world) as (simulator, session):
        url = f"{simulator.base_url}/repos/star/famous/stargazers"
        first = session.get(url, params={"per_page": 1})
        assert first.links["last"]["url"].endswith("/repositories/5/stargazers?per_page=1&page=400")
        at_cap = session.get(url, params={"per_page": 1, "page": 400})
        assert at_cap.status_code == 200 and at_cap.json()[0]["login"] == "fan399"
        assert "next" not in at_cap.links and "prev" in at_cap.links
        past = session.get(url, params={"per_page": 1, "page": 401})
        assert past.status_code == 422
        assert past.json()["message"] == PAGINATION_LIMITED
        assert past.json()["message"].startswith("In order to keep the API fast for everyone, pagination is limited")
        assert past.json()["documentation_url"] == "https://docs.github.com/v3/#pagination"
        everything = session.get(url, params={"per_page": 100, "page": 5})
        assert [u["login"] for u in everything.json()] == ["fan400", "fan401"]
