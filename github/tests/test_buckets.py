"""Both buckets across window resets: a hybrid crawl by 4 worker threads on 2 tokens whose REST and GraphQL
windows are a few seconds long and much smaller than the crawl, with GITHUB_QUOTA_FRACTION 0.5. Every window of
either bucket of either token must stay within half its limit (counted on the simulator's side, window by
window), the crawl must finish (no livelock) with postponed syncs resumed by themselves, and store every
relation set as the world has it."""
import threading
import types

import pytest
from celery.contrib.testing.worker import start_worker

from git_o_matic_9k.celery import app
from github import admission, tasks
from github.models import Developer
from github_simulator import World, limits
from reliability.canonical import check_against_world, duplicate_rows
from reliability.crawl import drive_crawl, failed_tasks

pytestmark = pytest.mark.django_db(transaction=True)

TOKENS = ("bucket-token-a", "bucket-token-b")
WINDOW_SECONDS = 1
REST_LIMIT = 10  # per token and window, half of it this service's
GRAPHQL_LIMIT = 8


class WindowProbe:
    """Every window the simulator closes or still has open: (resource, limit, units used), by patching its
    window's roll, the one place a window ends."""

    def __init__(self, monkeypatch):
        self.closed = []
        self.open = []
        self._lock = threading.Lock()
        roll, take = limits._Window.roll, limits._Window.take
        probe = self

        def recording_roll(window, now):
            if window.reset is not None and now >= window.reset:
                with probe._lock:
                    probe.closed.append((window.limit, window.used))
            roll(window, now)

        def recording_take(window, units, now, window_seconds):
            take(window, units, now, window_seconds)
            with probe._lock:
                if window not in probe.open:
                    probe.open.append(window)

        monkeypatch.setattr(limits._Window, "roll", recording_roll)
        monkeypatch.setattr(limits._Window, "take", recording_take)

    def windows(self):
        """(limit, used) of every window that had a unit taken: closed ones and those still open."""
        with self._lock:
            return self.closed + [(window.limit, window.used) for window in self.open if window.reset is not None]


@pytest.fixture
def crawl_world():
    return World.generate(users=40, seed=7)


@pytest.fixture
def workers(monkeypatch, settings):
    """4 worker threads in this process, hybrid mode, two tokens; postponed syncs wake up a fraction of a second
    after a reset instead of up to a minute (the policy is the same, only the clock is faster)."""
    monkeypatch.setattr(tasks, "random", types.SimpleNamespace(uniform=lambda low, high: 0.05))
    monkeypatch.setattr(admission, "JITTER_SECONDS", (0.05, 0.2))
    settings.GITHUB_API_MODE = "hybrid"
    settings.DISCOVERY_BATCH_SIZE = 8
    app.control.purge()
    with start_worker(app, pool="threads", concurrency=4, perform_ping_check=False, shutdown_timeout=30) as running:
        yield running


def crawl(world, start_simulator, settings, **quotas):
    simulator = start_simulator(world, token=None, window_seconds=WINDOW_SECONDS, **quotas)
    settings.GITHUB_API_KEY = ",".join(TOKENS)
    outcome = drive_crawl(world.logins()[0], timeout=240, poll=0.05)
    return simulator, outcome


def test_two_tokens_two_buckets_short_windows_half_the_quota(crawl_world, start_simulator, settings, workers,
                                                              monkeypatch):
    settings.GITHUB_QUOTA_FRACTION = 0.5
    postponed = []
    postpone = tasks.GitHubTask.postpone
    monkeypatch.setattr(tasks.GitHubTask, "postpone",
                        lambda self, retry_at: postponed.append(retry_at) or postpone(self, retry_at))
    probe = WindowProbe(monkeypatch)
    simulator, _outcome = crawl(crawl_world, start_simulator, settings, rate_limit=REST_LIMIT,
                               graphql_limit=GRAPHQL_LIMIT)
    windows = probe.windows()
    rest_windows = [used for limit, used in windows if limit == REST_LIMIT]
    graphql_windows = [used for limit, used in windows if limit == GRAPHQL_LIMIT]
    stopped = failed_tasks()
    # The crawl took several windows of each bucket, and no window of either went over half its limit.
    assert len(rest_windows) >= 3 and len(graphql_windows) >= 4, windows
    assert max(rest_windows) <= REST_LIMIT // 2 and max(graphql_windows) <= GRAPHQL_LIMIT // 2, windows
    assert "403" not in simulator.stats()["by_status"], simulator.stats()["by_status"]
    # No livelock: the crawl ended; syncs that waited for a reset (postponed before they started, or stopped
    # part-way with their follow-up queued) resumed by themselves; nothing was lost.
    assert postponed or stopped
    assert all("API rate limit exceeded" in failure for failure in stopped), stopped
    assert duplicate_rows() == {"developers": 0, "repositories": 0, "follows": 0, "stars": 0}
    assert not (problems := check_against_world(crawl_world)), problems
    assert Developer.objects.filter(profile_synced_at__isnull=True).count() == 0
