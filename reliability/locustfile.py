"""Locust clients of the read API for reliability/load.py: list, detail, filtered and nested endpoints.

Token, developer ids (hubs with many followers) and repository ids come from the environment (load.py sets
them). Every client picks an endpoint at random with these weights, without think time: 50 clients are 50
requests in flight.
"""
import os
import random

from locust import FastHttpUser, constant

DEVELOPERS = os.environ.get("LOAD_DEVELOPERS", "").split(",")
REPOSITORIES = os.environ.get("LOAD_REPOSITORIES", "").split(",")


# What a client reads: (weight, request name, the URL, drawn anew for each request).
ENDPOINTS = [
    (3, "list developers", lambda: f"/github/developers/?page={random.randint(1, 50)}"),
    (3, "developer detail", lambda: f"/github/developers/{random.choice(DEVELOPERS)}/"),  # hubs included
    (2, "filtered developers",  # 100+ followers, most followed first
     lambda: "/github/developers/?followers_count__gte=100&ordering=-followers_count"),
    (1, "name contains", lambda: "/github/developers/?name__icontains=lovelace"),  # a text filter
    (2, "nested followers", lambda: f"/github/developers/{random.choice(DEVELOPERS)}/followers/"),
    (1, "nested starred", lambda: f"/github/developers/{random.choice(DEVELOPERS)}/starred/"),
    (2, "filtered repositories",  # 10+ stars, most starred first
     lambda: "/github/repositories/?stargazers_count__gte=10&ordering=-stargazers_count"),
    (2, "repository detail", lambda: f"/github/repositories/{random.choice(REPOSITORIES)}/"),
    (1, "nested stargazers", lambda: f"/github/repositories/{random.choice(REPOSITORIES)}/stargazers/"),
]


def _reading(name, url):
    """A task: GET `url()`, reported under `name`, a failure unless it answers 200."""
    def read(user):
        with user.client.get(url(), name=name, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code}")
    read.__name__ = name.replace(" ", "_")
    return read


class ApiReader(FastHttpUser):
    """One API client, authenticated with a token."""

    wait_time = constant(0)
    tasks = {_reading(name, url): weight for weight, name, url in ENDPOINTS}

    def on_start(self):
        self.client.client.default_headers = {"Authorization": f"Token {os.environ['LOAD_TOKEN']}"}
