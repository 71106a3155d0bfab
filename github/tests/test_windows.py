"""Work longer than one window's budget (2 requests a window here): a list continues across windows where it
stopped instead of being read from page 1 every window (issue 13's livelock), a list GitHub changes meanwhile
is read again from the start, and a whole sync costlier than a window starts with what there is."""
import time

import pytest
import requests
from django.utils import timezone

from benchmarks.quota_efficiency import lower_bound
from github import discovery, ingest, sync, tasks
from github.client import GitHubClient, HttpErrorException
from github.models import Developer, ListProgress, RateLimit
from github_simulator import World

pytestmark = pytest.mark.django_db(transaction=True)

FANS = 424  # 5 pages of followers


@pytest.fixture
def world():
    users = [{"login": "hub", "id": 1}] + [{"login": f"fan{n}", "id": 100 + n} for n in range(FANS)]
    return World.from_dict({"users": users, "follows": [[f"fan{n}", "hub"] for n in range(FANS)]})


def followers(login):
    return sorted(Developer.objects.filter(following__login=login).values_list("login", flat=True))


def next_window():
    """Wait until the ledger's window has ended (the simulator's windows are a second long here)."""
    reset = RateLimit.objects.get().rate_reset
    time.sleep(max(0.0, (reset - timezone.now()).total_seconds()) + 0.05)


def sync_across_windows(login, between_runs=lambda run: None, most=12):
    """full_profile_sync of `login` once a window until it is not stopped by the quota; the runs it took."""
    for run in range(1, most + 1):
        try:
            with GitHubClient() as client:
                sync.full_profile_sync(client=client, login=login)
            return run
        except HttpErrorException:
            between_runs(run)
            next_window()
    raise AssertionError(f"not done after {most} windows")


def test_a_list_longer_than_a_window_continues_where_it_stopped(start_simulator, world):
    simulator = start_simulator(world, rate_limit=2, window_seconds=1)
    stored_before_whole = []
    runs = sync_across_windows("hub", lambda run: stored_before_whole.append(len(followers("hub"))))
    assert followers("hub") == sorted(world.followers_of("hub"))
    assert set(stored_before_whole[:2]) == {0}  # the relation set is replaced only once the list was read whole
    assert runs <= 6
    assert simulator.stats()["total"]["quota_counted"] == lower_bound(world, "hub")  # no page read twice
    assert not ListProgress.objects.exists()


def test_a_list_whose_page_one_changed_meanwhile_is_read_again_from_the_start(start_simulator, world):
    start_simulator(world, rate_limit=2, window_seconds=1)

    def unfollow_on_page_one(run):
        if run == 1:
            assert ListProgress.objects.get().next_url.endswith("page=2")
            world.unfollow("fan0", "hub")  # every later item moves up one place

    sync_across_windows("hub", unfollow_on_page_one)
    assert followers("hub") == sorted(world.followers_of("hub"))  # fan100 moved onto page 1: not missed
    assert "fan0" not in followers("hub")


def test_a_whole_sync_costlier_than_a_window_starts_and_continues(start_simulator, world, monkeypatch):
    """Another application spends one of the token's 3 requests every window, so a full window's budget never
    comes: the sync starts with the 2 left each time (it used to be postponed for ever) and ends SUCCESS."""
    simulator = start_simulator(world, rate_limit=3, window_seconds=1)
    queued = []
    monkeypatch.setattr("celery.app.task.Task.apply_async",
                        lambda self, args=None, kwargs=None, **options: queued.append(options))
    states = []
    for _ in range(12):
        requests.get(f"{simulator.base_url}/users/fan1", timeout=5,
                     headers={"Authorization": "Bearer test-token", "User-Agent": "another-application"})
        states.append(tasks.full_profile_sync.apply(args=["hub"]).state)
        if states[-1] == "SUCCESS":
            break
        next_window()
    assert states[-1] == "SUCCESS", states
    assert set(states[:-1]) == {"FAILURE"}  # stopped by the quota each window, never postponed
    assert followers("hub") == sorted(world.followers_of("hub"))
    assert len(queued) == len(states) - 1  # each stop queued its own follow-up


def test_discovery_chooses_a_developer_costlier_than_the_whole_budget():
    ingest.upsert_stub_developers([(1, "hub", "User"), (2, "fan", "User")], distance=1)
    assert discovery.STUB_COST > 2
    assert [developer.login for developer in discovery.choose_discovery_batch(budget=2, limit=5)] == ["hub"]
    assert not discovery.choose_discovery_batch(budget=0, limit=5)
