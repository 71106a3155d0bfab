"""The API root, /github/: what the service is, where its documentation and its task runs are."""
from rest_framework import routers
from rest_framework.reverse import reverse


class ApiRoot(routers.APIRootView):
    """git-o-matic-9k crawls GitHub's social graph (followers, following, starred and owned repositories,
    stargazers) into a database, spending GitHub's rate limit frugally.

    Developers and repositories, the quota ledger (rate_limit), the crawler's actions to trigger (tasks), what
    is queued or ran (task_runs) and the crawl's progress in pictures (dashboard); the documentation of every
    endpoint and filter is at swagger and redoc.
    """

    def get_view_name(self):
        return "git-o-matic-9k"

    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        for name, url_name in [("swagger", "schema-swagger-ui"), ("redoc", "schema-redoc"), ("dashboard", "dashboard")]:
            response.data[name] = reverse(url_name, request=request)
        return response


class Router(routers.DefaultRouter):
    """DRF's router with this service's root view."""

    APIRootView = ApiRoot
