"""Guards every web request gets, the admin's included, before and around its view.

- RefuseNulParametersMiddleware: a NUL character in a query parameter is a 400.
- StatementTimeoutMiddleware: on PostgreSQL every statement of a web request is cancelled after
  WEB_STATEMENT_TIMEOUT seconds, and the cancellation is a 503 naming it; web statements plan no parallel workers.
"""
from django.conf import settings
from django.db import OperationalError, connection
from django.db.backends.signals import connection_created
from django.http import HttpResponse, JsonResponse

from git_o_matic_9k.views import is_api

NUL_MESSAGE = "NUL characters are not allowed."
# PostgreSQL's SQLSTATE for a statement cancelled by statement_timeout (or by a cancel request).
QUERY_CANCELED = "57014"


def _error(request, status: int, body: dict, text: str):
    """JSON under /github/ (what API clients parse), plain text elsewhere."""
    if is_api(request):
        return JsonResponse(body, status=status)
    return HttpResponse(text, status=status, content_type="text/plain; charset=utf-8")


class RefuseNulParametersMiddleware:
    """400 naming the query parameters that hold a NUL character, before any view reads them.

    PostgreSQL's text cannot hold NUL: psycopg refuses such a value with ValueError, a 500, wherever a view puts
    an unvalidated parameter in a query, as the admin's list filters and search do. The API's FilterSets refuse it
    on their own (Django's form fields do); here every view is covered at once.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        names = sorted(name for name, values in request.GET.lists()
                       if "\x00" in name or any("\x00" in value for value in values))
        if names:
            return _error(request, 400, {name: [NUL_MESSAGE] for name in names},
                          f"{NUL_MESSAGE} Parameters: {', '.join(map(repr, names))}.")
        return self.get_response(request)


def _forget_timeout(sender, connection, **kwargs):  # pylint: disable=unused-argument,redefined-outer-name
    connection.web_statement_timeout = None  # a new connection starts without the web's statement_timeout


connection_created.connect(_forget_timeout)


class StatementTimeoutMiddleware:
    """PostgreSQL's statement_timeout on the connections of web requests; a cancelled statement is a 503. And no
    parallel query for them.

    A search or filter the planner or executor finds hard could otherwise run for minutes: gunicorn kills its
    worker at 30 s while PostgreSQL goes on with the orphaned query. The limit is set on the connection when a
    request first uses it, not in DATABASES' options, so that the Celery workers, beat and migrations, whose
    statements may legitimately run long, never get it. SQLite has no statement timeout: there a slow statement
    runs to its end.

    Parallel workers: an API statement reads a page, so the planner's parallel plans for it (a Gather Merge over a
    million-row index for `ordering=-followers_count`) spend more on starting workers than the workers save, 35 ms
    of a 45 ms statement on 2 busy cores at 1,000,000 developers, and take cores from the other requests.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if connection.vendor == "postgresql":
            self._apply(round(settings.WEB_STATEMENT_TIMEOUT * 1000))
        return self.get_response(request)

    @staticmethod
    def _apply(milliseconds: int):
        connection.close_if_health_check_failed()
        connection.ensure_connection()
        if getattr(connection, "web_statement_timeout", None) == milliseconds:
            return
        # psycopg's own cursor: one statement per connection, not one SQL statement more in every request's
        # count (the tests count them). 0 is no timeout.
        with connection.connection.cursor() as cursor:
            cursor.execute("SELECT set_config('statement_timeout', %s, false), "
                           "set_config('max_parallel_workers_per_gather', '0', false)", [f"{milliseconds}ms"])
        # Inside a transaction (a test's) the setting lasts only until its rollback: set it again next time.
        if not connection.in_atomic_block:
            connection.web_statement_timeout = milliseconds

    def process_exception(self, request, exception):
        """503 for a statement PostgreSQL cancelled; anything else goes on to Django's handling."""
        if isinstance(exception, OperationalError) and getattr(exception.__cause__, "pgcode", None) == QUERY_CANCELED:
            seconds = settings.WEB_STATEMENT_TIMEOUT
            detail = (f"The database query took longer than {seconds:g} s (WEB_STATEMENT_TIMEOUT) and was "
                      "cancelled. Narrow the filters or the search and try again.")
            return _error(request, 503, {"detail": detail}, detail)
        return None
