"""/github/task_runs/, the API root, the tasks form and the admin's task results: what a user looks for first."""
import json
from datetime import timedelta

import pytest
from django.utils import timezone
from django_celery_results.models import TaskResult

pytestmark = pytest.mark.django_db


def run(task_id, name, state, *, minutes_ago=0, **columns):
    """A task result row as the API (kwargs as JSON) or a worker (arguments as repr) writes it."""
    columns = {"task_args": "[]", "task_kwargs": "{}", **columns}
    record = TaskResult.objects.create(task_id=task_id, task_name=f"github.tasks.{name}", status=state, **columns)
    TaskResult.objects.filter(pk=record.pk).update(date_created=timezone.now() - timedelta(minutes=minutes_ago))
    return record


@pytest.fixture
def runs():
    run("t-api", "full_profile_sync", "PENDING", task_kwargs=json.dumps({"username": "Alice"}))
    run("t-worker", "full_profile_sync", "SUCCESS", task_args=json.dumps("('alice',)"), task_kwargs=json.dumps("{}"),
        minutes_ago=5, result=json.dumps({"login": "alice", "requests": 7}))
    run("t-repo", "full_repository_sync", "FAILURE", minutes_ago=10,
        task_kwargs=json.dumps("{'username': 'bob', 'repo_name': 'alice'}"),
        result=json.dumps({"exc_type": "NotFound", "exc_message": ["GitHub has no user or organisation 'bob'"]}))
    run("t-discovery", "discovery_scraper", "SUCCESS", minutes_ago=15)


def test_task_runs_are_listed_newest_first_with_arguments_state_times_and_outcome(api, runs):
    body = api.get("/github/task_runs/").json()
    assert body["count"] == 4
    assert [item["task_id"] for item in body["results"]] == ["t-api", "t-worker", "t-repo", "t-discovery"]
    first, _, failed, _ = body["results"]
    assert first["name"] == "full_profile_sync" and first["arguments"] == {"username": "Alice"}
    assert first["state"] == "PENDING" and first["date_created"] and first["date_done"] is None
    assert first["url"] == "http://testserver/github/tasks/t-api/"
    assert failed["error"] == "NotFound: GitHub has no user or organisation 'bob'" and failed["result"] is None


@pytest.mark.parametrize("query, expected", [
    ("state=PENDING", ["t-api"]),
    ("state=SUCCESS", ["t-worker", "t-discovery"]),
    ("login=alice", ["t-api", "t-worker"]),  # any case, JSON or repr; not a repository of that name
    ("login=BOB", ["t-repo"]),
    ("login=alice&state=SUCCESS", ["t-worker"]),
    ("action=github.tasks.full_repository_sync", ["t-repo"]),
])
def test_task_runs_filter_by_state_login_and_action(api, runs, query, expected):
    body = api.get(f"/github/task_runs/?{query}").json()
    assert [item["task_id"] for item in body["results"]] == expected


@pytest.mark.parametrize("query, parameter", [("state=DONE", "state"), ("login=../x", "login"),
                                              ("action=rm", "action")])
def test_a_bad_filter_value_is_a_400_naming_it(api, query, parameter):
    response = api.get(f"/github/task_runs/?{query}")
    assert response.status_code == 400 and parameter in response.json()


def test_an_unknown_parameter_is_a_400_naming_it(api, runs):
    response = api.get("/github/task_runs/?stat=FAILURE")
    assert response.status_code == 400
    assert "Allowed: action, cursor, format, login, page, page_size, state." in response.json()["stat"][0]


def test_task_runs_need_a_login(anonymous):
    assert anonymous.get("/github/task_runs/").status_code in (401, 403)


def test_the_actions_link_the_task_runs(api):
    response = api.get("/github/tasks/")
    assert response["Link"] == '<http://testserver/github/task_runs/>; rel="task-runs"'


def test_the_tasks_form_preselects_full_profile_sync(admin_client):
    page = admin_client.get("/github/tasks/", HTTP_ACCEPT="text/html").content.decode()
    assert '<option value="full_profile_sync" selected' in page


def test_the_api_root_says_what_the_service_is_and_links_docs_and_task_runs(api):
    body = api.get("/github/").json()
    assert body["task_runs"] == "http://testserver/github/task_runs/"
    assert body["swagger"] == "http://testserver/github/swagger/"
    assert body["redoc"] == "http://testserver/github/redoc/"
    page = api.get("/github/", HTTP_ACCEPT="text/html").content.decode()
    assert "crawls GitHub&#x27;s social graph" in page and "DefaultRouter" not in page


def test_the_admin_finds_task_results_by_login(admin_client, runs):
    page = admin_client.get("/admin/django_celery_results/taskresult/?q=alice").content.decode()
    assert "t-api" in page and "t-worker" in page and "t-discovery" not in page
