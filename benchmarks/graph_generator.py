"""The synthetic, heavy-tailed GitHub graph behind the API benchmarks, generated in memory and deterministic: the
same sizes and random seed always give the same developers, repositories and edges (only the bookkeeping
timestamps are today's). benchmarks/graph_loader.py writes it into the database; benchmarks/seed_database.py
describes its shape and ties the two together.
"""
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

# The term the benchmark's `name__icontains` filter looks for: one of the surnames below, so about 1 synced
# developer in len(LAST_NAMES) matches it, at any size.
NAME_SEARCH_TERM = "lovelace"

FIRST_NAMES = [
    "Ada", "Alan", "Alice", "Amara", "Anders", "Aneesh", "Anya", "Ari", "Barbara", "Ben", "Bjarne", "Carla", "Chen",
    "Chidi", "Claire", "Dana", "Dennis", "Diego", "Elena", "Emil", "Eva", "Farah", "Felix", "Fatima", "Grace",
    "Guido", "Hana", "Hugo", "Ines", "Ivan", "Jamal", "James", "Jin", "Joan", "Jonas", "Julia", "Kai", "Ken",
    "Kira", "Lars", "Lea", "Leila", "Linus", "Luca", "Maja", "Malik", "Marta", "Mateo", "Mei", "Mira", "Nadia",
    "Niklas", "Noor", "Olga", "Omar", "Pablo", "Priya", "Rafael", "Rania", "Ravi", "Rosa", "Sam", "Sara", "Sofia",
    "Tariq", "Tom", "Uma", "Vera", "Victor", "Wei", "Yara", "Yuki", "Zoe"
]
LAST_NAMES = [
    "Abbott", "Adeyemi", "Almeida", "Andersson", "Bauer", "Becker", "Brown", "Castro", "Chen", "Costa", "Dubois",
    "Eriksen", "Fischer", "Garcia", "Gupta", "Hansen", "Hoffmann", "Ibrahim", "Ito", "Jensen", "Kaur", "Khan",
    "Kim", "Kowalski", "Kumar", "Larsen", "Lee", "Lopez", "Lovelace", "Martin", "Meyer", "Moreau", "Muller",
    "Nakamura", "Nguyen", "Novak", "Okafor", "Olsen", "Park", "Patel", "Perez", "Petrov", "Quinn", "Ramos", "Rossi",
    "Sato", "Schmidt", "Silva", "Singh", "Smith", "Suzuki", "Tanaka", "Torres", "Wagner", "Wang", "Weber", "Wilson",
    "Yamamoto", "Yilmaz", "Zhang"
]
WORDS = [
    "async", "atlas", "beacon", "binary", "bolt", "byte", "cargo", "cinder", "cloud", "comet", "core", "crab",
    "delta", "drift", "echo", "ember", "fable", "falcon", "flux", "forge", "frost", "gadget", "garden", "glide",
    "graph", "harbor", "hydra", "index", "iron", "jet", "kernel", "kite", "lambda", "lantern", "ledger", "lens",
    "lumen", "magnet", "maple", "matrix", "meadow", "mesh", "nebula", "nimbus", "nova", "orbit", "otter", "pixel",
    "pulse", "quartz", "quill", "radar", "raven", "relay", "rocket", "rust", "sage", "shard", "signal", "sonar",
    "spark", "spruce", "stack", "swift", "tensor", "thunder", "tide", "token", "trail", "vector", "vertex",
    "willow", "yarn", "zephyr"
]
LOCATIONS = [
    "Berlin", "San Francisco", "London", "Bangalore", "Sao Paulo", "Tokyo", "Paris", "Toronto", "Lagos",
    "Amsterdam", "Seoul", "Beijing", "New York", "Sydney", "Warsaw", "Stockholm", "Remote", "Earth",
]
COMPANIES = ["@acme", "Initech", "Globex", "Umbrella", "Hooli", "Stark Industries", "Wayne Enterprises", "Freelance"]
LANGUAGES = [  # (language, weight): roughly GitHub's mix, with repositories that have none
    ("JavaScript", 16), ("Python", 15), ("TypeScript", 10), ("Java", 9), ("Go", 6), ("C++", 5), ("C", 4),
    ("Ruby", 4), ("PHP", 4), ("Rust", 4), ("Shell", 4), ("C#", 4), ("Kotlin", 2), ("Swift", 2),
    ("HTML", 3), (None, 8),
]
LICENSES = ["MIT", "Apache-2.0", "GPL-3.0", "BSD-3-Clause", None, None]
TOPICS = ["cli", "api", "web", "machine-learning", "database", "devops", "game", "library", "tooling", "docs"]

# Shape of the graph. Followees follow weight (rank + offset) ** -exponent over a random order of the
# developers: with 100,000 developers and 1,000,000 edges the biggest hub has about 17,000 followers, the
# hundredth about 1,000 and the median developer 2 or 3. Followers, owners and stargazers are less skewed.
FOLLOWEE_SHAPE = (1.0, 5)
FOLLOWER_SHAPE = (0.6, 10)
OWNER_SHAPE = (0.8, 10)
STARRED_SHAPE = (1.0, 5)
STARGAZER_SHAPE = (0.5, 10)
STUB_FRACTION = 0.4
OWNED_BY_STUB_FRACTION = 0.15
HUB_FRACTION = 0.01  # the most-followed 1% are synced developers: hubs are crawled first

GITHUB_EPOCH = datetime(2008, 2, 8, tzinfo=UTC)
GITHUB_SPAN_SECONDS = int((datetime(2025, 6, 1, tzinfo=UTC) - GITHUB_EPOCH).total_seconds())


@dataclass
class Graph:
    """A generated graph: developers and repositories as dicts of field values, edges as pairs of indexes."""

    developers: list  # dicts of Developer field values, keyed by attribute name
    follows: list  # (follower index, followee index)
    repositories: list  # dicts of Repository field values; "owner" is a developer index
    stars: list  # (developer index, repository index)
    now: datetime


def _cum_weights(count, shape):
    exponent, offset = shape
    total, cumulative = 0.0, []
    for rank in range(count):
        total += (rank + 1 + offset) ** -exponent
        cumulative.append(total)
    return cumulative


def _github_time(rng):
    return GITHUB_EPOCH + timedelta(seconds=rng.randrange(GITHUB_SPAN_SECONDS))


def _uuid(rng):
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _pairs(rng, count, left, right, keep):
    """`count` distinct (a, b) pairs that `keep(a, b)` accepts; `left` and `right` are (population, cum weights)."""
    seen, pairs, idle_rounds = set(), [], 0
    width = max(right[0], default=0) + 1
    while len(pairs) < count:
        before = len(pairs)
        batch = int((count - before) * 1.3) + 64
        lefts = rng.choices(left[0], cum_weights=left[1], k=batch)
        for a, b in zip(lefts, rng.choices(right[0], cum_weights=right[1], k=batch), strict=True):
            if a * width + b in seen or not keep(a, b):
                continue
            seen.add(a * width + b)
            pairs.append((a, b))
            if len(pairs) == count:
                break
        idle_rounds = idle_rounds + 1 if len(pairs) == before else 0
        if idle_rounds > 50:
            raise ValueError(f"cannot draw {count:,} distinct pairs from a graph this small")
    return pairs


def generate_graph(rng, developer_count, follow_count, repository_count, star_count):
    """The whole graph, in memory: developer and repository dicts, edges as pairs of indexes."""
    generator = Generator(rng, developer_count)
    developers = generator.developers()
    follows = generator.follows(follow_count)
    repositories = generator.repositories(repository_count, developers)
    stars = generator.stars(star_count, repository_count)
    _fill_counts(developers, follows, repositories, stars, generator.synced_count)
    return Graph(developers, follows, repositories, stars, generator.now)


class Generator:
    """Draws the graph's parts. Developer i is synced when i < synced_count and a stub after."""

    def __init__(self, rng, developer_count):
        self.rng = rng
        self.now = datetime.now(UTC)
        self.developer_count = developer_count
        self.synced_count = developer_count - int(developer_count * STUB_FRACTION)
        self.synced = range(self.synced_count)
        self.stubs = range(self.synced_count, developer_count)

    def developers(self):
        """Synced developers then stubs, with random github ids and logins unique in any case."""
        rng, now = self.rng, self.now
        github_ids = rng.sample(range(1, 200_000_000), self.developer_count)
        developers = []
        for index in range(self.developer_count):
            login = f"{rng.choice(WORDS)}{rng.choice(WORDS)}-{index}"  # "-{index}": unique in any case
            if rng.random() < 0.3:
                login = login.capitalize()
            row = {"id": _uuid(rng), "github_id": github_ids[index], "login": login, "discovered_at": now}
            if index < self.synced_count:
                row.update(self._profile(login))
            developers.append(row)
        return developers

    def _profile(self, login):
        """The fields a synced developer has and a stub does not."""
        rng, now = self.rng, self.now
        created = _github_time(rng)
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        return {
            "type": "Organization" if rng.random() < 0.05 else "User",
            "name": f"{first} {last}" if rng.random() < 0.9 else None,
            "location": rng.choice(LOCATIONS) if rng.random() < 0.6 else None,
            "bio": f"{rng.choice(WORDS).capitalize()} and {rng.choice(WORDS)} at heart." if rng.random() < 0.4
            else None,
            "company": rng.choice(COMPANIES) if rng.random() < 0.3 else None,
            "email": f"{login.lower()}@example.com" if rng.random() < 0.3 else None,
            "blog": f"https://{login.lower()}.example.com" if rng.random() < 0.2 else None,
            "twitter_username": login.lower()[:15] if rng.random() < 0.1 else None,
            "created_at": created,
            "updated_at": created + timedelta(seconds=rng.randrange(GITHUB_SPAN_SECONDS // 4)),
            "public_gists": int(rng.paretovariate(1.5)) - 1,
            "seed_distance": rng.randrange(0, 6),
            "profile_synced_at": now, "followers_synced_at": now, "following_synced_at": now,
            "starred_synced_at": now, "repositories_synced_at": now,
        }

    def follows(self, count):
        """(follower, followee) pairs: heavy-tailed followees, milder followers, a synced end on each."""
        rng, synced_count, everybody = self.rng, self.synced_count, self.developer_count
        # The most-followed 1% are synced developers (hubs get crawled); after them everybody is mixed.
        hub_count = min(max(1, int(everybody * HUB_FRACTION)), synced_count)
        rest = [*self.synced[hub_count:], *self.stubs]
        rng.shuffle(rest)
        followees = rng.sample(self.synced[:hub_count], hub_count) + rest
        followers = rng.sample(range(everybody), everybody)
        return _pairs(
            rng, count,
            (followers, _cum_weights(everybody, FOLLOWER_SHAPE)),
            (followees, _cum_weights(everybody, FOLLOWEE_SHAPE)),
            lambda a, b: a != b and (a < synced_count or b < synced_count),
        )

    def repositories(self, count, developers):
        """Repository dicts, owned mostly by synced developers (a few by stubs, as starred repositories are)."""
        rng = self.rng
        owner_order = rng.sample(self.synced, self.synced_count) or list(range(self.developer_count))
        owners = rng.choices(owner_order, cum_weights=_cum_weights(len(owner_order), OWNER_SHAPE), k=count)
        github_ids = rng.sample(range(1, 900_000_000), count)
        languages = rng.choices([name for name, _ in LANGUAGES], [weight for _, weight in LANGUAGES], k=count)
        repositories = []
        for index in range(count):
            owner = rng.choice(self.stubs) if self.stubs and rng.random() < OWNED_BY_STUB_FRACTION else owners[index]
            name = f"{rng.choice(WORDS)}-{rng.choice(WORDS)}-{index}"  # "-{index}": full_name unique in any case
            created = _github_time(rng)
            synced = rng.random() < 0.7
            repositories.append({
                "id": _uuid(rng),
                "github_id": github_ids[index],
                "owner": owner,
                "owner_github_id": developers[owner]["github_id"],
                "name": name,
                "full_name": f"{developers[owner]['login']}/{name}",
                "description": f"A {rng.choice(WORDS)} for {rng.choice(WORDS)}s." if rng.random() < 0.8 else None,
                "homepage": f"https://{name}.example.org" if rng.random() < 0.2 else None,
                "language": languages[index],
                "created_at": created,
                "updated_at": created + timedelta(seconds=rng.randrange(GITHUB_SPAN_SECONDS // 4)),
                "pushed_at": created + timedelta(seconds=rng.randrange(GITHUB_SPAN_SECONDS // 4)),
                "has_pages": rng.random() < 0.1,
                "archived": rng.random() < 0.05,
                "fork": rng.random() < 0.2,
                "subscribers_count": int(rng.paretovariate(1.2)) if synced else None,
                "open_issues_count": int(rng.paretovariate(1.3)) - 1,
                "forks_count": int(rng.paretovariate(1.1)) - 1,
                "topics": rng.sample(TOPICS, rng.randrange(0, 4)),
                "license": rng.choice(LICENSES),
                "discovered_at": self.now,
                "synced_at": self.now if synced else None,
                "stargazers_synced_at": self.now if synced else None,
            })
        return repositories

    def stars(self, count, repository_count):
        """(developer, repository) pairs: a few very popular repositories, a long tail of others."""
        if not (count and repository_count):
            return []
        rng, everybody = self.rng, self.developer_count
        return _pairs(
            rng, count,
            (rng.sample(range(everybody), everybody), _cum_weights(everybody, STARGAZER_SHAPE)),
            (rng.sample(range(repository_count), repository_count), _cum_weights(repository_count, STARRED_SHAPE)),
            lambda a, b: True,
        )


def _fill_counts(developers, follows, repositories, stars, synced_count):
    """Counts that agree with the edges (on synced developers only: a stub's profile was never read)."""
    followers, following = [0] * len(developers), [0] * len(developers)
    owned, stargazers = [0] * len(developers), [0] * len(repositories)
    for follower, followee in follows:
        following[follower] += 1
        followers[followee] += 1
    for repository in repositories:
        owned[repository["owner"]] += 1
    for _developer, repository in stars:
        stargazers[repository] += 1
    for index in range(synced_count):
        developers[index].update(
            followers_count=followers[index], following_count=following[index], public_repos=owned[index]
        )
    for index, repository in enumerate(repositories):
        repository["stargazers_count"] = repository["watchers_count"] = stargazers[index]
