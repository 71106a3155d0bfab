"""Celery's result backend: django-celery-results' database backend, retried through database restarts, with
the tasks' arguments stored as JSON.

Celery writes a task's state (STARTED, then its result) outside the task's body. When PostgreSQL is restarting
that write fails with OperationalError, which django-celery-results does not count as retryable (only
InterfaceError): Celery then marks the task FAILED although it never ran, acknowledges its message, and the
worker stops with "Unrecoverable error". Seen in the reliability run (RELIABILITY.md); with this backend and
CELERY_RESULT_BACKEND_ALWAYS_RETRY the write waits for the database instead.

Waiting makes writes arrive late: a delivery that met the outage and asked for a retry may write RETRY seconds
after its retry ran elsewhere and wrote SUCCESS (the outage test saw it), so a state that is not final never
replaces a final one.
"""
from celery import states
from django.db import OperationalError, connection, transaction
from django_celery_results.backends.database import DatabaseBackend


class RetryingDatabaseBackend(DatabaseBackend):  # pylint: disable=abstract-method  # as its base
    """The django-db backend, also retrying when the database cannot be reached."""

    def exception_safe_to_retry(self, exc):
        if isinstance(exc, OperationalError):
            connection.close()  # the next attempt opens a fresh connection
            return True
        return super().exception_safe_to_retry(exc)

    def _store_result(self, task_id, result, status, traceback=None, request=None, using=None):
        # pylint: disable=too-many-arguments,too-many-positional-arguments  # Celery's signature
        """As django-celery-results', but STARTED, RETRY or POSTPONED arriving after the task's SUCCESS or
        FAILURE is dropped. The row is locked while deciding, so a final state written meanwhile waits."""
        if status in states.READY_STATES:
            return super()._store_result(task_id, result, status, traceback, request, using)
        with transaction.atomic(using=using):
            stored = self.TaskModel.objects.using(using).select_for_update().filter(task_id=task_id)
            if any(state in states.READY_STATES for state in stored.values_list("status", flat=True)):
                return result
            return super()._store_result(task_id, result, status, traceback, request, using)

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
