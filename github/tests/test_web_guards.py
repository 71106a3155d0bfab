"""Issue 13's web probe cases (RELIABILITY.md, "Probe cases: web"): what a hostile or unlucky request answers."""
import json
import os
import subprocess
import sys
import threading

import pytest
import requests
from django.db import connection
from rest_framework.test import APIClient

from github.api.throttling import UserThrottle
from github.api.views import RepositoryViewSet

pytestmark = pytest.mark.django_db
on_postgresql = pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite has no statement_timeout")


# Errors under /github/ are JSON, whatever Django raises before a view runs.

def test_a_body_over_the_upload_limit_is_a_json_413(admin_client):
    body = json.dumps({"name": "discovery_scraper", "padding": "x" * 3_000_000})
    response = admin_client.post("/github/tasks/", body, content_type="application/json")
    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Request body larger than 2621440 bytes."}


def test_a_form_with_too_many_fields_is_a_json_400(admin_client):
    response = admin_client.post("/github/tasks/", {f"field{number}": "1" for number in range(2000)})
    assert response.status_code == 400
    assert response.json() == {"detail": "More than 1000 parameters or form fields."}


def test_too_many_query_parameters_is_a_json_400(api):
    response = api.get("/github/developers/?" + "&".join(f"p{number}=1" for number in range(1001)))
    assert response.status_code == 400
    assert response.json() == {"detail": "More than 1000 parameters or form fields."}


# NUL characters: PostgreSQL's text cannot hold them.

@pytest.mark.parametrize("url", [
    "/admin/github/developer/?login=%00",
    "/admin/github/developer/?type__exact=%00",
    "/admin/github/repository/?language=%00",
    "/admin/github/developer/?q=a%00b",
    "/admin/github/developer/?%00=1",
])
def test_a_nul_in_an_admin_list_filter_is_a_400(admin_client, url):
    response = admin_client.get(url)
    assert response.status_code == 400
    assert b"NUL characters are not allowed" in response.content


def test_a_nul_in_an_api_parameter_is_a_json_400_naming_it(api):
    response = api.get("/github/repositories/?language=%00&full_name=ok")
    assert response.status_code == 400
    assert response.json() == {"language": ["NUL characters are not allowed."]}


# /health/ names what is down.

def test_health_reports_a_broker_that_is_down(anonymous, broker_down):
    response = anonymous.get("/health/")
    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "ok", "cache": "ok", "broker": "unavailable"}


def test_health_reports_a_missing_cache_table(anonymous, settings):
    settings.CACHES = {**settings.CACHES, "default": {**settings.CACHES["default"], "LOCATION": "no_such_table"}}
    response = anonymous.get("/health/")
    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "ok", "cache": "unavailable", "broker": "ok"}


# Reads are throttled per user too.

def test_reads_are_throttled_per_user(api, monkeypatch, django_user_model):
    # DRF reads the rates once, at import: set this test's rate on the class.
    monkeypatch.setattr(UserThrottle, "THROTTLE_RATES", {"user": "3/minute"})
    codes = [api.get("/github/developers/").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    assert "throttled" in api.get("/github/rate_limit/").json()["detail"]
    other = APIClient()
    other.force_authenticate(django_user_model.objects.create_user(username="other"))
    assert other.get("/github/developers/").status_code == 200


def test_the_read_throttle_has_a_default_rate():
    assert UserThrottle().get_rate() == "600/minute"


# The statement timeout of web requests (PostgreSQL).

@pytest.fixture
def slow_repositories(monkeypatch):
    """/github/repositories/ runs a statement of 60 s before its page."""
    listing = RepositoryViewSet.list

    def slow_list(self, request, *args, **kwargs):
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_sleep(60)")
        return listing(self, request, *args, **kwargs)

    monkeypatch.setattr(RepositoryViewSet, "list", slow_list)


def _sleeping_statements():
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(60)' AND pid <> "
                       "pg_backend_pid()")
        return cursor.fetchone()[0]


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_slow_statement_is_cancelled_and_the_others_are_served(live_server, user, settings, slow_repositories):
    settings.WEB_STATEMENT_TIMEOUT = 1
    session = requests.Session()
    session.auth = ("reader", "reader-password-123")
    answers = {}
    # The client gives up after 30 s: a statement that is not cancelled runs 60 s, and the test fails.
    slow = threading.Thread(target=lambda: answers.update(
        slow=session.get(f"{live_server.url}/github/repositories/", timeout=30)))
    slow.start()
    fast = [requests.get(f"{live_server.url}/github/developers/", auth=session.auth, timeout=30).status_code
            for _ in range(3)]
    slow.join()
    assert fast == [200, 200, 200]
    assert answers["slow"].status_code == 503
    assert answers["slow"].json()["detail"].startswith(
        "The database query took longer than 1 s (WEB_STATEMENT_TIMEOUT) and was cancelled.")
    assert _sleeping_statements() == 0  # PostgreSQL is not left running it
    assert session.get(f"{live_server.url}/github/developers/", timeout=30).status_code == 200


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_workers_and_migrations_do_not_get_the_web_timeout(api):
    assert api.get("/github/developers/").status_code == 200
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] == "10s"  # this connection served a web request
    shown = {}

    def fresh_connection():  # as a worker's, or `migrate`'s: one that never served a request
        from django.db import connections  # pylint: disable=import-outside-toplevel
        with connections["default"].cursor() as cursor:
            cursor.execute("SHOW statement_timeout")
            shown["timeout"] = cursor.fetchone()[0]
        connections.close_all()

    thread = threading.Thread(target=fresh_connection)
    thread.start()
    thread.join()
    assert shown["timeout"] == "0"


# Celery's queues.

def test_tasks_are_routed_to_the_service_queues_by_default():
    """Without the variables: names of this service, every task beat schedules (heart beat, discovery, snapshot,
    rank) on a queue of its own."""
    script = (
        "import django; django.setup()\n"
        "from git_o_matic_9k.celery import app\n"
        "names = ['full_profile_sync', 'full_repository_sync', 'discovery_scraper', 'heart_beat_task',"
        " 'crawl_snapshot', 'rank_graph']\n"
        "print({name: app.amqp.router.route({}, 'github.tasks.' + name)['queue'].name for name in names})\n"
        "print(sorted(app.amqp.queues))\n"
    )
    environment = {key: value for key, value in os.environ.items() if not key.startswith("CELERY_")}
    environment["DJANGO_SETTINGS_MODULE"] = "git_o_matic_9k.settings"
    routes, queues = subprocess.run([sys.executable, "-c", script], env=environment, check=True, text=True,  # noqa: S603
                                    capture_output=True).stdout.splitlines()
    assert routes == str({"full_profile_sync": "git-o-matic-9k", "full_repository_sync": "git-o-matic-9k",
                          "discovery_scraper": "git-o-matic-9k-periodic",
                          "heart_beat_task": "git-o-matic-9k-periodic", "crawl_snapshot": "git-o-matic-9k-periodic",
                          "rank_graph": "git-o-matic-9k-periodic"})
    # A worker consumes every queue of task_queues: both.
    assert queues == str(["git-o-matic-9k", "git-o-matic-9k-periodic"])
