"""Celery's result backend: django-celery-results' database backend, retried through database restarts, with
the tasks' arguments stored as JSON.

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

    def _get_extended_properties(self, request, traceback):
        """As django-celery-results', but the task's arguments are stored as JSON (Celery sends them along as a
        Python repr, "{'username': 'x'}", which the stock backend stores as a string), so the tasks endpoint and
        the admin show them as an object in every state."""
        properties = super()._get_extended_properties(request, traceback)
        if properties["task_kwargs"] is not None:
            properties["task_kwargs"] = self.encode_content(getattr(request, "kwargs", None) or {})[2]
        if properties["task_args"] is not None:
            properties["task_args"] = self.encode_content(list(getattr(request, "args", None) or []))[2]
        return properties
