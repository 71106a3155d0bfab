"""Identity and change: case-insensitive logins and names, renamed users (old login 404, id
works), renamed repositories (301 to /repositories/{id}), deletions (404 everywhere), private
repositories (never listed, 404)."""


def assert_not_found(session, base, *paths):
    """Each of `paths` under `base` answers 404."""
    for path in paths:
        assert session.get(f"{base}{path}").status_code == 404, path


def test_logins_and_repository_names_match_case_insensitively(served):
    simulator, session = served
    base = simulator.base_url
    assert session.get(f"{base}/users/OcToCaT").json()["login"] == "octocat"
    assert [u["login"] for u in session.get(f"{base}/users/OCTOCAT/followers").json()] == ["alice", "bob", "carol"]
    assert session.get(f"{base}/repos/OCTOCAT/hello-world").json()["full_name"] == "octocat/Hello-World"
    assert len(session.get(f"{base}/repos/octocat/HELLO-WORLD/stargazers").json()) == 2


def test_renamed_user_old_login_404_new_login_and_id_work(served):
    simulator, session = served
    base = simulator.base_url
    octocat_id = session.get(f"{base}/users/octocat").json()["id"]
    simulator.world.rename_user("octocat", "monalisa")
    assert_not_found(session, base, "/users/octocat", "/users/octocat/followers")
    by_id = session.get(f"{base}/user/{octocat_id}").json()
    assert by_id["login"] == "monalisa" and by_id["url"] == f"{base}/users/monalisa"
    assert session.get(f"{base}/users/monalisa").json() == by_id
    following = session.get(f"{base}/users/alice/following").json()
    assert "monalisa" in [u["login"] for u in following]
    # Paging links are id-based, so a crawl that started before the rename keeps going.
    assert session.get(f"{base}/user/{octocat_id}/followers").status_code == 200


def test_renamed_repository_answers_301_to_its_id(served, schemas):
    simulator, session = served
    base = simulator.base_url
    simulator.world.rename_repo("octocat/Hello-World", "hello-universe")
    moved = session.get(f"{base}/repos/octocat/Hello-World", allow_redirects=False)
    assert moved.status_code == 301
    assert moved.headers["Location"] == f"{base}/repositories/100"
    assert moved.json()["message"] == "Moved Permanently" and moved.json()["url"] == f"{base}/repositories/100"
    schemas.validate(moved.json(), schemas.response("/repos/{owner}/{repo}", "301"))
    followed = session.get(f"{base}/repos/octocat/hello-world")              # requests follows the 301
    assert followed.status_code == 200 and followed.json()["full_name"] == "octocat/hello-universe"
    assert [r.status_code for r in followed.history] == [301]
    stargazers = session.get(f"{base}/repos/octocat/Hello-World/stargazers", params={"per_page": 1},
                             allow_redirects=False)
    assert stargazers.status_code == 301
    assert stargazers.headers["Location"] == f"{base}/repositories/100/stargazers?per_page=1"
    assert session.get(f"{base}/repos/octocat/hello-universe").status_code == 200


def test_repositories_of_a_renamed_user_answer_301(served):
    simulator, session = served
    base = simulator.base_url
    simulator.world.rename_user("octocat", "monalisa")
    moved = session.get(f"{base}/repos/octocat/spoon-knife", allow_redirects=False)
    assert moved.status_code == 301 and moved.headers["Location"] == f"{base}/repositories/101"
    fork = session.get(f"{base}/repos/alice/Hello-World").json()
    assert fork["parent"]["full_name"] == "monalisa/Hello-World"
    assert fork["parent"]["owner"]["login"] == "monalisa"


def test_deleted_user_is_gone_everywhere(served):
    simulator, session = served
    base = simulator.base_url
    simulator.world.delete_user("alice")
    assert_not_found(session, base, "/users/alice", "/user/2", "/users/alice/repos", "/repos/alice/Hello-World",
                     "/repositories/102")
    octocat = session.get(f"{base}/users/octocat").json()
    assert octocat["followers"] == 2
    assert [u["login"] for u in session.get(f"{base}/users/octocat/followers").json()] == ["bob", "carol"]
    assert [u["login"] for u in session.get(f"{base}/repos/acme/rocket/stargazers").json()] == ["octocat"]
    assert session.get(f"{base}/repos/octocat/Hello-World").json()["forks_count"] == 0
    assert "alice" not in [u["login"] for u in session.get(f"{base}/users").json()]


def test_deleted_repository_is_gone_everywhere(served):
    simulator, session = served
    base = simulator.base_url
    simulator.world.delete_repo("acme/rocket")
    assert_not_found(session, base, "/repos/acme/rocket", "/repositories/104", "/repos/acme/rocket/stargazers")
    assert [r["full_name"] for r in session.get(f"{base}/users/alice/starred").json()] == ["octocat/Hello-World"]
    assert session.get(f"{base}/users/acme").json()["public_repos"] == 0


def test_private_repositories_are_never_listed(served):
    simulator, session = served
    base = simulator.base_url
    # 404, never 403
    assert_not_found(session, base, "/repos/alice/secret", "/repositories/103", "/repos/alice/secret/stargazers")
    assert [r["full_name"] for r in session.get(f"{base}/users/alice/repos").json()] == ["alice/Hello-World"]
    assert session.get(f"{base}/users/alice").json()["public_repos"] == 1
    listed = [r["full_name"] for r in session.get(f"{base}/repositories").json()]
    assert "alice/secret" not in listed and len(listed) == 4
    assert session.get(f"{base}/users/alice/repos", params={"type": "member"}).json() == []


def test_unknown_paths_and_methods_answer_404(served):
    simulator, session = served
    base = simulator.base_url
    for response in (session.get(f"{base}/users/octocat/gists"), session.get(f"{base}/user/abc"),
                     session.post(f"{base}/users/octocat"), session.delete(f"{base}/repos/octocat/Hello-World")):
        assert response.status_code == 404 and response.json()["message"] == "Not Found"
    assert simulator.stats()["by_endpoint"]["unknown"]["errors"] == 4
