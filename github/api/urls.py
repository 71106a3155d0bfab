"""Routes of /github/: the browsable API root, the viewsets and the docs."""
from django.contrib.auth.views import redirect_to_login
from django.urls import path, re_path
from drf_yasg.views import get_schema_view
from rest_framework import exceptions, permissions

from github.api import views
from github.api.export import ExportView
from github.api.root import Router
from github.api.schema import API_INFO
from github.api.task_runs import TaskRunViewSet
from github.api.task_views import TaskViewSet
from github.dashboard import dashboard

router = Router()
router.register("developers", views.DeveloperViewSet, basename="developer")
router.register("repositories", views.RepositoryViewSet, basename="repository")
router.register("rate_limit", views.RateLimitViewSet, basename="ratelimit")
router.register("tasks", TaskViewSet, basename="task")
router.register("task_runs", TaskRunViewSet, basename="taskrun")

SchemaView = get_schema_view(API_INFO, public=True, permission_classes=[permissions.IsAuthenticated])


class DocsPageView(SchemaView):
    """Swagger and redoc, for every authentication the API accepts (session, basic, token); a visitor with no
    credentials at all is a person in a browser, sent to the login page rather than answered 401/403."""

    def handle_exception(self, exc):
        if isinstance(exc, exceptions.NotAuthenticated):
            return redirect_to_login(self.request.get_full_path())
        return super().handle_exception(exc)


urlpatterns = [
    re_path(r"^swagger\.(?P<format>json|yaml)$", SchemaView.without_ui(cache_timeout=0), name="schema-json"),
    path("swagger/", DocsPageView.with_ui("swagger", cache_timeout=0), name="schema-swagger-ui"),
    path("redoc/", DocsPageView.with_ui("redoc", cache_timeout=0), name="schema-redoc"),
    path("dashboard/", dashboard, name="dashboard"),
    path("export/", ExportView.as_view(), name="export"),
    *router.urls,
]
