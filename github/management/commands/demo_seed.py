"""`manage.py demo_seed`: the seeding half of `make demo`.

Waits for the GitHub API (the simulator in the demo), queues a full_profile_sync of a well-followed user for the
worker, then reports how the crawl goes (github/status.py), a line whenever it changed, so a newcomer sees the
crawler work and, when nothing happens, why.
"""
import time

import requests
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from github.client import GitHubClient
from github.management.errors import one_line_errors
from github.status import ProgressReport
from github.tasks import full_profile_sync


class Command(BaseCommand):
    """Seed the crawl through the worker, then report progress until interrupted."""

    help = "Queue a sync of a well-followed user (or --login) and report the crawl's progress until Ctrl-C."

    def add_arguments(self, parser):
        parser.add_argument("--login", help="Seed login (default: the most-followed of GitHub's first 30 users)")
        parser.add_argument("--every", type=float, default=10.0,
                            help="Seconds between looks at the progress (a line when it changed)")
        parser.add_argument("--once", action="store_true", help="Seed and report once, then exit")

    def handle(self, *args, **options):
        try:
            with one_line_errors():
                self._seed_and_report(options)
        except KeyboardInterrupt:
            pass  # Ctrl-C is how the demo stops: no traceback

    def _seed_and_report(self, options):
        self._wait_for_github()
        with GitHubClient() as client:
            login = options["login"] or self._most_followed(client)
        full_profile_sync.delay(login)
        self.stdout.write(self.style.SUCCESS(
            f"Queued full_profile_sync({login!r}); discovery (beat) grows the crawl from there.\n"
            "Browse http://127.0.0.1:8000/github/developers/ (log in as the block at the end of the start-up says)."))
        report = ProgressReport()
        while True:
            if line := report.line():
                self.stdout.write(f"{time.strftime('%H:%M:%S')} {line}")
            if options["once"]:
                return
            time.sleep(options["every"])

    def _wait_for_github(self, attempts=60):
        url = f"{settings.GITHUB_API_URL}/rate_limit"
        for _ in range(attempts):
            try:
                if requests.get(url, timeout=2).ok:
                    return
            except requests.RequestException:
                pass
            time.sleep(1)
        raise CommandError(f"GitHub API at {settings.GITHUB_API_URL} did not answer")

    @staticmethod
    def _most_followed(client):
        first_users = client.get("/users", params={"since": 0, "per_page": 30}).data
        profiles = [client.user(user["login"], conditional=False).data for user in first_users]
        return max(profiles, key=lambda profile: profile["followers"])["login"]
