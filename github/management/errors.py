"""One line, not a traceback, for the mistakes a user of the foreground commands makes: a rejected token, an
unreachable GitHub, a database or broker that is missing or not migrated. Each line names the setting to fix."""
from contextlib import contextmanager
from urllib.parse import urlsplit

import kombu.exceptions
from django.conf import settings
from django.core.management.base import CommandError
from django.db import DatabaseError, connection

from github.client import BadCredentials, GitHubError, TransientError


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def _database() -> str:
    """Where the database is, without its password."""
    name = connection.settings_dict["NAME"]
    if connection.vendor == "sqlite":
        return f"SQLite {name}"
    host = connection.settings_dict.get("HOST") or "localhost"
    return f"{connection.vendor} {name} on {host}:{connection.settings_dict.get('PORT') or 'default port'}"


def _broker() -> str:
    """The broker's scheme, host and port, without credentials."""
    url = urlsplit(settings.CELERY_BROKER_URL)
    return f"{url.scheme}://{url.hostname or ''}{f':{url.port}' if url.port else ''}"


@contextmanager
def one_line_errors():
    """Turn the errors a user can fix into a CommandError (one line on stderr, exit status 1)."""
    try:
        yield
    except BadCredentials as error:
        raise CommandError(
            f"GitHub at {settings.GITHUB_API_URL} rejected the configured token(s) (401 Bad credentials): "
            "check GITHUB_API_KEY (one token, or several separated by commas), or unset it to crawl "
            "unauthenticated") from error
    except TransientError as error:
        raise CommandError(f"GitHub at {settings.GITHUB_API_URL} (GITHUB_API_URL) did not answer: {error}") from error
    except GitHubError as error:
        raise CommandError(str(error)) from error
    except DatabaseError as error:
        text = _first_line(error)
        if "no such table" in text or ("relation" in text and "does not exist" in text):
            raise CommandError(f"The database ({_database()}) is not set up: {text}. Run "
                               "`.venv/bin/python manage.py migrate` (`make run` does) first") from error
        raise CommandError(f"The database ({_database()}, DATABASE_URL) is not usable: {text}") from error
    except kombu.exceptions.OperationalError as error:
        raise CommandError(f"The broker ({_broker()}, CELERY_BROKER_URL) is not reachable: "
                           f"{_first_line(error)}") from error
