"""The one way to GitHub: authentication, quota, paging, conditional requests and errors a task can act on.

Every request takes its unit from the quota ledger (github/throttle.py) before it is sent, so the client
refuses with HttpErrorException("API rate limit exceeded") instead of overspending. Tokens live only in
the client's Credential objects: the ledger, logs, exceptions and every stored row see a label instead.
The client writes no developers or repositories and does no ORM work: conditional-request validators are
read from and kept in the store it is handed (github/etag_store.py), kept only when the caller says a list was
read to its end (`remember`).
"""
import base64
import functools
import hashlib
import logging
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Protocol, TypeVar
from urllib.parse import quote, urlencode, urljoin, urlsplit

import requests
import urllib3
from django.conf import settings
from django.utils import timezone

from github import throttle
from github.etag_store import EtagStore
from github.models import ListProgress
from github.names import validate_login, validate_repository_name

logger = logging.getLogger(__name__)

API_VERSION = "2022-11-28"
USER_AGENT = "git-o-matic-9k"
PER_PAGE = 100
# The most stargazers of a repository GitHub lists (400 pages; page 401 answers 422).
STARGAZERS_SHOWN = 40_000
RATE_LIMIT_EXCEEDED = "API rate limit exceeded"
# GitHub's advice when a secondary limit names no wait: at least a minute.
DEFAULT_SECONDARY_WAIT = 60
REDIRECTS = {301, 302, 307, 308}
MAX_REDIRECTS = 3
# GitHub Enterprise Server answers 404 on /rate_limit when rate limiting is off: budget it as this per hour.
UNLIMITED = 1_000_000

T = TypeVar("T")


class GitHubError(Exception):
    """Base of every error the client raises. Its message names the URL and status, never a token."""

    def __init__(self, message: str, *, status: int | None = None, url: str = ""):
        super().__init__(message)
        self.status = status
        self.url = url

    def __reduce__(self):
        # Keyword attributes survive pickling (Celery, multiprocessing), not just the message.
        return self.__class__, self.args, self.__dict__


class RateLimitExhausted(GitHubError):
    """GitHub's primary quota is spent (403/429 with remaining 0): retry after `reset_at`."""

    def __init__(self, message: str, *, reset_at: datetime | None = None, **kwargs):
        super().__init__(message, **kwargs)
        self.reset_at = reset_at


class SecondaryRateLimit(GitHubError):
    """GitHub's secondary (abuse) limit: retry after `retry_after` seconds."""

    def __init__(self, message: str, *, retry_after: int = DEFAULT_SECONDARY_WAIT, **kwargs):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class NotFound(GitHubError):
    """The user or repository is missing, private, gone (410) or legally blocked (451): `status` says which."""


class BadCredentials(GitHubError):
    """GitHub rejected the token (401); the ledger skips that credential until its reset."""


class Forbidden(GitHubError):
    """A 403 that is not about quota: retrying will not help."""


class TransientError(GitHubError):
    """A 5xx, a timeout or a dropped connection: the same request may well work later."""


class Unreachable(TransientError):
    """No connection to GitHub could be made (refused, or timed out connecting): the request was never sent and
    GitHub charged nothing, so its reserved quota is given back."""


class HttpErrorException(GitHubError):
    """The ledger refused a request: this service's share of the quota is spent (the product's wording)."""

    def __init__(self, message: str = RATE_LIMIT_EXCEEDED, **kwargs):
        super().__init__(message, **kwargs)


@dataclass(frozen=True)
class Credential:
    """One way to authenticate. `label` is what the ledger and logs see; the secret stays out of repr."""

    label: str
    token: str = field(default="", repr=False)
    user: str = field(default="", repr=False)

    @property
    def authorization(self) -> str:
        """The Authorization header value ("" for anonymous): basic auth when a user is set, else bearer."""
        if not self.token:
            return ""
        if self.user:
            return "Basic " + base64.b64encode(f"{self.user}:{self.token}".encode()).decode()
        return f"Bearer {self.token}"


ANONYMOUS = Credential(label="anonymous")
ERRORS_BY_STATUS = {401: BadCredentials, 404: NotFound, 410: NotFound, 451: NotFound}


def credentials_from(tokens: str | Sequence[str], user: str = "") -> list[Credential]:
    """Credentials for comma-separated (or listed) tokens, in order, duplicates dropped; none = anonymous."""
    if isinstance(tokens, str):
        tokens = tokens.split(",")
    unique = dict.fromkeys(token.strip() for token in tokens if token.strip())
    if not unique:
        return [ANONYMOUS]
    return [
        Credential(label="token-" + hashlib.sha256(token.encode()).hexdigest()[:12], token=token, user=user)
        for token in unique
    ]


class Validators(Protocol):  # pylint: disable=too-few-public-methods  # a type: what a conditional GET sends
    """An ETag and a Last-Modified to send as If-None-Match and If-Modified-Since ("" for none)."""

    etag: str
    last_modified: str


@dataclass
class GitHubResponse:
    """A successful answer. `url` is the URL asked for (the key `remember` stores validators under)."""

    status: int
    data: Any
    url: str
    etag: str = ""
    last_modified: str = ""
    not_modified: bool = False
    next_url: str | None = None


class GitHubClient:
    """GitHub's REST API through the shared quota ledger. One instance per thread (requests.Session is not
    thread-safe); close it, or use it as a context manager, when done."""

    def __init__(
        self,
        *,
        base_url: str | None = None,
        tokens: str | Sequence[str] | None = None,
        user: str | None = None,
        timeout: float | tuple[float, float] | None = None,
        etags: EtagStore | None = None,
    ):
        self.base_url = (base_url or settings.GITHUB_API_URL).rstrip("/")
        base = urlsplit(self.base_url)
        if base.scheme not in {"http", "https"} or not base.netloc or base.query or base.fragment:
            raise ValueError(f"GITHUB_API_URL must be an http(s) URL without query, got {self.base_url!r}")
        self._base = base
        self.credentials = credentials_from(
            settings.GITHUB_API_KEY if tokens is None else tokens,
            settings.GITHUB_API_USER if user is None else user,
        )
        self._by_label = {credential.label: credential for credential in self.credentials}
        self.timeout = settings.GITHUB_TIMEOUT if timeout is None else timeout
        self.etags = EtagStore() if etags is None else etags
        self.session = requests.Session()
        # The environment's proxy and CA bundle settings are read once, here: left to requests, they are read
        # again from os.environ on every request, a tenth of a worker's CPU (BENCHMARKS.md, Worker throughput).
        self.session.proxies = requests.utils.get_environ_proxies(self.base_url)
        self.session.verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
        self.session.trust_env = False
        self.session.headers.update(
            {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": API_VERSION, "User-Agent": USER_AGENT}
        )
        self.stats = {"requests": 0, "quota_requests": 0, "not_modified": 0}

    def __enter__(self) -> "GitHubClient":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        """Close the pooled connections (an unclosed session leaks sockets)."""
        self.session.close()

    @property
    def labels(self) -> list[str]:
        """The ledger labels of the configured credentials, first credential first."""
        return list(self._by_label)

    # Endpoints.

    def user(self, login: str, *, conditional: bool = True) -> GitHubResponse:
        """A user's or organisation's profile by login."""
        return self.get(f"/users/{_segment(validate_login(login))}", conditional=conditional)

    def user_by_id(self, github_id: int) -> GitHubResponse:
        """A profile by its durable numeric id: how a renamed login is found again."""
        return self.get(f"/user/{int(github_id)}")

    def repository(self, owner: str, name: str, *, conditional: bool = True) -> GitHubResponse:
        """A repository; a renamed or transferred one is followed through GitHub's 301."""
        path = f"/repos/{_segment(validate_login(owner))}/{_segment(validate_repository_name(name))}"
        return self.get(path, conditional=conditional)

    # Lists. Each method gives a list's path: what list_pages reads, and the key a read stopped part-way is stored
    # under (ListProgress.path), so a path never changes its spelling. Names come from stored rows (GitHub gave
    # them) and are quoted, not validated.

    def followers(self, login: str) -> str:
        """The path of the developers following `login`."""
        return _path("users", login, "followers")

    def following(self, login: str) -> str:
        """The path of the developers `login` follows."""
        return _path("users", login, "following")

    def starred(self, login: str) -> str:
        """The path of the repositories `login` starred."""
        return _path("users", login, "starred")

    def repositories(self, login: str) -> str:
        """The path of `login`'s public repositories (GitHub's default `type=owner`)."""
        return _path("users", login, "repos")

    def stargazers(self, owner: str, name: str) -> str:
        """The path of the developers who starred `owner`/`name` (GitHub lists at most STARGAZERS_SHOWN)."""
        return _path("repos", owner, name, "stargazers")

    def lists_of(self, login: str) -> tuple[str, str]:
        """The path prefixes of every list above about `login` and `login`'s repositories."""
        return _path("users", login) + "/", _path("repos", login) + "/"

    def list_pages(self, path: str, *, conditional_first_page: bool = True,
                   resume: ListProgress | None = None) -> Iterator[GitHubResponse]:
        """Every page of a list, 100 items each, following GitHub's `next` links verbatim.

        If page 1 is unchanged (304), only that not-modified page is yielded: the caller keeps what it has.
        With `resume` (where an earlier read stopped: its page 1's validators and `next_url`), page 1 is
        asked for conditionally on those validators, and when it is unchanged the pages from `next_url` follow.
        """
        page = self.get(path, conditional=conditional_first_page or resume is not None,
                        params={"per_page": PER_PAGE}, validators=resume)
        yield page
        next_url = page.next_url
        if page.not_modified:
            next_url = resume.next_url if resume is not None else None
        while next_url:
            page = self.get(next_url)
            yield page
            next_url = page.next_url

    def get(self, path_or_url: str, *, conditional: bool = False, params: dict | None = None,
            validators: Validators | None = None) -> GitHubResponse:
        """GET a path under the base URL (or a URL GitHub gave us on the same host).

        With `conditional`, the validators `remember` stored for this URL are sent (or `validators`, when
        given); a 304 comes back as `not_modified=True, data=None` and costs no quota.
        """
        url = self._url(path_or_url, params)
        validator = None
        if conditional:
            validator = validators or self.etags.lookup(url)
        target = url
        for _ in range(MAX_REDIRECTS + 1):
            response = send_retrying(functools.partial(self._send, target, validator), f"GET {target}",
                                     is_failure=_is_server_error)
            if response.status_code not in REDIRECTS:
                return self._result(url, response)
            target = self._url(urljoin(target, response.headers.get("location", "")))
        raise GitHubError(f"Too many redirects from GET {url}", url=url)

    def remember(self, response: GitHubResponse) -> None:
        """Store the response's ETag and Last-Modified, so the next conditional GET of its URL can be a 304."""
        if response.not_modified or not (response.etag or response.last_modified):
            return
        self.etags.store(response.url, response.etag, response.last_modified)

    def refresh_rate_limit(self, label: str, resource: str = throttle.CORE) -> None:
        """Read a credential's quota of `resource` (REST's `core`, or `graphql`) from GET /rate_limit (free) into
        the ledger."""
        credential = self._by_label[label]
        url = self._url("/rate_limit")
        response = self._request(url, credential, None)
        if response.status_code == 401:
            throttle.mark_rejected(label, resource)
            return
        if response.status_code == 404:
            now = timezone.now()
            throttle.record(label, throttle.RateState(UNLIMITED, UNLIMITED, int(now.timestamp()) + 3600,
                                                      observed_at=now, resource=resource))
            return
        if response.status_code != 200:
            raise self._error(url, response)
        payload = self._json(url, response)
        try:
            bucket = payload["resources"][resource]
            state = throttle.RateState(int(bucket["limit"]), int(bucket["remaining"]), int(bucket["reset"]),
                                       observed_at=_observed_at(response), resource=resource)
        except (KeyError, TypeError, ValueError) as error:
            raise TransientError(f"Unreadable /rate_limit answer from {url}", status=200, url=url) from error
        throttle.record(label, state)

    # Plumbing.

    def _send(self, url: str, validator: Validators | None) -> requests.Response:
        """Send one GET on the credential with the most budget; a rejected or exhausted one hands over to the
        next credential that has budget, and the last such answer is returned when none is left."""
        refused = None
        for _ in self.credentials:
            reservation = throttle.reserve(self.labels, self.refresh_rate_limit)
            if reservation is None:
                break
            credential = self._by_label[reservation.label]
            try:
                response = self._request(url, credential, validator)
            except Unreachable:
                throttle.refund(reservation)
                raise
            if response.status_code == 401:
                # A 401 carries the anonymous quota's headers, not this token's: only mark the token.
                throttle.mark_rejected(credential.label)
                refused = response
                continue
            state = _rate_state(response)
            if state is not None:
                throttle.settle(reservation, state)
            if response.status_code == 304:
                throttle.refund(reservation)
                self.stats["not_modified"] += 1
            else:
                self.stats["quota_requests"] += 1
            if _is_exhausted(response):
                refused = response
                continue
            return response
        if refused is not None:
            return refused
        if throttle.all_rejected(self.labels):
            raise BadCredentials(f"GitHub rejected every configured token (401); not sending GET {url}", url=url)
        raise HttpErrorException(url=url)

    def _request(
        self, url: str, credential: Credential, validator: Validators | None
    ) -> requests.Response:
        headers = {}
        if credential.authorization:
            headers["Authorization"] = credential.authorization
        if validator is not None:
            if validator.etag:
                headers["If-None-Match"] = validator.etag
            if validator.last_modified:
                headers["If-Modified-Since"] = validator.last_modified
        self.stats["requests"] += 1
        try:
            response = self.session.get(url, headers=headers, timeout=self.timeout, allow_redirects=False)
        except requests.RequestException as error:
            # Raised from None: requests' exception holds the prepared request, Authorization header included.
            raise transport_error(f"GET {url}", error, url, self._scrub) from None
        logger.debug("GET %s -> %s (%s)", url, response.status_code, credential.label)
        return response

    def _result(self, url: str, response: requests.Response) -> GitHubResponse:
        status = response.status_code
        etag = response.headers.get("etag", "")
        last_modified = response.headers.get("last-modified", "")
        if status == 304:
            return GitHubResponse(status, None, url, etag, last_modified, not_modified=True)
        if not 200 <= status < 300:
            raise self._error(url, response)
        next_url = response.links.get("next", {}).get("url")
        if next_url:
            next_url = self._url(urljoin(response.url, next_url))
        return GitHubResponse(status, self._json(url, response), url, etag, last_modified, next_url=next_url)

    def _error(self, url: str, response: requests.Response) -> GitHubError:
        """The error type a task can act on, from the status and GitHub's headers and message."""
        status = response.status_code
        message = _message(response)
        text = self._scrub(f"GitHub answered {status} for GET {url}: {message}")
        if status in {403, 429}:
            return _quota_error(text, message, url, response)
        if status >= 500:
            return TransientError(text, status=status, url=url)
        return ERRORS_BY_STATUS.get(status, GitHubError)(text, status=status, url=url)

    def _json(self, url: str, response: requests.Response) -> Any:
        try:
            return response.json()
        except ValueError:
            raise TransientError(f"GET {url} answered {response.status_code} with invalid JSON",
                                 status=response.status_code, url=url) from None

    def _url(self, path_or_url: str, params: dict | None = None) -> str:
        """An absolute URL under the base URL; anything else (another host, a path escape) is refused."""
        if path_or_url.startswith("/"):
            if not _safe_path(path_or_url):
                raise ValueError(f"Unsafe GitHub API path: {path_or_url!r}")
            url = self.base_url + path_or_url
        else:
            url = path_or_url
            parts = urlsplit(url)
            base = self._base
            under_base = parts.path == base.path or parts.path.startswith(base.path + "/")
            same_origin = (parts.scheme, parts.netloc.lower()) == (base.scheme, base.netloc.lower())
            if not (same_origin and under_base and _safe_path(parts.path)):
                raise GitHubError(f"Refusing to follow {url!r}: it is not under {self.base_url}", url=url)
        if params:  # only ever added to a path, which _safe_path proved has no query of its own
            url = f"{url}?{urlencode(params)}"
        return url

    def _scrub(self, text: str) -> str:
        """The text with every configured token masked: messages may quote what GitHub sent back."""
        for credential in self.credentials:
            if credential.token:
                text = text.replace(credential.token, "***")
        return text


def send_retrying(send: Callable[[], T], request: str, *, is_failure: Callable[[T], bool] = lambda _answer: False,
                  final: tuple[type[TransientError], ...] = ()) -> T:
    """`send()`, called again after a short pause (GITHUB_TRANSIENT_RETRY_DELAYS) while it raises a TransientError
    (one of `final` excepted) or hands back an answer `is_failure` calls one (REST's 5xx), before the failure
    becomes the task's. `request` names it in the log (e.g. "GET URL").

    A task retried through Celery starts its sync over, and every list it had already read costs a
    conditional request again: a developer with dozens of repositories would then need dozens of
    consecutive good answers, which a few percent of 502s make unlikely for ever. Retrying the one request
    keeps a sync's chance of finishing independent of its size. Each attempt is charged its own quota (a REST
    unit, a query's points).
    """
    delays = list(settings.GITHUB_TRANSIENT_RETRY_DELAYS)
    while True:
        try:
            answer = send()
            if not is_failure(answer) or not delays:
                return answer
        except final:
            raise
        except TransientError:
            if not delays:
                raise
        logger.info("%s failed, sending it again in %.1f s", request, delays[0])
        time.sleep(delays.pop(0))


def _is_server_error(response: requests.Response) -> bool:
    return response.status_code >= 500


def transport_error(request: str, error: requests.RequestException, url: str, scrub) -> TransientError:
    """The error of `request` ("GET <url>") that got no answer: Unreachable when no connection was made."""
    kind = "timed out" if isinstance(error, requests.Timeout) else "failed"
    message = scrub(f"{request} {kind}: {type(error).__name__}: {error}")
    reason = getattr(error.args[0], "reason", None) if error.args else None
    unsent = isinstance(error, requests.ConnectTimeout) or isinstance(reason, urllib3.exceptions.ConnectTimeoutError)
    return (Unreachable if unsent else TransientError)(message, url=url)


def _segment(value: str) -> str:
    """A validated name as one URL path segment (quoting is belt and braces after validation)."""
    return quote(value, safe="")


def _path(*segments: str) -> str:
    """An absolute path of these segments, each quoted whole (a `/` in a name cannot add a segment)."""
    return "/" + "/".join(quote(str(segment), safe="") for segment in segments)


def _safe_path(path: str) -> bool:
    """A plain absolute path: no query, fragment, backslash, whitespace, empty or dot segment."""
    if any(char in path for char in "?#\\%") or any(char.isspace() or not char.isprintable() for char in path):
        return False
    return all(segment not in {"", ".", ".."} for segment in path[1:].split("/"))


def _rate_state(response: requests.Response) -> throttle.RateState | None:
    headers = response.headers
    try:
        return throttle.RateState(
            limit=int(headers["x-ratelimit-limit"]),
            remaining=int(headers["x-ratelimit-remaining"]),
            reset=int(headers["x-ratelimit-reset"]),
            observed_at=_observed_at(response),
            resource=headers.get("x-ratelimit-resource", throttle.CORE),
        )
    except (KeyError, ValueError):
        return None


def _observed_at(response: requests.Response) -> datetime:
    """GitHub's clock when it answered (the Date header), or ours when the header is missing."""
    try:
        return parsedate_to_datetime(response.headers["date"]).astimezone(UTC)
    except (KeyError, TypeError, ValueError):
        return timezone.now()


def _quota_error(text: str, message: str, url: str, response: requests.Response) -> GitHubError:
    """Tell a 403/429 apart, as GitHub documents: a secondary limit, an exhausted quota, or a refusal."""
    status = response.status_code
    retry_after = response.headers.get("retry-after", "")
    if "secondary rate limit" in message.lower() or (retry_after and not _is_exhausted(response)):
        wait = int(retry_after) if retry_after.isdigit() else DEFAULT_SECONDARY_WAIT
        return SecondaryRateLimit(text, retry_after=wait, status=status, url=url)
    if _is_exhausted(response):
        state = _rate_state(response)
        return RateLimitExhausted(text, reset_at=state.reset_at if state else None, status=status, url=url)
    if status == 429:
        return SecondaryRateLimit(text, status=status, url=url)
    return Forbidden(text, status=status, url=url)


def _is_exhausted(response: requests.Response) -> bool:
    return response.status_code in {403, 429} and response.headers.get("x-ratelimit-remaining") == "0"


def _message(response: requests.Response) -> str:
    """GitHub's error message, or the start of the body when it is not GitHub's JSON."""
    try:
        return str(response.json().get("message", ""))[:500]
    except (ValueError, AttributeError):
        return response.text[:200]
