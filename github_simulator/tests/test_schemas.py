"""Every endpoint's payloads validate against GitHub's official schema for that operation, on a
generated world (all its oddities: orgs, forks, archived, nulls, unicode, empty lists)."""

import pytest

from .conftest import serving

STAR = "application/vnd.github.star+json"


@pytest.fixture(scope="module")
def served(big_world):
    with serving(big_world) as pair:
        yield pair


def sample_logins(world):
    """The hubs, organisations, accounts with empty lists, and a spread of the rest."""
    logins = world.logins()
    by_followers = sorted(logins, key=lambda login: -len(world.followers_of(login)))
    orgs = [login for login in logins if world.find_user(login).is_org][:3]
    empty = [login for login in logins if not world.following_of(login) and not world.repos_of(login)][:3]
    return list(dict.fromkeys(by_followers[:3] + orgs + empty + logins[::60]))


def get(session, url, accept=None, **params):
    response = session.get(url, params=params, headers={"Accept": accept} if accept else None)
    assert response.status_code == 200, (url, response.status_code, response.text[:300])
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    return response.json()


def test_users_and_their_lists(served, big_world, schemas):
    simulator, session = served
    base = simulator.base_url
    schema = {name: schemas.response(f"/users/{{username}}{name}")
              for name in ("", "/followers", "/following", "/repos")}
    schema["by id"] = schemas.response("/user/{account_id}")
    schema["starred"] = schemas.variant("/users/{username}/starred", "Repository")
    schema["starred dated"] = schemas.variant("/users/{username}/starred", "Starred Repository")
    seen_fork = seen_dated = False
    for login in sample_logins(big_world):
        user = get(session, f"{base}/users/{login}")
        schemas.validate(user, schema[""])
        assert user == big_world.user(login)
        schemas.validate(get(session, f"{base}/user/{user['id']}"), schema["by id"])
        for name in ("/followers", "/following"):
            schemas.validate(get(session, f"{base}/users/{login}{name}", per_page=100), schema[name])
        repos = get(session, f"{base}/users/{login}/repos", per_page=100)
        schemas.validate(repos, schema["/repos"])
        assert all("subscribers_count" not in r for r in repos)
        seen_fork |= any(r["fork"] for r in repos)
        starred = get(session, f"{base}/users/{login}/starred", per_page=100)
        schemas.validate(starred, schema["starred"])
        dated = get(session, f"{base}/users/{login}/starred", accept=STAR, per_page=100)
        schemas.validate(dated, schema["starred dated"])
        assert [d["repo"] for d in dated] == starred
        seen_dated |= bool(dated)
    assert seen_fork and seen_dated


def test_repositories_and_stargazers(served, big_world, schemas):
    simulator, session = served
    base = simulator.base_url
    full = schemas.response("/repos/{owner}/{repo}")
    plain = schemas.variant("/repos/{owner}/{repo}/stargazers", "Simple User")
    dated = schemas.variant("/repos/{owner}/{repo}/stargazers", "Stargazer")
    names = [name for login in sample_logins(big_world) for name in big_world.repos_of(login)][:150]
    names += [big_world.starred_by(login)[0] for login in big_world.logins()[:50] if big_world.starred_by(login)]
    kinds = set()
    for name in dict.fromkeys(names):
        repo = get(session, f"{base}/repos/{name}")
        schemas.validate(repo, full)
        assert repo == big_world.repo(name) and "subscribers_count" in repo
        assert get(session, f"{base}/repositories/{repo['id']}") == repo
        kinds |= {k for k in ("fork", "archived", "organization", "license") if repo.get(k)}
        stargazers = get(session, f"{base}/repos/{name}/stargazers", per_page=100)
        schemas.validate(stargazers, plain)
        with_dates = get(session, f"{base}/repos/{name}/stargazers", accept=STAR, per_page=100)
        schemas.validate(with_dates, dated)
        assert [s["user"] for s in with_dates] == stargazers
    assert kinds == {"fork", "archived", "organization", "license"}


def test_listings_and_rate_limit(served, schemas):
    simulator, session = served
    base = simulator.base_url
    users = get(session, f"{base}/users", since=0, per_page=100)
    schemas.validate(users, schemas.response("/users"))
    schemas.validate(get(session, f"{base}/users", since=users[-1]["id"]), schemas.response("/users"))
    schemas.validate(get(session, f"{base}/repositories", since=0), schemas.response("/repositories"))
    schemas.validate(get(session, f"{base}/rate_limit"), schemas.response("/rate_limit"))
    anonymous = session.get(f"{base}/rate_limit", headers={"Authorization": None}).json()
    schemas.validate(anonymous, schemas.response("/rate_limit"))
    assert anonymous["rate"]["limit"] == 60


def test_error_payloads(served, big_world, schemas):
    simulator, session = served
    base = simulator.base_url
    missing = session.get(f"{base}/users/no-such-user-here")
    assert missing.status_code == 404
    schemas.validate(missing.json(), schemas.response("/users/{username}", "404"))
    assert missing.json()["message"] == "Not Found"
    no_repo = session.get(f"{base}/repos/nobody/nothing")
    schemas.validate(no_repo.json(), schemas.response("/repos/{owner}/{repo}", "404"))
    name = next(n for login in big_world.logins() for n in big_world.repos_of(login))
    capped = session.get(f"{base}/repos/{name}/stargazers", params={"page": 401})
    assert capped.status_code == 422
    schemas.validate(capped.json(), schemas.response("/repos/{owner}/{repo}/stargazers", "422"))
