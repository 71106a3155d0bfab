"""Settings, all read from the environment (the README's configuration table lists every variable).

With no variables at all the service runs embedded: SQLite and Celery's filesystem broker under ./var.
Production sets DATABASE_URL, CELERY_BROKER_URL (or CLOUDAMQP_URL), SECRET_KEY and ALLOWED_HOSTS.
"""
import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from kombu import Queue

BASE_DIR = Path(__file__).resolve().parent.parent
# Everything the service writes locally (SQLite database, filesystem broker, beat schedule, collected static).
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name, default=False):
    """A boolean variable: 1/true/yes/on (any case) is true."""
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_number(name, default, parse=int):
    """A numeric variable (`parse` is int or float), with a message naming it when it is not one."""
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return parse(value)
    except ValueError as error:
        kind = "an integer" if parse is int else "a number"
        raise ImproperlyConfigured(f"{name} must be {kind}, got {value!r}") from error


def env_list(name, default=""):
    """A comma-separated variable as a list, blanks dropped."""
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG")
# A local run keeps its key in VAR_DIR/secret_key (`make run` and `make demo` generate it, readable by the owner
# only), so every manage.py command finds it without SECRET_KEY set; production sets SECRET_KEY.
SECRET_KEY_FILE = VAR_DIR / "secret_key"
SECRET_KEY = os.environ.get("SECRET_KEY", "")
SECRET_KEY_FROM_FILE = not SECRET_KEY and SECRET_KEY_FILE.is_file()
if SECRET_KEY_FROM_FILE:
    if SECRET_KEY_FILE.stat().st_mode & 0o077:
        raise ImproperlyConfigured(f"{SECRET_KEY_FILE} is readable by others: chmod 600 {SECRET_KEY_FILE}")
    SECRET_KEY = SECRET_KEY_FILE.read_text(encoding="utf-8").strip()
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            f"SECRET_KEY is not set and {SECRET_KEY_FILE} does not exist. Run `make run` once (it generates the "
            "file), set SECRET_KEY (any long random string), or set DEBUG=1 for local development."
        )
    # Local development only: a per-process random key, so nothing secret is ever written in the repository.
    SECRET_KEY = os.urandom(32).hex()

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_yasg",
    "django_celery_results",
    "git_o_matic_9k.apps.ProjectConfig",
    "github",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "git_o_matic_9k.login_throttle.LoginThrottleMiddleware",
    "git_o_matic_9k.middleware.RefuseNulParametersMiddleware",
    "git_o_matic_9k.middleware.StatementTimeoutMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "git_o_matic_9k.urls"
WSGI_APPLICATION = "git_o_matic_9k.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Database: SQLite in WAL mode with a busy timeout by default (web, worker and beat write at once);
# DATABASE_URL (postgres://...) for PostgreSQL.
if os.environ.get("DATABASE_URL"):
    DATABASES = {
        "default": dj_database_url.parse(
            os.environ["DATABASE_URL"],
            conn_max_age=env_number("DATABASE_CONN_MAX_AGE", 60),
            conn_health_checks=True,
        )
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "db.sqlite3",
            "OPTIONS": {
                "timeout": 30,
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Seconds any one SQL statement of a web request may run on PostgreSQL before it is cancelled
# (git_o_matic_9k/middleware.py; 0: no limit). Below gunicorn's 30 s worker timeout, so a hostile query is
# answered 503 instead of killing the worker while PostgreSQL runs on. Workers, beat and migrations never get it.
# SQLite has no such limit.
WEB_STATEMENT_TIMEOUT = env_number("WEB_STATEMENT_TIMEOUT", 10.0, float)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# The database is the one store every web process shares: the per-user throttle of POST /github/tasks/ counts
# there (its table is created by a migration of the github app, so `migrate` alone sets it up).
# The per-user throttle of every API request counts in each web process's memory instead (github/api/throttling.py).
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "django_cache"},
    "throttle": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "api-throttle"},
}

# Password guessing (git_o_matic_9k/login_throttle.py): after this many failed logins of one username (or from one
# address) within the lockout window, every login attempt for it answers 429 until the window ends.
LOGIN_FAILURE_LIMIT = env_number("LOGIN_FAILURE_LIMIT", 5)
LOGIN_FAILURE_LIMIT_PER_ADDRESS = env_number("LOGIN_FAILURE_LIMIT_PER_ADDRESS", 20)
LOGIN_LOCKOUT_SECONDS = env_number("LOGIN_LOCKOUT_SECONDS", 15 * 60)
# Proxies in front of the web processes that append the client's address to X-Forwarded-For (Heroku: 1).
LOGIN_THROTTLE_PROXIES = env_number("LOGIN_THROTTLE_PROXIES", 0)

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# Static files: whitenoise serves them (drf-yasg's swagger and redoc assets included), so the docs work offline.
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
WHITENOISE_USE_FINDERS = True
LOGIN_URL = "rest_framework:login"
LOGIN_REDIRECT_URL = "/github/"

# Security: secure cookies and HSTS whenever DEBUG is off (production runs behind Heroku's HTTPS router); a local
# run (its key from VAR_DIR/secret_key) is served over plain http on 127.0.0.1, so its cookies must be allowed there.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not (DEBUG or SECRET_KEY_FROM_FILE))
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = env_number("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = SECURE_HSTS_SECONDS > 0
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# Hyperlinks per relation embedded in a developer or repository; the whole list is the paged nested endpoint.
API_RELATION_PREVIEW = env_number("API_RELATION_PREVIEW", 100)
# Page numbers reach the first API_PAGE_DEPTH rows of a list, and its `count` is exact up to it (an estimate
# above): an OFFSET and a COUNT(*) grow with the table, `cursor` pages at any depth (github/api/pagination.py).
API_PAGE_DEPTH = env_number("API_PAGE_DEPTH", 10_000)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.BasicAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "github.api.pagination.StablePageNumberPagination",
    "PAGE_SIZE": env_number("API_PAGE_SIZE", 50),
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "github.api.filters.StrictOrderingFilter",
        "github.api.filters.SafeSearchFilter",
    ],
    "DEFAULT_PARSER_CLASSES": [
        "github.api.parsers.BoundedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["github.api.throttling.UserThrottle"],
    # An empty API_THROTTLE_RATE turns the per-user throttle of every request off (the benchmarks' load runs).
    "DEFAULT_THROTTLE_RATES": {"tasks": os.environ.get("TASKS_THROTTLE_RATE", "30/minute"),
                               "user": os.environ.get("API_THROTTLE_RATE", "600/minute") or None},
}

SWAGGER_USE_COMPAT_RENDERERS = False
SWAGGER_SETTINGS = {
    "SECURITY_DEFINITIONS": {
        "basic": {"type": "basic"},
        "token": {"type": "apiKey", "name": "Authorization", "in": "header"},
    },
    "DEFAULT_AUTO_SCHEMA_CLASS": "github.api.schema.DocumentedErrorsAutoSchema",
    "DEFAULT_FILTER_INSPECTORS": [
        "github.api.inspectors.TypedFilterInspector",
        "drf_yasg.inspectors.CoreAPICompatInspector",
    ],
    "LOGIN_URL": "rest_framework:login",
    "LOGOUT_URL": "rest_framework:logout",
}

# Celery: the embedded default is the filesystem broker (one machine); production uses RabbitMQ or Redis.
# (The filesystem broker ignores the host, but without one kombu warns "No hostname was supplied" per connection.)
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or os.environ.get("CLOUDAMQP_URL") or "filesystem://localhost/"
if CELERY_BROKER_URL.startswith("filesystem://"):
    BROKER_DIR = VAR_DIR / "broker"
    for folder in ("queue", "processed", "control"):
        (BROKER_DIR / folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),  # kombu's default is ./control in the working directory
        "store_processed": False,
    }
# django-celery-results' database backend, retrying its writes while the database restarts (github/results.py):
# at most 10 s apart, for as long as the database is unreachable (Celery's default: no limit). A bound would
# end in "Unrecoverable error": the worker process exits and no worker is left to take the redelivered tasks.
CELERY_RESULT_BACKEND = "github.results:RetryingDatabaseBackend"
CELERY_RESULT_BACKEND_ALWAYS_RETRY = True
CELERY_RESULT_EXTENDED = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TIMEZONE = "UTC"
CELERY_TASK_TRACK_STARTED = True
# A killed worker's task goes back to the queue instead of being lost; prefetch 1 so none wait behind a long sync.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Celery's Django fixup closes every database connection before and after each task unless this is set (it reads
# no CONN_MAX_AGE): a new PostgreSQL backend a task, with its cold caches, and at GraphQL's pace a task is a few
# seconds. Set beyond reach, the fixup leaves connections to git_o_matic_9k/celery.py's handlers, which give tasks
# Django's request lifecycle instead (CONN_MAX_AGE, and a health check before a reused connection's first query).
CELERY_DB_REUSE_MAX = 2**62
CELERY_TASK_SOFT_TIME_LIMIT = env_number("CELERY_TASK_SOFT_TIME_LIMIT", 30 * 60)
CELERY_TASK_TIME_LIMIT = CELERY_TASK_SOFT_TIME_LIMIT + 60
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Two queues named after this service (not Celery's `celery`: deployments sharing a broker set names of their own):
# the syncs, and every task beat schedules on one of its own (CELERY_TASK_ROUTES below), so that none waits
# behind a backlog of queued syncs. A worker consumes every queue listed here (no -Q needed).
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_QUEUE", "git-o-matic-9k")
PERIODIC_QUEUE = os.environ.get("CELERY_PERIODIC_QUEUE", "git-o-matic-9k-periodic")
# Each bound by its own name: one routing key for both would deliver every message to both queues.
CELERY_TASK_QUEUES = [Queue(name, routing_key=name) for name in (CELERY_TASK_DEFAULT_QUEUE, PERIODIC_QUEUE)]
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Beat writes down each entry's last run after every task it sends, not every 3 minutes: a beat killed and
# started again would otherwise send the hour's discovery a second time.
CELERY_BEAT_SYNC_EVERY = 1
CELERY_BEAT_SCHEDULE = {
    "discovery-scraper": {
        "task": "github.tasks.discovery_scraper",
        # minute=0 matters: crontab(hour="*") alone would fire every minute of every hour.
        "schedule": crontab(minute=os.environ.get("DISCOVERY_SCHEDULE_MINUTE", "0")),
    },
    "heart-beat": {"task": "github.tasks.heart_beat_task", "schedule": crontab()},
    "crawl-snapshot": {"task": "github.tasks.crawl_snapshot",
                       "schedule": timedelta(minutes=env_number("SNAPSHOT_INTERVAL_MINUTES", 5.0, float))},
    "rank": {
        "task": "github.tasks.rank_graph",
        "schedule": crontab(minute=os.environ.get("RANK_SCHEDULE_MINUTE", "30"),
                            hour=os.environ.get("RANK_SCHEDULE_HOUR", "3")),
    },
}
CELERY_TASK_ROUTES = {entry["task"]: {"queue": PERIODIC_QUEUE} for entry in CELERY_BEAT_SCHEDULE.values()}
# The dashboard's history (github/status.py): snapshots older than this are deleted by the snapshot task.
SNAPSHOT_KEEP_DAYS = env_number("SNAPSHOT_KEEP_DAYS", 30.0, float)
# /metrics answers without a login when on (a Prometheus on a private network); otherwise it is protected like
# the API (session, basic or token authentication).
METRICS_PUBLIC = env_bool("METRICS_PUBLIC")

# GitHub access (see github/client.py and github/throttle.py).
GITHUB_API_URL = os.environ.get("GITHUB_API_URL", "https://api.github.com").rstrip("/")
GITHUB_API_KEY = os.environ.get("GITHUB_API_KEY", "")
GITHUB_API_USER = os.environ.get("GITHUB_API_USER", "")
# rest, graphql or hybrid; unset: hybrid with a token, rest without (github/graphql_client.py's api_mode).
GITHUB_API_MODE = os.environ.get("GITHUB_API_MODE", "").strip().lower()
if GITHUB_API_MODE not in {"", "rest", "graphql", "hybrid"}:
    raise ImproperlyConfigured(f"GITHUB_API_MODE must be rest, graphql or hybrid, got {GITHUB_API_MODE!r}")
# Unset: the GraphQL endpoint next to GITHUB_API_URL, read when a client is made (graphql_client.graphql_url).
GITHUB_GRAPHQL_URL = os.environ.get("GITHUB_GRAPHQL_URL", "").strip().rstrip("/")
GITHUB_QUOTA_FRACTION = env_number("GITHUB_QUOTA_FRACTION", 1.0, float)
if not 0 < GITHUB_QUOTA_FRACTION <= 1:
    raise ImproperlyConfigured(f"GITHUB_QUOTA_FRACTION must be in (0, 1], got {GITHUB_QUOTA_FRACTION}")
GITHUB_TIMEOUT = (env_number("GITHUB_CONNECT_TIMEOUT", 5.0, float), env_number("GITHUB_READ_TIMEOUT", 30.0, float))
# A 5xx or a failed connection is sent again after each of these pauses (seconds) before the task gives up
# and Celery retries it.
GITHUB_TRANSIENT_RETRY_DELAYS = [float(delay) for delay in env_list("GITHUB_TRANSIENT_RETRY_DELAYS", "0.5,2")]
# A removal deep in a list leaves page 1 unchanged, so every list is still read whole this often.
GITHUB_FULL_READ_DAYS = env_number("GITHUB_FULL_READ_DAYS", 3.0, float)

# Discovery (github/discovery.py, run by github/tasks.py).
DISCOVERY_BATCH_SIZE = env_number("DISCOVERY_BATCH_SIZE", 5)
# Synced developers are synced again by discovery once their last sync is at least this old.
DISCOVERY_RESYNC_HOURS = env_number("DISCOVERY_RESYNC_HOURS", 24.0, float)
# A developer discovery queued is not queued again for this long, unless its sync ends first.
DISCOVERY_CLAIM_SECONDS = env_number("DISCOVERY_CLAIM_SECONDS", 3 * 3600)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
