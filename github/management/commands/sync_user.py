"""`manage.py sync_user LOGIN`: a full profile sync in the foreground, without a worker."""
import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from github import discovery
from github.client import GitHubClient
from github.management.errors import one_line_errors
from github.management.progress import Progress
from github.names import validate_login
from github.tasks import sync_profile


class Command(BaseCommand):
    """Sync one developer now and print what it cost and wrote."""

    help = "Sync one GitHub developer (profile, followers, following, starred, repositories, stargazers) now."

    def add_arguments(self, parser):
        parser.add_argument("login", help="GitHub login")

    def handle(self, *args, **options):
        try:
            login = validate_login(options["login"])
        except ValidationError as error:
            raise CommandError(error.messages[0]) from error
        progress = Progress(self.stderr, total=1)
        with one_line_errors(), GitHubClient() as client:
            progress.update(0, 0, note=f"syncing {login}")
            try:
                result = sync_profile(client, login)
            finally:
                discovery.release_claim(login)
            progress.update(1, result.requests, note=f"graphql {result.graphql_points} points")
        progress.finish()
        self.stdout.write(json.dumps(result.as_dict(), indent=2))
