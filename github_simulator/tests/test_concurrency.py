"""Many clients at once: every counter stays exact, the quota is never overspent, and readers
racing writers only ever see consistent payloads."""

import random
import threading
from collections import Counter

import requests

from github_simulator import World

from .conftest import parallel, serving

THREADS = 24


def test_counters_stay_exact_under_many_concurrent_clients(big_world):
    logins = big_world.logins()
    tokens = [f"token-{i}" for i in range(4)]
    with serving(big_world, token=None) as (simulator, _):
        base = simulator.base_url

        def client(index):
            rng = random.Random(index)
            seen = Counter()
            etags = {}
            with requests.Session() as session:
                session.headers.update({"Authorization": f"token {tokens[index % 4]}", "User-Agent": "load"})
                for _ in range(40):
                    login = rng.choice(logins[:50])
                    path = rng.choice([f"/users/{login}", f"/users/{login}/followers", f"/users/{login}/starred",
                                       f"/users/{login}-gone", "/rate_limit"])
                    headers = {"If-None-Match": etags[path]} if path in etags and rng.random() < 0.5 else {}
                    response = session.get(base + path, headers=headers)
                    seen[(path == "/rate_limit", response.status_code)] += 1
                    if response.status_code == 200:
                        etags[path] = response.headers["ETag"]
            return seen

        seen = sum(parallel(THREADS, client), Counter())
        stats = simulator.stats()
        total = stats["total"]
        assert total["requests"] == THREADS * 40 == sum(seen.values())
        assert total["not_modified"] == seen[(False, 304)] + seen[(True, 304)] > 0
        assert total["errors"] == seen[(False, 404)] > 0
        free = seen[(True, 200)] + seen[(True, 304)] + seen[(False, 304)]
        assert total["quota_counted"] == total["requests"] - free
        assert sum(t["requests"] for t in stats["by_token"].values()) == total["requests"]
        assert sum(e["quota_counted"] for e in stats["by_endpoint"].values()) == total["quota_counted"]
        with requests.Session() as session:
            used = sum(session.get(f"{base}/rate_limit", headers={"Authorization": f"token {t}", "User-Agent": "x"})
                       .json()["rate"]["used"] for t in tokens)
        assert used == total["quota_counted"]


def test_concurrent_clients_never_overspend_a_quota():
    world = World.from_dict({"users": [{"login": "solo"}]})
    with serving(world, rate_limit=100) as (simulator, _):
        def client(_index):
            with requests.Session() as session:
                session.headers.update({"Authorization": "token shared", "User-Agent": "load"})
                return [session.get(f"{simulator.base_url}/users/solo").status_code for _ in range(10)]

        statuses = Counter(status for result in parallel(THREADS, client) for status in result)
        assert statuses == {200: 100, 403: THREADS * 10 - 100}
        assert simulator.stats()["total"]["quota_counted"] == 100


def test_readers_racing_writers_see_consistent_payloads():
    world = World.generate(users=300, seed=5)
    logins = world.logins()
    people = [login for login in logins if not world.find_user(login).is_org]
    hub = max(logins, key=lambda login: len(world.followers_of(login)))
    stop = threading.Event()

    def writer():
        rng = random.Random(1)
        while not stop.is_set():
            follower = rng.choice(people)
            if follower != hub:
                world.follow(follower, hub)
                world.unfollow(rng.choice(people), hub)

    with serving(world) as (simulator, _):
        thread = threading.Thread(target=writer)
        thread.start()
        try:
            def reader(_index):
                problems = []
                with requests.Session() as session:
                    session.headers.update({"Authorization": "token reader", "User-Agent": "load"})
                    for _ in range(15):
                        followers = session.get(f"{simulator.base_url}/users/{hub}/followers",
                                                params={"per_page": 100}).json()
                        if len({u["login"] for u in followers}) != len(followers):
                            problems.append("duplicate follower")
                        profile = session.get(f"{simulator.base_url}/users/{hub}").json()
                        if not 0 <= profile["followers"] <= len(logins):
                            problems.append(profile["followers"])
                return problems

            assert parallel(THREADS, reader) == [[]] * THREADS
        finally:
            stop.set()
            thread.join()
        with requests.Session() as session:
            served = session.get(f"{simulator.base_url}/users/{hub}",
                                 headers={"Authorization": "token reader", "User-Agent": "x"}).json()
        assert served["followers"] == len(world.followers_of(hub))
        assert simulator.stats()["total"]["errors"] == 0
