"""GitHub's GraphQL rules before execution: cost, node count and limits, with GitHub's own worked
examples as fixtures (the schema loads once per process: graphql_rules.schema is cached)."""

import pytest

from github_simulator.graphql_rules import QueryRefused, plan

# GitHub's "Calculating a rate limit score" example: 1 + 100 + 100 x 50 = 5,101 requests = 51 points.
GITHUB_COST_EXAMPLE = """
query {
  viewer {
    login
    repositories(first: 100) {
      edges {
        node {
          id
          issues(first: 50) {
            edges {
              node {
                id
                labels(first: 60) {
                  edges { node { id name } }
                }
              }
            }
          }
        }
      }
    }
  }
}
"""
# GitHub's node-limit examples: 50 + 50 x 10 = 550 nodes, and 22,060 nodes.
GITHUB_NODES_EXAMPLE_1 = ("query { viewer { repositories(first: 50) { edges { repository: node { name "
                          "issues(first: 10) { totalCount edges { node { title bodyHTML } } } } } } } }")
GITHUB_NODES_EXAMPLE_2 = """
query {
  viewer {
    repositories(first: 50) {
      edges {
        repository: node {
          name
          pullRequests(first: 20) {
            edges { pullRequest: node { title comments(first: 10) { edges { comment: node { bodyHTML } } } } }
          }
          issues(first: 20) {
            totalCount
            edges { issue: node { title bodyHTML comments(first: 10) { edges { comment: node { bodyHTML } } } } }
          }
        }
      }
    }
    followers(first: 10) { edges { follower: node { login } } }
  }
}
"""


def refusal(query, **variables):
    with pytest.raises(QueryRefused) as caught:
        plan(query, variables)
    return caught.value.errors


def test_githubs_worked_example_costs_51_points():
    checked = plan(GITHUB_COST_EXAMPLE)
    assert (checked.requests, checked.points) == (5101, 51)
    assert checked.nodes == 100 + 100 * 50 + 100 * 50 * 60


def test_githubs_node_limit_examples():
    assert plan(GITHUB_NODES_EXAMPLE_1).nodes == 550
    assert plan(GITHUB_NODES_EXAMPLE_2).nodes == 22_060


@pytest.mark.parametrize(("requests", "points"), [(1, 1), (49, 1), (149, 1), (150, 2), (249, 2), (250, 3)])
def test_points_are_requests_over_100_rounded_at_least_1(requests, points):
    # Each alias is one user with one connection: one request each (halves round up).
    aliases = " ".join(f'u{i}: user(login: "a") {{ followers(first: 1) {{ totalCount }} }}' for i in range(requests))
    query = f"{{ {aliases} }}"
    checked = plan(query)
    assert (checked.requests, checked.points) == (requests, points)


def test_aliases_count_separately_and_repeated_fields_merge():
    aliased = plan('{ a: user(login: "a") { followers(first: 10) { totalCount } } '
                   'b: user(login: "b") { followers(first: 10) { totalCount } } }')
    assert (aliased.requests, aliased.nodes) == (2, 20)
    merged = plan('{ user(login: "a") { ...F ...F followers(first: 10) { nodes { login } } } } '
                  'fragment F on User { followers(first: 10) { totalCount } }')
    assert (merged.requests, merged.nodes) == (1, 10)


def test_nodes_ids_multiply_what_is_under_them():
    ids = ", ".join(f'"id{i}"' for i in range(3))
    checked = plan(f'{{ nodes(ids: [{ids}]) {{ ... on User {{ followers(first: 10) {{ nodes {{ login }} }} }} }} }}')
    assert (checked.requests, checked.nodes) == (3, 30)


def test_a_count_only_connection_needs_no_page_and_costs_one_request_each_time():
    single = plan('{ user(login: "a") { followers { totalCount } } }')
    assert (single.requests, single.nodes, single.points) == (1, 0, 1)
    under_page = plan('{ user(login: "a") { following(first: 100) { nodes { followers { totalCount } } } } }')
    assert (under_page.requests, under_page.nodes) == (101, 100)


@pytest.mark.parametrize(("arguments", "error_type", "message"), [
    ("", "MISSING_PAGINATION_BOUNDARIES",
     "You must provide a `first` or `last` value to properly paginate the `followers` connection."),
    ("(first: 101)", "EXCESSIVE_PAGINATION",
     "Requesting 101 records on the `followers` connection exceeds the `first` limit of 100 records."),
    ("(last: 500)", "EXCESSIVE_PAGINATION",
     "Requesting 500 records on the `followers` connection exceeds the `last` limit of 100 records."),
    ("(first: 0)", "EXCESSIVE_PAGINATION", "`first` on the `followers` connection must be between 1 and 100, not 0."),
])
def test_every_connection_needs_first_or_last_between_1_and_100(arguments, error_type, message):
    errors = refusal(f'{{ user(login: "a") {{ followers{arguments} {{ nodes {{ login }} }} }} }}')
    assert errors == [{"type": error_type, "path": ["user", "followers"], "message": message}]


def test_page_sizes_from_variables_are_checked_too():
    query = 'query($n: Int) { user(login: "a") { followers(first: $n) { nodes { login } } } }'
    assert plan(query, {"n": 100}).nodes == 100
    assert refusal(query, n=101)[0]["type"] == "EXCESSIVE_PAGINATION"


def test_more_than_500000_nodes_is_refused_with_githubs_message():
    query = ('{ user(login: "a") { followers(first: 100) { nodes { following(first: 100) { nodes { '
             'starredRepositories(first: 51) { totalCount } } } } } } }')
    assert refusal(query) == [{"type": "MAX_NODE_LIMIT_EXCEEDED", "message":
                               "This query requests up to 520,100 possible nodes which exceeds the maximum limit of "
                               "500,000."}]
    assert plan(query.replace("51", "48")).nodes == 100 + 10_000 + 480_000


def test_nodes_takes_at_most_100_ids():
    ids = ", ".join(f'"id{i}"' for i in range(101))
    assert refusal(f"{{ nodes(ids: [{ids}]) {{ id }} }}") == [
        {"type": "ARGUMENT_LIMIT", "path": ["nodes"], "message": "You may not provide more than 100 node ids; you "
                                                                   "provided 101."}]


def test_queries_are_validated_against_githubs_whole_schema():
    # Fields the simulator does not serve still validate: the schema is GitHub's, not a subset.
    assert plan('{ repository(owner: "a", name: "b") { discussions(first: 5) { nodes { title } } } }').points == 1
    errors = refusal('{ user(login: "a") { loginn } }')
    assert "Cannot query field 'loginn' on type 'User'" in errors[0]["message"] and "locations" in errors[0]
    assert refusal("{ user(login: 1) { login } }")
    assert refusal("{ user(") and refusal(None) and refusal("query($l: String!) { user(login: $l) { id } }")


def test_dry_run_is_recognised_and_mutations_are_refused():
    assert plan('{ rateLimit(dryRun: true) { cost } user(login: "a") { login } }').dry_run
    assert not plan("{ rateLimit { cost } }").dry_run
    errors = refusal('mutation { addStar(input: {starrableId: "x"}) { clientMutationId } }')
    assert "queries only" in errors[0]["message"]
