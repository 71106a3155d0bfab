"""The GraphQL crawl (github/graphql_client.py, github/graphql_sync.py) against the simulator's GraphQL side."""
import pytest

from github import graphql_sync
from github.client import GitHubClient
from github.graphql_client import GraphQLClient
from github_simulator import World

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def generated_world():
    return World.generate(users=400, seed=42)


def busiest(world, count):
    return sorted(world.logins(), key=lambda login: len(world.followers_of(login)) + len(world.repos_of(login)),
                  reverse=True)[:count]


def test_cold_sync_smoke(generated_world, start_simulator, settings):
    settings.GITHUB_API_MODE = "hybrid"
    simulator = start_simulator(generated_world)
    logins = busiest(generated_world, 5)
    with GitHubClient() as client:
        graphql = GraphQLClient(client)
        results = graphql_sync.sync_developers(client, logins, graphql=graphql)
    print(results, graphql.stats, simulator.stats()["total"])
