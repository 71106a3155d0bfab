"""The GraphQL and hybrid crawls (github/graphql_client.py, github/graphql_sync.py) against the simulator.

Counts, not timings: every query validates against GitHub's schema and costs what the client predicted, a
hybrid crawl stores what a REST crawl stores wherever both transports carry a field, and quota, timeouts and
secondary limits stop or split the work without half-replacing anything.
"""
import math
import time
from collections import Counter

import pytest
import requests
from django.test import override_settings

from benchmarks.quota_efficiency import pages
from github import admission, discovery, graphql_sync, tasks, throttle
from github.client import GitHubClient, HttpErrorException, RateLimitExhausted, SecondaryRateLimit
from github.graphql_client import GraphQLClient, api_mode, graphql_url, points
from github.models import ConditionalValidator, Developer, ListProgress, RateLimit, Repository
from github_simulator import Simulator, World, graphql_rules
from reliability.canonical import DEVELOPER_FIELDS, REPOSITORY_FIELDS, canonical_dump

pytestmark = pytest.mark.django_db(transaction=True)

TOKEN = "test-token"  # noqa: S105 (the simulator's fake token)
MISSING = "nobody-at-all"


@pytest.fixture(scope="module")
def generated_world():
    return World.generate(users=400, seed=42)


@pytest.fixture
def hybrid(settings):
    settings.GITHUB_API_MODE = "hybrid"


@pytest.fixture
def sent(monkeypatch):
    """Every GraphQL query the crawl sends, as built (text, variables and predicted cost)."""
    queries = []
    post = GraphQLClient._post

    def spy(self, query, label):
        queries.append(query)
        return post(self, query, label)

    monkeypatch.setattr(GraphQLClient, "_post", spy)
    return queries


def crawl_logins(world):
    """The 40 accounts with the most followers and repositories, two organisations and a login GitHub lacks."""
    users = sorted((login for login in world.logins() if world.user(login)["type"] == "User"),
                   key=lambda login: len(world.followers_of(login)) + len(world.repos_of(login)), reverse=True)
    organisations = [login for login in world.logins() if world.user(login)["type"] == "Organization"]
    return users[:40] + organisations[:2] + [MISSING]


def crawl(logins):
    with GitHubClient() as client:
        graphql = GraphQLClient(client)
        results = graphql_sync.sync_developers(client, logins, graphql=graphql)
        return results, dict(client.stats), dict(graphql.stats)


def forget_everything():
    Developer.objects.all().delete()
    Repository.objects.all().delete()
    ListProgress.objects.all().delete()
    ConditionalValidator.objects.all().delete()


def comparable(dump):
    """The dump restricted to what both transports carry: repositories without GraphQL's LACKING columns, and
    stubs by id and login (a synced developer's profile field for field; a GraphQL list member's type is
    unknown until its own sync)."""
    lacking = [REPOSITORY_FIELDS.index(name) for name in graphql_sync.LACKING if name in REPOSITORY_FIELDS]
    synced = set(dump["synced"])
    stub_fields = DEVELOPER_FIELDS.index("type")
    developers = [row if row[0] in synced else row[:stub_fields] for row in dump["developers"]]
    repositories = [[value for index, value in enumerate(row) if index not in lacking] for row in dump["repositories"]]
    return dump | {"developers": developers, "repositories": repositories}


def test_every_query_validates_and_costs_what_github_charges(generated_world, start_simulator, hybrid, sent):
    simulator = start_simulator(generated_world)
    _, _, stats = crawl(generated_world.logins())
    assert len(sent) > 10
    for query in sent:
        plan = graphql_rules.plan(query.text, query.variables)  # raises QueryRefused if GitHub would refuse it
        assert (plan.points, plan.nodes) == (query.cost, query.nodes), query.text[:200]
        assert query.requests <= graphql_sync.REQUESTS_PER_QUERY  # one point each, inside GitHub's limits
    charged = simulator.stats()["total"]["graphql_points"]
    assert charged == stats["points"] == stats["predicted_points"] == sum(query.cost for query in sent)
    assert stats["timeouts"] == 0
    # The ledger's graphql row (one per token, beside core) follows what GitHub charged.
    row = RateLimit.objects.get(resource=throttle.GRAPHQL)
    assert (row.rate_limit, row.rate_remaining) == (5000, 5000 - charged)
    assert RateLimit.objects.filter(resource=throttle.CORE).count() == 1


def test_the_quota_fraction_applies_to_each_bucket(generated_world, start_simulator, settings):
    start_simulator(generated_world, rate_limit=100, graphql_limit=10)
    settings.GITHUB_QUOTA_FRACTION = 0.5
    with GitHubClient() as client:
        assert admission.allowed_budget(client=client, resource=throttle.GRAPHQL) == 5
        assert admission.allowed_budget(client=client) == 50
        assert admission.can_start(5, client=client, resource=throttle.GRAPHQL).can_start


def test_a_hybrid_crawl_stores_what_a_rest_crawl_stores(generated_world, start_simulator, settings, sent):
    simulator = start_simulator(generated_world)
    logins = crawl_logins(generated_world)
    settings.GITHUB_API_MODE = "rest"
    crawl(logins)
    rest = canonical_dump()
    rest_requests = simulator.stats()["total"]["quota_counted"]
    forget_everything()
    settings.GITHUB_API_MODE = "hybrid"
    results, rest_stats, stats = crawl(logins)
    hybrid = canonical_dump()
    assert comparable(hybrid) == comparable(rest)
    assert len(rest["synced"]) == len(logins) - 1 and len(rest["follows"]) > 500 and len(rest["stars"]) > 500
    assert [result.gone for result in results].count(True) == 1  # the missing login, through REST
    # GraphQL read the 40 users and the two organisations and profiled the developers their lists name; REST
    # only the organisations' followers (a request a page: GraphQL's Organization has none) and the missing
    # login's 404.
    assert stats["points"] < rest_requests / 20
    organisations = logins[40:42]
    assert rest_stats["quota_requests"] == sum(pages(len(generated_world.followers_of(login)))
                                               for login in organisations) + 1
    assert not Developer.objects.filter(profiled_at__isnull=True, gone_at__isnull=True).exists()


def test_unchanged_resyncs_in_hybrid_mode_go_through_rest_and_cost_nothing(generated_world, start_simulator, hybrid,
                                                                           sent):
    start_simulator(generated_world)
    logins = crawl_logins(generated_world)[:20]
    crawl(logins)
    cold_queries = len(sent)
    _, first, _ = crawl(logins)  # a GraphQL read left no validators: REST reads each list once to get them
    assert first["quota_requests"] > 0
    _, second, graphql = crawl(logins)
    assert second["quota_requests"] == 0 and second["not_modified"] > 0
    assert graphql["queries"] == 0 and len(sent) == cold_queries


def relation_sets_read(login):
    row = Developer.objects.filter(login=login).values(
        "followers_synced_at", "following_synced_at", "starred_synced_at", "repositories_synced_at").first()
    return row and [name for name, value in row.items() if value is not None]


def test_the_graphql_bucket_running_out_part_way_leaves_unfinished_relation_sets_untouched(generated_world,
                                                                                            start_simulator, hybrid):
    logins = crawl_logins(generated_world)[:40]
    start_simulator(generated_world, graphql_limit=2)  # two developers' queries of the three needed
    with pytest.raises(HttpErrorException):
        crawl(logins)
    stored = set(Developer.objects.filter(profile_synced_at__isnull=False).values_list("login", flat=True))
    for login in logins:
        if login in stored:
            assert relation_sets_read(login) == ["followers_synced_at", "following_synced_at", "starred_synced_at",
                                                 "repositories_synced_at"]
            developer = Developer.objects.get(login=login)
            followers = set(Developer.objects.filter(following=developer).values_list("login", flat=True))
            assert followers == set(generated_world.followers_of(login))
        else:
            assert not relation_sets_read(login), login
    assert RateLimit.objects.get(resource=throttle.GRAPHQL).rate_remaining == 0


def spend_graphql_points(simulator_url, count):
    """Another application spends `count` points on the same token."""
    for _ in range(count):
        requests.post(f"{simulator_url}/graphql", json={"query": "{ rateLimit { cost } }"}, timeout=10,
                      headers={"Authorization": f"bearer {TOKEN}", "User-Agent": "another-app"}).raise_for_status()


def test_rate_limited_from_github_postpones_and_corrects_the_ledger(generated_world, start_simulator, hybrid,
                                                                    settings):
    start_simulator(generated_world, graphql_limit=3)
    with GitHubClient() as client:
        assert admission.allowed_budget(client=client, resource=throttle.GRAPHQL) == 3
    spend_graphql_points(settings.GITHUB_API_URL, 3)
    with pytest.raises(RateLimitExhausted) as raised:
        crawl(crawl_logins(generated_world)[:5])
    assert raised.value.reset_at is not None
    assert not Developer.objects.filter(profile_synced_at__isnull=False).exists()
    assert RateLimit.objects.get(resource=throttle.GRAPHQL).rate_remaining == 0


def test_timeouts_split_the_batch_and_lose_or_double_nothing(generated_world, start_simulator, settings, sent):
    logins = crawl_logins(generated_world)
    settings.GITHUB_API_MODE = "hybrid"
    start_simulator(generated_world)
    crawl(logins)
    untimed = canonical_dump()
    forget_everything()
    # 600 nodes returned at most: a page or one developer's query passes, a batch of several does not.
    simulator = start_simulator(generated_world, graphql_node_seconds=0.001, graphql_timeout=0.6)
    with GitHubClient() as client:
        cold = graphql_sync.ColdSync(client, GraphQLClient(client))
        graphql_sync.sync_developers(client, logins, cold=cold)
    assert canonical_dump() == untimed
    stats = cold.graphql.stats
    assert stats["wasted_points"] == stats["timeouts"] > 0  # each a 1-point query
    assert simulator.stats()["total"]["graphql_points"] == stats["points"]
    assert min(cold.developer_batches.used) < graphql_sync.DEVELOPERS_PER_QUERY


def test_a_secondary_limit_raises_retry_after_and_stores_only_whole_reads(generated_world, start_simulator, hybrid):
    start_simulator(generated_world, graphql_per_minute=1)
    with pytest.raises(SecondaryRateLimit) as raised:
        crawl(crawl_logins(generated_world)[:40])
    assert raised.value.retry_after > 0
    for login in crawl_logins(generated_world)[:40]:
        synced = Developer.objects.filter(login=login, profile_synced_at__isnull=False).exists()
        assert bool(relation_sets_read(login)) == synced


def test_the_task_result_says_what_each_bucket_spent(generated_world, start_simulator, hybrid):
    start_simulator(generated_world)
    login = crawl_logins(generated_world)[0]
    outcome = tasks.full_profile_sync.apply(args=[login]).get()
    assert outcome["graphql_points"] >= 1 and outcome["graphql_queries"] >= 1 and outcome["requests"] == 0
    again = tasks.full_profile_sync.apply(args=[login]).get()  # synced now: REST's conditional requests
    assert again["graphql_points"] == 0 and again["requests"] > 0
    assert graphql_sync.estimate_profile_costs(login) == {throttle.CORE: discovery.estimate_profile_cost(login)}


@pytest.mark.usefixtures("hybrid")
def test_discovery_queues_never_synced_developers_together_and_one_task_shares_their_queries(
        generated_world, start_simulator, sent, monkeypatch, api):
    start_simulator(generated_world)
    crawl(crawl_logins(generated_world)[:1])
    queued = []
    monkeypatch.setattr(tasks.sync_developers, "apply_async",
                        lambda kwargs, task_id, eta: queued.append(kwargs["usernames"]))
    monkeypatch.setattr(tasks.full_profile_sync, "apply_async", lambda **_: pytest.fail("queued one by one"))
    chosen = tasks.discovery_scraper.apply(kwargs={"count": 10}).get()["queued"]  # committed: queued at once
    assert len(chosen) == 10 and queued == [chosen]
    found = api.get("/github/task_runs/", {"login": chosen[3].upper()}).json()["results"]
    assert [(run["name"], run["state"], run["arguments"]) for run in found] == [
        ("sync_developers", "PENDING", {"usernames": chosen})]
    sent.clear()
    outcome = tasks.sync_developers.apply(kwargs={"usernames": chosen})
    assert outcome.state == "SUCCESS", outcome.result
    assert [result["login"] for result in outcome.result["developers"]] == chosen and not outcome.result["skipped"]
    assert not discovery.not_fully_synced(chosen)
    assert not Developer.objects.filter(sync_queued_at__isnull=False).exists()  # every claim released
    # The ten developers' first pages in one query (a task each would send ten).
    assert len([query for query in sent if "repositoryOwner(login:" in query.text]) == 1
    # Delivered again (its worker killed after the syncs): nothing is read again.
    again = tasks.sync_developers.apply(kwargs={"usernames": chosen}).get()
    assert again == {"developers": [], "skipped": chosen}


def planner_bound(world, logins):
    """GraphQL points of a cold sync of `logins` (users and organisations, into an empty database) as the
    planner packs them, from the world's truth: a query per 29 developers' first pages; then, round by round,
    every list's next page, 149 a query (a repository's stargazers start the round after its owner's repository
    list ended; an organisation's followers are REST's); then a query per 37 profiles of the accounts the lists
    name and per 100 repositories' watcher counts. Each query asks for at most 149 connections: 1 point."""
    def pages(items):
        return max(1, math.ceil(len(items) / 100))

    rounds, named_accounts, named_repositories = Counter(), set(), set()
    for login in logins:
        owned = world.repos_of(login)
        lists = (owned,) if world.user(login)["type"] == "Organization" else (
            world.followers_of(login), world.following_of(login), world.starred_by(login), owned)
        for members in lists:
            rounds.update(range(1, pages(members)))
        for name in owned:
            stargazers = world.stargazers_of(name)
            rounds.update(range(pages(owned), pages(owned) + pages(stargazers)) if stargazers else ())
            named_accounts.update(stargazers)
        named_accounts.update(world.followers_of(login), world.following_of(login))
        named_repositories.update(world.starred_by(login), owned)
    named_accounts.update(name.split("/")[0] for name in named_repositories)
    profiled = named_accounts - set(logins)
    return (math.ceil(len(logins) / graphql_sync.DEVELOPERS_PER_QUERY)
            + sum(math.ceil(count / graphql_sync.REQUESTS_PER_QUERY) for count in rounds.values())
            + math.ceil(len(profiled) / graphql_sync.PROFILES_PER_QUERY) + math.ceil(len(named_repositories) / 100))


def test_a_hybrid_cold_sync_costs_exactly_its_planner_bound(start_simulator, hybrid):
    world = World.generate(users=400, seed=42)
    logins = crawl_logins(world)[:42]  # 40 users and 2 organisations
    # Long lists too, read over rounds side by side: 3 pages of followers, 4 of following, 2 of stargazers.
    everyone = [login for login in world.logins() if login not in logins[:3] and world.user(login)["type"] == "User"]
    for fan in everyone[:250]:
        world.follow(fan, logins[0])
    for idol in everyone[:301]:
        world.follow(logins[1], idol)
    for fan in everyone[:150]:
        world.star(fan, world.repos_of(logins[2])[0])
    for fan in everyone[:120]:  # an organisation's followers over two REST pages, its repositories' stargazers
        world.follow(fan, logins[40])
        world.star(fan, world.repos_of(logins[40])[0])
    simulator = start_simulator(world)
    _, rest, stats = crawl(logins)
    # REST: only the organisations' followers, a request a page.
    assert stats["timeouts"] == 0 and rest["quota_requests"] == sum(
        pages(len(world.followers_of(login))) for login in logins[40:]) >= 3
    assert simulator.stats()["total"]["graphql_points"] == stats["points"] == planner_bound(world, logins)


def test_a_spent_rest_window_does_not_hold_back_discovery_of_developers_graphql_reads(hybrid, settings):
    settings.GITHUB_API_KEY = TOKEN
    for github_id in range(1, 11):
        Developer.objects.create(github_id=github_id, login=f"stub{github_id}", seed_distance=1)
    chosen = discovery.choose_discovery_batch(budget=0, limit=5, estimate=graphql_sync.estimate_rest_cost)
    assert [developer.login for developer in chosen] == [f"stub{n}" for n in range(1, 6)]
    settings.GITHUB_API_MODE = "rest"  # each stub would cost REST requests: nobody while the window is spent
    assert not discovery.choose_discovery_batch(budget=0, limit=5, estimate=graphql_sync.estimate_rest_cost)


def test_modes_and_endpoints(settings):
    settings.GITHUB_GRAPHQL_URL = ""
    assert graphql_url("https://api.github.com") == "https://api.github.com/graphql"
    assert graphql_url("https://ghe.example.com/api/v3") == "https://ghe.example.com/api/graphql"
    with override_settings(GITHUB_GRAPHQL_URL="https://proxy.example.com/gql"):
        assert graphql_url("https://api.github.com") == "https://proxy.example.com/gql"
    for configured, token, mode in (("", "t", "hybrid"), ("", "", "rest"), ("graphql", "", "rest"),
                                    ("graphql", "t", "graphql"), ("rest", "t", "rest")):
        settings.GITHUB_API_MODE, settings.GITHUB_API_KEY = configured, token
        assert api_mode() == mode
    assert [points(n) for n in (0, 1, 49, 50, 149, 150, 5101)] == [1, 1, 1, 1, 1, 2, 51]


def test_a_hybrid_crawl_profiles_every_developer_its_lists_name(generated_world, start_simulator, hybrid, sent):
    start_simulator(generated_world)
    crawl(crawl_logins(generated_world)[:42])  # the organisations' followers, read through REST, too
    stubs = Developer.objects.filter(profile_synced_at__isnull=True)
    assert stubs.count() > 100
    assert not stubs.filter(type__isnull=True).exists()
    users = stubs.filter(type="User")
    assert not users.filter(followers_count__isnull=True).exists()  # every one profiled, counts included
    assert not users.filter(profiled_at__isnull=True).exists()  # and the API says so (profiled=true&synced=false)
    organisations = stubs.filter(type="Organization")
    assert organisations.exists() and not organisations.filter(profiled_at__isnull=True).exists()
    for organisation in organisations:  # without counts: GraphQL has no followers of an organisation
        assert organisation.name == generated_world.user(organisation.login)["name"]
    for developer in users:
        assert (developer.followers_count, developer.following_count, developer.public_repos) == (
            len(generated_world.followers_of(developer.login)), len(generated_world.following_of(developer.login)),
            len(generated_world.repos_of(developer.login))), developer.login
        assert developer.name == generated_world.user(developer.login)["name"]
    repositories = Repository.objects.all()
    assert repositories.count() > 100 and not repositories.filter(subscribers_count__isnull=True).exists()
    for repository in repositories:
        assert repository.subscribers_count == generated_world.repo(repository.full_name)["subscribers_count"]
    # Stubs are still due for discovery: their lists were not read.
    assert set(discovery.discovery_queues()[0].values_list("pk", flat=True)) >= set(users.values_list("pk", flat=True))
    profile_queries = [query for query in sent if "nodes(ids: $ids) { __typename" in query.text]
    assert 0 < len(profile_queries) <= -(-users.count() // graphql_sync.PROFILES_PER_QUERY) + 1
    watcher_queries = [query for query in sent if "watchers" in query.text]
    assert len(watcher_queries) == -(-repositories.count() // 100)  # 100 ids a query, 1 point each


def test_not_found_for_one_alias_keeps_the_rest_and_rest_finds_renames_and_the_gone(start_simulator, hybrid):
    world = World.from_dict({"users": [{"login": login, "id": number} for number, login in
                                       enumerate(["alice", "bob", "carol", "dave"], start=1)],
                             "follows": [["bob", "alice"], ["carol", "alice"], ["alice", "dave"]]})
    start_simulator(world)
    crawl(["alice"])
    assert set(Developer.objects.values_list("login", flat=True)) == {"alice", "bob", "carol", "dave"}
    world.rename_user("bob", "robert")
    world.delete_user("carol")
    results, rest, graphql = crawl(["bob", "carol", "dave"])
    assert [result.gone for result in results] == [False, True, False]
    assert Developer.objects.get(github_id=2).login == "robert"  # found again by id (REST)
    assert Developer.objects.get(github_id=3).gone_at is not None
    assert Developer.objects.get(login="dave").following_synced_at is not None  # through GraphQL, in the same query
    assert graphql["queries"] >= 1 and rest["quota_requests"] >= 4


def test_injected_faults_are_retried_and_change_nothing(generated_world, start_simulator, hybrid, settings):
    logins = crawl_logins(generated_world)[:30]
    start_simulator(generated_world)
    crawl(logins)
    calm = canonical_dump()
    forget_everything()
    settings.GITHUB_TRANSIENT_RETRY_DELAYS = [0.01] * 20
    simulator = start_simulator(generated_world, fault_rate=0.5, fault_kinds=("502", "503", "drop"), seed=3)
    _, _, stats = crawl(logins)
    assert canonical_dump() == calm
    assert simulator.stats()["total"]["errors"] > 0 and stats["timeouts"] == 0  # a gateway's 502 is no timeout


def test_a_token_revoked_mid_crawl_is_asked_again_once_not_before_every_query(generated_world, hybrid, settings):
    """The other token carries on; the revoked one's rows say so until long after their window, in both buckets
    (its GET /rate_limit answering 401 marks the bucket it was asked about)."""
    simulator = Simulator(generated_world, tokens=["first-token", "second-token"], revoke_after=5, window_seconds=2)
    settings.GITHUB_API_URL, settings.GITHUB_API_KEY = simulator.start(), "first-token,second-token"
    logins = crawl_logins(generated_world)[:6]
    try:
        for index, login in enumerate(logins):
            if index == len(logins) // 2:
                time.sleep(2.5)  # both tokens' windows reset: each row is read again
            crawl([login])
        statuses = simulator.stats()["by_status"]
    finally:
        simulator.stop()
    assert Developer.objects.filter(login__in=logins, profile_synced_at__isnull=False).count() == len(logins)
    assert 1 <= statuses["401"] <= 4, statuses  # at most a query and a /rate_limit read per bucket
    # Skipped until a reset after the 401 (its window's, or an hour away if that had passed): which of the two
    # the test sees depends on whether the revocation fell before its sleep, so neither is asserted.
    rejected = RateLimit.objects.get(resource=throttle.GRAPHQL, rate_limit=0)
    assert rejected.rate_reset > rejected.updated


def test_an_organisation_read_through_graphql_pays_rest_only_for_its_followers(start_simulator, settings):
    """In graphql mode an organisation's re-sync reads its followers conditionally: unchanged and shorter than
    a page, a free 304; a new follower, one request."""
    settings.GITHUB_API_MODE = "graphql"
    world = World.from_dict({
        "users": [{"login": "acme", "id": 1, "type": "Organization", "public_gists": 0}, {"login": "alice", "id": 2},
                  {"login": "bob", "id": 3}],
        "repos": [{"full_name": "acme/rocket"}], "follows": [["alice", "acme"]], "stars": [["bob", "acme/rocket"]]})
    start_simulator(world)
    _, rest, graphql = crawl(["acme"])
    acme = Developer.objects.get(login="acme")
    # REST: the followers' page. GraphQL: its query, its repository's stargazers, the profiles, the watchers.
    assert (rest["quota_requests"], graphql["points"]) == (1, 4)
    assert (acme.type, acme.followers_count, acme.following_count, acme.public_repos, acme.public_gists) == (
        "Organization", 1, 0, 1, 0)
    assert set(acme.followers.values_list("login", flat=True)) == {"alice"}
    assert set(Repository.objects.get(name="rocket").stargazers.values_list("login", flat=True)) == {"bob"}
    assert Developer.objects.get(login="bob").followers_count == 0  # a stargazer, profiled with its counts
    assert graphql_sync.estimate_profile_costs("acme") == {throttle.GRAPHQL: 1, throttle.CORE: 1}
    _, rest, _ = crawl(["acme"])
    assert (rest["quota_requests"], rest["not_modified"]) == (0, 1)
    world.follow("bob", "acme")
    _, rest, _ = crawl(["acme"])
    assert rest["quota_requests"] == 1
    assert Developer.objects.get(login="acme").followers_count == 2
