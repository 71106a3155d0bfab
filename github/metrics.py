"""/metrics: the crawl's status in Prometheus' text format (prometheus_client), for scrapers and alerts.

Quota and tasks are read live (the ledger's few rows, an indexed count, the broker's queue lengths); totals,
frontier and rates from the newest snapshot (github/status.py), whose age is a metric too. Tokens appear only
as their ledger labels.
"""
from datetime import datetime

from django.conf import settings
from django.http import HttpResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from rest_framework import permissions
from rest_framework.decorators import api_view, permission_classes, renderer_classes, schema
from rest_framework.renderers import BaseRenderer

from github import status

PREFIX = "gitomatic"


def _gauge(name, documentation, labels=(), samples=()):
    """A gauge family with `samples` ((label values, value), ...)."""
    family = GaugeMetricFamily(f"{PREFIX}_{name}", documentation, labels=list(labels))
    for label_values, value in samples:
        if value is not None:
            family.add_metric(list(label_values), value)
    return family


class CrawlCollector:
    """Yields the crawl's metrics on every scrape (a custom collector: the values live in the database)."""

    def collect(self):  # pylint: disable=missing-function-docstring  # prometheus_client's Collector interface
        snapshot = status.current_snapshot()
        yield _gauge("snapshot_timestamp_seconds", "When the snapshot behind the totals was taken",
                     samples=[((), snapshot.taken_at.timestamp())])
        yield _gauge("developers", "Developers by crawl state", ["state"], [
            (("stored",), snapshot.developers), (("profiled",), snapshot.profiled),
            (("fully_synced",), snapshot.fully_synced)])
        yield _gauge("repositories", "Repositories stored", samples=[((), snapshot.repositories)])
        yield _gauge("edges", "Edges stored (PostgreSQL's estimate when large)", ["kind"], [
            (("follow",), snapshot.follows), (("star",), snapshot.stars)])
        yield _gauge("frontier_developers", "Developers discovery has yet to (re)sync", ["queue"], [
            (("never_synced",), snapshot.never_synced), (("due_for_resync",), snapshot.due_for_resync)])
        rates = status.hourly_rates(snapshot)
        yield _gauge("crawl_rate_per_hour", "Crawl rate over the last hour of snapshots", ["what"],
                     [((name,), value) for name, value in rates.items()])
        yield _gauge("tasks", "Tasks by state: queued in the broker, the rest from stored results", ["state"],
                     [((name,), count) for name, count in status.task_counts().items()])
        quota_rows = status.quotas()
        labels = ["credential", "resource"]
        for name, field, documentation in (
                ("quota_limit", "limit", "GitHub's limit per window"),
                ("quota_remaining", "remaining", "Requests GitHub still allows in the window"),
                ("quota_allowed", "allowed", "Requests this service may still send in the window"),
                ("quota_allowed_per_window", "allowed_per_window", "Requests this service may send per window")):
            yield _gauge(name, documentation, labels,
                         [((row["credential"], row["resource"]), row[field]) for row in quota_rows])
        yield _gauge("quota_reset_timestamp_seconds", "When the window resets", labels,
                     [((row["credential"], row["resource"]), datetime.fromisoformat(row["reset"]).timestamp())
                      for row in quota_rows])


class PrometheusTextRenderer(BaseRenderer):
    """Lets DRF's content negotiation accept Prometheus' scrape (Accept: text/plain;version=0.0.4)."""

    media_type = "text/plain"
    format = "prometheus"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, dict):  # DRF's refusals ({"detail": ...}) as one line of text
            return f"{data.get('detail', data)}\n".encode()
        return data


class MetricsPermission(permissions.IsAuthenticated):
    """Logged in like the rest of the API, unless METRICS_PUBLIC opens /metrics to anybody."""

    def has_permission(self, request, view):
        return settings.METRICS_PUBLIC or super().has_permission(request, view)


@api_view(["GET"])
@permission_classes([MetricsPermission])
@renderer_classes([PrometheusTextRenderer])
@schema(None)  # for Prometheus, not part of the documented API (nor of its paths' common prefix)
def metrics(request):  # pylint: disable=unused-argument
    """The crawl's metrics in Prometheus' text exposition format."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(CrawlCollector())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
