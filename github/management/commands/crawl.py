"""`manage.py crawl --seed LOGIN --max-developers N`: the crawler in the foreground, for scripts and for users
without a worker. It follows the same rules as the tasks: discovery order, quota ledger, whole-list reads."""
import time

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from github import sync, throttle
from github.client import GitHubClient
from github.management.errors import one_line_errors
from github.management.progress import Progress
from github.tasks import sync_profile
from github.validators import validate_login


class Command(BaseCommand):
    """Sync the seed, then whom discovery chooses, until N developers are synced; waits out quota resets."""

    help = "Crawl from a seed login until --max-developers developers are synced, showing progress."

    def add_arguments(self, parser):
        parser.add_argument("--seed", required=True, help="GitHub login to start from")
        parser.add_argument("--max-developers", type=int, default=100, help="Stop after this many syncs")

    def handle(self, *args, **options):
        try:
            login = validate_login(options["seed"])
        except ValidationError as error:
            raise CommandError(f"--seed: {error.messages[0]}") from error
        total = options["max_developers"]
        if total < 1:
            raise CommandError("--max-developers must be at least 1")
        progress = Progress(self.stderr, total=total)
        synced = 0
        with one_line_errors(), GitHubClient() as client:
            while login is not None and synced < total:
                result = self._sync_when_affordable(client, login, progress, synced)
                synced += 1
                progress.update(synced, client.stats["quota_requests"],
                                note=f"last {result.login}{' (gone)' if result.gone else ''}")
                login = self._next(client, progress, synced) if synced < total else None
        progress.finish()
        self.stdout.write(self.style.SUCCESS(
            f"Synced {synced} developers with {client.stats['quota_requests']} quota requests "
            f"({client.stats['not_modified']} free 304s)."))

    def _sync_when_affordable(self, client, login, progress, synced):
        self._wait_for_quota(client, sync.estimate_profile_cost(login), progress, synced)
        try:
            return sync_profile(client, login)
        finally:
            sync.release_claim(login)

    def _next(self, client, progress, synced):
        """The next login discovery chooses; None when nobody is left to crawl."""
        while True:
            batch = sync.choose_discovery_batch(budget=throttle.allowed_budget(client=client), limit=1)
            if batch:
                return batch[0].login
            if throttle.can_start(sync.STUB_COST, client=client).can_start:
                return None  # budget enough for anyone, yet nobody chosen: the graph is exhausted
            self._wait_for_quota(client, sync.STUB_COST, progress, synced)

    def _wait_for_quota(self, client, cost, progress, synced):
        """Sleep until the ledger can pay for `cost` (a foreground command may wait; a worker never does)."""
        while not (decision := throttle.can_start(cost, client=client)).can_start:
            progress.update(synced, client.stats["quota_requests"],
                            note=f"waiting for the quota until {decision.retry_at:%H:%M:%S} UTC")
            time.sleep(max(1.0, (decision.retry_at - timezone.now()).total_seconds()))
