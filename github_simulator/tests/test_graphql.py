"""GitHub's GraphQL endpoint: authentication, validation, its own points bucket and headers,
RATE_LIMITED, the secondary limits, the 502 of a query that runs too long, partial data."""

import time

from github_simulator.limits import Caller, Limits, Quotas

from .conftest import serving, tiny_world

RATE_HEADERS = ("x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-used", "x-ratelimit-reset",
                "x-ratelimit-resource")
#: 1 + 100 + 100 = 201 requests: 2 points.
TWO_POINTS = ('{ user(login: "octocat") { followers(first: 100) { nodes { '
              'followers(first: 1) { totalCount } following(first: 1) { totalCount } } } } }')


def post(simulator, session, query, path="/graphql", **variables):
    return session.post(f"{simulator.base_url}{path}", json={"query": query, "variables": variables})


def quota(response):
    return {name: response.headers[name] for name in RATE_HEADERS}


def test_graphql_needs_a_token(served):
    simulator, session = served
    query = '{ user(login: "octocat") { login } }'
    anonymous = session.post(f"{simulator.base_url}/graphql", json={"query": query},
                             headers={"Authorization": None})
    assert anonymous.status_code == 401
    assert anonymous.json()["message"] == "This endpoint requires you to be authenticated."
    bad = session.post(f"{simulator.base_url}/graphql", json={"query": query}, headers={"Authorization": "Bearer x"})
    assert bad.status_code == 200            # any token is accepted without a token list
    with serving(tiny_world(), tokens=["good"], token="good") as (strict, strict_session):
        refused = strict_session.post(f"{strict.base_url}/graphql", json={"query": query},
                                      headers={"Authorization": "token wrong"})
        assert (refused.status_code, refused.json()["message"]) == (401, "Bad credentials")
        assert strict.stats()["by_token"]["invalid"]["graphql_points"] == 0


def test_enterprise_style_base_serves_graphql_at_api_graphql():
    with serving(tiny_world(), path_prefix="/api/v3") as (simulator, session):
        host = simulator.base_url.removesuffix("/api/v3")
        answer = session.post(f"{host}/api/graphql", json={"query": '{ user(login: "octocat") { url } }'})
        assert answer.json() == {"data": {"user": {"url": f"{simulator.base_url}/octocat"}}}
        assert session.post(f"{host}/graphql", json={"query": "{ rateLimit { cost } }"}).status_code == 404


def test_invalid_query_answers_200_with_errors_and_no_data(served):
    simulator, session = served
    for query in ('{ user(login: "octocat") { nosuchfield } }', "{ user(", '{ user { login } }'):
        answer = post(simulator, session, query)
        assert answer.status_code == 200 and "data" not in answer.json() and answer.json()["errors"]
        assert answer.headers["x-ratelimit-resource"] == "graphql"
    assert quota(answer)["x-ratelimit-used"] == "3"       # conservative: a refused query costs 1 point
    broken = session.post(f"{simulator.base_url}/graphql", data=b"{not json")
    assert (broken.status_code, broken.json()["message"]) == (400, "Problems parsing JSON")


def test_points_bucket_headers_and_rate_limit_field(served):
    simulator, session = served
    first = post(simulator, session, TWO_POINTS)
    assert first.status_code == 200 and "errors" not in first.json()
    assert quota(first)["x-ratelimit-used"] == "2" and quota(first)["x-ratelimit-resource"] == "graphql"
    answer = post(simulator, session, "{ rateLimit { cost limit remaining used resetAt nodeCount } "
                                      'user(login: "octocat") { followers(first: 10) { totalCount } } }')
    rate = answer.json()["data"]["rateLimit"]
    reset = int(quota(answer)["x-ratelimit-reset"])
    assert rate == {"cost": 1, "limit": 5000, "remaining": 4997, "used": 3,
                    "resetAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(reset)), "nodeCount": 10}
    assert quota(answer) == {"x-ratelimit-limit": "5000", "x-ratelimit-remaining": "4997", "x-ratelimit-used": "3",
                             "x-ratelimit-reset": str(reset), "x-ratelimit-resource": "graphql"}
    dry = post(simulator, session, '{ rateLimit(dryRun: true) { cost remaining } user(login: "octocat") { login } }')
    assert dry.json() == {"data": {"rateLimit": {"cost": 1, "remaining": 4997}, "user": None}}
    assert quota(dry)["x-ratelimit-used"] == "3"
    resources = session.get(f"{simulator.base_url}/rate_limit").json()["resources"]
    assert resources["graphql"] == {"limit": 5000, "used": 3, "remaining": 4997, "reset": reset}
    by_token = simulator.stats()["by_token"][simulator.token_label("tests-token")]
    assert (by_token["graphql_queries"], by_token["graphql_points"], by_token["graphql_nodes"]) == (3, 3, 3)


def test_graphql_and_rest_buckets_are_separate(served):
    simulator, session = served
    rest = session.get(f"{simulator.base_url}/users/octocat")
    post(simulator, session, TWO_POINTS)
    graphql = post(simulator, session, '{ user(login: "octocat") { login } }')
    again = session.get(f"{simulator.base_url}/users/alice")
    assert [quota(r)["x-ratelimit-used"] for r in (rest, graphql, again)] == ["1", "3", "2"]
    assert [quota(r)["x-ratelimit-resource"] for r in (rest, graphql, again)] == ["core", "graphql", "core"]
    resources = session.get(f"{simulator.base_url}/rate_limit").json()["resources"]
    assert (resources["core"]["used"], resources["graphql"]["used"]) == (2, 3)
    assert simulator.stats()["total"]["quota_counted"] == 2


def test_a_query_the_bucket_cannot_pay_for_is_rate_limited():
    with serving(tiny_world(), graphql_limit=3) as (simulator, session):
        assert quota(post(simulator, session, TWO_POINTS))["x-ratelimit-remaining"] == "1"
        refused = post(simulator, session, TWO_POINTS)
        user_id = int(simulator.token_label("tests-token")[6:13], 16)
        assert refused.status_code == 200
        assert refused.json() == {"errors": [{"type": "RATE_LIMITED",
                                              "message": f"API rate limit exceeded for user ID {user_id}."}]}
        assert quota(refused)["x-ratelimit-remaining"] == "1"           # nothing taken
        assert post(simulator, session, '{ user(login: "alice") { login } }').json()["data"]
        spent = post(simulator, session, '{ user(login: "alice") { login } }')
        assert spent.json()["errors"][0]["type"] == "RATE_LIMITED"
        assert (quota(spent)["x-ratelimit-remaining"], quota(spent)["x-ratelimit-used"]) == ("0", "3")
        assert session.get(f"{simulator.base_url}/users/alice").status_code == 200    # REST unaffected


def test_graphql_queries_per_minute_secondary_limit():
    with serving(tiny_world(), graphql_per_minute=2) as (simulator, session):
        answers = [post(simulator, session, "{ rateLimit { cost } }") for _ in range(3)]
        assert [a.status_code for a in answers] == [200, 200, 403]
        assert "secondary rate limit" in answers[2].json()["message"]
        assert 1 <= int(answers[2].headers["Retry-After"]) <= 60
        assert quota(answers[2])["x-ratelimit-used"] == "2"            # refused before any point
        assert session.get(f"{simulator.base_url}/users/alice").status_code == 200   # REST counts its own


def test_concurrency_limit_is_shared_by_rest_and_graphql():
    quotas = Quotas(Limits(secondary_concurrency=1))
    caller = Caller.identify("token t", "127.0.0.1", (), quotas.limits)
    rest = quotas.admit(caller, free=False)
    assert rest.refusal is None
    busy = quotas.admit_graphql(caller)
    assert busy.refusal.status == 403 and ("Retry-After", "60") in busy.refusal.headers
    quotas.settle(busy)
    quotas.settle(rest)
    free = quotas.admit_graphql(caller)
    assert free.refusal is None
    assert quotas.admit(caller, free=False).refusal.status == 403


def test_a_query_returning_too_many_nodes_answers_502_and_is_charged():
    with serving(tiny_world(), graphql_node_seconds=1.0, graphql_timeout=2.5) as (simulator, session):
        query = '{ user(login: "octocat") { followers(first: 100) { nodes { login } } } }'   # 3 followers
        timed_out = post(simulator, session, query)
        assert timed_out.status_code == 502
        assert timed_out.json()["data"] is None
        assert "This may be the result of a timeout" in timed_out.json()["errors"][0]["message"]
        assert quota(timed_out)["x-ratelimit-used"] == "1"
        assert post(simulator, session, query.replace("octocat", "bob")).status_code == 200   # 1 follower
        assert simulator.stats()["by_token"][simulator.token_label("tests-token")]["graphql_nodes"] == 4


def test_unknown_login_is_null_with_not_found_while_other_aliases_resolve(served):
    simulator, session = served
    query = ('{ a: user(login: "alice") { login } nobody: user(login: "nobody") { login } '
             'org: organization(login: "alice") { login } acme: organization(login: "acme") { login } '
             'owner: repositoryOwner(login: "nobody") { login } }')
    answer = post(simulator, session, query).json()
    assert answer["data"] == {"a": {"login": "alice"}, "nobody": None, "org": None, "acme": {"login": "acme"},
                              "owner": None}
    assert answer["errors"] == [
        {"type": "NOT_FOUND", "path": ["nobody"], "locations": [{"line": 1, "column": query.index("nobody:") + 1}],
         "message": "Could not resolve to a User with the login of 'nobody'."},
        {"type": "NOT_FOUND", "path": ["org"], "locations": [{"line": 1, "column": query.index("org:") + 1}],
         "message": "Could not resolve to an Organization with the login of 'alice'."},
    ]


def test_renamed_user_and_renamed_repository(served):
    simulator, session = served
    simulator.world.rename_user("octocat", "monalisa")
    answer = post(simulator, session, '{ old: user(login: "octocat") { login } new: user(login: "monalisa") '
                                      "{ databaseId } }").json()
    assert answer["data"] == {"old": None, "new": {"databaseId": 1}}
    assert answer["errors"][0]["type"] == "NOT_FOUND"
    simulator.world.rename_repo("monalisa/Hello-World", "hello-universe")
    query = ('query($follow: Boolean!) { repository(owner: "octocat", name: "Hello-World", followRenames: $follow) '
             "{ nameWithOwner databaseId } }")
    followed = post(simulator, session, query, follow=True).json()
    assert followed == {"data": {"repository": {"nameWithOwner": "monalisa/hello-universe", "databaseId": 100}}}
    refused = post(simulator, session, query, follow=False).json()
    assert refused["data"] == {"repository": None} and refused["errors"][0]["type"] == "NOT_FOUND"


def test_node_and_nodes_take_rest_node_ids(served):
    simulator, session = served
    base = simulator.base_url
    user_id, repo_id = (session.get(f"{base}/users/alice").json()["node_id"],
                        session.get(f"{base}/repos/octocat/Hello-World").json()["node_id"])
    org_id = session.get(f"{base}/users/acme").json()["node_id"]
    answer = post(simulator, session, "query($ids: [ID!]!, $one: ID!) { nodes(ids: $ids) { __typename id "
                                      "... on User { login } ... on Organization { login } ... on Repository "
                                      "{ name } } node(id: $one) { id } }",
                  ids=[user_id, repo_id, org_id, "bm9wZQ=="], one=user_id).json()
    assert answer["data"] == {"nodes": [{"__typename": "User", "id": user_id, "login": "alice"},
                                        {"__typename": "Repository", "id": repo_id, "name": "Hello-World"},
                                        {"__typename": "Organization", "id": org_id, "login": "acme"}, None],
                              "node": {"id": user_id}}
    assert [(e["type"], e["path"]) for e in answer["errors"]] == [("NOT_FOUND", ["nodes", 3])]


def test_fields_the_simulator_does_not_serve_are_errors_not_inventions(served):
    simulator, session = served
    answer = post(simulator, session, '{ user(login: "alice") { login pronouns } }').json()
    assert answer["data"] == {"user": {"login": "alice", "pronouns": None}}
    assert answer["errors"][0]["message"] == "github_simulator does not serve User.pronouns."


def test_repository_lists_filter_and_order_as_githubs(served):
    simulator, session = served
    data = post(simulator, session, """{
      alice: user(login: "alice") {
        all: repositories(first: 10) { totalCount nodes { nameWithOwner isFork } }
        private: repositories(first: 10, privacy: PRIVATE) { totalCount }
        collaborator: repositories(first: 10, ownerAffiliations: [COLLABORATOR]) { totalCount }
        forks: repositories(first: 10, isFork: true) { totalCount }
        sources: repositories(first: 10, isFork: false) { totalCount }
        newest: starredRepositories(first: 10, orderBy: {field: STARRED_AT, direction: DESC}) {
          nodes { nameWithOwner } }
      }
      octocat: user(login: "octocat") {
        repositories(first: 10, orderBy: {field: NAME, direction: DESC}) { nodes { name } }
      }
      acme: organization(login: "acme") {
        databaseId websiteUrl repositories(first: 5, isArchived: true) { nodes { name isArchived owner { login } } }
      }
      fork: repository(owner: "octocat", name: "Hello-World") { forks(first: 5) { nodes { nameWithOwner parent {
        nameWithOwner } } } }
    }""").json()["data"]
    assert data["alice"]["all"] == {"totalCount": 1, "nodes": [{"nameWithOwner": "alice/Hello-World", "isFork": True}]}
    assert [data["alice"][k]["totalCount"] for k in ("private", "collaborator", "forks", "sources")] == [0, 0, 1, 0]
    rest_starred = session.get(f"{simulator.base_url}/users/alice/starred").json()
    assert [n["nameWithOwner"] for n in data["alice"]["newest"]["nodes"]] == [r["full_name"] for r in rest_starred]
    assert [n["name"] for n in data["octocat"]["repositories"]["nodes"]] == ["spoon-knife", "Hello-World"]
    assert data["acme"] == {"databaseId": 10, "websiteUrl": "https://acme.example", "repositories": {"nodes": [
        {"name": "rocket", "isArchived": True, "owner": {"login": "acme"}}]}}
    assert data["fork"]["forks"]["nodes"] == [{"nameWithOwner": "alice/Hello-World",
                                               "parent": {"nameWithOwner": "octocat/Hello-World"}}]
