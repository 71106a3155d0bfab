"""`manage.py crawl --seed LOGIN --max-developers N`: the crawler in the foreground, for scripts and for users
without a worker. It follows the same rules as the tasks: discovery order, quota ledger, whole-list reads."""
import time

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from github import admission, discovery, graphql_sync, throttle
from github.client import GitHubClient
from github.graphql_client import REST, GraphQLClient, api_mode
from github.management.errors import one_line_errors
from github.management.progress import Progress
from github.names import validate_login
from github.tasks import found


class Command(BaseCommand):
    """Sync the seed, then whom discovery chooses, until N developers are synced; waits out quota resets."""

    help = "Crawl from a seed login until --max-developers developers are synced, showing progress."
    cold: graphql_sync.ColdSync | None = None  # the GraphQL planner of a run: its stats and batch sizes

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
        # Developers per step: one through REST; a batch of never-synced ones shares GraphQL queries.
        per_step = 1 if api_mode() == REST else graphql_sync.DEVELOPERS_PER_QUERY
        logins = [login]
        with one_line_errors(), GitHubClient() as client:
            self.cold = graphql_sync.ColdSync(client, GraphQLClient(client))
            while logins and synced < total:
                results = self._sync_when_affordable(client, logins, progress, synced)
                synced += len(results)
                last = results[-1]
                progress.update(synced, client.stats["quota_requests"],
                                note=f"last {last.login}{' (gone)' if last.gone else ''}{self._graphql_note(client)}")
                logins = self._next(client, progress, synced, min(per_step, total - synced)) if synced < total else []
        progress.finish()
        self.stdout.write(self.style.SUCCESS(
            f"Synced {synced} developers with {client.stats['quota_requests']} quota requests "
            f"({client.stats['not_modified']} free 304s) and {self.cold.graphql.stats['points']} GraphQL points "
            f"({self.cold.graphql.stats['queries']} queries)."))

    def _graphql_note(self, client):
        """The GraphQL bucket's part of the progress line (none in rest mode)."""
        if api_mode() == REST:
            return ""
        left = admission.allowed_budget(client=client, resource=throttle.GRAPHQL)
        return f"  | graphql {self.cold.graphql.stats['points']} points, {left} left"

    def _sync_when_affordable(self, client, logins, progress, synced):
        for login in logins:
            for resource, cost in graphql_sync.estimate_profile_costs(login).items():
                self._wait_for_quota(client, cost, progress, synced, resource)
        try:
            results = graphql_sync.sync_developers(client, logins, cold=self.cold)
            return [found(login, result) for login, result in zip(logins, results, strict=True)]
        finally:
            discovery.release_claims(logins)

    def _next(self, client, progress, synced, count):
        """The next logins discovery chooses (up to `count`); none when nobody is left to crawl."""
        while True:
            batch = discovery.choose_discovery_batch(budget=admission.allowed_budget(client=client), limit=count,
                                                     estimate=graphql_sync.estimate_rest_cost)
            if batch:
                return [developer.login for developer in batch]
            if admission.can_start(discovery.STUB_COST, client=client).can_start:
                return []  # budget enough for anyone, yet nobody chosen: the graph is exhausted
            self._wait_for_quota(client, discovery.STUB_COST, progress, synced)

    def _wait_for_quota(self, client, cost, progress, synced, resource=throttle.CORE):
        """Sleep until the ledger can pay for `cost` (a foreground command may wait; a worker never does)."""
        while not (decision := admission.can_start(cost, client=client, resource=resource)).can_start:
            progress.update(synced, client.stats["quota_requests"],
                            note=f"waiting for the quota until {decision.retry_at:%H:%M:%S} UTC")
            time.sleep(max(1.0, (decision.retry_at - timezone.now()).total_seconds()))
