"""App configuration."""
from django.apps import AppConfig


class GithubConfig(AppConfig):
    """The crawler app."""

    name = "github"
    verbose_name = "GitHub graph"

    def ready(self):
        # Connects the failed-login counter to Django's user_login_failed signal.
        from github import login_throttle  # noqa: F401  pylint: disable=import-outside-toplevel,unused-import
