"""Deterministic generation of a GitHub-like social graph (see ``World.generate``).

Popularity is Pareto-distributed, so follower, following, repository and star counts are
heavy-tailed: a few hubs with thousands of followers, most accounts with a handful or none. About
6% of accounts are organisations (which neither follow nor star), about 15% of repositories are
forks, 5% are private. Only identity and the graph are built here; profile and repository details
are derived on demand from the seed (``fake.user_details`` / ``fake.repo_details``).

Each step draws from one ``random.Random(seed)`` in a fixed order, so a seed always gives the same
world. Hot loops use ``rng.random()`` directly: generation must take seconds for 20,000+ accounts.
"""

import random
from itertools import accumulate

from . import fake
from .model import Repo, User


def generate(users, seed):
    """``(accounts, repositories)``, each sorted by id, fully linked."""
    rng = random.Random(seed)
    accounts = _accounts(rng, users)
    popularity = [rng.paretovariate(1.05) * (2.0 if a.is_org else 1.0) for a in accounts]
    people = [a for a in accounts if not a.is_org]
    _follows(rng, accounts, people, popularity)
    pool = fake.repo_names(rng)
    appeal = _repositories(rng, accounts, popularity, pool)
    _forks(rng, people, appeal, pool)
    repos = sorted(appeal, key=lambda r: r.created)
    repo_id = 1000
    for repo in repos:   # ids follow creation time, with gaps, as on GitHub
        repo_id += 1 if rng.random() < 0.8 else 1 + int(rng.expovariate(0.2))
        repo.id = repo_id
    _stars(rng, people, [r for r in repos if appeal[r] > 0], appeal)
    return accounts, repos


def _accounts(rng, users):
    taken = set()
    accounts = []
    user_id = 0
    span = fake.WORLD_NOW - 86400 * 30 - fake.GITHUB_START
    for index in range(users):
        # Gaps in the id sequence, like GitHub's (deleted and spam accounts).
        user_id += 1 if rng.random() < 0.7 else 1 + int(rng.expovariate(0.3))
        is_org = index > 0 and rng.random() < 0.06
        created = fake.GITHUB_START + span * index // users + int(rng.random() * 3600)
        accounts.append(User(user_id, fake.login(rng, taken, is_org), is_org, rng.random() < 0.0005, created))
    return accounts


def _follows(rng, accounts, people, popularity):
    """Each person follows a heavy-tailed number of accounts, chosen by popularity."""
    cum = list(accumulate(popularity))
    for person in people:
        wanted = min(int(rng.paretovariate(1.15) * 1.6) - 1, len(accounts) - 1)
        if wanted <= 0:
            continue
        for target in dict.fromkeys(rng.choices(accounts, cum_weights=cum, k=wanted)):
            if target is not person:
                person.following[target] = None
                target.followers[person] = None


def _repositories(rng, accounts, popularity, pool):
    """Original repositories; returns ``{repo: star appeal}`` (0 for private ones), where appeal is
    Pareto-distributed and grows with the owner's popularity."""
    rand, pareto, now = rng.random, rng.paretovariate, fake.WORLD_NOW
    appeal = {}
    for account, pop in zip(accounts, popularity, strict=True):
        names = set()
        for _ in range(min(int(pareto(1.5) * (3.0 if account.is_org else 1.5)) - 1, 500)):
            created = account.created + int(rand() * (now - account.created))
            repo = Repo(0, account, fake.repo_name(rng, pool, names), rand() < 0.05, created)
            account.repos[repo] = None
            appeal[repo] = 0.0 if repo.private else pareto(1.1) * pop ** 0.5
    return appeal


def _forks(rng, people, appeal, pool):
    """A quarter of the people fork a few popular public repositories; forks are rarely starred."""
    rand, now = rng.random, fake.WORLD_NOW
    originals = [r for r, a in appeal.items() if a > 0]
    cum = list(accumulate(appeal[r] for r in originals))
    for person in people:
        if rand() >= 0.25:
            continue
        names = {r.name.lower() for r in person.repos}
        for parent in dict.fromkeys(rng.choices(originals, cum_weights=cum, k=int(rng.paretovariate(1.5)))):
            if parent.owner is person:
                continue
            name = parent.name if parent.name.lower() not in names else fake.repo_name(rng, pool, names)
            names.add(name.lower())
            earliest = max(person.created, parent.created)
            fork = Repo(0, person, name, False, earliest + int(rand() * (now - earliest)))
            fork.parent = parent
            person.repos[fork] = None
            if parent.forks is None:
                parent.forks = {}
            parent.forks[fork] = None
            appeal[fork] = appeal[parent] * 0.01


def _stars(rng, people, starrable, appeal):
    """Each person stars a heavy-tailed number of public repositories by appeal, at a date after
    both existed; applied in date order so that every starred and stargazers list is chronological."""
    rand, now = rng.random, fake.WORLD_NOW
    cum = list(accumulate(appeal[r] for r in starrable))
    stars = []
    for person in people:
        wanted = min(int(rng.paretovariate(1.1) * 1.8) - 1, len(starrable))
        if wanted <= 0:
            continue
        for repo in dict.fromkeys(rng.choices(starrable, cum_weights=cum, k=wanted)):
            earliest = max(person.created, repo.created)
            stars.append((earliest + int(rand() * (now - earliest)), person, repo))
    stars.sort(key=lambda star: star[0])
    for starred_at, person, repo in stars:
        person.starred[repo] = starred_at
        repo.stargazers[person] = starred_at
