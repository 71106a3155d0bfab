"""Schemathesis against the service's own swagger schema, authenticated, every operation.

Each operation gets a bounded number of generated requests (valid and invalid parameters, bodies, ids), and
every answer must be below 500 and conform to the schema: documented status, content type, headers and body
shape; invalid credentials must be refused; schema-valid filters must be accepted. Not checked: that every
schema-violating request is refused, since the API deliberately tolerates some (a `page_size` it cannot read or
above 100 falls back to the default or the cap, as GitHub's `per_page` does); nor that every schema-valid task
request is accepted, since which parameters an action takes depends on its name, which Swagger 2.0 cannot say,
nor a list request with both `page` and `cursor` (a 400: one or the other).
Generation is derandomized and Hypothesis keeps no example database, so a run is the same every time and
fits CI. More examples: SCHEMA_FUZZ_EXAMPLES=500 .venv/bin/python -m pytest github/tests/test_schema_fuzz.py.

The schema is the one /github/swagger.json serves (drf-yasg's public schema, built here without a request,
so that pytest can collect one test per operation before any database exists).
"""
import json
import os

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_yasg.codecs import OpenAPICodecJson
from drf_yasg.generators import OpenAPISchemaGenerator
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis import checks

from github.api.schema import API_INFO
from github.tests.factories import DeveloperFactory, FollowFactory, RepositoryFactory, StarFactory

EXAMPLES = int(os.environ.get("SCHEMA_FUZZ_EXAMPLES", "20"))


def _served_schema():
    generated = OpenAPISchemaGenerator(API_INFO).get_schema(request=None, public=True)
    return json.loads(OpenAPICodecJson(validators=[]).encode(generated))


schema = schemathesis.openapi.from_dict(_served_schema())
schema.app = get_wsgi_application()


@pytest.fixture
def token(user):
    """A staff user's token, so the tasks endpoint's POST is reachable too; a small graph to read."""
    user.is_staff = True
    user.save()
    alice = DeveloperFactory(login="alice", github_id=1)
    bob = DeveloperFactory(login="bob", github_id=2)
    FollowFactory(follower=alice, followee=bob)
    StarFactory(developer=alice, repository=RepositoryFactory(owner=bob, github_id=10))
    return Token.objects.create(user=user).key


@pytest.fixture
def in_process(monkeypatch, settings):
    """Requests reach the WSGI application inside the test's transaction; queued tasks go nowhere; the fuzzer's
    stream of bad credentials is not locked out (test_security checks the lockout)."""
    settings.LOGIN_FAILURE_LIMIT = settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS = 1_000_000
    monkeypatch.setattr("celery.app.task.Task.apply_async", lambda *args, **kwargs: None)
    monkeypatch.setattr("github.api.task_views.TaskTriggerThrottle.THROTTLE_RATES", {"tasks": "100000/minute"})
    # As Django's test client does: a request must not close the connection holding the test's transaction.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
          suppress_health_check=list(HealthCheck))
def test_every_operation_answers_below_500_and_as_documented(case, token, in_process):
    excluded = [checks.negative_data_rejection]
    # `page` and `cursor` together are a 400 (one or the other), which Swagger 2.0 cannot say.
    if case.operation.method.upper() == "POST" or {"page", "cursor"} <= set(case.query or {}):
        excluded.append(checks.positive_data_acceptance)
    case.call_and_validate(headers={"Authorization": f"Token {token}"}, excluded_checks=excluded)
