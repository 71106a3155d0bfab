"""An offline, faithful stand-in for api.github.com.

``github_simulator`` serves GitHub's REST API (the GET endpoints a crawler of users, followers,
stars and repositories needs) and its GraphQL API (``POST /graphql``) for a synthetic world, over
real HTTP, so that every sync path can be exercised without a route to GitHub or a token::

    from github_simulator import World, Simulator

    world = World.generate(users=5000, seed=42)        # or World.load("tiny.json")
    with Simulator(world, rate_limit=50, window_seconds=10) as sim:
        base_url = sim.base_url                        # point GITHUB_API_URL here
        ...
        world.update_user(world.logins()[0], bio="hi")  # the API shows it at once
        sim.stats()["total"]["quota_counted"]

or ``python -m github_simulator --port 8001 --users 5000 --seed 42`` (``--help`` for more).
Payloads validate against GitHub's own OpenAPI description, and queries against GitHub's own
GraphQL schema (both vendored in ``schema/``); paging, rate limits, GraphQL's cost and node rules,
conditional requests, renames and deletions behave as GitHub's do. See ``world.py`` for the world
and its JSON format, ``server.py`` for credentials, limits and faults, ``graphql_rules.py`` and
``graphql_api.py`` for GraphQL.
"""

from .server import Simulator
from .world import World

__all__ = ["Simulator", "World"]
