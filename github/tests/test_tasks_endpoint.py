"""/github/tasks/: listing, validation (400 naming the field, nothing queued), permission, throttle, state."""
import json

import pytest
from celery.app.task import Context
from django_celery_results.models import TaskResult
from rest_framework.test import APIClient

from git_o_matic_9k.celery import app
from github import tasks
from github.api.task_views import TaskTriggerThrottle

pytestmark = pytest.mark.django_db


@pytest.fixture
def queued(monkeypatch):
    """Every task queued through the endpoint, as (task name, kwargs, task id), instead of a broker."""
    calls = []

    def fake_apply_async(self, args=None, kwargs=None, task_id=None, **options):
        calls.append((self.name, kwargs, task_id))

    monkeypatch.setattr("celery.app.task.Task.apply_async", fake_apply_async)
    return calls


def test_get_lists_the_three_actions(api):
    body = api.get("/github/tasks/").json()
    assert {action["name"] for action in body} == {"full_profile_sync", "full_repository_sync", "discovery_scraper"}
    repository = next(action for action in body if action["name"] == "full_repository_sync")
    assert repository["parameters"] == {"username": True, "repo_name": True}
    assert all(action["description"] for action in body)


@pytest.mark.parametrize("content", ["json", "form"])
def test_valid_post_queues_the_task_and_answers_202(trigger, queued, content):
    data = {"name": "full_repository_sync", "username": "h3nnn4n", "repo_name": "garapa"}
    response = trigger.post("/github/tasks/", data, format="json" if content == "json" else "multipart")
    assert response.status_code == 202
    body = response.json()
    assert queued == [("github.tasks.full_repository_sync", {"username": "h3nnn4n", "repo_name": "garapa"},
                       body["task_id"])]
    assert body["url"] == f"http://testserver/github/tasks/{body['task_id']}/"
    assert response["Location"] == body["url"]
    assert body["state"] == "PENDING"
    state = trigger.get(body["url"]).json()
    assert state["name"] == "full_repository_sync"
    assert state["arguments"] == {"username": "h3nnn4n", "repo_name": "garapa"}


def test_discovery_takes_an_optional_count(trigger, queued):
    assert trigger.post("/github/tasks/", {"name": "discovery_scraper"}, format="json").status_code == 202
    assert trigger.post("/github/tasks/", {"name": "discovery_scraper", "count": 20}, format="json").status_code == 202
    assert trigger.post("/github/tasks/", {"name": "discovery_scraper", "count": "100"}).status_code == 202
    assert [call[:2] for call in queued] == [("github.tasks.discovery_scraper", {}),
                                             ("github.tasks.discovery_scraper", {"count": 20}),
                                             ("github.tasks.discovery_scraper", {"count": 100})]


def bad_values(name, field, values, **fixed):
    """A case of BAD_INPUT per value: task `name`, the `fixed` parameters and `field` set to the value."""
    return [({"name": name, **fixed, field: value}, field) for value in values]


BAD_INPUT = [
    ({}, "name"),
    ({"name": "rm_rf"}, "name"),
    ({"name": "full_profile_sync"}, "username"),
    *bad_values("full_profile_sync", "username", [
        "", "a" * 40, "x" * 10000, "-leading", "double--hyphen", "../admin", "a%2Fb", "user@evil.example",
        "user?x=1", "user#frag", "robert'); DROP TABLE github_developer;--", "зоя", "😀", "a\x00b",
    ]),
    ({"name": "full_repository_sync", "username": "octocat"}, "repo_name"),
    *bad_values("full_repository_sync", "repo_name", ["..", "octocat/hello", "a b", "r" * 101, "x@evil.example"],
                username="octocat"),
    ({"name": "discovery_scraper", "username": "octocat"}, "username"),
    *bad_values("discovery_scraper", "count", [0, -3, 101, 2.5, "five", True, [5], 10**30]),
    ({"name": "full_profile_sync", "username": "octocat", "count": 5}, "count"),
]


@pytest.mark.parametrize(("data", "field"), BAD_INPUT)
def test_bad_input_answers_400_naming_the_field_and_queues_nothing(trigger, queued, data, field):
    response = trigger.post("/github/tasks/", data, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert queued == []
    assert not TaskResult.objects.exists()


def test_malformed_json_is_a_400(trigger, queued):
    response = trigger.post("/github/tasks/", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert queued == []


def test_users_without_the_permission_get_403(api, queued):
    response = api.post("/github/tasks/", {"name": "discovery_scraper"}, format="json")
    assert response.status_code == 403
    assert queued == []


def test_anonymous_users_cannot_list_or_trigger(anonymous, queued):
    assert anonymous.get("/github/tasks/").status_code in (401, 403)
    assert anonymous.post("/github/tasks/", {"name": "discovery_scraper"}, format="json").status_code in (401, 403)
    assert queued == []


def test_staff_may_trigger(user, queued):
    user.is_staff = True
    user.save()
    client = APIClient()
    client.force_authenticate(user)
    assert client.post("/github/tasks/", {"name": "discovery_scraper"}, format="json").status_code == 202


def test_session_posts_need_a_csrf_token(user, queued):
    user.is_staff = True
    user.save()
    client = APIClient(enforce_csrf_checks=True)
    client.login(username="reader", password="reader-password-123")
    response = client.post("/github/tasks/", {"name": "discovery_scraper"}, format="json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    assert queued == []


def test_posts_are_throttled_per_user(trigger, queued, monkeypatch):
    # DRF reads the rates once, at import: set this test's rate on the class.
    monkeypatch.setattr(TaskTriggerThrottle, "THROTTLE_RATES", {"tasks": "3/minute"})
    codes = [trigger.post("/github/tasks/", {"name": "discovery_scraper"}, format="json").status_code
             for _ in range(5)]
    assert codes == [202, 202, 202, 429, 429]
    assert len(queued) == 3
    assert trigger.get("/github/tasks/").status_code == 200  # reading is not throttled


def test_unknown_task_id_is_404(api):
    assert api.get("/github/tasks/0b8f2c1e-0000-0000-0000-000000000000/").status_code == 404


@pytest.mark.parametrize(
    ("status", "result", "expected_result", "expected_error"),
    [
        ("SUCCESS", {"login": "octocat", "requests": 7}, {"login": "octocat", "requests": 7}, None),
        ("FAILURE", {"exc_type": "HttpErrorException", "exc_message": ["API rate limit exceeded"]}, None,
         "HttpErrorException: API rate limit exceeded"),
        (tasks.POSTPONED, {"retry_at": "2026-01-01T00:00:00+00:00"}, {"retry_at": "2026-01-01T00:00:00+00:00"},
         None),
    ],
)
def test_task_state_shows_result_or_error(api, status, result, expected_result, expected_error):
    TaskResult.objects.create(task_id="abc-123", task_name="github.tasks.full_profile_sync", status=status,
                              result=json.dumps(result), task_kwargs=json.dumps({"username": "octocat"}))
    body = api.get("/github/tasks/abc-123/").json()
    assert body["state"] == status
    assert body["result"] == expected_result
    assert body["error"] == expected_error


@pytest.mark.parametrize("depth", [33, 1000, 100_000])
def test_deeply_nested_json_is_a_400(trigger, queued, depth):
    body = '{"name": ' + "[" * depth + "]" * depth + "}"
    response = trigger.post("/github/tasks/", body, content_type="application/json")
    assert response.status_code == 400
    assert "nested deeper than 32 levels" in response.json()["detail"]
    assert queued == []


def test_json_nested_32_levels_is_parsed(trigger, queued):
    body = '{"name": ' + "[" * 31 + "]" * 31 + "}"
    response = trigger.post("/github/tasks/", body, content_type="application/json")
    assert response.status_code == 400
    assert "name" in response.json()  # parsed, then refused by the field's validation


def test_a_broker_that_is_down_is_a_503_and_leaves_no_task_record(trigger, broker_down):
    response = trigger.post("/github/tasks/", {"name": "full_profile_sync", "username": "octocat"}, format="json")
    assert response.status_code == 503
    assert "broker" in response.json()["detail"]
    assert not TaskResult.objects.exists()


def test_the_task_is_sent_before_its_record_is_stored(trigger, monkeypatch):
    """A web process killed between the two then leaves no PENDING record behind that no worker will update."""
    stored_when_sent = []

    def fake_apply_async(self, args=None, kwargs=None, task_id=None, **options):
        stored_when_sent.append(TaskResult.objects.filter(task_id=task_id).exists())

    monkeypatch.setattr("celery.app.task.Task.apply_async", fake_apply_async)
    response = trigger.post("/github/tasks/", {"name": "discovery_scraper"}, format="json")
    assert response.status_code == 202
    assert stored_when_sent == [False]
    assert TaskResult.objects.get().status == "PENDING"


def test_a_task_the_worker_recorded_first_keeps_its_state(trigger, monkeypatch):
    def worker_was_faster(self, args=None, kwargs=None, task_id=None, **options):
        TaskResult.objects.create(task_id=task_id, task_name=self.name, status="STARTED")

    monkeypatch.setattr("celery.app.task.Task.apply_async", worker_was_faster)
    response = trigger.post("/github/tasks/", {"name": "discovery_scraper"}, format="json")
    assert response.status_code == 202
    assert response.json()["state"] == "STARTED"


def stored_by_the_worker(state, result, **kwargs):
    """A task record as Celery's result backend writes it from a worker: the request carries the arguments as
    Celery sends them, with their Python repr."""
    request = Context(id="abc-123", task="github.tasks.full_profile_sync", args=[], kwargs=kwargs,
                      argsrepr="[]", kwargsrepr=repr(kwargs), hostname="worker@test")
    app.backend.store_result("abc-123", result, state, request=request)


@pytest.mark.parametrize("state", ["STARTED", tasks.POSTPONED, "RETRY", "SUCCESS", "FAILURE"])
def test_arguments_are_an_object_in_every_state(api, state):
    result = RuntimeError("boom") if state in ("FAILURE", "RETRY") else {"requests": 7}
    stored_by_the_worker(state, result, username="octocat")
    body = api.get("/github/tasks/abc-123/").json()
    assert body["state"] == state
    assert body["arguments"] == {"username": "octocat"}
    assert json.loads(TaskResult.objects.get(task_id="abc-123").task_kwargs) == {"username": "octocat"}


def test_arguments_stored_as_a_repr_before_are_read_as_an_object(api):
    TaskResult.objects.create(task_id="abc-123", task_name="github.tasks.full_profile_sync", status="SUCCESS",
                              result="{}", task_kwargs=json.dumps(repr({"username": "octocat"})))
    assert api.get("/github/tasks/abc-123/").json()["arguments"] == {"username": "octocat"}
