"""Fixtures shared by the app's tests."""
import pytest
from celery.contrib.testing.worker import start_worker
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.cache import caches
from rest_framework.test import APIClient

from git_o_matic_9k.celery import app

# Helpers' asserts explain their failures as a test module's do.
pytest.register_assert_rewrite("github.tests.support")


@pytest.fixture(autouse=True)
def fresh_throttle():
    """The per-user request counts live in process memory, beyond the database's rollback: each test starts at
    zero (users of different tests may share a primary key)."""
    caches["throttle"].clear()


@pytest.fixture
def user(db):  # pylint: disable=unused-argument
    """An ordinary logged-in-able user (no special permission)."""
    return get_user_model().objects.create_user(username="reader", password="reader-password-123")


@pytest.fixture
def api(user):  # pylint: disable=redefined-outer-name
    """A DRF test client authenticated as `user`."""
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def trigger(user):  # pylint: disable=redefined-outer-name
    """A DRF test client authenticated as `user`, who holds the trigger_tasks permission."""
    user.user_permissions.add(Permission.objects.get(codename="trigger_tasks"))
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def anonymous():
    """A DRF test client with no credentials."""
    return APIClient()


@pytest.fixture
def start_simulator(settings):
    """A factory: start a GitHub simulator on a world, point the service at it (one token), stop it after."""
    from github_simulator import Simulator  # pylint: disable=import-outside-toplevel

    started = []

    def start(world, *, token="test-token", **options):
        simulator = Simulator(world, tokens=[token] if token else None, **options)
        settings.GITHUB_API_URL = simulator.start()
        settings.GITHUB_API_KEY = token or ""
        settings.GITHUB_API_USER = ""
        started.append(simulator)
        return simulator

    yield start
    for simulator in started:
        simulator.stop()


@pytest.fixture
def worker():
    """A Celery worker in this process (threads), consuming the test queue, with a clean slate."""
    app.control.purge()
    with start_worker(app, pool="threads", concurrency=2, perform_ping_check=False, shutdown_timeout=30) as running:
        yield running


@pytest.fixture
def broker_down(monkeypatch):
    """The Celery app pointed at a broker nobody listens on (port 9), its connection pools emptied."""
    unreachable = "amqp://guest:guest@127.0.0.1:9//"
    monkeypatch.setattr(app.conf, "broker_url", unreachable)
    monkeypatch.setenv("CELERY_BROKER_URL", unreachable)  # Celery reads the variable before its setting (after
    # the line above, which saves the setting to restore)
    monkeypatch.setattr(app, "_pool", None)
    monkeypatch.setattr(app.amqp, "_producer_pool", None)
    yield
    if app._pool is not None:  # the pool of the unreachable broker
        app._pool.force_close_all()
