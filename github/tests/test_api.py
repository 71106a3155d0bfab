"""The read API: shapes, nested lists, pagination, permissions, bad input, and query counts."""
import base64
import uuid

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from github.api.filters import DeveloperFilter, RateLimitFilter, RepositoryFilter
from github.models import RateLimit
from github.tests.factories import (
    DeveloperFactory,
    FollowFactory,
    ListedDeveloperFactory,
    RepositoryFactory,
    StarFactory,
    StubDeveloperFactory,
)

pytestmark = pytest.mark.django_db

DEVELOPER_KEYS = {
    "id", "url", "github_id", "login", "name", "location", "bio", "company", "email", "created_at", "updated_at",
    "followers_count", "following_count", "public_gists", "public_repos", "profiled_at", "synced_at",
    "rank", "rank_computed_at", "followers", "following",
    "starred_repositories", "repositories", "followers_url", "following_url", "starred_url", "repositories_url",
}
REPOSITORY_KEYS = {
    "id", "url", "owner", "github_id", "owner_github_id", "name", "full_name", "description", "homepage",
    "language", "created_at", "updated_at", "pushed_at", "has_downloads", "has_issues", "has_pages",
    "has_projects", "has_wiki", "private", "archived", "disabled", "fork", "stargazers", "stargazers_count",
    "subscribers_count", "watchers_count", "open_issues_count", "forks_count", "topics", "license",
    "rank", "rank_computed_at", "stargazers_url",
}


def developer_url(developer):
    return f"http://testserver/github/developers/{developer.pk}/"


def repository_url(repository):
    return f"http://testserver/github/repositories/{repository.pk}/"


@pytest.fixture
def graph():
    """alice follows bob, carol follows alice, alice starred bob's repo, alice owns one repository."""
    alice = DeveloperFactory(login="alice", github_id=1, followers_count=1, following_count=1, public_repos=1)
    bob = DeveloperFactory(login="bob", github_id=2)
    carol = StubDeveloperFactory(login="carol", github_id=3)
    FollowFactory(follower=alice, followee=bob)
    FollowFactory(follower=carol, followee=alice)
    bobs_repo = RepositoryFactory(owner=bob, name="tool", full_name="bob/tool", github_id=20, stargazers_count=1)
    alices_repo = RepositoryFactory(owner=alice, name="notes", full_name="alice/notes", github_id=10)
    StarFactory(developer=alice, repository=bobs_repo)
    return {"alice": alice, "bob": bob, "carol": carol, "bobs_repo": bobs_repo, "alices_repo": alices_repo}


def test_developer_detail_has_the_description_shape(api, graph):
    alice = graph["alice"]
    body = api.get(f"/github/developers/{alice.pk}/").json()
    assert set(body) == DEVELOPER_KEYS
    assert body["github_id"] == "1"
    assert body["url"] == developer_url(alice)
    assert body["followers"] == [developer_url(graph["carol"])]
    assert body["following"] == [developer_url(graph["bob"])]
    assert body["starred_repositories"] == [repository_url(graph["bobs_repo"])]
    assert body["repositories"] == [repository_url(graph["alices_repo"])]
    assert body["followers_url"] == developer_url(alice) + "followers/"
    assert body["starred_url"] == developer_url(alice) + "starred/"


def test_stub_developers_are_listed_with_null_profile_fields(api, graph):
    body = api.get(f"/github/developers/{graph['carol'].pk}/").json()
    assert body["login"] == "carol"
    assert body["name"] is None and body["followers_count"] is None
    assert body["following"] == [developer_url(graph["alice"])]


def test_developer_list_is_paginated_in_github_id_order(api, graph):
    body = api.get("/github/developers/").json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 3
    assert [item["login"] for item in body["results"]] == ["alice", "bob", "carol"]


def test_repository_detail_has_the_description_shape(api, graph):
    repo = graph["bobs_repo"]
    body = api.get(f"/github/repositories/{repo.pk}/").json()
    assert set(body) == REPOSITORY_KEYS
    assert body["github_id"] == "20" and body["owner_github_id"] == "2"
    assert body["owner"] == developer_url(graph["bob"])
    assert body["stargazers"] == [developer_url(graph["alice"])]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("developers/{alice}/followers/", ["carol"]),
        ("developers/{alice}/following/", ["bob"]),
        ("developers/{alice}/starred/", ["bob/tool"]),
        ("developers/{alice}/repositories/", ["alice/notes"]),
        ("repositories/{bobs_repo}/stargazers/", ["alice"]),
    ],
)
def test_nested_lists_are_paginated(api, graph, path, expected):
    url = "/github/" + path.format(alice=graph["alice"].pk, bobs_repo=graph["bobs_repo"].pk)
    body = api.get(url).json()
    assert body["count"] == len(expected)
    assert [item.get("full_name", item.get("login")) for item in body["results"]] == expected


def test_nested_list_of_an_unknown_developer_is_404(api):
    assert api.get(f"/github/developers/{uuid.uuid4()}/followers/").status_code == 404


def test_rate_limit_record_has_id_1(api):
    RateLimit.objects.create(
        credential="anonymous", resource="core", rate_limit=60, rate_remaining=59,
        rate_reset_raw=1601853380, rate_reset="2020-10-04T23:16:20Z",
    )
    body = api.get("/github/rate_limit/").json()
    assert body["count"] == 1
    record = body["results"][0]
    assert record["url"] == "http://testserver/github/rate_limit/1/"
    assert record["rate_limit"] == 60 and record["rate_remaining"] == 59
    assert record["rate_reset_raw"] == 1601853380 and record["rate_reset"] == "2020-10-04T23:16:20Z"
    assert api.get("/github/rate_limit/1/").status_code == 200


def test_page_size_is_capped_at_100(api):
    DeveloperFactory.create_batch(105)
    body = api.get("/github/developers/?page_size=1000").json()
    assert len(body["results"]) == 100
    assert body["next"].endswith("page=2&page_size=1000")
    assert len(api.get("/github/developers/?page_size=7").json()["results"]) == 7


def rejected(path, field, *values):
    """A case of a 400 naming `field` for each of its `values` on `path`."""
    return [(f"{path}?{field}={value}", 400, field) for value in values]


@pytest.mark.parametrize(
    ("url", "status", "field"),
    [
        *rejected("/github/developers/", "followers_count__gte", "abc", "99999999999999999999999"),
        *rejected("/github/developers/", "created_at__gt", "yesterday"),
        *rejected("/github/developers/", "ordering", "password", "-login,nope"),
        *rejected("/github/repositories/", "owner", "not-a-uuid"),
        *rejected("/github/repositories/", "archived", "maybe"),
        *rejected("/github/developers/", "search", "a%00b"),
        # Only one leading "-" means descending: the rest is part of the name, which no field has.
        *rejected("/github/developers/", "ordering", "--login", "---login", "--github_id"),
        *rejected("/github/repositories/", "ordering", "--full_name", "name,--stargazers_count"),
        # Search terms are bounded: each costs the database a pair of ILIKEs to plan.
        *rejected("/github/developers/", "search", "+".join(["a"] * 11)),
        *rejected("/github/repositories/", "search", "+".join(["a"] * 2000)),
        *rejected("/github/developers/", "search", "a" * 101),
        *rejected("/github/rate_limit/", "rate_remaining__lte", "many"),
        ("/github/developers/?page=199", 404, None),  # within page numbers' reach, past the end of the list
        ("/github/developers/?page=201", 400, "page"),  # beyond API_PAGE_DEPTH (10,000 rows: page 200 of 50)
        ("/github/developers/?cursor=abc", 404, None),  # as DRF's CursorPagination answers
        ("/github/developers/?page=abc", 404, None),
        ("/github/developers/not-a-uuid/", 404, None),
        ("/github/repositories/12345/", 404, None),
        ("/github/rate_limit/abc/", 404, None),
    ],
)
def test_bad_input_answers_4xx_naming_the_field(api, graph, url, status, field):
    response = api.get(url)
    assert response.status_code == status
    if field:
        assert field in response.json()


def test_search_within_the_bounds_is_served(api, graph):
    assert api.get("/github/developers/", {"search": " ".join(["a"] * 10)}).status_code == 200
    assert api.get("/github/developers/", {"search": "a" * 100}).status_code == 200


def list_endpoints(graph):
    """Every list endpoint: the three lists and the five nested ones."""
    alice, repository = graph["alice"].pk, graph["bobs_repo"].pk
    return ["/github/developers/", "/github/repositories/", "/github/rate_limit/",
            *[f"/github/developers/{alice}/{nested}/" for nested in ("followers", "following", "starred",
                                                                   "repositories")],
            f"/github/repositories/{repository}/stargazers/"]


@pytest.mark.parametrize("parameter", ["name__contain", "zzzzzz", "login__icontains", "page_sizes"])
def test_an_unknown_query_parameter_answers_400_naming_it_on_every_list(api, graph, parameter):
    for url in list_endpoints(graph):
        response = api.get(url, {parameter: "x", "page": "1"})
        assert response.status_code == 400, url
        body = response.json()
        assert list(body) == [parameter], url
        assert "Allowed: " in body[parameter][0] and "page_size" in body[parameter][0], url


def test_the_documented_parameters_pass_on_every_list(api, graph):
    for url in list_endpoints(graph):
        assert api.get(url, {"page": "1", "page_size": "5", "format": "json"}).status_code == 200, url
    assert api.get("/github/developers/", {"ordering": "-login", "search": "a", "login": "alice",
                                           "name__contains": "A", "synced": "true"}).status_code == 200
    assert api.get("/github/repositories/", {"ordering": "name", "search": "a", "language": "python",
                                             "owner_login": "bob"}).status_code == 200
    assert api.get("/github/rate_limit/", {"rate_remaining__gte": "1"}).status_code == 200
    # The nested lists take no filter: one is refused, not ignored.
    nested = api.get(f"/github/developers/{graph['alice'].pk}/followers/", {"login": "bob"})
    assert nested.status_code == 400 and "login" in nested.json()


PROTECTED = ["/github/", "/github/developers/", "/github/repositories/", "/github/rate_limit/", "/github/swagger.json"]


@pytest.mark.parametrize("url", PROTECTED)
def test_anonymous_users_are_refused_with_json(anonymous, url):
    response = anonymous.get(url)
    assert response.status_code in (401, 403)
    assert response["Content-Type"].startswith("application/json")


@pytest.mark.parametrize("url", ["/github/swagger/", "/github/redoc/"])
def test_anonymous_visitors_of_the_docs_are_sent_to_log_in(anonymous, url):
    response = anonymous.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"/api-auth/login/?next={url}"


def test_detail_and_nested_endpoints_refuse_anonymous(anonymous, graph):
    alice = graph["alice"]
    for url in (f"/github/developers/{alice.pk}/", f"/github/developers/{alice.pk}/followers/",
                f"/github/repositories/{graph['bobs_repo'].pk}/stargazers/"):
        assert anonymous.get(url).status_code in (401, 403)


def test_basic_token_and_session_authentication(user):
    basic = APIClient()
    credentials = base64.b64encode(b"reader:reader-password-123").decode()
    basic.credentials(HTTP_AUTHORIZATION=f"Basic {credentials}")
    assert basic.get("/github/developers/").status_code == 200

    token = APIClient()
    token.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    assert token.get("/github/developers/").status_code == 200

    session = APIClient()
    assert session.login(username="reader", password="reader-password-123")
    assert session.get("/github/developers/").status_code == 200


@pytest.mark.parametrize("url", ["/github/swagger/", "/github/redoc/"])
def test_the_docs_pages_answer_basic_token_and_session_clients(user, url):
    basic = APIClient()
    basic.credentials(HTTP_AUTHORIZATION=f"Basic {base64.b64encode(b'reader:reader-password-123').decode()}")
    token = APIClient()
    token.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    session = APIClient()
    assert session.login(username="reader", password="reader-password-123")
    for client in (basic, token, session):
        response = client.get(url)
        assert response.status_code == 200
        assert "/static/drf-yasg/" in response.content.decode()
    wrong = APIClient()
    wrong.credentials(HTTP_AUTHORIZATION=f"Basic {base64.b64encode(b'reader:wrong').decode()}")
    assert wrong.get(url).status_code in (401, 403)


def test_api_root_lists_the_endpoints(api):
    body = api.get("/github/").json()
    assert set(body) == {"developers", "repositories", "rate_limit", "tasks", "task_runs", "swagger", "redoc",
                         "dashboard"}


def test_health_needs_no_login(anonymous):
    response = anonymous.get("/health/")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "cache": "ok", "broker": "ok"}


def test_the_site_root_leads_to_the_api(anonymous):
    response = anonymous.get("/")
    assert response.status_code == 302 and response["Location"] == "/github/"


def test_browsable_api_login_page_renders(anonymous):
    assert anonymous.get("/api-auth/login/").status_code == 200


@pytest.mark.parametrize("url_name", ["developers", "repositories"])
def test_a_page_of_100_costs_a_constant_number_of_queries(api, django_assert_max_num_queries, url_name):
    developers = DeveloperFactory.create_batch(100)
    repositories = [RepositoryFactory(owner=developer) for developer in developers]
    hub = developers[0]
    for other in developers[1:]:
        FollowFactory(follower=other, followee=hub)
        FollowFactory(follower=hub, followee=other)
        StarFactory(developer=other, repository=repositories[0])
        StarFactory(developer=hub, repository=repositories[other.github_id % 100])
    with django_assert_max_num_queries(10):
        body = api.get(f"/github/{url_name}/?page_size=100").json()
    assert len(body["results"]) == 100
    with django_assert_max_num_queries(10):
        api.get(f"/github/developers/{hub.pk}/followers/?page_size=100")


def test_queries_do_not_grow_with_page_size(api, django_assert_num_queries):
    for developer in DeveloperFactory.create_batch(30):
        FollowFactory(follower=developer, followee=DeveloperFactory())
    # count (on PostgreSQL the planner's estimate first), page, and one query per relation list (followers,
    # following, starred, repositories); the authenticated user is forced, so no session or user query.
    statements = 7 if connection.vendor == "postgresql" else 6
    with django_assert_num_queries(statements):
        api.get("/github/developers/?page_size=3")
    with django_assert_num_queries(statements):
        api.get("/github/developers/?page_size=60")


def test_admin_is_staff_only(client, user):
    client.force_login(user)
    assert client.get("/admin/github/developer/").status_code == 302
    admin = get_user_model().objects.create_superuser(username="root", password="root-password-123")
    client.force_login(admin)
    developer = DeveloperFactory()
    FollowFactory(followee=developer)
    RepositoryFactory(owner=developer)
    for url in ("/admin/github/developer/", "/admin/github/developer/?q=dev&synced=no",
                f"/admin/github/developer/{developer.pk}/change/", "/admin/github/repository/",
                "/admin/github/ratelimit/"):
        assert client.get(url).status_code == 200, url
    page = client.get(f"/admin/github/developer/{developer.pk}/change/").content.decode()
    assert "Followers stored" in page


def test_admin_filters_developers_profiled_from_a_list(client):
    client.force_login(get_user_model().objects.create_superuser(username="root", password="root-password-123"))
    listed, stub = ListedDeveloperFactory(login="listed"), StubDeveloperFactory(login="stub")
    profiled = client.get("/admin/github/developer/?profiled=yes").context["cl"].result_list
    not_profiled = client.get("/admin/github/developer/?profiled=no").context["cl"].result_list
    assert [row.login for row in profiled] == [listed.login] and [row.login for row in not_profiled] == [stub.login]


def test_swagger_documents_every_filter_with_its_type(api):
    schema = api.get("/github/swagger.json").json()
    assert schema["info"]["title"] == "git-o-matic-9k API"
    assert schema["info"]["license"]["name"] == "MIT"

    def parameters(path):
        return {param["name"]: param for param in schema["paths"][path]["get"]["parameters"]}

    developers = parameters("/developers/")
    assert developers["followers_count__gte"]["type"] == "integer"
    assert developers["created_at__lt"]["format"] == "date-time"
    assert developers["email__isnull"]["type"] == "boolean"
    assert developers["name__icontains"]["type"] == "string"
    assert {"login", "github_id", "ordering", "search", "page", "page_size"} <= set(developers)
    repositories = parameters("/repositories/")
    assert repositories["owner"]["format"] == "uuid"
    assert repositories["archived"]["type"] == "boolean"
    assert repositories["stargazers_count__gt"]["type"] == "integer"
    assert {"owner_login", "full_name", "language", "description__icontains", "homepage__isnull"} <= set(repositories)
    for nested in ("/developers/{id}/followers/", "/developers/{id}/starred/", "/repositories/{id}/stargazers/"):
        assert {"page", "page_size"} <= set(parameters(nested))
    assert developers["name__contains"]["type"] == "string" and developers["login__lte"]["type"] == "string"
    assert repositories["description__isnull"]["type"] == "boolean"
    rate_limit = parameters("/rate_limit/")
    assert rate_limit["rate_reset__gte"]["format"] == "date-time"
    assert rate_limit["rate_remaining__lte"]["type"] == "integer"
    # Every filter of every list, with the type its filter accepts. (Imported here: drf-yasg imports the
    # inspectors module from its settings, which must come first.)
    from github.api.inspectors import filter_parameter_type  # pylint: disable=import-outside-toplevel
    for path, filterset in (("/developers/", DeveloperFilter), ("/repositories/", RepositoryFilter),
                            ("/rate_limit/", RateLimitFilter)):
        documented = parameters(path)
        for name, filter_field in filterset().filters.items():
            param_type, param_format = filter_parameter_type(filter_field)
            assert (documented[name]["type"], documented[name].get("format")) == (param_type, param_format), name


def test_docs_pages_render_offline_for_logged_in_users(client, user):
    client.force_login(user)
    for url in ("/github/swagger/", "/github/redoc/"):
        page = client.get(url).content.decode()
        assert "/static/drf-yasg/" in page  # bundled assets, served by whitenoise: no internet needed
    asset = client.get("/static/drf-yasg/swagger-ui-dist/swagger-ui-bundle.js")
    assert asset.status_code == 200
    asset.close()


def test_embedded_relations_are_a_preview_and_the_nested_list_has_them_all(api, settings):
    settings.API_RELATION_PREVIEW = 3
    hub = DeveloperFactory()
    fans = DeveloperFactory.create_batch(5)
    for fan in fans:
        FollowFactory(follower=fan, followee=hub)
    body = api.get(f"/github/developers/{hub.pk}/").json()
    assert len(body["followers"]) == 3
    assert set(body["followers"]) < {developer_url(fan) for fan in fans}
    nested = api.get(body["followers_url"]).json()
    assert nested["count"] == 5
    assert {item["url"] for item in nested["results"]} == {developer_url(fan) for fan in fans}
