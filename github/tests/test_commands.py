"""Foreground commands: sync_user, crawl, ensure_login."""
import json
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from github.models import Developer
from github.tests.support import TINY_WORLD
from github_simulator import World

pytestmark = pytest.mark.django_db


def test_sync_user_prints_the_result(start_simulator):
    start_simulator(World.from_dict(TINY_WORLD))
    out, err = StringIO(), StringIO()
    call_command("sync_user", "alice", stdout=out, stderr=err)
    assert json.loads(out.getvalue())["requests"] == 7
    assert "1/1 developers" in err.getvalue() and "quota left" in err.getvalue()
    assert Developer.objects.get(login="alice").profile_synced_at


def test_sync_user_refuses_a_bad_login():
    with pytest.raises(CommandError, match="not a valid GitHub login"):
        call_command("sync_user", "../etc/passwd")


def test_crawl_syncs_up_to_the_maximum_nearest_first(start_simulator):
    start_simulator(World.from_dict(TINY_WORLD))
    out, err = StringIO(), StringIO()
    call_command("crawl", "--seed", "alice", "--max-developers", "3", stdout=out, stderr=err)
    synced = Developer.objects.filter(profile_synced_at__isnull=False)
    assert synced.count() == 3
    assert set(synced.values_list("seed_distance", flat=True)) == {0, 1}
    assert "Synced 3 developers" in out.getvalue()
    assert "3/3 developers" in err.getvalue() and "ETA" in err.getvalue()


def test_crawl_stops_when_the_graph_is_exhausted(start_simulator):
    start_simulator(World.from_dict(TINY_WORLD))
    out = StringIO()
    call_command("crawl", "--seed", "alice", "--max-developers", "50", stdout=out, stderr=StringIO())
    assert "Synced 5 developers" in out.getvalue()


def test_ensure_login_creates_one_superuser_with_a_generated_password_once():
    out = StringIO()
    call_command("ensure_login", stdout=out)
    password = out.getvalue().split("with password ")[1].split()[0]
    user = get_user_model().objects.get(username="admin")
    assert user.is_superuser and user.check_password(password)
    again = StringIO()
    call_command("ensure_login", stdout=again)
    assert "Log in as 'admin'" in again.getvalue() and password not in again.getvalue()
    assert get_user_model().objects.count() == 1


@pytest.mark.parametrize("command", [["sync_user", "alice"], ["crawl", "--seed", "alice"]])
def test_a_rejected_token_is_one_line_naming_the_variable(start_simulator, settings, command):
    start_simulator(World.from_dict(TINY_WORLD))
    settings.GITHUB_API_KEY = "wrong-token"
    with pytest.raises(CommandError, match=r"rejected the configured token\(s\).*check GITHUB_API_KEY"):
        call_command(*command, stdout=StringIO(), stderr=StringIO())


@pytest.mark.parametrize("command", [["sync_user", "alice"], ["crawl", "--seed", "alice"]])
def test_an_unreachable_github_is_one_line_naming_the_variable(settings, command):
    settings.GITHUB_API_URL = "http://127.0.0.1:9"  # the discard port: nothing listens
    with pytest.raises(CommandError, match=r"GitHub at http://127.0.0.1:9 \(GITHUB_API_URL\) did not answer"):
        call_command(*command, stdout=StringIO(), stderr=StringIO())


@pytest.mark.parametrize("command", [["sync_user", "alcie"], ["crawl", "--seed", "alcie"]])
def test_an_unknown_login_is_one_line(start_simulator, command):
    start_simulator(World.from_dict(TINY_WORLD))
    with pytest.raises(CommandError, match="^GitHub has no user or organisation 'alcie'$"):
        call_command(*command, stdout=StringIO(), stderr=StringIO())
