"""The GitHub client: protocol details against `responses`, then the whole client against the simulator."""
import pickle
import time
import types
from datetime import UTC, datetime

import pytest
import requests
import responses
from django.core.exceptions import ValidationError
from django.utils import timezone

from github import admission, throttle
from github.client import (
    BadCredentials,
    Forbidden,
    GitHubClient,
    GitHubError,
    HttpErrorException,
    NotFound,
    RateLimitExhausted,
    SecondaryRateLimit,
    TransientError,
    credentials_from,
)
from github.models import ConditionalValidator, RateLimit
from github_simulator import Simulator, World

pytestmark = pytest.mark.django_db

BASE = "https://github.example/api/v3"
TOKEN = "ghp_supersecret0000000000000000000000"
OTHER_TOKEN = "ghp_othersecret111111111111111111111"
RESET = int(time.time()) + 3600  # one window for every canned answer of this module


def rate_headers(remaining=4999, reset=RESET, limit=5000):
    return {
        "x-ratelimit-limit": str(limit),
        "x-ratelimit-remaining": str(remaining),
        "x-ratelimit-reset": str(reset),
        "x-ratelimit-resource": "core",
    }


def rate_limit_body(remaining=5000, limit=5000):
    core = {"limit": limit, "remaining": remaining, "reset": RESET, "used": limit - remaining}
    return {"resources": {"core": core}, "rate": core}


@pytest.fixture
def fake_api():
    """`responses` for BASE, with a free /rate_limit answering a fresh 5000-request window."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.get(f"{BASE}/rate_limit", json=rate_limit_body())
        yield mock


@pytest.fixture
def client():
    with GitHubClient(base_url=BASE, tokens=TOKEN, user="") as github:
        yield github


def sent(fake_api, path):
    """The requests sent to `path` (any query)."""
    return [call.request for call in fake_api.calls if call.request.path_url.split("?")[0] == f"/api/v3{path}"]


class TestRequests:
    """What goes on the wire: headers, credentials, paging, redirects, conditional requests."""

    def test_headers_token_and_timeouts(self, fake_api, client, settings):
        fake_api.get(f"{BASE}/users/octocat", json={"login": "octocat"}, headers=rate_headers())
        assert client.user("octocat").data == {"login": "octocat"}
        request = sent(fake_api, "/users/octocat")[0]
        assert request.headers["Accept"] == "application/vnd.github+json"
        assert request.headers["X-GitHub-Api-Version"] == "2022-11-28"
        assert request.headers["User-Agent"].startswith("git-o-matic-9k")
        assert request.headers["Authorization"] == f"Bearer {TOKEN}"
        assert request.req_kwargs["timeout"] == settings.GITHUB_TIMEOUT

    def test_basic_auth_when_a_user_is_configured(self, fake_api, settings):
        settings.GITHUB_API_KEY, settings.GITHUB_API_USER = TOKEN, "awesome_user"
        fake_api.get(f"{BASE}/users/octocat", json={}, headers=rate_headers())
        with GitHubClient(base_url=BASE) as github:
            github.user("octocat")
        assert sent(fake_api, "/users/octocat")[0].headers["Authorization"].startswith("Basic ")

    def test_no_token_is_anonymous(self, fake_api, settings):
        settings.GITHUB_API_KEY = ""
        fake_api.get(f"{BASE}/users/octocat", json={}, headers=rate_headers(59, limit=60))
        with GitHubClient(base_url=BASE) as github:
            github.user("octocat")
        assert "Authorization" not in sent(fake_api, "/users/octocat")[0].headers
        assert list(RateLimit.objects.values_list("credential", flat=True)) == ["anonymous"]

    def test_tokens_are_split_on_commas_and_deduplicated(self):
        labels = [credential.label for credential in credentials_from(f" {TOKEN}, {OTHER_TOKEN},{TOKEN},")]
        assert len(labels) == 2
        assert all(label.startswith("token-") and len(label) == 18 for label in labels)

    def test_list_pages_asks_for_100_and_follows_next_links_verbatim(self, fake_api, client):
        next_url = f"{BASE}/user/1/followers?per_page=100&page=2&after=Y3Vyc29y"
        fake_api.get(f"{BASE}/users/octocat/followers", json=[{"id": 1}],
                headers=rate_headers() | {"Link": f'<{next_url}>; rel="next", <{next_url}>; rel="last"'})
        fake_api.get(f"{BASE}/user/1/followers", json=[{"id": 2}], headers=rate_headers())
        pages = list(client.list_pages("/users/octocat/followers"))
        assert [page.data for page in pages] == [[{"id": 1}], [{"id": 2}]]
        first, second = sent(fake_api, "/users/octocat/followers")[0], sent(fake_api, "/user/1/followers")[0]
        assert first.url == f"{BASE}/users/octocat/followers?per_page=100"
        assert second.url == next_url
        assert pages[-1].next_url is None

    def test_renamed_repository_is_followed_through_its_301(self, fake_api, client):
        fake_api.get(f"{BASE}/repos/octocat/old", status=301, headers=rate_headers(4999)
                | {"Location": f"{BASE}/repositories/42"})
        fake_api.get(f"{BASE}/repositories/42", json={"id": 42, "name": "new"}, headers=rate_headers(4998))
        response = client.repository("octocat", "old")
        assert response.data["name"] == "new"
        assert response.url == f"{BASE}/repos/octocat/old"
        assert client.stats["quota_requests"] == 2

    def test_304_is_not_modified_and_refunded(self, fake_api, client):
        fake_api.get(f"{BASE}/users/octocat", json={"login": "octocat"},
                headers=rate_headers(4999) | {"ETag": '"abc"', "Last-Modified": "Mon, 01 Jan 2024 00:00:00 GMT"})
        client.remember(client.user("octocat"))
        fake_api.replace(responses.GET, f"{BASE}/users/octocat", status=304, headers=rate_headers(4999))
        response = client.user("octocat")
        assert (response.not_modified, response.data, response.status) == (True, None, 304)
        request = sent(fake_api, "/users/octocat")[1]
        assert request.headers["If-None-Match"] == '"abc"'
        assert request.headers["If-Modified-Since"] == "Mon, 01 Jan 2024 00:00:00 GMT"
        assert RateLimit.objects.get().rate_remaining == 4999
        assert client.stats == {"requests": 3, "quota_requests": 1, "not_modified": 1}

    def test_validators_go_to_the_store_the_client_is_handed(self, fake_api):
        class Store:
            """Validators in a dict: the client asks the store it is given, never the database."""

            def __init__(self):
                self.kept = {}

            def lookup(self, url):
                return self.kept.get(url)

            def store(self, url, etag, last_modified):
                self.kept[url] = types.SimpleNamespace(etag=etag, last_modified=last_modified)

        fake_api.get(f"{BASE}/users/octocat", json={"login": "octocat"}, headers=rate_headers() | {"ETag": '"abc"'})
        store = Store()
        with GitHubClient(base_url=BASE, etags=store) as github:
            github.remember(github.user("octocat"))
            github.user("octocat")
        assert sent(fake_api, "/users/octocat")[1].headers["If-None-Match"] == '"abc"'
        assert list(store.kept) == [f"{BASE}/users/octocat"] and not ConditionalValidator.objects.exists()

    def test_get_and_list_pages_do_not_store_validators(self, fake_api, client):
        fake_api.get(f"{BASE}/users/octocat/repos", json=[], headers=rate_headers() | {"ETag": '"abc"'})
        list(client.list_pages("/users/octocat/repos"))
        assert not ConditionalValidator.objects.exists()

    def test_rate_limiting_disabled_on_enterprise_server(self, fake_api, client):
        fake_api.replace(responses.GET, f"{BASE}/rate_limit", status=404,
                         json={"message": "Rate limiting is not enabled."})
        fake_api.get(f"{BASE}/users/octocat", json={})
        client.user("octocat")
        assert admission.allowed_budget(client=client) > 100_000


    def test_proxy_and_ca_bundle_come_from_the_environment_once(self, monkeypatch):
        monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/company.pem")
        with GitHubClient(base_url=BASE, tokens=TOKEN) as github:
            assert github.session.proxies["https"] == "http://proxy.internal:3128"
            assert github.session.verify == "/etc/ssl/company.pem"
            assert not github.session.trust_env  # not read again on every request
        monkeypatch.setenv("NO_PROXY", "github.example")
        with GitHubClient(base_url=BASE, tokens=TOKEN) as github:
            assert github.session.proxies == {}

class TestUnsafeInput:
    """Nothing a user typed, and no link GitHub sent, can change the path or reach another host."""

    @pytest.mark.parametrize("call", [
        lambda github: github.user("../../admin"),
        lambda github: github.user("evil.example/x"),
        lambda github: github.repository("octocat", ".."),
        lambda github: github.repository("octocat", "x?y=1"),
    ])
    def test_invalid_names_never_reach_the_network(self, fake_api, client, call):
        with pytest.raises(ValidationError):
            call(client)
        assert not fake_api.calls

    @pytest.mark.parametrize("path", ["/users/../admin", "/users/x?y=1", "/users//x", "/users/%2e%2e/x", "/a b"])
    def test_unsafe_paths_are_refused(self, fake_api, client, path):
        with pytest.raises(ValueError, match="Unsafe"):
            list(client.list_pages(path))
        assert not fake_api.calls

    @pytest.mark.parametrize("url", [
        "https://evil.example/api/v3/users/x",
        "http://github.example/api/v3/users/x",
        "https://github.example/api/v3evil/users/x",
        "https://github.example/other/users/x",
        "https://github.example/api/v3/users/../../x",
    ])
    def test_links_outside_the_base_url_are_refused(self, fake_api, client, url):
        fake_api.get(f"{BASE}/users/x/followers", json=[], headers=rate_headers() | {"Link": f'<{url}>; rel="next"'})
        with pytest.raises(GitHubError, match="not under"):
            list(client.list_pages("/users/x/followers"))
        assert len(fake_api.calls) == 2  # /rate_limit and page 1


class TestErrors:
    """Every failure as a type a task can act on, with what a retry needs, and no token in sight."""

    @pytest.mark.parametrize(("answer", "expected"), [
        ((403, rate_headers(0, reset=1_900_000_000), "API rate limit exceeded for user ID 1."),
         (RateLimitExhausted, {"reset_at": datetime.fromtimestamp(1_900_000_000, tz=UTC)})),
        ((429, rate_headers(0, reset=1_900_000_000), "API rate limit exceeded"),
         (RateLimitExhausted, {})),
        ((403, rate_headers(10) | {"retry-after": "30"}, "You have exceeded a secondary rate limit."),
         (SecondaryRateLimit, {"retry_after": 30})),
        ((403, rate_headers(10), "You have exceeded a secondary rate limit."),
         (SecondaryRateLimit, {"retry_after": 60})),
        ((429, {"retry-after": "7"}, "slow down"),
         (SecondaryRateLimit, {"retry_after": 7})),
        ((403, rate_headers(10), "Resource not accessible by integration"),
         (Forbidden, {})),
        ((404, rate_headers(), "Not Found"),
         (NotFound, {"status": 404})),
        ((410, rate_headers(), "Gone"),
         (NotFound, {"status": 410})),
        ((451, rate_headers(), "Repository access blocked"),
         (NotFound, {"status": 451})),
        ((401, {}, "Bad credentials"),
         (BadCredentials, {"status": 401})),
        ((500, {}, "boom"),
         (TransientError, {"status": 500})),
        ((502, {}, "Server Error"),
         (TransientError, {"status": 502})),
        ((422, rate_headers(), "pagination is limited for this resource"),
         (GitHubError, {"status": 422})),
    ])
    def test_each_failure_has_its_type_and_retry_data(self, fake_api, client, answer, expected):
        (status, headers, message), (error_type, attributes) = answer, expected
        fake_api.get(f"{BASE}/users/octocat", status=status, json={"message": message}, headers=headers)
        with pytest.raises(error_type) as error:
            client.user("octocat")
        assert error.type is error_type
        assert error.value.url == f"{BASE}/users/octocat"
        for name, value in attributes.items():
            assert getattr(error.value, name) == value

    @pytest.mark.parametrize("failure", [requests.ConnectTimeout("connect"), requests.ReadTimeout("read"),
                                         requests.ConnectionError("reset by peer")])
    def test_network_failures_are_transient(self, fake_api, client, failure):
        fake_api.get(f"{BASE}/users/octocat", body=failure)
        with pytest.raises(TransientError) as error:
            client.user("octocat")
        assert error.value.status is None
        assert error.value.__cause__ is None and error.value.__suppress_context__

    def test_tokens_never_appear_in_errors_or_reprs(self, fake_api, client):
        fake_api.get(f"{BASE}/users/octocat", status=401, json={"message": f"Bad credentials: {TOKEN}"})
        with pytest.raises(BadCredentials) as error:
            client.user("octocat")
        assert TOKEN not in str(error.value)
        assert TOKEN not in repr(error.value)
        assert TOKEN not in repr(client.credentials)
        assert not RateLimit.objects.filter(credential__contains="supersecret").exists()

    def test_errors_pickle_with_their_data(self):
        error = SecondaryRateLimit("wait", retry_after=30, status=403, url=f"{BASE}/x")
        copy = pickle.loads(pickle.dumps(error))  # noqa: S301 (our own bytes)
        assert (str(copy), copy.retry_after, copy.status, copy.url) == ("wait", 30, 403, f"{BASE}/x")
        assert str(HttpErrorException()) == "API rate limit exceeded"

    def test_rejected_token_hands_over_to_the_next(self, fake_api):
        fake_api.get(f"{BASE}/users/octocat", status=401, json={"message": "Bad credentials"},
                match=[responses.matchers.header_matcher({"Authorization": f"Bearer {TOKEN}"})])
        fake_api.get(f"{BASE}/users/octocat", json={"login": "octocat"}, headers=rate_headers(4000),
                match=[responses.matchers.header_matcher({"Authorization": f"Bearer {OTHER_TOKEN}"})])
        fake_api.replace(responses.GET, f"{BASE}/rate_limit", json=rate_limit_body(5000))
        with GitHubClient(base_url=BASE, tokens=[TOKEN, OTHER_TOKEN]) as github:
            # The first token has more budget, so it is tried first.
            throttle.record(github.labels[0], throttle.RateState(5000, 5000, RESET, timezone.now()))
            throttle.record(github.labels[1], throttle.RateState(5000, 4500, RESET, timezone.now()))
            assert github.user("octocat").data == {"login": "octocat"}
            rejected = RateLimit.objects.get(credential=github.labels[0])
            assert (rejected.rate_limit, rejected.rate_remaining) == (0, 0)
        with GitHubClient(base_url=BASE, tokens=[TOKEN]) as github, pytest.raises(BadCredentials, match="every"):
            github.user("octocat")  # refused without sending: the token is known to be bad
        assert len(sent(fake_api, "/users/octocat")) == 2
        with GitHubClient(base_url=BASE, tokens=[TOKEN]) as github:
            assert admission.can_start(10, client=github).can_start  # so the task fails loudly instead of waiting

    def test_ledger_refusal_sends_nothing(self, fake_api, client):
        fake_api.replace(responses.GET, f"{BASE}/rate_limit", json=rate_limit_body(0))
        with pytest.raises(HttpErrorException) as error:
            client.user("octocat")
        assert str(error.value) == "API rate limit exceeded"
        assert not sent(fake_api, "/users/octocat")


# Against the simulator, over HTTP: counts are the simulator's.

FANS = 250
WORLD = {
    "users": [{"login": "octocat", "name": "The Octocat"}, *({"login": f"fan{n}"} for n in range(FANS))],
    "repos": [{"full_name": "octocat/Hello-World"}],
    "follows": [[f"fan{n}", "octocat"] for n in range(FANS)],
}


@pytest.fixture
def world():
    return World.from_dict(WORLD)


def counted(simulator):
    return simulator.stats()["total"]["quota_counted"]


class TestWithTheSimulator:
    """The client and ledger over real HTTP: paging, conditional requests, renames, base paths."""

    def test_a_list_is_read_in_pages_of_100(self, start_simulator, world):
        simulator = start_simulator(world)
        with GitHubClient() as github:
            pages = list(github.list_pages("/users/octocat/followers"))
        assert [len(page.data) for page in pages] == [100, 100, 50]
        assert {fan["login"] for page in pages for fan in page.data} == {f"fan{n}" for n in range(FANS)}
        assert counted(simulator) == 3

    def test_unchanged_is_a_free_304_and_changed_is_fetched(self, start_simulator, world):
        simulator = start_simulator(world, rate_limit=100)
        with GitHubClient() as github:
            github.remember(github.user("octocat"))
            assert RateLimit.objects.get().rate_remaining == 99
            unchanged = github.user("octocat")
            assert (unchanged.not_modified, unchanged.data) == (True, None)
            assert RateLimit.objects.get().rate_remaining == 99
            world.update_user("octocat", name="Mona Lisa Octocat")
            changed = github.user("octocat")
            assert (changed.not_modified, changed.data["name"]) == (False, "Mona Lisa Octocat")
            assert github.stats == {"requests": 4, "quota_requests": 2, "not_modified": 1}  # + 1 free /rate_limit
        total = simulator.stats()["total"]
        assert (total["quota_counted"], total["not_modified"]) == (2, 1)
        assert RateLimit.objects.get().rate_remaining == 98

    def test_an_unchanged_first_page_ends_the_list(self, start_simulator, world):
        simulator = start_simulator(world)
        with GitHubClient() as github:
            first = next(github.list_pages("/users/octocat/followers"))
            github.remember(first)
            pages = list(github.list_pages("/users/octocat/followers"))
        assert [(page.status, page.not_modified) for page in pages] == [(304, True)]
        assert counted(simulator) == 1

    def test_a_renamed_repository_is_followed(self, start_simulator, world):
        world.rename_repo("octocat/Hello-World", "Hello-Universe")
        start_simulator(world)
        with GitHubClient() as github:
            assert github.repository("octocat", "Hello-World").data["full_name"] == "octocat/Hello-Universe"

    def test_an_enterprise_style_base_path_works(self, start_simulator, world, settings):
        start_simulator(world, path_prefix="/api/v3")
        assert settings.GITHUB_API_URL.endswith("/api/v3")
        with GitHubClient() as github:
            assert len(list(github.list_pages("/users/octocat/followers"))) == 3


class TestErrorsFromTheSimulator:
    """Each failure GitHub can produce, as its own type with what a retry needs."""

    def test_secondary_limit_says_how_long_to_wait(self, start_simulator, world):
        start_simulator(world, secondary_per_minute=2)
        with GitHubClient() as github:
            github.user("octocat", conditional=False)
            github.user("octocat", conditional=False)
            with pytest.raises(SecondaryRateLimit) as error:
                github.user("octocat", conditional=False)
        assert 1 <= error.value.retry_after <= 60
        assert error.value.status == 403

    @pytest.mark.parametrize(("fault", "status"), [("502", 502), ("503", 503), ("drop", None)])
    def test_server_errors_and_dropped_connections_are_transient(self, start_simulator, world, fault, status):
        start_simulator(world, fault_rate=1.0, fault_kinds=(fault,))
        with GitHubClient() as github, pytest.raises(TransientError) as error:
            github.user("octocat")
        assert error.value.status == status

    def test_a_timeout_is_transient(self, start_simulator, world):
        start_simulator(world, fault_rate=1.0, fault_kinds=("slow",), slow_seconds=1.0)
        with GitHubClient(timeout=(1.0, 0.2)) as github, pytest.raises(TransientError, match="timed out"):
            github.user("octocat")

    def test_a_bad_token_is_bad_credentials_and_never_shown(self, start_simulator, world):
        simulator = start_simulator(world, token="the-good-token")
        with GitHubClient(tokens="the-bad-token") as github, pytest.raises(BadCredentials) as error:
            github.user("octocat")
        assert "the-bad-token" not in str(error.value)
        assert simulator.stats()["by_endpoint"].get("/users/{username}") is None  # refused at the free probe
        with GitHubClient(tokens="the-bad-token,the-good-token") as github:
            assert github.user("octocat").data["login"] == "octocat"

    def test_quota_spent_behind_the_ledgers_back_is_exhausted_with_its_reset(self, start_simulator, world):
        simulator = start_simulator(world, token="shared-token", rate_limit=5)
        with GitHubClient() as github:
            github.user("octocat", conditional=False)
            for _ in range(4):  # another application on the same account
                requests.get(f"{simulator.base_url}/users/octocat", timeout=5,
                             headers={"Authorization": "Bearer shared-token", "User-Agent": "other-app"})
            with pytest.raises(RateLimitExhausted) as error:
                github.user("octocat", conditional=False)
        assert error.value.reset_at == RateLimit.objects.get().rate_reset
        assert error.value.reset_at > timezone.now()
        assert RateLimit.objects.get().rate_remaining == 0

    def test_an_exhausted_token_hands_over_to_the_next(self, start_simulator, world, settings):
        simulator = start_simulator(world, token=None, rate_limit=10)
        settings.GITHUB_API_KEY = "token-one,token-two"
        with GitHubClient() as github:
            for _ in range(2):  # one request on each token: the ledger sees 9 and 9
                github.user("octocat", conditional=False)
            for _ in range(9):  # another application empties token-one behind the ledger's back
                requests.get(f"{simulator.base_url}/users/octocat", timeout=5,
                             headers={"Authorization": "Bearer token-one", "User-Agent": "other-app"})
            # token-one is tried first (a tie goes to the first token), answers 403, token-two serves.
            assert github.user("octocat", conditional=False).data["login"] == "octocat"
            assert github.user("octocat", conditional=False).data["login"] == "octocat"
        stats = simulator.stats()
        one, two = Simulator.token_label("token-one"), Simulator.token_label("token-two")
        assert stats["by_status"]["403"] == 1
        assert (stats["by_token"][one]["quota_counted"], stats["by_token"][two]["quota_counted"]) == (10, 3)
        assert RateLimit.objects.get(credential=github.labels[0]).rate_remaining == 0
