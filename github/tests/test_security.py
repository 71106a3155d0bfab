"""Who gets in and what leaks out: anonymous and unprivileged access, CSRF, the admin, password guessing,
hostile task parameters, the GitHub token, and `check --deploy`.

The endpoint lists come from the service's own swagger schema, so an endpoint added later is covered
without editing this file.
"""
import base64
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from django.contrib.admin import site as admin_site
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from django_celery_results.models import TaskResult
from rest_framework.test import APIClient

from github import tasks
from github.models import Developer, RateLimit
from github.tests.factories import DeveloperFactory, RepositoryFactory
from github.tests.support import TINY_WORLD, trigger, wait_for
from github_simulator import World

BASE_DIR = Path(__file__).resolve().parents[2]
PASSWORD = "reader-password-123"


@pytest.fixture
def queued(monkeypatch):
    """Every task queued, as (task name, kwargs), instead of a broker."""
    calls = []
    monkeypatch.setattr("celery.app.task.Task.apply_async",
                        lambda self, args=None, kwargs=None, **options: calls.append((self.name, kwargs)))
    return calls


@pytest.fixture
def graph(db):  # pylint: disable=unused-argument
    """One developer owning one repository: something for every {id} in the schema to point at."""
    developer = DeveloperFactory(login="alice", github_id=1)
    return {"developer": developer, "repository": RepositoryFactory(owner=developer, name="notes",
                                                                    full_name="alice/notes", github_id=10)}


def schema_operations(api, graph):  # pylint: disable=redefined-outer-name
    """(method, concrete URL) of every operation in /github/swagger.json, its path parameters filled in."""
    schema = api.get("/github/swagger.json").json()
    ids = {"developers": graph["developer"].pk, "repositories": graph["repository"].pk, "rate_limit": 1,
           "tasks": "0b8f2c1e-0000-0000-0000-000000000000", "task_runs": None}  # task_runs: a list only
    operations = []
    for path, item in schema["paths"].items():
        url = schema["basePath"].rstrip("/") + re.sub(r"\{[^}]+\}", str(ids[path.split("/")[1]]), path)
        operations.extend((method.upper(), url) for method in item if method != "parameters")
    return operations


# Access.

def test_every_schema_operation_and_the_docs_refuse_anonymous_users(api, anonymous, graph, queued):
    operations = schema_operations(api, graph)
    assert len(operations) >= 10
    for method, url in operations + [("GET", "/github/"), ("GET", "/github/swagger.json"),
                                     ("GET", "/github/swagger.yaml")]:
        response = anonymous.generic(method, url)
        assert response.status_code in (401, 403), (method, url, response.status_code)
    for url in ("/github/swagger/", "/github/redoc/"):
        response = anonymous.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/api-auth/login/"), url
    assert queued == []


def test_bad_basic_credentials_and_tokens_are_refused(user, graph):
    for header in (f"Basic {base64.b64encode(b'reader:wrong').decode()}", "Basic !!!notbase64",
                   "Token 0000000000000000000000000000000000000000", "Bearer whatever"):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=header)
        assert client.get("/github/developers/").status_code in (401, 403), header


def test_posting_a_task_needs_the_permission_whatever_the_authentication(user, queued):
    basic = APIClient()
    basic.credentials(HTTP_AUTHORIZATION="Basic " + base64.b64encode(f"reader:{PASSWORD}".encode()).decode())
    assert basic.get("/github/tasks/").status_code == 200
    assert basic.post("/github/tasks/", {"name": "discovery_scraper"}, format="json").status_code == 403
    assert queued == []
    user.user_permissions.add(Permission.objects.get(codename="trigger_tasks"))
    assert basic.post("/github/tasks/", {"name": "discovery_scraper"}, format="json").status_code == 202
    assert queued == [("github.tasks.discovery_scraper", {})]


def test_session_writes_need_the_csrf_token_and_succeed_with_it(user, queued):
    user.is_staff = True
    user.save()
    client = APIClient(enforce_csrf_checks=True)
    page = client.get("/api-auth/login/")
    token = page.cookies["csrftoken"].value
    assert client.post("/api-auth/login/", {"username": "reader", "password": PASSWORD}).status_code == 403
    response = client.post("/api-auth/login/", {"username": "reader", "password": PASSWORD,
                                                "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert client.post("/github/tasks/", {"name": "discovery_scraper"}, format="json").status_code == 403
    assert queued == []
    token = client.cookies["csrftoken"].value  # rotated at login
    response = client.post("/github/tasks/", {"name": "discovery_scraper"}, format="json", HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 202
    assert len(queued) == 1


def test_admin_writes_need_the_csrf_token(user):
    user.is_staff = user.is_superuser = True
    user.save()
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    response = client.post("/admin/auth/user/add/", {"username": "intruder", "password1": "x" * 20,
                                                     "password2": "x" * 20})
    assert response.status_code == 403
    assert not get_user_model().objects.filter(username="intruder").exists()


# The admin index and the changelist of every registered model.
ADMIN_PAGES = ["/admin/"] + sorted(f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
                                   for model in admin_site._registry)


def test_the_admin_is_for_staff_only(client, user, graph):
    pages = ADMIN_PAGES + [f"/admin/github/developer/{graph['developer'].pk}/change/"]
    for page in pages:
        response = client.get(page)
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/"), page
    client.force_login(user)  # logged in, not staff
    for page in pages:
        response = client.get(page)
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/"), page
    user.is_staff = user.is_superuser = True
    user.save()
    for page in pages:
        assert client.get(page).status_code == 200, page


def test_the_crawled_rows_are_read_only_in_the_admin(admin_client, graph):
    """Every column, those added later included: a staff user cannot edit what GitHub or the crawl wrote."""
    row = RateLimit.objects.create(credential="token-x", resource="core", rate_limit=5000, rate_remaining=10,
                                   rate_reset_raw=2_000_000_000, rate_reset=timezone.now())
    for url in (f"/admin/github/ratelimit/{row.pk}/change/", f"/admin/github/developer/{graph['developer'].pk}/change/",
                f"/admin/github/repository/{graph['repository'].pk}/change/"):
        response = admin_client.get(url)
        assert response.status_code == 200, url
        assert not list(response.context["adminform"].form.fields), url


# Password guessing.

def _form_login(client, path, password):
    return client.post(path, {"username": "reader", "password": password, "next": "/github/"})


@pytest.mark.parametrize("path", ["/api-auth/login/", "/admin/login/"])
def test_login_forms_lock_a_username_out_after_five_failures(user, path, settings):
    user.is_staff = True  # the admin logs in staff only
    user.save()
    client = Client()
    assert [_form_login(client, path, f"guess-{n}").status_code for n in range(5)] == [200] * 5
    locked = _form_login(client, path, PASSWORD)  # the right password no longer tells anything
    assert locked.status_code == 429
    assert locked["Retry-After"] == str(settings.LOGIN_LOCKOUT_SECONDS)
    assert "_auth_user_id" not in client.session
    # Another address is locked out of this username too; another username from here is not.
    assert _form_login(Client(REMOTE_ADDR="10.1.2.3"), path, PASSWORD).status_code == 429
    get_user_model().objects.create_user(username="other", password=PASSWORD, is_staff=True)
    assert client.post(path, {"username": "other", "password": PASSWORD}).status_code == 302


def test_basic_auth_guessing_is_locked_out_too(user):
    def basic(password):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION="Basic " + base64.b64encode(f"reader:{password}".encode()).decode())
        return client.get("/github/developers/")

    assert [basic(f"guess-{n}").status_code for n in range(5)] == [403] * 5
    locked = basic(PASSWORD)
    assert locked.status_code == 429
    assert "Too many failed logins" in locked.json()["detail"]


def test_one_address_guessing_many_usernames_is_locked_out(user, settings):
    settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS = 8
    client = Client()
    # A forged X-Forwarded-For does not move the address while no proxy is configured as trusted.
    codes = [client.post("/api-auth/login/", {"username": f"user{n}", "password": "guess"},
                         HTTP_X_FORWARDED_FOR=f"10.0.0.{n}").status_code for n in range(10)]
    assert codes == [200] * 8 + [429] * 2
    assert _form_login(client, "/api-auth/login/", PASSWORD).status_code == 429
    assert _form_login(Client(REMOTE_ADDR="10.9.9.9"), "/api-auth/login/", PASSWORD).status_code == 302


def test_behind_a_trusted_proxy_the_address_is_the_one_it_appended(user, settings):
    settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS = 3
    settings.LOGIN_THROTTLE_PROXIES = 1
    for n in range(3):
        Client().post("/api-auth/login/", {"username": f"user{n}", "password": "guess"},
                      HTTP_X_FORWARDED_FOR=f"1.2.3.{n}, 203.0.113.7")
    spoofing = Client().post("/api-auth/login/", {"username": "reader", "password": PASSWORD},
                             HTTP_X_FORWARDED_FOR="8.8.8.8, 203.0.113.7")
    assert spoofing.status_code == 429
    assert _form_login(Client(HTTP_X_FORWARDED_FOR="198.51.100.1"), "/api-auth/login/", PASSWORD).status_code == 302


def test_successful_logins_are_not_counted(user):
    for _ in range(10):
        client = Client()
        assert _form_login(client, "/api-auth/login/", PASSWORD).status_code == 302


# Hostile task parameters: refused by the endpoint, and by the sync layer if they ever got there.

HOSTILE_LOGINS = [
    "..", "../admin", "%2e%2e", "a%2Fb", "a/b", "alice/../../admin", "alice\\..\\x", "alice@evil.example",
    "evil.example", "alice?x=1", "alice#frag", "alice%3Fx", "al ice", "ali\nce", "alice\r\nHost: evil",
    "ａlice", "alice\u202e", "a" * 40, "x" * 100_000, "1' OR '1'='1", "robert'); DROP TABLE github_developer;--",
    "http://evil.example/", "//evil.example", "@evil.example",
]
HOSTILE_REPOSITORY_NAMES = [
    ".", "..", "%2e%2e", "a/b", "a%2Fb", "../../users", "notes?x=1", "notes#x", "x@evil.example", "no tes",
    "no\ntes", "r" * 101, "1' OR '1'='1", "ノート", "//evil.example",
]


@pytest.mark.django_db
@pytest.mark.parametrize("login", HOSTILE_LOGINS)
def test_hostile_usernames_are_a_400_and_queue_nothing(trigger, queued, login):
    for data in ({"name": "full_profile_sync", "username": login},
                 {"name": "full_repository_sync", "username": login, "repo_name": "notes"}):
        response = trigger.post("/github/tasks/", data, format="json")
        assert response.status_code == 400 and "username" in response.json(), (login, response.content[:200])
    assert queued == []
    assert not TaskResult.objects.exists()


@pytest.mark.django_db
def test_surrounding_whitespace_is_trimmed_before_validation(user, queued):
    user.is_staff = True
    client = APIClient()
    client.force_authenticate(user)
    response = client.post("/github/tasks/", {"name": "full_profile_sync", "username": " alice\n"}, format="json")
    assert response.status_code == 202
    assert queued == [("github.tasks.full_profile_sync", {"username": "alice"})]


@pytest.mark.django_db
@pytest.mark.parametrize("name", HOSTILE_REPOSITORY_NAMES)
def test_hostile_repository_names_are_a_400_and_queue_nothing(trigger, queued, name):
    response = trigger.post("/github/tasks/", {"name": "full_repository_sync", "username": "alice",
                                               "repo_name": name}, format="json")
    assert response.status_code == 400 and "repo_name" in response.json()
    assert queued == []


@pytest.mark.django_db
@pytest.mark.parametrize("value", [None, ["alice"], {"login": "alice"}, True])
def test_non_string_parameters_are_a_400(user, queued, value):
    user.is_staff = True
    client = APIClient()
    client.force_authenticate(user)
    response = client.post("/github/tasks/", {"name": "full_profile_sync", "username": value}, format="json")
    assert response.status_code == 400
    assert queued == []


@pytest.fixture
def sent(monkeypatch):
    """The URL of every HTTP request the service sends, whatever the host."""
    urls = []
    original = requests.Session.send

    def send(self, request, **kwargs):
        urls.append(request.url)
        return original(self, request, **kwargs)

    monkeypatch.setattr(requests.Session, "send", send)
    return urls


@pytest.mark.django_db
def test_tasks_given_hostile_names_directly_send_nothing_but_the_quota_check(start_simulator, sent):
    """A task queued some other way (a script, the shell) with a hostile name must not reach GitHub either."""
    simulator = start_simulator(World.from_dict(TINY_WORLD))
    for login in HOSTILE_LOGINS:
        outcome = tasks.full_profile_sync.apply(args=[login])
        assert outcome.failed(), login
    for name in HOSTILE_REPOSITORY_NAMES:
        assert tasks.full_repository_sync.apply(args=["alice", name]).failed(), name
        assert tasks.full_repository_sync.apply(args=["../x", name]).failed(), name
    paths = {url.removeprefix(simulator.base_url) for url in sent}
    assert paths <= {"/rate_limit"}, paths
    assert all(url.startswith(simulator.base_url + "/") for url in sent)


# Secrets.

KNOWN_TOKEN = "ghp_" + "S3cr3tT0k3n" * 3  # a fixed, recognisable token; never a real one


def _pages_of(client, urls):
    return {url: client.get(url).content.decode("utf-8", "replace") for url in urls}


def _stored_text():
    """Task results as stored, and a dump of the whole database."""
    dump = io.StringIO()
    call_command("dumpdata", stdout=dump)
    return {"task results": " ".join(f"{row.result} {row.traceback} {row.task_args} {row.task_kwargs} {row.meta}"
                                     for row in TaskResult.objects.all()),
            "database dump": dump.getvalue()}


def _admin_pages(staff):
    admin = Client()
    admin.force_login(staff)
    rows = [f"/admin/django_celery_results/taskresult/{row.pk}/change/" for row in TaskResult.objects.all()]
    rows += [f"/admin/github/ratelimit/{pk}/change/" for pk in RateLimit.objects.values_list("pk", flat=True)]
    developer = Developer.objects.get(login="alice")
    return _pages_of(admin, ADMIN_PAGES + rows + [f"/admin/github/developer/{developer.pk}/change/"])


def _error_pages(staff, settings, monkeypatch):
    """404 and 500 pages, with and without DEBUG (Django's debug pages list the settings)."""
    def explode(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("github.api.views.DeveloperViewSet.list", explode)
    client = Client(raise_request_exception=False)
    client.force_login(staff)
    pages = {}
    for debug in (False, True):
        settings.DEBUG = debug
        pages[f"404 page, DEBUG={debug}"] = client.get("/no/such/page/").content.decode()
        crashed = client.get("/github/developers/")
        assert crashed.status_code == 500
        pages[f"500 page, DEBUG={debug}"] = crashed.content.decode()
    settings.DEBUG = False
    assert "GITHUB_API_KEY" in pages["500 page, DEBUG=True"]  # listed, and cleansed
    return pages


@pytest.mark.django_db(transaction=True)
def test_the_token_appears_in_no_log_result_response_admin_page_or_error_page(
    start_simulator, worker, caplog, settings, monkeypatch
):
    caplog.set_level("DEBUG")
    start_simulator(World.from_dict(TINY_WORLD), token=KNOWN_TOKEN)
    staff = get_user_model().objects.create_user(username="staff", password=PASSWORD, is_staff=True,
                                                 is_superuser=True)
    api = APIClient()
    api.force_authenticate(staff)
    done = wait_for(api, trigger(api, name="full_profile_sync", username="alice"))
    assert done["state"] == "SUCCESS", done
    # GitHub refusing the token: the failure's message and traceback are stored and shown.
    settings.GITHUB_API_KEY = KNOWN_TOKEN + "-revoked"
    refused = wait_for(api, trigger(api, name="full_repository_sync", username="alice", repo_name="notes"))
    assert refused["state"] == "FAILURE", refused
    settings.GITHUB_API_KEY = KNOWN_TOKEN

    seen = {"logs": caplog.text, **_stored_text(), **_admin_pages(staff)}
    ledger = [f"/github/rate_limit/{pk}/" for pk in RateLimit.objects.values_list("pk", flat=True)]
    seen.update(_pages_of(api, ledger + ["/github/", "/github/rate_limit/", "/github/tasks/", done["url"],
                                         refused["url"], "/github/task_runs/", "/metrics", "/github/swagger.json",
                                         "/github/developers/"]))
    browser = Client()
    browser.force_login(staff)
    seen.update(_pages_of(browser, ["/github/dashboard/"]))  # a plain Django view: a session, not DRF's auth
    seen.update(_error_pages(staff, settings, monkeypatch))  # last: it breaks the developer list
    assert [where for where, text in seen.items() if not text] == []
    assert [where for where, text in seen.items() if KNOWN_TOKEN in text] == []
    assert "token-" in seen["database dump"]  # the ledger keeps the token's label instead


def test_check_deploy_is_clean_with_production_variables(tmp_path):
    environment = {
        "PATH": os.environ.get("PATH", ""), "DJANGO_SETTINGS_MODULE": "git_o_matic_9k.settings",
        "SECRET_KEY": "k" + os.urandom(40).hex(), "ALLOWED_HOSTS": "git-o-matic-9k.example.com",
        "SECURE_SSL_REDIRECT": "1", "SECURE_HSTS_SECONDS": "31536000", "VAR_DIR": str(tmp_path),
        "GITHUB_API_KEY": KNOWN_TOKEN,
    }
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "DEBUG"],
                            cwd=BASE_DIR, env=environment, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_api_urls_no_route_matches_answer_json_404s(api):
    for url in ("/github/developers/0.5/", "/github/developers/0.5/followers/", "/github/no-such-thing/"):
        response = api.get(url)
        assert response.status_code == 404 and response.json() == {"detail": "Not found."}, url
    assert api.get("/no-such-page/")["Content-Type"].startswith("text/html")


@pytest.mark.parametrize(("value", "status"), [
    ("0091-02-23T20:43:00-23:09", 200),  # PostgreSQL refuses offsets beyond ±15:59: compared in UTC instead
    ("2020-01-01T00:00:00+23:59", 200),
    ("0001-01-01T00:00:00+01:00", 400),  # in UTC, year 0
    ("9999-12-31T23:00:00-01:00", 400),  # in UTC, year 10000
    ("not a date", 400),
])
def test_date_time_filters_take_any_offset_python_does_and_never_fail(api, graph, value, status):
    for url in ("/github/developers/", "/github/repositories/"):
        response = api.get(url, {"updated_at__gte": value})
        assert response.status_code == status, (url, value, response.content[:200])
