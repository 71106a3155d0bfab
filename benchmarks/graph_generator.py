"""The synthetic, heavy-tailed GitHub graph behind the API benchmarks, deterministic: the same sizes and random
seed always give the same developers, repositories and edges (only the bookkeeping timestamps are today's).
benchmarks/graph_loader.py writes it into the database; benchmarks/seed_database.py describes its shape and
ties the two together.

It is drawn as it is read, so that 10,000,000 edges take no more memory than 10,000: what is held is one entry
per developer and repository (keys, ids, logins, owners, counts), never an edge nor a whole row. The edges come
first, grouped by their first end (a follower's follows, a developer's stars, as a crawl writes a list it read):
each developer's number of edges is drawn first, then that many distinct other ends; the counts the rows carry
are tallied meanwhile, so the developers and repositories come after the edges.
"""
import uuid
from array import array
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
DRAW_CHUNK = 1_000_000  # draws of edges' first ends at a time


def _cum_weights(count, shape):
    exponent, offset = shape
    total, cumulative = 0.0, array("d")
    for rank in range(count):
        total += (rank + 1 + offset) ** -exponent
        cumulative.append(total)
    return cumulative


def _github_time(rng):
    return GITHUB_EPOCH + timedelta(seconds=rng.randrange(GITHUB_SPAN_SECONDS))


def _uuid(rng):
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _zeros(count):
    return array("q", bytes(8 * count))


def _degrees(rng, count, left, capacity):
    """How many pairs each index has as first end: `count` draws from `left` (population, cum weights), none
    beyond `capacity(index)` (the distinct second ends it can have)."""
    population, cum_weights = left
    degrees, remaining, idle_rounds = _zeros(len(population)), count, 0
    while remaining:
        placed = 0
        for a in rng.choices(population, cum_weights=cum_weights, k=min(remaining + remaining // 8 + 64, DRAW_CHUNK)):
            if degrees[a] < capacity(a):
                degrees[a] += 1
                placed += 1
                if placed == remaining:
                    break
        remaining -= placed
        idle_rounds = 0 if placed else idle_rounds + 1
        if idle_rounds > 50:
            raise ValueError(f"cannot draw {count:,} distinct pairs from a graph this small")
    return degrees


def _pairs(rng, degrees, right, keep):
    """(a, b) pairs grouped by a in index order: degrees[a] distinct b drawn from `right` (population, cum
    weights) that `keep(a, b)` accepts."""
    population, cum_weights = right
    for a, degree in enumerate(degrees):
        chosen, seen = [], set()
        while len(chosen) < degree:
            for b in rng.choices(population, cum_weights=cum_weights, k=degree - len(chosen) + 2):
                if b not in seen and keep(a, b):
                    seen.add(b)
                    chosen.append(b)
                    if len(chosen) == degree:
                        break
        for b in chosen:
            yield a, b


class Graph:  # pylint: disable=too-many-instance-attributes  # one array per per-row fact
    """A graph of these sizes, read in this order: follows(), stars(), developers(), repositories(). Developer i
    is synced when i < synced_count and a stub after. Edges are (index, index) pairs; rows are dicts of model
    field values keyed by attribute name (a repository's "owner" is a developer index)."""

    def __init__(self, rng, developer_count, follow_count, repository_count, star_count):
        self.rng, self.now = rng, datetime.now(UTC)
        self.developer_count, self.repository_count = developer_count, repository_count
        self.synced_count = developer_count - int(developer_count * STUB_FRACTION)
        self.synced = range(self.synced_count)
        self.stubs = range(self.synced_count, developer_count)
        self.developer_keys = [_uuid(rng) for _ in range(developer_count)]
        self.repository_keys = [_uuid(rng) for _ in range(repository_count)]
        self.github_ids = array("q", rng.sample(range(1, 200_000_000), developer_count))
        self.logins = [self._login(index) for index in range(developer_count)]
        self.owners = self._owners()
        self.followers, self.following = _zeros(developer_count), _zeros(developer_count)
        self.stargazers = _zeros(repository_count)
        self._follows = self._follow_plan(follow_count)
        self._stars = self._star_plan(star_count)
        self.unread = {"follows", "stars"}

    def _login(self, index):
        login = f"{self.rng.choice(WORDS)}{self.rng.choice(WORDS)}-{index}"  # "-{index}": unique in any case
        return login.capitalize() if self.rng.random() < 0.3 else login

    def _owners(self):
        """Each repository's owner: mostly synced developers, heavy-tailed; a few stubs (as starred repositories'
        owners are)."""
        rng, count = self.rng, self.repository_count
        owner_order = rng.sample(self.synced, self.synced_count) or list(range(self.developer_count))
        owners = array("q", rng.choices(owner_order, cum_weights=_cum_weights(len(owner_order), OWNER_SHAPE),
                                        k=count))
        for index in range(count):
            if self.stubs and rng.random() < OWNED_BY_STUB_FRACTION:
                owners[index] = rng.choice(self.stubs)
        return owners

    def _follow_plan(self, count):
        """(degrees, followees, keep): heavy-tailed followees, milder followers, a synced end on each edge."""
        rng, synced_count, everybody = self.rng, self.synced_count, self.developer_count
        # The most-followed 1% are synced developers (hubs get crawled); after them everybody is mixed.
        hub_count = min(max(1, int(everybody * HUB_FRACTION)), synced_count)
        rest = [*self.synced[hub_count:], *self.stubs]
        rng.shuffle(rest)
        followees = array("q", rng.sample(self.synced[:hub_count], hub_count) + rest)
        followers = array("q", rng.sample(range(everybody), everybody))
        degrees = _degrees(rng, count, (followers, _cum_weights(everybody, FOLLOWER_SHAPE)),
                           lambda a: everybody - 1 if a < synced_count else synced_count)
        return degrees, (followees, _cum_weights(everybody, FOLLOWEE_SHAPE)), (
            lambda a, b: a != b and (a < synced_count or b < synced_count))

    def _star_plan(self, count):
        """(degrees, repositories, keep): a few very popular repositories, a long tail of others."""
        if not (count and self.repository_count):
            return _zeros(self.developer_count), ((), ()), None
        rng, everybody, repositories = self.rng, self.developer_count, self.repository_count
        degrees = _degrees(rng, count, (array("q", rng.sample(range(everybody), everybody)),
                                        _cum_weights(everybody, STARGAZER_SHAPE)), lambda a: repositories)
        return degrees, (array("q", rng.sample(range(repositories), repositories)),
                         _cum_weights(repositories, STARRED_SHAPE)), lambda a, b: True

    def follows(self):
        """(follower, followee) pairs, grouped by follower."""
        following, followers = self.following, self.followers
        for a, b in _pairs(self.rng, *self._follows):
            following[a] += 1
            followers[b] += 1
            yield a, b
        self.unread.discard("follows")

    def stars(self):
        """(developer, repository) pairs, grouped by developer."""
        stargazers = self.stargazers
        for a, b in _pairs(self.rng, *self._stars):
            stargazers[b] += 1
            yield a, b
        self.unread.discard("stars")

    def _counted(self):
        if self.unread:
            raise RuntimeError(f"read the graph's {' and '.join(sorted(self.unread))} first: rows carry their counts")

    def developers(self):
        """Synced developers then stubs; a synced one's counts agree with the edges (a stub's were never read)."""
        self._counted()
        owned = _zeros(self.developer_count)
        for owner in self.owners:
            owned[owner] += 1
        for index in range(self.developer_count):
            row = {"id": self.developer_keys[index], "github_id": self.github_ids[index],
                   "login": self.logins[index], "discovered_at": self.now}
            if index < self.synced_count:
                row.update(self._profile(self.logins[index]), followers_count=self.followers[index],
                           following_count=self.following[index], public_repos=owned[index])
            yield row

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

    def repositories(self):
        """Repository dicts, their star counts those of the edges."""
        self._counted()
        rng, now = self.rng, self.now
        github_ids = rng.sample(range(1, 900_000_000), self.repository_count)
        languages = rng.choices([name for name, _ in LANGUAGES], [weight for _, weight in LANGUAGES],
                                k=self.repository_count)
        for index in range(self.repository_count):
            owner = self.owners[index]
            name = f"{rng.choice(WORDS)}-{rng.choice(WORDS)}-{index}"  # "-{index}": full_name unique in any case
            created = _github_time(rng)
            synced = rng.random() < 0.7
            yield {
                "id": self.repository_keys[index],
                "github_id": github_ids[index],
                "owner": owner,
                "owner_github_id": self.github_ids[owner],
                "name": name,
                "full_name": f"{self.logins[owner]}/{name}",
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
                "discovered_at": now,
                "synced_at": now if synced else None,
                "stargazers_synced_at": now if synced else None,
                "stargazers_count": self.stargazers[index],
                "watchers_count": self.stargazers[index],
            }
