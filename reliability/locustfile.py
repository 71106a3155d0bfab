"""Locust clients of the read API for reliability/load.py: list, detail, filtered and nested endpoints.

Token, developer ids (hubs with many followers) and repository ids come from the environment (load.py sets
them). Every client picks an endpoint at random with these weights, without think time: 50 clients are 50
requests in flight.
"""
import os
import random

from locust import FastHttpUser, constant, task

DEVELOPERS = os.environ.get("LOAD_DEVELOPERS", "").split(",")
REPOSITORIES = os.environ.get("LOAD_REPOSITORIES", "").split(",")


class ApiReader(FastHttpUser):
    """One API client, authenticated with a token."""

    wait_time = constant(0)

    def on_start(self):
        self.client.client.default_headers = {"Authorization": f"Token {os.environ['LOAD_TOKEN']}"}

    def _get(self, url, name):
        with self.client.get(url, name=name, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code}")

    @task(3)
    def developer_list(self):
        """A page of the developer list."""
        self._get(f"/github/developers/?page={random.randint(1, 50)}", "list developers")

    @task(3)
    def developer_detail(self):
        """A developer, hubs included."""
        self._get(f"/github/developers/{random.choice(DEVELOPERS)}/", "developer detail")

    @task(2)
    def developer_filtered(self):
        """Developers with 100+ followers, most followed first."""
        self._get("/github/developers/?followers_count__gte=100&ordering=-followers_count", "filtered developers")

    @task(1)
    def developer_search(self):
        """A text filter."""
        self._get("/github/developers/?name__icontains=lovelace", "name contains")

    @task(2)
    def followers(self):
        """A developer's followers."""
        self._get(f"/github/developers/{random.choice(DEVELOPERS)}/followers/", "nested followers")

    @task(1)
    def starred(self):
        """A developer's starred repositories."""
        self._get(f"/github/developers/{random.choice(DEVELOPERS)}/starred/", "nested starred")

    @task(2)
    def repository_list(self):
        """Repositories with 10+ stars, most starred first."""
        self._get("/github/repositories/?stargazers_count__gte=10&ordering=-stargazers_count", "filtered repositories")

    @task(2)
    def repository_detail(self):
        """A repository."""
        self._get(f"/github/repositories/{random.choice(REPOSITORIES)}/", "repository detail")

    @task(1)
    def stargazers(self):
        """A repository's stargazers."""
        self._get(f"/github/repositories/{random.choice(REPOSITORIES)}/stargazers/", "nested stargazers")
