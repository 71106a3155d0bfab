"""Celery's result backend: django-celery-results' database backend, retried through database restarts.

Celery writes a task's state (STARTED, then its result) outside the task's body. When PostgreSQL is restarting
that write fails with OperationalError, which django-celery-results does not count as retryable (only
InterfaceError): Celery then marks the task FAILED although it never ran, acknowledges its message, and the
worker stops with "Unrecoverable error". Seen in the reliability run (RELIABILITY.md); with this backend and
CELERY_RESULT_BACKEND_ALWAYS_RETRY the write waits for the database instead.
"""
from django.db import OperationalError, connection
from django_celery_results.backends.database import DatabaseBackend


class RetryingDatabaseBackend(DatabaseBackend):  # pylint: disable=abstract-method  # as its base
    """The django-db backend, also retrying when the database cannot be reached."""

    def exception_safe_to_retry(self, exc):
        if isinstance(exc, OperationalError):
            connection.close()  # the next attempt opens a fresh connection
            return True
        return super().exception_safe_to_retry(exc)
