"""Worlds: deterministic generation that looks like GitHub, exact JSON worlds, ground truth, mutations."""

import json

import pytest

from github_simulator import World

from .conftest import tiny_world


def test_generation_is_deterministic_per_seed():
    first, again = World.generate(users=400, seed=3), World.generate(users=400, seed=3)
    other = World.generate(users=400, seed=4)
    assert first.logins() == again.logins()
    assert [first.user(login) for login in first.logins()] == [again.user(login) for login in again.logins()]
    assert {login: first.followers_of(login) for login in first.logins()} == \
        {login: again.followers_of(login) for login in again.logins()}
    assert first.logins() != other.logins()


def test_generated_world_has_github_like_heavy_tails_and_variety():
    world = World.generate(users=5000, seed=42)
    logins = world.logins()
    profiles = [world.user(login) for login in logins]
    followers = sorted((p["followers"] for p in profiles), reverse=True)
    following = sorted((p["following"] for p in profiles), reverse=True)
    repos = sorted((p["public_repos"] for p in profiles), reverse=True)
    assert followers[0] >= 1000 and followers[1] >= 1000          # a few hubs with thousands of followers...
    assert followers[len(followers) // 2] <= 5                    # ...most accounts with a handful
    assert following[0] >= 100 and following[len(following) // 2] <= 5
    assert repos[0] >= 100 and repos[len(repos) // 2] <= 5 and repos[-1] == 0
    summary = world.summary()
    assert summary["max_stargazers"] >= 500 and summary["stars"] > 10 * summary["max_stargazers"]
    assert 0.02 < summary["organizations"] / len(logins) < 0.12
    assert summary["forks"] > 0 and summary["private_repositories"] > 0

    organisations = [p for p in profiles if p["type"] == "Organization"]
    assert organisations and all(p["following"] == 0 and not world.starred_by(p["login"]) for p in organisations)
    names = [p["name"] for p in profiles]
    assert None in names
    assert any(n and not n.isascii() for n in names)                    # accents, CJK, Cyrillic...
    assert any(n and any(ord(c) > 0xFFFF for c in n) for n in names)    # emoji
    assert any(p["bio"] and any(ord(c) > 0xFFFF for c in p["bio"]) for p in profiles)
    for field in ("company", "location", "email", "bio", "twitter_username", "hireable"):
        assert any(p[field] is None for p in profiles) and any(p[field] is not None for p in profiles), field
    assert any(p["blog"] == "" for p in profiles)                      # GitHub's "no blog" is "", not null
    assert any(not world.followers_of(login) for login in logins)      # empty lists
    assert any(login != login.lower() for login in logins)             # mixed-case logins

    hub_repos = [world.repo(name) for login in logins[:400] for name in world.repos_of(login)]
    assert any(r["fork"] and r["parent"] and r["source"] for r in hub_repos)
    assert any(r["archived"] for r in hub_repos)
    assert any(r["license"] is None for r in hub_repos) and any(r["license"] for r in hub_repos)
    assert any(r["description"] is None for r in hub_repos) and any(r["topics"] == [] for r in hub_repos)


def test_a_twenty_thousand_user_world_has_them_all():
    """The benchmarks' size (how long generating it takes is a benchmark's concern, not a test's)."""
    world = World.generate(users=20000, seed=1)
    assert len(world.logins()) == 20000


def test_profile_counts_are_the_true_list_lengths():
    world = World.generate(users=600, seed=11)
    for login in world.logins():
        profile = world.user(login)
        assert profile["followers"] == len(world.followers_of(login))
        assert profile["following"] == len(world.following_of(login))
        assert profile["public_repos"] == len(world.repos_of(login))
        for name in world.repos_of(login):
            assert world.repo(name)["stargazers_count"] == len(world.stargazers_of(name))
        for other in world.following_of(login):
            assert login in world.followers_of(other)


def test_stars_are_chronological_and_starred_lists_newest_first():
    world = World.generate(users=600, seed=11)
    for repo in world._repos.values():
        dates = list(repo.stargazers.values())
        assert dates == sorted(dates)
    for login in world.logins()[:200]:
        starred = world.starred_by(login)
        user = world.find_user(login)
        assert starred == [r.full_name for r in reversed(user.starred)]


def test_json_world_is_exact():
    world = tiny_world()
    octocat = world.user("OCTOCAT")
    assert octocat["login"] == "octocat" and octocat["id"] == 1 and octocat["name"] == "The Octocat 🐙"
    assert octocat["company"] is None and octocat["blog"] == "" and octocat["public_gists"] == 0
    assert octocat["followers"] == 3 and octocat["following"] == 1 and octocat["public_repos"] == 2
    assert world.followers_of("octocat") == ["alice", "bob", "carol"]
    assert world.user("acme")["type"] == "Organization"
    assert world.repos_of("alice") == ["alice/Hello-World"]                  # the private one is never shown
    assert world.stargazers_of("octocat/Hello-World") == ["alice", "bob"]
    assert world.starred_by("alice") == ["acme/rocket", "octocat/Hello-World"]  # by date: 2021 is the newest
    fork = world.repo("alice/hello-world")
    assert fork["fork"] and fork["parent"]["full_name"] == "octocat/Hello-World"
    hello = world.repo("octocat/Hello-World")
    assert hello["forks_count"] == 1 and hello["license"]["spdx_id"] == "MIT" and hello["topics"] == ["demo"]
    assert world.repo("acme/rocket")["archived"] is True


def test_json_world_loads_from_a_file(tmp_path):
    path = tmp_path / "world.json"
    path.write_text(json.dumps({"users": [{"login": "solo", "bio": "héllo"}]}), encoding="utf-8")
    world = World.load(path)
    assert world.logins() == ["solo"] and world.user("solo")["bio"] == "héllo" and world.user("solo")["id"] == 1


@pytest.mark.parametrize("data, message", [
    ({"users": [{"login": "a", "followers": 3}]}, "unknown fields"),
    ({"users": [{"login": "-bad-"}]}, "invalid or duplicate login"),
    ({"users": [{"login": "a"}, {"login": "A"}]}, "invalid or duplicate login"),
    ({"users": [{"login": "a"}], "repos": [{"full_name": "b/x"}]}, "unknown owner"),
    ({"users": [{"login": "a"}], "repos": [{"full_name": "a/x", "license": "wtfpl"}]}, "unknown licence"),
    ({"users": [{"login": "a"}, {"login": "o", "type": "Organization"}], "follows": [["o", "a"]]}, "cannot follow"),
    ({"users": [{"login": "a"}], "repos": [{"full_name": "a/x", "private": True}], "stars": [["a", "a/x"]]},
     "cannot be starred"),
])
def test_json_world_rejects_what_github_cannot_have(data, message):
    with pytest.raises(ValueError, match=message):
        World.from_dict(data)


def test_mutations_change_the_ground_truth():
    world = tiny_world()
    world.follow("carol", "bob")
    world.follow("carol", "bob")                                  # idempotent, like GitHub's PUT
    assert world.followers_of("bob") == ["alice", "carol"] and world.user("bob")["followers"] == 2
    world.unfollow("alice", "bob")
    assert world.followers_of("bob") == ["carol"] and world.user("alice")["following"] == 1
    world.star("carol", "octocat/spoon-knife")
    world.star("carol", "octocat/hello-world")
    assert world.starred_by("carol") == ["octocat/Hello-World", "octocat/spoon-knife"]
    assert world.repo("octocat/Hello-World")["stargazers_count"] == 3
    world.unstar("alice", "octocat/Hello-World")
    assert world.stargazers_of("octocat/Hello-World") == ["bob", "carol"]
    world.update_user("bob", name="Bøb", bio=None, hireable=True)
    bob = world.user("bob")
    assert (bob["name"], bob["bio"], bob["hireable"]) == ("Bøb", None, True)
    assert bob["updated_at"] > bob["created_at"]
    world.update_repo("octocat/spoon-knife", archived=True, topics=["x"])
    assert world.repo("octocat/spoon-knife")["archived"] and world.repo("octocat/spoon-knife")["topics"] == ["x"]


def test_mutations_refuse_what_github_refuses():
    world = tiny_world()
    refused = [
        (ValueError, world.follow, ("acme", "alice"), {}),
        (ValueError, world.follow, ("alice", "ALICE"), {}),
        (ValueError, world.star, ("acme", "octocat/Hello-World"), {}),
        (ValueError, world.star, ("bob", "alice/secret"), {}),
        (ValueError, world.rename_user, ("bob", "Alice"), {}),
        (ValueError, world.rename_repo, ("octocat/spoon-knife", "hello-world"), {}),
        (ValueError, world.update_user, ("bob",), {"followers": 9}),
        (KeyError, world.follow, ("nobody", "alice"), {}),
    ]
    for error, mutation, args, kwargs in refused:
        with pytest.raises(error):
            mutation(*args, **kwargs)


def test_renames_and_deletions_change_the_ground_truth():
    world = tiny_world()
    world.rename_user("octocat", "monalisa")
    assert world.followers_of("bob") == ["alice"] and "monalisa" in world.logins()
    with pytest.raises(KeyError):
        world.user("octocat")
    assert world.repos_of("monalisa") == ["monalisa/Hello-World", "monalisa/spoon-knife"]
    assert world.repo("alice/Hello-World")["parent"]["full_name"] == "monalisa/Hello-World"
    world.rename_repo("monalisa/spoon-knife", "fork-me")
    assert world.repos_of("monalisa") == ["monalisa/fork-me", "monalisa/Hello-World"]

    world.delete_user("alice")
    assert "alice" not in world.logins()
    assert world.followers_of("monalisa") == ["bob", "carol"] and world.user("monalisa")["followers"] == 2
    assert world.stargazers_of("acme/rocket") == ["monalisa"]
    assert world.repo("monalisa/Hello-World")["forks_count"] == 0        # alice's fork went with her
    world.delete_repo("acme/rocket")
    assert world.starred_by("monalisa") == [] and world.user("acme")["public_repos"] == 0


def test_deleting_a_fork_root_detaches_its_forks():
    world = tiny_world()
    world.delete_repo("octocat/Hello-World")
    fork = world.repo("alice/Hello-World")
    assert fork["fork"] is False and "parent" not in fork
    assert world.starred_by("bob") == []
