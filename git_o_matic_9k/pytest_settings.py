"""Settings for the test suite: the real settings, with a throwaway SECRET_KEY when none is set."""
import atexit
import os
import secrets
import shutil
import tempfile

from kombu import Queue

os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
os.environ["CELERY_QUEUE"] = f"git-o-matic-9k-tests-{os.getpid()}"
os.environ["CELERY_PERIODIC_QUEUE"] = f"git-o-matic-9k-tests-{os.getpid()}-periodic"

from git_o_matic_9k.settings import *  # noqa: E402,F403  pylint: disable=wildcard-import,unused-wildcard-import,wrong-import-position

# Hashing test users' passwords with the production hasher would dominate the suite's time.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# The client sends a failed GitHub request again after these pauses: no need to wait in tests.
GITHUB_TRANSIENT_RETRY_DELAYS = [0.01, 0.01]
# The suite's tests of the crawl describe REST's requests (their counts are exact); the GraphQL and hybrid
# crawls' tests (github/tests/test_graphql_sync.py) set GITHUB_API_MODE themselves.
GITHUB_API_MODE = os.environ.get("GITHUB_API_MODE", "rest")

# SQLite: a test database file (one per test process) instead of Django's shared-cache in-memory database.
# Threads in transactional tests (the quota ledger's concurrency tests, a Celery worker started in-process)
# then wait on SQLite's busy timeout as in production; in shared-cache memory they fail at once with
# "database table is locked".
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    DATABASES["default"]["TEST"] = {  # noqa: F405
        "NAME": os.path.join(tempfile.gettempdir(), f"git-o-matic-9k-test-{os.getpid()}.sqlite3"),
    }

# Tests never share a queue with a development worker or another test run on the same broker, nor a filesystem
# broker folder. On RabbitMQ the per-run queues expire ten minutes after their last use.
CELERY_TASK_QUEUES = [Queue(queue.name, routing_key=queue.routing_key, queue_arguments={"x-expires": 600_000})
                      for queue in CELERY_TASK_QUEUES]  # noqa: F405
if CELERY_BROKER_URL.startswith("filesystem://"):  # noqa: F405
    _TEST_BROKER = tempfile.mkdtemp(prefix="git-o-matic-9k-test-broker-")
    atexit.register(shutil.rmtree, _TEST_BROKER, True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {  # noqa: F405
        **CELERY_BROKER_TRANSPORT_OPTIONS,  # noqa: F405
        "data_folder_in": _TEST_BROKER,
        "data_folder_out": _TEST_BROKER,
        "processed_folder": _TEST_BROKER,
        "control_folder": _TEST_BROKER,
    }
