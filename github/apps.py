"""App configuration."""
from django.apps import AppConfig


class GithubConfig(AppConfig):
    """The crawler app."""

    name = "github"
    verbose_name = "GitHub graph"
