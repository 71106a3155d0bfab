"""Plain Django views outside the REST API."""
from django.db import connection
from django.http import JsonResponse
from django.views import defaults
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


@never_cache
@require_GET
def health(request):  # pylint: disable=unused-argument
    """For deploy checks and load balancers: 200 when the database answers, 503 when it does not. No login."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:  # pylint: disable=broad-exception-caught  # any database failure means unhealthy
        return JsonResponse({"status": "error", "database": "unavailable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


def _is_api(request):
    return request.path.startswith("/github/")


def not_found(request, exception):
    """404: JSON under /github/ (an id the routes cannot even match, e.g. /github/developers/0.5/, is still an
    API answer a client parses), Django's page elsewhere."""
    if _is_api(request):
        return JsonResponse({"detail": "Not found."}, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request):
    """500: JSON under /github/, Django's page elsewhere. Neither says anything about the failure."""
    if _is_api(request):
        return JsonResponse({"detail": "Server error."}, status=500)
    return defaults.server_error(request)
