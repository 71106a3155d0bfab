"""Pagination at any depth (github/api/pagination.py): page numbers within API_PAGE_DEPTH rows and a 400 naming
`page` beyond, keyset cursors through every filter and ordering in both directions, the deepest page linking on
with a cursor, a count exact up to the depth, and a constant number of statements per page."""
import base64
import json
from datetime import timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.db import connection
from django.utils import timezone

from github.api.pagination import COUNT_ESTIMATED_HEADER
from github.tests.factories import DeveloperFactory, StubDeveloperFactory

DEVELOPERS = "/github/developers/"


@pytest.fixture
def crowd(db):  # pylint: disable=unused-argument
    """15 synced developers with ties on every count and date, and 8 stubs (null counts, names and dates)."""
    start = timezone.now()
    synced = [DeveloperFactory(followers_count=n % 4, public_repos=n % 3, name=f"Name {n % 5}",
                               created_at=start - timedelta(days=n % 6)) for n in range(15)]
    return synced + StubDeveloperFactory.create_batch(8)


def _logins(body):
    return [row["login"] for row in body["results"]]


def _walk(api, params, link):
    """Every login from the first page `params` answers, following `link` ("next" or "previous") to the end."""
    body = api.get(DEVELOPERS, params).json()
    pages = [_logins(body)]
    while body[link]:
        body = api.get(body[link]).json()
        pages.append(_logins(body))
    return pages


def _last_cursor_page(api, params):
    """The query of the last page of a cursor walk."""
    body = api.get(DEVELOPERS, {**params, "cursor": ""}).json()
    while body["next"]:
        url = body["next"]
        body = api.get(url).json()
    return url


@pytest.mark.parametrize("params", [
    {},
    {"ordering": "-followers_count"},
    {"ordering": "followers_count"},
    {"ordering": "name,-public_repos"},
    {"ordering": "-created_at"},
    {"ordering": "-login"},
    {"followers_count__gte": 1, "ordering": "-followers_count"},
    {"search": "name"},  # the 15 synced (a stub has no name)
])
def test_a_cursor_walks_the_whole_list_in_its_order_both_ways(api, crowd, params):
    expected = _logins(api.get(DEVELOPERS, {**params, "page_size": 100}).json())
    assert len(expected) > 4
    forwards = _walk(api, {**params, "cursor": "", "page_size": 4}, "next")
    assert [login for page in forwards for login in page] == expected
    assert all(len(page) == 4 for page in forwards[:-1])
    backwards = _walk(api, dict(_query(_last_cursor_page(api, {**params, "page_size": 4}))), "previous")
    assert [login for page in reversed(backwards) for login in page] == expected


def _query(url):
    """The query parameters of a link, as pairs."""
    return parse_qsl(urlsplit(url).query, keep_blank_values=True)


def test_the_first_cursor_page_has_no_previous_and_the_last_no_next(api, crowd):
    first = api.get(DEVELOPERS, {"cursor": "", "page_size": 100}).json()
    assert first["previous"] is None and first["next"] is None
    assert first["count"] == len(crowd) and len(first["results"]) == len(crowd)


def test_a_page_beyond_the_depth_is_a_400_naming_page_and_the_cursor(api, crowd, settings):
    settings.API_PAGE_DEPTH = 6
    assert api.get(DEVELOPERS, {"page": 2, "page_size": 3}).status_code == 200
    response = api.get(DEVELOPERS, {"page": 3, "page_size": 3})
    assert response.status_code == 400
    message = response.json()["page"][0]
    assert "first 6 rows" in message and "cursor" in message and "Narrow the filter" in message
    assert api.get(DEVELOPERS, {"page": "last", "page_size": 3}).status_code == 400  # page 8


def test_the_deepest_page_links_on_with_a_cursor(api, crowd, settings):
    settings.API_PAGE_DEPTH = 6
    expected = _logins(api.get(DEVELOPERS, {"page_size": 100}).json())
    deepest = api.get(DEVELOPERS, {"page": 2, "page_size": 3}).json()
    assert "cursor=" in deepest["next"] and "page=" not in deepest["next"]
    rest = api.get(deepest["next"]).json()
    assert _logins(rest) == expected[6:9]
    assert deepest["previous"].endswith("/github/developers/?page_size=3")  # page 1


def test_count_is_exact_within_the_depth_and_marked_estimated_beyond(api, crowd, settings):
    response = api.get(DEVELOPERS)
    assert response.json()["count"] == len(crowd) and COUNT_ESTIMATED_HEADER not in response
    settings.API_PAGE_DEPTH = 5
    response = api.get(DEVELOPERS)
    if connection.vendor == "postgresql":  # the planner's estimate, and the header saying so
        assert response.json()["count"] > 5 and response[COUNT_ESTIMATED_HEADER] == "true"
    else:  # other databases count exactly
        assert response.json()["count"] == len(crowd) and COUNT_ESTIMATED_HEADER not in response


def test_a_filter_no_row_can_match_counts_0(api, crowd):
    """Django sends no query for it (nothing is below the smallest 64-bit integer), so nothing to estimate."""
    body = api.get(DEVELOPERS, {"followers_count__lt": -(2**63)}).json()
    assert body == {"count": 0, "next": None, "previous": None, "results": []}


def _cursor(data):
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode()


@pytest.mark.parametrize("data", [
    {"o": ["login", "github_id"], "v": ["a", 1], "b": False},  # another ordering's
    {"o": ["github_id"], "v": ["not a number"], "b": False},
    {"o": ["github_id"], "v": [2**70], "b": False},
    {"o": ["github_id"], "v": [[1]], "b": False},
    {"o": ["github_id"], "v": [1, 2], "b": False},
    {"o": ["github_id"], "v": [1], "b": "yes"},
    {"o": ["github_id"], "v": [1]},
    ["github_id"],
])
def test_a_cursor_that_is_not_the_lists_own_is_a_404_naming_cursor(api, crowd, data):
    response = api.get(DEVELOPERS, {"cursor": _cursor(data)})
    assert response.status_code == 404 and "Invalid cursor" in response.json()["detail"]


def test_a_cursor_beside_a_page_number_is_a_400_naming_both(api, crowd):
    response = api.get(DEVELOPERS, {"cursor": "", "page_size": 4, "page": 3})
    assert response.status_code == 400 and set(response.json()) == {"page", "cursor"}


def test_a_cursor_page_costs_the_same_statements_whatever_its_size(api, crowd, django_assert_num_queries):
    # the count (on PostgreSQL the planner's estimate first), the page, one query per relation list (followers,
    # following, starred, repositories); the authenticated user is forced, so no session or user query.
    statements = 7 if connection.vendor == "postgresql" else 6
    after = api.get(DEVELOPERS, {"cursor": "", "page_size": 2}).json()["next"]
    with django_assert_num_queries(statements):
        api.get(after)
    with django_assert_num_queries(statements):
        api.get(after.replace("page_size=2", "page_size=20"))


def test_task_runs_page_by_cursor_too(api):
    body = api.get("/github/task_runs/", {"cursor": ""}).json()
    assert body == {"count": 0, "next": None, "previous": None, "results": []}
