"""`manage.py rank`: compute every developer's and repository's rank now, in the foreground."""
from django.core.management.base import BaseCommand

from github import rank
from github.management.errors import one_line_errors


class Command(BaseCommand):
    """What the daily `rank_graph` task does, now."""

    requires_system_checks = []  # a long read of the data: the checks add seconds and check nothing it uses
    help = "Compute the PageRank of every developer in the follow graph and every repository's score now."

    def handle(self, *args, **options):
        with one_line_errors():
            self.stdout.write(str(rank.compute_and_store()))
