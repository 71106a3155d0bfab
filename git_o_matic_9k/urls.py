"""Top-level routes: the API under /github/ (where / leads), the admin, the API login, and a health check."""
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from git_o_matic_9k.views import health
from github.metrics import metrics

handler400 = "git_o_matic_9k.views.bad_request"
handler404 = "git_o_matic_9k.views.not_found"
handler500 = "git_o_matic_9k.views.server_error"

urlpatterns = [
    path("github/", include("github.api.urls")),
    path("admin/", admin.site.urls),
    path("api-auth/", include("rest_framework.urls")),
    path("health/", health, name="health"),
    path("metrics", metrics, name="metrics"),
    path("", RedirectView.as_view(url="/github/", permanent=False)),
]
