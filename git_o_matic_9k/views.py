"""Plain Django views outside the REST API."""
import logging

from celery import current_app
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.db import connection
from django.http import JsonResponse
from django.views import defaults
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)


def _database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _cache():
    cache.get("health")  # the cache table: missing until `migrate` has run (github/migrations/0012_cache_table.py)


def _broker():
    # A connection of its own, not one from the producer pool: a pooled one may have been open since before
    # the broker went down. No retries: a check answers now.
    with current_app.connection_for_write() as broker:
        broker.ensure_connection(max_retries=0)


HEALTH_CHECKS = {"database": _database, "cache": _cache, "broker": _broker}


@never_cache
@require_GET
def health(request):  # pylint: disable=unused-argument
    """For deploy checks and load balancers: 200 when the database, the cache table and the broker answer, 503
    naming the ones that do not. No login."""
    report = {}
    for name, check in HEALTH_CHECKS.items():
        try:
            check()
            report[name] = "ok"
        except Exception as error:  # pylint: disable=broad-exception-caught  # any failure means unhealthy
            logger.warning("health: %s unavailable: %s", name, type(error).__name__)
            report[name] = "unavailable"
    healthy = all(state == "ok" for state in report.values())
    return JsonResponse({"status": "ok" if healthy else "error", **report}, status=200 if healthy else 503)


def is_api(request):
    """Whether `request` is one of the API's, under /github/, whose errors are JSON."""
    return request.path.startswith("/github/")


def bad_request(request, exception):
    """400 (413 for a body over DATA_UPLOAD_MAX_MEMORY_SIZE): JSON under /github/ naming the limit a request
    broke, like every other API error; Django's page elsewhere."""
    if not is_api(request):
        return defaults.bad_request(request, exception)
    if isinstance(exception, RequestDataTooBig):
        return JsonResponse({"detail": f"Request body larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes."},
                            status=413)
    if isinstance(exception, TooManyFieldsSent):
        detail = f"More than {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS} parameters or form fields."
    elif isinstance(exception, TooManyFilesSent):
        detail = f"More than {settings.DATA_UPLOAD_MAX_NUMBER_FILES} files."
    else:
        detail = "Bad request."
    return JsonResponse({"detail": detail}, status=400)


def not_found(request, exception):
    """404: JSON under /github/ (an id the routes cannot even match, e.g. /github/developers/0.5/, is still an
    API answer a client parses), Django's page elsewhere."""
    if is_api(request):
        return JsonResponse({"detail": "Not found."}, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request):
    """500: JSON under /github/, Django's page elsewhere. Neither says anything about the failure."""
    if is_api(request):
        return JsonResponse({"detail": "Server error."}, status=500)
    return defaults.server_error(request)
