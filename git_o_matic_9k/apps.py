"""The project package as an app: it owns what every deployment needs whatever it crawls (the login
throttle's signal, `manage.py ensure_login`), so the crawler app `github` never imports the project."""
from django.apps import AppConfig


class ProjectConfig(AppConfig):
    """Project-wide commands and signals."""

    name = "git_o_matic_9k"
    verbose_name = "git-o-matic-9k"

    def ready(self):
        # Connects the failed-login counter to Django's user_login_failed signal.
        from git_o_matic_9k import login_throttle  # noqa: F401  pylint: disable=import-outside-toplevel,unused-import
