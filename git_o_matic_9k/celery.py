"""The Celery application: configured from Django settings (the CELERY_ namespace).

A worker process's database connections live across tasks as across web requests: closed before and after a
task only when past CONN_MAX_AGE or left unusable by an error (`close_old_connections`, as Django does around a
request), and health-checked before a reused one's first query (conn_health_checks). Celery's own fixup, which
would close them all around every task, is told to reuse them (CELERY_DB_REUSE_MAX in settings).

Workers and beat log through Django's LOGGING, as the web processes do: LOG_LEVEL governs them all, and the
command line's --loglevel is not used.
"""
import logging.config
import os
import threading

from celery import Celery, signals
from django.conf import settings
from django.db import close_old_connections, connections

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "git_o_matic_9k.settings")

app = Celery("git_o_matic_9k")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.setup_logging.connect
def use_django_logging(**_signal):
    """Configure logging from settings.LOGGING instead of Celery's own set-up (which a receiver of this signal
    replaces): one format and one level, LOG_LEVEL, for every process of the service."""
    logging.config.dictConfig(settings.LOGGING)


@signals.task_prerun.connect
@signals.task_postrun.connect
def close_obsolete_connections(task=None, **_signal):
    """Around every task a worker runs: close the connections past CONN_MAX_AGE or broken (a database restart),
    keep the rest. A thread pool's tasks (tests) close theirs, as the fixup did: nothing else can close a
    connection of the thread once the pool stops. Not around a task run in the caller's process (eager), whose
    transaction it would end."""
    if getattr(task.request, "is_eager", False):
        return
    if threading.current_thread() is threading.main_thread():
        close_old_connections()
    else:
        connections.close_all()
