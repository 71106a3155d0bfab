"""Cold syncs through GraphQL, batched; and which transport syncs whom (GITHUB_API_MODE).

Reading only: what a GraphQL read gives is mapped to REST's payload shapes and stored by github/ingest.py
(upsert_profile, store_members, store_list, store_owned_repositories), so both transports store the same rows.
The planner packs many connection requests into one point (GitHub charges requests / 100, rounded, at least 1,
so up to 149 requests cost 1 point):

1. Developers' queries: several never-synced developers per query, each by login through
   `repositoryOwner(login:)` (a user or an organisation alike, no query spent finding out which), with its
   profile and the first page (100) of its owned repositories and, a user's, of followers, following and
   starred repositories, and its public gists' count: 5 requests a developer whatever it is, 29 developers a
   point. List members carry what the lists need (id, login).
2. Page queries: every list's next page, and the first page of each owned repository's stargazers (those with
   no stargazer need none), side by side as aliases of `node(id:)`, 149 a point, until every list is read whole.
   Never a nested connection: 100 repositories x stargazers(first: 100) would be 100 requests for the stargazers
   of repositories that mostly have none.
3. An organisation's followers, which GraphQL's `Organization` lacks, through REST's list reader (a request a
   page; nothing else of an organisation costs REST requests); it follows and stars nobody, so those lists
   are stored empty. Each developer whose every list was read whole is stored; one that GitHub could not
   serve (a renamed or gone login: null for its alias) or whose read failed part-way is synced through REST
   instead, which finds renames by id and marks the gone; a read stopped by the quota stores the developers
   already read whole and none of the rest (their relation sets are left as they were).
4. Profile queries: every developer those lists name (REST's followers lists included: their payloads carry
   node ids too) that has no profile yet, counts included, by node id (`nodes(ids:)`, four count-only
   connections each: 37 a point), and every repository they name without a subscribers_count
   (`watchers { totalCount }`: 100 a point). Their lists stay unread.

A query that times out (502) is sent again split in halves, and the batch size grows back by a quarter after
each success (`Batches`). Its cost is computed from what the planner put in it (`Query.requests`) and
github/tests/test_graphql_sync.py proves it equals what GitHub's rules charge for every query of a crawl.
"""
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from github import bulk, discovery, ingest, sync, throttle
from github.client import STARGAZERS_SHOWN, GitHubClient, GitHubResponse, NotFound
from github.graphql_client import (
    GRAPHQL,
    HYBRID,
    MAX_NODE_IDS,
    MAX_PAGE,
    RATE_LIMIT_FIELD,
    REST,
    Answer,
    GraphQLClient,
    Query,
    QueryTimeout,
    api_mode,
)
from github.models import Developer, Repository

logger = logging.getLogger(__name__)

# The most connection requests one point pays for: 149 / 100 rounds to 1.
REQUESTS_PER_QUERY = 149
# A developer's query: followers, following, starred and owned repositories (a page each), gists (a count).
DEVELOPER_REQUESTS = 5
DEVELOPERS_PER_QUERY = REQUESTS_PER_QUERY // DEVELOPER_REQUESTS
# A list member's profile: its four counts (followers, following, public repositories, public gists).
PROFILE_REQUESTS = 4
PROFILES_PER_QUERY = REQUESTS_PER_QUERY // PROFILE_REQUESTS
# Repository columns a GraphQL read does not give (each would cost a connection per repository): left as stored.
LACKING = ("topics", "has_downloads", "has_pages", "open_issues_count")
# Stands in for REST's page 1 in ListRead: a GraphQL read has no validators to remember.
NO_VALIDATORS = GitHubResponse(200, None, "")

MEMBER = "fragment Member on User { id databaseId login }"
REPOSITORY = ("fragment Repo on Repository { id databaseId name nameWithOwner "
              "owner { __typename id login ... on User { databaseId } ... on Organization { databaseId } } "
              "description homepageUrl primaryLanguage { name } createdAt updatedAt pushedAt licenseInfo { spdxId } "
              "hasIssuesEnabled hasProjectsEnabled hasWikiEnabled isPrivate isArchived isDisabled isFork "
              "stargazerCount forkCount }")
PROFILE = "id databaseId login name location company email websiteUrl twitterUsername bio createdAt updatedAt"
# An organisation's profile: GraphQL gives it no followers or following (REST's counts for it), and its public
# repositories' count would cost a connection each, so a profile query gives it no counts (its sync has them from
# its lists: its REST followers list's length, its repositories' totalCount). Its `email` is aliased:
# a User's is String! and an Organization's String, and one selection set may not ask for both under one name.
ORGANISATION_PROFILE = ("id databaseId login name location publicEmail: email websiteUrl twitterUsername description "
                        "createdAt updatedAt")
COUNTS = ("followers { totalCount } following { totalCount } repositories(ownerAffiliations: [OWNER], "
          "privacy: PUBLIC) { totalCount } gists(privacy: PUBLIC) { totalCount }")


@dataclass(frozen=True)
class ListKind:
    """One kind of list: the GraphQL type and connection it is read from, and its members' fragment."""

    on: str
    connection: str
    fragment: str
    arguments: str = ""

    def selection(self, after: str = "") -> str:
        """The connection with its first page (100) after the cursor variable `after`, if any."""
        cursor = f", after: {after}" if after else ""
        name = "Member" if self.fragment == MEMBER else "Repo"
        return (f"{self.connection}(first: {MAX_PAGE}{self.arguments}{cursor}) "
                f"{{ totalCount pageInfo {{ hasNextPage endCursor }} nodes {{ ...{name} }} }}")


KINDS = {
    "followers": ListKind("User", "followers", MEMBER),
    "following": ListKind("User", "following", MEMBER),
    "starred": ListKind("User", "starredRepositories", REPOSITORY),
    # Asked of the RepositoryOwner interface: the same connection, one request, for a user or an organisation.
    "repositories": ListKind("RepositoryOwner", "repositories", REPOSITORY,
                             ", ownerAffiliations: [OWNER], privacy: PUBLIC"),
    "stargazers": ListKind("Repository", "stargazers", MEMBER),
}


@dataclass
class ListState:
    """A list being read: its owner's node id, the items so far, and where the next page starts."""

    kind: str
    owner: str
    items: list = field(default_factory=list)
    cursor: str | None = None
    more: bool = True
    total: int = 0
    failed: bool = False  # GitHub stopped serving it part-way (its owner is gone or moved)

    def add(self, connection: dict) -> None:
        """Take in one page of the connection."""
        self.items.extend(connection["nodes"])
        self.total = connection["totalCount"]
        self.cursor = connection["pageInfo"]["endCursor"]
        self.more = connection["pageInfo"]["hasNextPage"] and not (
            self.kind == "stargazers" and len(self.items) >= STARGAZERS_SHOWN)


@dataclass
class DeveloperRead:
    """What has been read of one developer: profile, lists, and their owned repositories' stargazers."""

    login: str
    profile: dict | None = None
    gists: int = 0
    lists: dict[str, ListState] = field(default_factory=dict)
    stargazers: dict[int, ListState] = field(default_factory=dict)  # repository github_id -> its stargazers
    stargazers_listed: bool = False
    failed: bool = False
    followers: ingest.ListRead | None = None  # an organisation's, read through REST (items None: unchanged)

    @property
    def organisation(self) -> bool:
        """Whether GitHub answered with an Organization (its followers are REST's to read)."""
        return self.profile is not None and self.profile["__typename"] == "Organization"

    def states(self) -> list[ListState]:
        """Every list of the developer known so far."""
        return [*self.lists.values(), *self.stargazers.values()]

    def pending(self) -> list[ListState]:
        """The lists whose next page is to be read."""
        if self.failed or any(state.failed for state in self.states()):
            return []
        return [state for state in self.states() if state.more]

    @property
    def read_through_graphql(self) -> bool:
        """Every GraphQL list read to its end (the repositories' stargazers included)."""
        return (self.profile is not None and not self.failed and self.stargazers_listed
                and not any(state.more or state.failed for state in self.states()))

    @property
    def whole(self) -> bool:
        """Every list read to its end: an organisation's followers through REST too."""
        return self.read_through_graphql and (self.followers is not None or not self.organisation)


class Batches:
    """Adaptive batch sizes: a query that timed out is sent again in halves; each success grows the size back
    by a quarter, up to `most`. `used` records every size sent (for benchmarks)."""

    def __init__(self, most: int):
        self.most = most
        self.size = most
        self.used: list[int] = []

    def run(self, items: Sequence, send: Callable[[Sequence], None]) -> None:
        """`send` every item, in batches; a batch of one that times out is the caller's error."""
        pending = list(items)
        while pending:
            batch, pending = pending[:self.size], pending[self.size:]
            self.used.append(len(batch))
            try:
                send(batch)
            except QueryTimeout:
                if len(batch) == 1:
                    raise
                self.size = max(1, len(batch) // 2)
                logger.info("GraphQL query of %d timed out: sending it again as batches of %d", len(batch), self.size)
                pending = batch + pending
                continue
            self.size = min(self.most, self.size + max(1, self.size // 4))


class ColdSync:
    """A batch of never-synced developers read through GraphQL and stored through github/ingest.py."""

    def __init__(self, client: GitHubClient, graphql: GraphQLClient):
        self.client = client
        self.graphql = graphql
        self.developer_batches = Batches(DEVELOPERS_PER_QUERY)
        self.page_batches = Batches(REQUESTS_PER_QUERY)
        self.profile_batches = Batches(PROFILES_PER_QUERY)
        self.watcher_batches = Batches(MAX_NODE_IDS)

    def run(self, logins: Sequence[str]) -> tuple[list[ingest.SyncResult], list[str]]:
        """Read and store the developers, then profile the developers their lists named; returns (their
        results, the logins left to REST)."""
        reads = [DeveloperRead(login) for login in dict.fromkeys(logins)]
        results = []
        try:
            self.developer_batches.run(reads, self._read_developers)
            while pending := [state for read in reads for state in read.pending()]:
                self.page_batches.run(pending, self._read_pages)
                for read in reads:
                    self._add_stargazer_lists(read)
            for read in reads:
                if read.organisation and read.read_through_graphql:
                    self._read_followers(read)
        finally:
            # Whoever was read whole is stored, even when the quota stopped the rest.
            results = [self._store(read) for read in reads if read.whole]
        self.profile_members([read for read in reads if read.whole])
        return results, [read.login for read in reads if not read.whole]

    def profile_members(self, reads: Sequence[DeveloperRead]) -> None:
        """Profile (a user's counts included) every developer or organisation the reads' lists named (repository
        owners too) that has no profile yet, and count
        the watchers of every repository they named that has no subscribers_count, by node id through
        nodes(ids:): the lists carry node ids, not counts. The developers' lists stay unread (they are still
        due for discovery)."""
        users, repositories = {}, {}
        for read in reads:
            for item in (read.followers and read.followers.items) or ():  # REST's payloads carry node ids too
                users[item["id"]] = item["node_id"]
            for state in read.states():
                for node in state.items:
                    if KINDS[state.kind].fragment == MEMBER:
                        users[node["databaseId"]] = node["id"]
                        continue
                    repositories[node["databaseId"]] = node["id"]
                    users[node["owner"]["databaseId"]] = node["owner"]["id"]
        profiles = []

        def read_and_store(ids: Sequence[str]) -> None:
            profiles.extend(self._read_profiles(ids))
            if len(profiles) >= bulk.CHUNK:
                ingest.upsert_listed_profiles(profiles)
                profiles.clear()

        # Written a thousand at a time, not a query's 37: a statement's own cost (parsing and planning an upsert of
        # 20 columns) was two fifths of PostgreSQL's time writing profiles (BENCHMARKS.md, "Worker throughput").
        # What was read before the quota or an error stopped the rest is still written.
        try:
            self.profile_batches.run(_missing(Developer, "profiled_at", users), read_and_store)
        finally:
            ingest.upsert_listed_profiles(profiles)
        self.watcher_batches.run(_missing(Repository, "subscribers_count", repositories), self._read_watchers)

    def _read_watchers(self, ids: Sequence[str]) -> None:
        query = Query(f"query($ids: [ID!]!) {{ nodes(ids: $ids) {{ ... on Repository {{ databaseId "
                      f"watchers {{ totalCount }} }} }} {RATE_LIMIT_FIELD} }}", {"ids": list(ids)}, requests=len(ids))
        ingest.set_subscribers_counts({node["databaseId"]: node["watchers"]["totalCount"]
                                     for node in self.graphql.query(query).data["nodes"] if node is not None})

    def _read_profiles(self, ids: Sequence[str]) -> list[dict]:
        query = Query(f"query($ids: [ID!]!) {{ nodes(ids: $ids) {{ __typename ... on User {{ {PROFILE} {COUNTS} }} "
                      f"... on Organization {{ {ORGANISATION_PROFILE} }} }} {RATE_LIMIT_FIELD} }}",
                      {"ids": list(ids)}, requests=PROFILE_REQUESTS * len(ids))
        nodes = [node for node in self.graphql.query(query).data["nodes"] if node is not None]  # null: gone since
        return [user_payload(node, _counts(node)) if node["__typename"] == "User" else organisation_payload(node)
                for node in nodes]

    # Reading.

    def _read_developers(self, reads: Sequence[DeveloperRead]) -> None:
        """The developers' profiles and first pages, by login through `repositoryOwner(login:)`: a login's type
        need not be known in advance (the stored `type` is null for a GraphQL list member until it is
        profiled), and no query is spent finding it out. GitHub prices inline fragments from the query's text,
        whatever the answer's type, so each alias costs the same 5 requests: `repositories` asked of the
        interface once, the User's followers, following, starred and gists, nothing more for an Organization
        (whose profile fields are no connections)."""
        lists = " ".join(KINDS[kind].selection() for kind in ("followers", "following", "starred"))
        owner = (f"__typename {KINDS['repositories'].selection()} ... on User {{ {PROFILE} {lists} "
                 f"gists(privacy: PUBLIC) {{ totalCount }} }} ... on Organization {{ {ORGANISATION_PROFILE} }}")
        aliases = " ".join(f"d{i}: repositoryOwner(login: $l{i}) {{ {owner} }}" for i in range(len(reads)))
        variables = ", ".join(f"$l{i}: String!" for i in range(len(reads)))
        query = Query(f"query({variables}) {{ {aliases} {RATE_LIMIT_FIELD} }} {MEMBER} {REPOSITORY}",
                      {f"l{i}": read.login for i, read in enumerate(reads)},
                      requests=DEVELOPER_REQUESTS * len(reads), nodes=4 * MAX_PAGE * len(reads))
        answer = self.graphql.query(query)
        failed = _failed_aliases(answer)
        for i, read in enumerate(reads):
            owner = answer.data.get(f"d{i}")
            if owner is None or f"d{i}" in failed:
                read.failed = True  # no such login (renamed or gone) or a partial error
                continue
            read.profile = owner
            if read.organisation:
                # GitHub's organisations follow and star nobody (REST lists both empty); their followers,
                # which GraphQL's Organization lacks, are read through REST (_read_followers).
                read.lists = {kind: ListState(kind, owner["id"], more=False) for kind in ("following", "starred")}
                kinds = ("repositories",)
            else:
                read.gists = owner["gists"]["totalCount"]
                kinds = ("followers", "following", "starred", "repositories")
            for kind in kinds:
                state = read.lists[kind] = ListState(kind, owner["id"])
                state.add(owner[KINDS[kind].connection])
            self._add_stargazer_lists(read)

    def _read_followers(self, read: DeveloperRead) -> None:
        """An organisation's followers through REST's list reader, the one list GraphQL cannot give: a request
        a page, continued where a read stopped. Page 1 is conditional when the stored list is fresh and shorter
        than a page (a 304 then vouches for all of it: no count tells whether later pages moved)."""
        stored = Developer.objects.filter(github_id=read.profile["databaseId"]).first()
        trust = bool(stored and stored.followers_count is not None and stored.followers_count < MAX_PAGE
                     and sync.list_is_fresh(stored.followers_synced_at))
        path = self.client.followers(read.profile["login"])
        try:
            read.followers = sync.read_list(self.client, path, trust_unchanged=trust,
                                            resume=sync.lists_in_progress(path).get(path))
        except NotFound:
            read.failed = True  # gone since: left to REST, which marks it

    def _add_stargazer_lists(self, read: DeveloperRead) -> None:
        """Once a developer's repositories are read whole, a stargazer list for each one they own with stars."""
        repositories = read.lists.get("repositories")
        if read.failed or repositories is None or repositories.more or read.stargazers_listed:
            return
        read.stargazers_listed = True
        for node in repositories.items:
            if node["owner"]["databaseId"] == read.profile["databaseId"]:
                state = read.stargazers[node["databaseId"]] = ListState("stargazers", node["id"])
                state.more = node["stargazerCount"] > 0

    def _read_pages(self, states: Sequence[ListState]) -> None:
        aliases = " ".join(
            f"p{i}: node(id: $n{i}) {{ ... on {KINDS[state.kind].on} {{ {KINDS[state.kind].selection(f'$c{i}')} }} }}"
            for i, state in enumerate(states))
        variables = ", ".join(f"$n{i}: ID!, $c{i}: String" for i in range(len(states)))
        fragments = {KINDS[state.kind].fragment for state in states}
        values = {}
        for i, state in enumerate(states):
            values |= {f"n{i}": state.owner, f"c{i}": state.cursor}
        query = Query(f"query({variables}) {{ {aliases} {RATE_LIMIT_FIELD} }} {' '.join(sorted(fragments))}",
                      values, requests=len(states), nodes=MAX_PAGE * len(states))
        answer = self.graphql.query(query)
        failed = _failed_aliases(answer)
        for i, state in enumerate(states):
            node = answer.data.get(f"p{i}")
            if node is None or f"p{i}" in failed:
                state.more, state.failed = False, True  # its developer is left to REST
                continue
            state.add(node[KINDS[state.kind].connection])

    # Storing, through github/ingest.py.

    def _store(self, read: DeveloperRead) -> ingest.SyncResult:
        lists, github_id = read.lists, read.profile["databaseId"]
        # The profile is written last, as the mark that the sync is done: a sync stopped part-way (a killed
        # worker) leaves the developer never-synced, and it is read through GraphQL again, not re-synced through
        # REST. Until then a new developer is a stub at distance 0, as upsert_profile would make it.
        if not Developer.objects.filter(github_id=github_id).exists():
            ingest.upsert_stub_developers([(github_id, read.profile["login"], read.profile["__typename"])], distance=0)
        developer = Developer.objects.get(github_id=github_id)
        result = ingest.SyncResult(login=developer.login, developers_written=1)
        distance = (developer.seed_distance or 0) + 1
        followers = self._store_follows(read, developer, result, distance)
        counts = {"following": lists["following"].total, "public_repos": lists["repositories"].total,
                  "public_gists": read.gists}
        if read.organisation:  # REST's count is its list's length
            counts["followers"] = developer.followers_count if followers.items is None else len(followers.items)
            profile = organisation_payload(read.profile) | counts
        else:
            profile = user_payload(read.profile, counts | {"followers": lists["followers"].total})
        starred = _whole(lists["starred"], repository_payload)
        ids = ingest.upsert_repositories(starred.items, owner_distance=distance, lacking=LACKING)
        result.repositories_written += len(ids)
        _count(result, 0, *ingest.store_list(self.client, starred, relation=ingest.STARRED, owner=developer,
                                                  member_pks=ids.values()))
        owned, _ = ingest.store_owned_repositories(self.client, _whole(lists["repositories"], repository_payload),
                                                 developer)
        result.repositories_written += len(owned)
        for repository in Repository.objects.filter(github_id__in=owned).order_by("github_id"):
            _count(result, *ingest.store_members(self.client, _whole(read.stargazers[repository.github_id],
                                                                   member_payload),
                                               ingest.STARGAZERS, repository, distance=distance))
        ingest.upsert_profile(profile)
        return result

    def _store_follows(self, read: DeveloperRead, developer: Developer, result: ingest.SyncResult,
                       distance: int) -> ingest.ListRead:
        """Store the developer's followers and following; returns the followers read (an organisation's is
        REST's, items None when unchanged)."""
        followers = read.followers if read.organisation else _whole(read.lists["followers"], member_payload)
        for listed, relation in ((followers, ingest.FOLLOWERS), (_whole(read.lists["following"], member_payload),
                                                                 ingest.FOLLOWING)):
            if listed.items is None:  # an organisation's followers, unchanged (REST's 304)
                result.lists_skipped_unchanged += 1
                continue
            _count(result, *ingest.store_members(self.client, listed, relation, developer, distance=distance))
        return followers


def _count(result: ingest.SyncResult, developers: int, added: int, removed: int) -> None:
    result.developers_written += developers
    result.edges_added += added
    result.edges_removed += removed


def _missing(model, column: str, node_ids: dict[int, str]) -> list[str]:
    """The node ids of the rows (by github_id) of `model` not gone and with no `column` yet."""
    return [node_ids[github_id] for github_id in bulk.keys_lacking(model, column, list(node_ids))]


def _failed_aliases(answer: Answer) -> set[str]:
    """The aliases an error of the answer is about (NOT_FOUND, or any other error at a path under one)."""
    return {str(error["path"][0]) for error in answer.errors if error.get("path")}


def _whole(state: ListState, payload: Callable[[dict], dict]) -> ingest.ListRead:
    return ingest.ListRead([payload(node) for node in state.items], NO_VALIDATORS, lacking=LACKING)


# GraphQL -> REST payload shapes (GraphQL's nullability mapped to REST's: "" email -> null, null website -> "").

def _counts(user: dict) -> dict:
    """A profile's counts, REST-named, from a User's count-only connections (COUNTS)."""
    return {"followers": user["followers"]["totalCount"], "following": user["following"]["totalCount"],
            "public_repos": user["repositories"]["totalCount"], "public_gists": user["gists"]["totalCount"]}


def user_payload(user: dict, counts: dict) -> dict:
    """A REST public-user payload from a GraphQL User and its counts (REST's names: followers, following,
    public_repos, public_gists)."""
    return {
        "id": user["databaseId"], "node_id": user["id"], "login": user["login"], "type": "User",
        "name": user["name"], "location": user["location"], "company": user["company"],
        "email": user["email"] or None, "blog": user["websiteUrl"] or "", "twitter_username": user["twitterUsername"],
        "bio": user["bio"], "created_at": user["createdAt"], "updated_at": user["updatedAt"], **counts,
    }


def organisation_payload(organisation: dict) -> dict:
    """A REST public-user payload from a GraphQL Organization (ORGANISATION_PROFILE): no counts, no company."""
    return {
        "id": organisation["databaseId"], "node_id": organisation["id"], "login": organisation["login"],
        "type": "Organization", "name": organisation["name"], "location": organisation["location"],
        "company": None, "email": organisation["publicEmail"] or None, "blog": organisation["websiteUrl"] or "",
        "twitter_username": organisation["twitterUsername"], "bio": organisation["description"],
        "created_at": organisation["createdAt"], "updated_at": organisation["updatedAt"],
    }


def member_payload(user: dict) -> dict:
    """A REST simple-user payload from a list member. Its type is left unknown: GitHub's UserConnection types
    every member User, yet lists organisations a user follows among them (REST says Organization)."""
    return {"id": user["databaseId"], "node_id": user["id"], "login": user["login"], "type": None}


def repository_payload(repository: dict) -> dict:
    """A REST minimal-repository payload from a GraphQL Repository (without LACKING's columns)."""
    owner = repository["owner"]
    return {
        "id": repository["databaseId"], "node_id": repository["id"], "name": repository["name"],
        "full_name": repository["nameWithOwner"],
        "owner": {"id": owner["databaseId"], "login": owner["login"], "type": owner["__typename"]},
        "description": repository["description"], "homepage": repository["homepageUrl"],
        "language": (repository["primaryLanguage"] or {}).get("name"),
        "created_at": repository["createdAt"], "updated_at": repository["updatedAt"],
        "pushed_at": repository["pushedAt"],
        "license": {"spdx_id": repository["licenseInfo"]["spdxId"]} if repository["licenseInfo"] else None,
        "has_issues": repository["hasIssuesEnabled"], "has_projects": repository["hasProjectsEnabled"],
        "has_wiki": repository["hasWikiEnabled"], "private": repository["isPrivate"],
        "archived": repository["isArchived"], "disabled": repository["isDisabled"], "fork": repository["isFork"],
        "stargazers_count": repository["stargazerCount"], "watchers_count": repository["stargazerCount"],
        "forks_count": repository["forkCount"],
    }


# Which transport syncs whom.

def uses_graphql(developer) -> bool:
    """Whether the mode sends this developer's sync through GraphQL: every sync in `graphql` mode, a
    never-synced developer's in `hybrid` mode (a re-sync's unchanged lists are free through REST's 304s)."""
    mode = api_mode()
    return mode == GRAPHQL or (mode == HYBRID and (developer is None or developer.profile_synced_at is None))


def read_through_graphql(logins: Sequence[str]) -> list[str]:
    """Those of `logins` whose sync the mode sends through GraphQL now, in order."""
    known = {developer.login.lower(): developer
             for developer in Developer.objects.filter(login__lower__in=[login.lower() for login in logins])}
    return [login for login in logins if uses_graphql(known.get(login.lower()))]


def sync_developers(client: GitHubClient, logins: Sequence[str], *, graphql: GraphQLClient | None = None,
                    cold: ColdSync | None = None) -> list[ingest.SyncResult]:
    """Full profile syncs of `logins`, each through the transport its mode and state choose; results in order.

    `cold` (a ColdSync, whose batch sizes then carry over from one call to the next) or `graphql` may be given.
    """
    through_graphql = read_through_graphql(logins)
    results = {}
    if through_graphql:
        cold = cold or ColdSync(client, graphql or GraphQLClient(client))
        before = dict(cold.graphql.stats)
        read, _ = cold.run(through_graphql)
        spent = {name: cold.graphql.stats[name] - before[name] for name in before}
        for result in read:
            result.graphql_queries, result.graphql_points = spent["queries"], spent["points"]
            results[result.login.lower()] = result
    ordered = []
    for login in logins:
        result = results.pop(login.lower(), None) or sync.full_profile_sync(client=client, login=login)
        ordered.append(result)
    return ordered


def full_profile_sync(*, client: GitHubClient, login: str, graphql: GraphQLClient | None = None) -> ingest.SyncResult:
    """One developer's full profile sync through the transport GITHUB_API_MODE chooses for it."""
    return sync_developers(client, [login], graphql=graphql)[0]


def rest_cost_of_graphql_sync(developer: Developer | None) -> int:
    """REST requests a GraphQL sync of `developer` still costs: a stored organisation's followers, a page per
    100. A login not stored yet is counted as a user's (an organisation's followers then cost what the REST
    window allows, as any REST read's pages)."""
    if developer is None or developer.type != "Organization":
        return 0
    return discovery.pages_needed(developer.followers_count)


def estimate_rest_cost(developer: Developer) -> int:
    """REST requests a sync of `developer` may cost in this mode (discovery's estimate): for one GraphQL reads,
    only an organisation's followers (its points the task checks as it starts), so a small REST window does not
    hold back a GraphQL crawl."""
    return rest_cost_of_graphql_sync(developer) if uses_graphql(developer) else discovery.estimate_developer_cost(
        developer)


def estimate_profile_costs(login: str) -> dict[str, int]:
    """{bucket: units} a full profile sync of `login` may cost: REST requests, or a GraphQL developer's query
    (1 point; longer lists add page queries that the quota may then stop, as a REST read's pages) and an
    organisation's REST followers pages."""
    if api_mode() != REST:
        developer = Developer.objects.named(login).first()
        if uses_graphql(developer):
            rest = rest_cost_of_graphql_sync(developer)
            return {throttle.GRAPHQL: 1} | ({throttle.CORE: rest} if rest else {})
    return {throttle.CORE: discovery.estimate_profile_cost(login)}
