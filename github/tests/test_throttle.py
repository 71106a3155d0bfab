"""The quota ledger: first on its own (monotonic updates, the quota fraction, reservations, the task API)
with a fake refresher, then driven by the client against the simulator over HTTP."""
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
import requests
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from github import admission, throttle
from github.client import GitHubClient, HttpErrorException, _rate_state
from github.models import RateLimit
from github_simulator import Simulator, World

pytestmark = pytest.mark.django_db


def reading(remaining, reset, *, limit=100, observed_at=None):
    """A RateState observed at `observed_at` (default: now)."""
    return throttle.RateState(limit, remaining, int(reset), observed_at=observed_at or timezone.now())


def epoch(delta_seconds=0):
    return int((timezone.now() + timedelta(seconds=delta_seconds)).timestamp())


class FakeGitHub:
    """A refresher answering GET /rate_limit with the reading set per label, counting calls."""

    def __init__(self, **readings):
        self.readings = readings
        self.calls = []

    def __call__(self, label):
        self.calls.append(label)
        throttle.record(label, self.readings[label])


def row(label="a"):
    return RateLimit.objects.get(credential=label, resource="core")


class TestRecord:
    """Readings only ever move the ledger forward."""

    def test_first_reading_creates_the_row(self):
        reset = epoch(3600)
        throttle.record("a", reading(99, reset))
        stored = row()
        assert (stored.rate_limit, stored.rate_remaining, stored.rate_reset_raw) == (100, 99, reset)
        assert stored.rate_reset == datetime.fromtimestamp(reset, tz=UTC)

    def test_within_a_window_remaining_only_goes_down(self):
        reset = epoch(3600)
        throttle.record("a", reading(90, reset))
        throttle.record("a", reading(95, reset))  # an older response arriving late
        assert row().rate_remaining == 90
        throttle.record("a", reading(80, reset))
        assert row().rate_remaining == 80

    def test_an_older_window_never_overwrites_a_newer_one(self):
        new_reset = epoch(3600)
        throttle.record("a", reading(99, new_reset))
        throttle.record("a", reading(3, new_reset - 3600, observed_at=timezone.now() - timedelta(hours=1)))
        assert (row().rate_remaining, row().rate_reset_raw) == (99, new_reset)

    def test_a_new_window_replaces_the_ended_one(self):
        old_reset = epoch(-5)
        throttle.record("a", reading(0, old_reset, observed_at=timezone.now() - timedelta(minutes=5)))
        new_reset = epoch(3595)
        throttle.record("a", reading(99, new_reset))
        assert (row().rate_remaining, row().rate_reset_raw) == (99, new_reset)

    def test_a_reading_before_the_window_started_does_not_undo_reservations(self):
        """/rate_limit before any request reports a reset that moves with the clock; the first real
        response then carries a slightly later reset, but it is the same window: keep the lower count."""
        bootstrap_reset = epoch(3600)
        throttle.record("a", reading(100, bootstrap_reset))
        RateLimit.objects.filter(credential="a").update(rate_remaining=80)  # 20 requests reserved meanwhile
        throttle.record("a", reading(99, bootstrap_reset + 2))
        assert (row().rate_remaining, row().rate_reset_raw) == (80, bootstrap_reset + 2)

    def test_new_window_is_judged_by_githubs_clock_not_ours(self):
        """The stored reset has passed by GitHub's Date header even though our clock is a little behind."""
        stored_reset = epoch(3)
        throttle.record("a", reading(0, stored_reset))
        github_now = timezone.now() + timedelta(seconds=5)
        throttle.record("a", reading(99, stored_reset + 3600, observed_at=github_now))
        assert row().rate_remaining == 99

    def test_github_starting_a_window_early_is_trusted(self):
        """A GitHub Enterprise Server restart mid-window: GitHub's headers show more left, with another reset."""
        reset = epoch(3000)
        throttle.record("a", reading(0, reset))
        throttle.record("a", reading(97, reset + 600))  # a restart 600 s after the stored window opened
        assert (row().rate_remaining, row().rate_reset_raw) == (97, reset + 600)
        throttle.record("a", reading(5, reset + 600))
        throttle.record("a", reading(99, reset - 1800, observed_at=timezone.now() + timedelta(seconds=1)))
        assert (row().rate_remaining, row().rate_reset_raw) == (99, reset - 1800)  # reconfigured: shorter window

    def test_a_late_answer_of_an_old_window_with_more_left_changes_nothing(self):
        reset = epoch(3600)
        throttle.record("a", reading(10, reset))
        throttle.record("a", reading(50, reset - 3600, observed_at=timezone.now() - timedelta(minutes=1)))
        assert (row().rate_remaining, row().rate_reset_raw) == (10, reset)


class TestBudget:
    """The quota fraction, reservations and which credential pays."""

    @pytest.mark.parametrize(
        ("fraction", "limit", "floor"),
        [(1.0, 5000, 0), (0.5, 100, 50), (0.7, 100, 30), (0.3, 60, 42), (0.25, 5000, 3750), (0.999, 60, 1)],
    )
    def test_floor_leaves_the_rest_of_the_quota_to_others(self, settings, fraction, limit, floor):
        settings.GITHUB_QUOTA_FRACTION = fraction
        assert throttle.quota_floor(limit) == floor

    def test_reservations_stop_at_the_floor(self, settings):
        settings.GITHUB_QUOTA_FRACTION = 0.5
        github = FakeGitHub(a=reading(60, epoch(3600)))
        taken = [throttle.reserve(["a"], github) for _ in range(12)]
        assert sum(1 for reservation in taken if reservation) == 10
        assert taken[-1] is None
        assert row().rate_remaining == 50
        assert github.calls == ["a"]  # bootstrapped once, then trusted until its reset

    def test_the_credential_with_the_most_allowed_budget_goes_first(self):
        github = FakeGitHub(a=reading(3, epoch(3600)), b=reading(5, epoch(3600)))
        labels = [throttle.reserve(["a", "b"], github).label for _ in range(8)]
        assert labels[:2] == ["b", "b"]
        assert sorted(labels) == ["a"] * 3 + ["b"] * 5
        assert throttle.reserve(["a", "b"], github) is None

    def test_stale_row_is_refreshed_not_trusted(self):
        """The original livelock: remaining 0 with a reset in the past. The ledger asks GitHub again."""
        RateLimit.objects.create(credential="a", rate_limit=100, rate_remaining=0, rate_reset_raw=epoch(-60),
                                 rate_reset=timezone.now() - timedelta(seconds=60))
        github = FakeGitHub(a=reading(100, epoch(3600)))
        assert throttle.reserve(["a"], github).label == "a"
        assert github.calls == ["a"]
        assert row().rate_remaining == 99

    def test_refund_gives_back_only_within_the_same_window(self):
        reset = epoch(3600)
        github = FakeGitHub(a=reading(50, reset))
        reservation = throttle.reserve(["a"], github)
        throttle.refund(reservation)
        assert row().rate_remaining == 50
        drifted = throttle.reserve(["a"], github)
        throttle.record("a", reading(49, reset + 2))  # the window's first request moved its reset
        throttle.refund(drifted)
        assert row().rate_remaining == 50
        ended = throttle.Reservation("a", "core", epoch(-1), limit=100, remaining=49)  # from a window that has ended
        throttle.refund(ended)
        assert row().rate_remaining == 50

    def test_settle_writes_only_what_the_ledger_does_not_know(self):
        reset = epoch(3600)
        github = FakeGitHub(a=reading(50, reset))
        reservation = throttle.reserve(["a"], github)
        assert (reservation.limit, reservation.remaining) == (100, 49)
        with CaptureQueriesContext(connection) as queries:
            throttle.settle(reservation, reading(49, reset))  # GitHub agrees: nothing to write
        assert len(queries) == 0
        throttle.settle(throttle.reserve(["a"], github), reading(40, reset))  # somebody else spent 8 meanwhile
        assert row().rate_remaining == 40
        throttle.settle(throttle.reserve(["a"], github), reading(99, reset + 3600, observed_at=timezone.now()
                                                                  + timedelta(hours=1)))  # a new window
        assert (row().rate_remaining, row().rate_reset_raw) == (99, reset + 3600)

    def test_rejected_credential_is_skipped_until_its_reset(self):
        github = FakeGitHub(a=reading(10, epoch(3600)), b=reading(10, epoch(3600)))
        throttle.reserve(["a", "b"], github)
        throttle.mark_rejected("a")
        assert {throttle.reserve(["a", "b"], github).label for _ in range(5)} == {"b"}
        assert row("a").rate_remaining == 0

    def test_rejected_credential_whose_reset_passed_waits_another_hour(self):
        RateLimit.objects.create(credential="a", rate_limit=100, rate_remaining=7, rate_reset_raw=epoch(-1),
                                 rate_reset=timezone.now() - timedelta(seconds=1))
        throttle.mark_rejected("a")
        assert row().rate_remaining == 0
        assert row().rate_reset > timezone.now() + timedelta(minutes=59)

    def test_first_credential_takes_over_row_one_after_a_token_change(self):
        RateLimit.objects.all().delete()
        first = RateLimit.objects.create(credential="old-token", rate_limit=5000, rate_remaining=1,
                                         rate_reset_raw=epoch(600), rate_reset=timezone.now())
        RateLimit.objects.filter(pk=first.pk).update(id=1)
        github = FakeGitHub(new=reading(5000, epoch(3600), limit=5000))
        throttle.reserve(["new"], github)
        one = RateLimit.objects.get(pk=1)
        assert (one.credential, one.rate_remaining) == ("new", 4999)
        assert RateLimit.objects.count() == 1


class TestCanStart:
    """The question a task asks before it starts."""

    class Client:
        """What can_start needs from a client: the labels and a refresher."""

        def __init__(self, github):
            self.labels = list(github.readings)
            self.refresh_rate_limit = github

    def test_starts_when_the_budget_covers_the_cost(self, settings):
        settings.GITHUB_QUOTA_FRACTION = 0.5
        client = self.Client(FakeGitHub(a=reading(80, epoch(3600))))
        decision = admission.can_start(30, client=client)
        assert decision == admission.Decision(can_start=True, allowed=30, retry_at=None)
        assert admission.allowed_budget(client=client) == 30

    def test_postpones_until_the_earliest_reset_plus_jitter(self):
        first_reset = timezone.now() + timedelta(minutes=10)
        client = self.Client(FakeGitHub(a=reading(2, first_reset.timestamp()),
                                        b=reading(3, (first_reset + timedelta(minutes=20)).timestamp())))
        decision = admission.can_start(6, client=client)
        assert not decision.can_start
        assert decision.allowed == 5
        reset = first_reset.replace(microsecond=0)
        assert reset + timedelta(seconds=1) <= decision.retry_at <= reset + timedelta(seconds=60)

    def test_never_postpones_into_the_past(self):
        """No livelock: a stored reset in the past is refreshed first, so retry_at is a real future reset."""
        RateLimit.objects.create(credential="a", rate_limit=60, rate_remaining=0, rate_reset_raw=epoch(-600),
                                 rate_reset=timezone.now() - timedelta(minutes=10))
        client = self.Client(FakeGitHub(a=reading(60, epoch(3600), limit=60)))
        assert admission.can_start(10, client=client).can_start

    def test_a_task_bigger_than_a_window_starts_with_what_there_is(self):
        """Another application spending on the token keeps the budget below a full window for ever."""
        client = self.Client(FakeGitHub(a=reading(60, epoch(3600), limit=60)))
        assert admission.can_start(1000, client=client).can_start
        RateLimit.objects.update(rate_remaining=2)
        assert admission.can_start(1000, client=client).can_start
        assert not admission.can_start(3, client=client).can_start  # fits in a window: waits for enough
        RateLimit.objects.update(rate_remaining=0)
        assert not admission.can_start(1000, client=client).can_start

    def test_at_least_one_request_is_needed(self):
        client = self.Client(FakeGitHub(a=reading(0, epoch(3600), limit=60)))
        assert not admission.can_start(0, client=client).can_start


# The ledger driven by the client against the simulator, over HTTP: counts are the simulator's.

WORLD = {"users": [{"login": "octocat"}, {"login": "alice"}]}


@pytest.fixture
def world():
    return World.from_dict(WORLD)


def quota_counted(simulator):
    return simulator.stats()["total"]["quota_counted"]


def fetch(github, times):
    """Send `times` quota-counted requests; the number that went through before the ledger refused."""
    for done in range(times):
        try:
            github.user("octocat", conditional=False)
        except HttpErrorException as error:
            assert str(error) == "API rate limit exceeded"
            return done
    return times


def wait_past(moment):
    time.sleep(max(0.0, (moment - timezone.now()).total_seconds()) + 0.05)


class TestLedgerWithTheSimulator:
    """The must-haves of the auto throttle, counted on GitHub's side."""

    @pytest.mark.django_db(transaction=True, reset_sequences=True)
    def test_headers_update_row_one_and_an_older_response_does_not_roll_it_back(self, start_simulator, world, api):
        simulator = start_simulator(world, rate_limit=100)
        with GitHubClient() as github:
            label = github.labels[0]
            late = requests.get(f"{simulator.base_url}/users/alice", timeout=5,
                                headers={"Authorization": "Bearer test-token", "User-Agent": "test"})
            assert fetch(github, 3) == 3
        assert _rate_state(late).remaining == 99
        throttle.record(label, _rate_state(late))  # arrives after three newer answers
        github_view = requests.get(f"{simulator.base_url}/rate_limit", timeout=5,
                                   headers={"Authorization": "Bearer test-token", "User-Agent": "test"}).json()
        body = api.get("/github/rate_limit/").json()
        assert body["count"] == 1
        assert body["results"][0] | {"url": None} == {
            "id": 1, "url": None, "resource": "core", "rate_limit": 100, "rate_remaining": 96,
            "rate_reset_raw": github_view["rate"]["reset"],
            "rate_reset": datetime.fromtimestamp(github_view["rate"]["reset"], tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        assert github_view["rate"]["remaining"] == 96
        assert RateLimit.objects.get(pk=1).credential == label

    @pytest.mark.django_db(transaction=True)
    def test_four_threads_share_half_the_quota_and_never_exceed_it(self, start_simulator, world, settings):
        settings.GITHUB_QUOTA_FRACTION = 0.5
        simulator = start_simulator(world, rate_limit=100)
        start_together = threading.Barrier(4)

        def hammer():
            try:
                with GitHubClient() as github:
                    start_together.wait()
                    return fetch(github, 40)
            finally:
                connections.close_all()

        with ThreadPoolExecutor(max_workers=4) as pool:
            sent = [future.result() for future in [pool.submit(hammer) for _ in range(4)]]
        assert sum(sent) == 50
        assert quota_counted(simulator) == 50
        assert "403" not in simulator.stats()["by_status"]
        assert RateLimit.objects.get().rate_remaining == 50

    @pytest.mark.django_db(transaction=True)
    def test_requests_flow_again_after_the_window_resets(self, start_simulator, world):
        simulator = start_simulator(world, rate_limit=3, window_seconds=2)
        with GitHubClient() as github:
            first_window = requests.get(f"{simulator.base_url}/users/alice", timeout=5,
                                        headers={"Authorization": "Bearer test-token", "User-Agent": "test"})
            assert fetch(github, 5) == 2
            assert admission.can_start(1, client=github).can_start is False
            wait_past(RateLimit.objects.get().rate_reset)
            assert admission.can_start(1, client=github).can_start
            assert fetch(github, 5) == 3
            throttle.record(github.labels[0], _rate_state(first_window))  # the old window, late
        assert quota_counted(simulator) == 6
        assert RateLimit.objects.get().rate_remaining == 0
        assert simulator.stats()["by_endpoint"]["/rate_limit"]["requests"] == 2  # bootstrap, then after reset

    def test_a_stored_reset_in_the_past_is_refreshed_not_waited_for(self, start_simulator, world):
        """The original service's livelock: remaining 0 and a reset an hour ago, forever."""
        simulator = start_simulator(world)
        with GitHubClient() as github:
            RateLimit.objects.create(credential=github.labels[0], rate_limit=5000, rate_remaining=0,
                                     rate_reset_raw=epoch(-3600), rate_reset=timezone.now() - timedelta(hours=1))
            decision = admission.can_start(10, client=github)
            assert decision.can_start and decision.allowed == 5000
            github.user("octocat")
        assert quota_counted(simulator) == 1

    def test_two_tokens_of_30_serve_60_spread_by_budget(self, start_simulator, world, settings):
        simulator = start_simulator(world, token=None, rate_limit=30)
        settings.GITHUB_API_KEY = "token-one,token-two"
        with GitHubClient() as github:
            assert fetch(github, 10) == 10
            halfway = simulator.stats()["by_token"]
            assert fetch(github, 60) == 50
        by_token = simulator.stats()["by_token"]
        one, two = Simulator.token_label("token-one"), Simulator.token_label("token-two")
        assert (halfway[one]["quota_counted"], halfway[two]["quota_counted"]) == (5, 5)
        assert (by_token[one]["quota_counted"], by_token[two]["quota_counted"]) == (30, 30)
        assert list(RateLimit.objects.values_list("rate_remaining", flat=True)) == [0, 0]

    def test_unauthenticated_mode_gets_60_an_hour(self, start_simulator, world):
        simulator = start_simulator(world, token=None)
        with GitHubClient() as github:
            assert github.labels == ["anonymous"]
            assert fetch(github, 70) == 60
            assert admission.allowed_budget(client=github) == 0
            decision = admission.can_start(1, client=github)
        assert simulator.stats()["by_token"]["anonymous"]["quota_counted"] == 60
        assert "403" not in simulator.stats()["by_status"]
        row = RateLimit.objects.get()
        assert (row.credential, row.rate_limit, row.rate_remaining) == ("anonymous", 60, 0)
        assert row.rate_reset + timedelta(seconds=1) <= decision.retry_at <= row.rate_reset + timedelta(seconds=60)

    @pytest.mark.django_db(transaction=True)
    @pytest.mark.parametrize("spent", [7, 10])
    def test_a_restarted_github_with_a_new_window_is_trusted_not_waited_for(self, start_simulator, world,
                                                                            monkeypatch, spent):
        """GitHub restarts (here reconfigured to shorter windows) while the ledger thinks its window has an hour
        left: the next answer's headers (some budget left) or GET /rate_limit (none left) bring GitHub's window."""
        monkeypatch.setattr(throttle, "EXHAUSTED_RECHECK_SECONDS", 0.0, raising=False)
        start_simulator(world, rate_limit=10)
        with GitHubClient() as github:
            assert fetch(github, spent) == spent
        old_reset = RateLimit.objects.get().rate_reset_raw
        time.sleep(1.1)  # GitHub's Date header counts whole seconds: its next answer is dated after the row
        restarted = start_simulator(world, rate_limit=10, window_seconds=600)
        with GitHubClient() as github:
            assert fetch(github, 5) == 5
        row_now = RateLimit.objects.get()
        assert row_now.rate_reset_raw < old_reset and row_now.rate_remaining == 5
        assert quota_counted(restarted) == 5


def test_the_updated_time_moves_with_every_change_of_the_count():
    reset = epoch(3600)
    github = FakeGitHub(a=reading(60, reset))
    throttle.reserve(["a"], github)
    RateLimit.objects.update(updated=timezone.now() - timedelta(hours=1))
    before = timezone.now()
    reservation = throttle.reserve(["a"], github)
    assert row().updated >= before
    RateLimit.objects.update(updated=timezone.now() - timedelta(hours=1))
    throttle.refund(reservation)
    assert row().updated >= before
    RateLimit.objects.update(updated=timezone.now() - timedelta(hours=1))
    throttle.record("a", reading(50, reset))
    assert row().updated >= before and row().rate_remaining == 50
