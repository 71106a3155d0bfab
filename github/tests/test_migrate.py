"""`migrate` alone on a fresh database gives a working service; a database of the service this one replaces is
refused before anything is changed.

Both run `manage.py` in a subprocess, as a deploy does, on a database of their own: a SQLite file, or a new
PostgreSQL database on the suite's server when the suite runs on PostgreSQL.
"""
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import psycopg2
import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]

# A hand-written schema of the old service's models (developers, repositories, the two many-to-many edge
# tables, the rate limit), with its migration history under the same app label. Integer primary keys where
# this project has uuids; types both SQLite and PostgreSQL accept.
OLD_SCHEMA = [
    "CREATE TABLE django_migrations (id integer PRIMARY KEY, app varchar(255) NOT NULL, "
    "name varchar(255) NOT NULL, applied timestamp with time zone NOT NULL)",
    "CREATE TABLE github_developer (id integer PRIMARY KEY, login varchar(64) NOT NULL, github_id integer NOT NULL, "
    "name varchar(128), company varchar(128), blog varchar(256), location varchar(128), email varchar(256), "
    "bio text, public_repos integer, public_gists integer, followers integer, following integer, "
    "created_at timestamp with time zone, updated_at timestamp with time zone, "
    "last_sync timestamp with time zone)",
    "CREATE TABLE github_repository (id integer PRIMARY KEY, github_id integer NOT NULL, name varchar(256), "
    "full_name varchar(256), owner_id integer REFERENCES github_developer (id), description text, "
    "homepage varchar(256), language varchar(64), fork boolean, stargazers_count integer, "
    "watchers_count integer, subscribers_count integer, open_issues_count integer, "
    "created_at timestamp with time zone, updated_at timestamp with time zone, "
    "pushed_at timestamp with time zone)",
    "CREATE TABLE github_developer_followers (id integer PRIMARY KEY, "
    "from_developer_id integer REFERENCES github_developer (id), "
    "to_developer_id integer REFERENCES github_developer (id))",
    "CREATE TABLE github_developer_starred_repositories (id integer PRIMARY KEY, "
    "developer_id integer REFERENCES github_developer (id), "
    "repository_id integer REFERENCES github_repository (id))",
    "CREATE TABLE github_ratelimit (id integer PRIMARY KEY, rate_limit integer, rate_remaining integer, "
    "rate_reset_raw integer, rate_reset timestamp with time zone)",
    "CREATE INDEX github_developer_login_idx ON github_developer (login)",
    *[f"INSERT INTO django_migrations (id, app, name, applied) VALUES ({number}, 'github', '{name}', "  # noqa: S608
      "'2020-10-04 12:00:00+00')"
      for number, name in enumerate(["0001_initial", "0002_auto_20201002_2344", "0003_ratelimit",
                                     "0004_auto_20201004_1609"], start=1)],
    "INSERT INTO github_developer (id, login, github_id, name, followers, following) "
    "VALUES (1, 'h3nnn4n', 3914206, 'Renan', 10, 3)",
    "INSERT INTO github_repository (id, github_id, name, full_name, owner_id, language, stargazers_count) "
    "VALUES (1, 42, 'garapa', 'h3nnn4n/garapa', 1, 'Python', 5)",
    "INSERT INTO github_ratelimit (id, rate_limit, rate_remaining, rate_reset_raw, rate_reset) "
    "VALUES (1, 5000, 1749, 1601853380, '2020-10-04 23:16:20+00')",
]


@pytest.fixture
def database(tmp_path):
    """(DATABASE_URL, DB-API connect()) of a new, empty database of the suite's kind, dropped afterwards."""
    if connection.vendor != "postgresql":
        path = tmp_path / "fresh.sqlite3"
        yield f"sqlite:///{path}", lambda: sqlite3.connect(path)
        return
    server = {key: value for key, value in {
        "host": connection.settings_dict["HOST"], "port": connection.settings_dict["PORT"],
        "user": connection.settings_dict["USER"], "password": connection.settings_dict["PASSWORD"],
    }.items() if value}
    name = f"{connection.settings_dict['NAME']}_fresh"[:63]

    def admin(statement):
        admin_connection = psycopg2.connect(dbname="postgres", **server)
        admin_connection.autocommit = True
        with admin_connection.cursor() as cursor:
            cursor.execute(statement)
        admin_connection.close()

    admin(f'DROP DATABASE IF EXISTS "{name}"')
    admin(f'CREATE DATABASE "{name}"')
    url = (f"postgres://{server.get('user', '')}:{server.get('password', '')}@{server.get('host', '')}:"
           f"{server.get('port', 5432)}/{name}")
    yield url, lambda: psycopg2.connect(dbname=name, **server)
    admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def manage(database_url, tmp_path, *args, **env):
    """Run manage.py with the service's own settings (not the suite's) on `database_url`."""
    return subprocess.run(  # noqa: S603  (our own interpreter and manage.py)
        [sys.executable, "manage.py", *args], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "git_o_matic_9k.settings", "DATABASE_URL": database_url,
             "VAR_DIR": str(tmp_path / "var"), "SECRET_KEY": "test-secret-key-" + "x" * 40,
             "ALLOWED_HOSTS": "testserver", "CELERY_BROKER_URL": "filesystem://", **env},
    )


# Run in the migrated database's service: a user, an authenticated request, a failed login that counts (with a
# limit of one failure the right password then answers 429).
SERVICE_CHECK = """
import base64
from django.contrib.auth import get_user_model
from django.test import Client
get_user_model().objects.create_user(username="reader", password="reader-password-123")
def basic(password):
    token = base64.b64encode(f"reader:{password}".encode()).decode()
    return Client(HTTP_AUTHORIZATION=f"Basic {token}").get("/github/developers/").status_code
print(basic("reader-password-123"), basic("wrong"), basic("reader-password-123"))
"""


def test_migrate_alone_gives_a_working_service(database, tmp_path):
    url, _connect = database
    migrated = manage(url, tmp_path, "migrate", "--no-input")
    assert migrated.returncode == 0, migrated.stderr
    checked = manage(url, tmp_path, "shell", "--verbosity", "0", "-c", SERVICE_CHECK, LOGIN_FAILURE_LIMIT="1")
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.split() == ["200", "403", "429"]  # refused, then counted


def snapshot(connect):
    """Every table and every row of the database, to compare before and after."""
    db = connect()
    cursor = db.cursor()
    if isinstance(db, sqlite3.Connection):
        cursor.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'index') ORDER BY name")
    else:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' UNION ALL "
                       "SELECT indexname FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1")
    names = [row[0] for row in cursor.fetchall()]
    rows = {}
    for table in ("django_migrations", "github_developer", "github_repository", "github_ratelimit"):
        cursor.execute(f"SELECT * FROM {table} ORDER BY id")  # noqa: S608  (the fixture's own table names)
        rows[table] = cursor.fetchall()
    db.close()
    return names, rows


def test_a_database_of_the_old_service_is_refused_and_left_unchanged(database, tmp_path):
    url, connect = database
    db = connect()
    cursor = db.cursor()
    for statement in OLD_SCHEMA:
        cursor.execute(statement)
    db.commit()
    db.close()
    before = snapshot(connect)

    migrated = manage(url, tmp_path, "migrate", "--no-input")
    assert migrated.returncode == 1
    message = migrated.stderr.strip().splitlines()[-1]
    assert message.startswith("CommandError: ")
    assert "github_developer" in message and "0002_auto_20201002_2344" in message
    assert "service git-o-matic-9k replaces" in message and "Nothing was changed" in message
    assert "new, empty database" in message
    assert "Traceback" not in migrated.stderr
    assert snapshot(connect) == before
