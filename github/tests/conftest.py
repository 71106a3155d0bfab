"""Fixtures shared by the app's tests."""
import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient


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
