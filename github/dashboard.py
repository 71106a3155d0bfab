"""/github/dashboard/: how far the crawl has come and how fast, for logged-in users.

The numbers and the history come from the snapshots (github/status.py), so a page view reads a few rows
whatever the size of the graph; only the two top-ten lists are read live, each from its index.
"""
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from github import charts, selectors, status

DEFAULT_HOURS = 24
REFRESH_SECONDS = 60


def _hours(request):
    """The `hours` of history to show: 1 up to what snapshots are kept for; (value, error response)."""
    unknown = sorted(set(request.GET) - {"hours"})
    if unknown:
        return None, {name: ["Unknown parameter; this page takes only 'hours'."] for name in unknown}
    raw = request.GET.get("hours", str(DEFAULT_HOURS))
    most = int(settings.SNAPSHOT_KEEP_DAYS * 24) or 1
    if not raw.isdigit() or not 1 <= int(raw) <= most:
        return None, {"hours": [f"A whole number of hours from 1 to {most}."]}
    return int(raw), None


@never_cache
@require_GET
@login_required
def dashboard(request):
    """The crawl's totals, rates, frontier and ETA, quota and tasks now and over time, and the top ten lists."""
    hours, errors = _hours(request)
    if errors:
        return JsonResponse(errors, status=400)
    snapshot = status.current_snapshot()
    snapshots = status.history(snapshot.taken_at - timedelta(hours=hours))
    quotas = [row | {"reset": datetime.fromisoformat(row["reset"])} for row in snapshot.quotas]
    return render(request, "github/dashboard.html", {
        "snapshot": snapshot,
        "hours": hours,
        "refresh_seconds": REFRESH_SECONDS,
        "rates": status.hourly_rates(snapshot),
        "eta": status.eta(snapshot),
        "quota_left": status.quota_left(snapshot),
        "idle_reason": status.idle_reason(snapshot),
        "quotas": quotas,
        "charts": charts.all_charts(snapshots),
        "top_lists": _top_lists(),
    })


def _top_lists() -> list[dict]:
    """The two top-ten tables, as one template draws them: rows of (link, name, detail, count)."""
    return [
        {"id": "top-developers", "title": "Top developers (by followers)", "headers": ("login", "name", "followers"),
         "rows": [(reverse("developer-detail", args=[row.pk]), row.login, row.name, row.followers_count)
                  for row in selectors.top_developers()]},
        {"id": "top-repositories", "title": "Top repositories (by stars)",
         "headers": ("repository", "language", "stars"),
         "rows": [(reverse("repository-detail", args=[row.pk]), row.full_name, row.language, row.stargazers_count)
                  for row in selectors.top_repositories()]},
    ]
