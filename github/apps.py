"""App configuration."""
from django.apps import AppConfig
from django.db.models.signals import pre_migrate


class GithubConfig(AppConfig):
    """The crawler app."""

    name = "github"
    verbose_name = "GitHub graph"

    def ready(self):
        from github.old_database import refuse_old_service_database  # pylint: disable=import-outside-toplevel

        pre_migrate.connect(refuse_old_service_database, dispatch_uid="github.refuse_old_service_database")
