"""The API's description for drf-yasg: title, description, licence, and how nested lists are documented.

The filter inspector lives apart, in inspectors.py, because drf-yasg imports it from its settings while its own
inspectors package is still loading.
"""
from drf_yasg import openapi
from drf_yasg.inspectors import SwaggerAutoSchema

API_INFO = openapi.Info(
    title="git-o-matic-9k API",
    default_version="v1",
    description=(
        "GitHub developer and repository discovery. Seeded with one login, Celery tasks crawl followers, "
        "following, starred and owned repositories and stargazers through GitHub's API; this API serves the "
        "crawled graph. Every endpoint needs an authenticated user (session, basic or token auth)."
    ),
    license=openapi.License(name="MIT"),
)


ERROR = openapi.Schema(type=openapi.TYPE_OBJECT, required=["detail"],
                       properties={"detail": openapi.Schema(type=openapi.TYPE_STRING)})
FIELD_ERRORS = openapi.Schema(
    type=openapi.TYPE_OBJECT,
    description="The fields at fault, each with its messages (or `detail` for a body that is not JSON)",
)


class DocumentedErrorsAutoSchema(SwaggerAutoSchema):
    """Every operation documents the errors it can answer, not only its success, so clients (and schema
    fuzzers) know a 404 for an unknown id or page, a 400 for a bad filter or body, and 401/403/429 for
    missing or refused credentials are part of the contract."""

    def get_response_serializers(self):
        responses = super().get_response_serializers()
        errors = {
            "401": openapi.Response("Invalid credentials", ERROR),
            "403": openapi.Response("Not logged in, or not allowed (triggering tasks needs a permission)", ERROR),
            "429": openapi.Response("Throttled: too many requests (API_THROTTLE_RATE) or task triggers, or too "
                                    "many failed logins", ERROR),
            "503": openapi.Response("A database statement ran longer than WEB_STATEMENT_TIMEOUT and was cancelled "
                                    "(triggering a task: also the broker unreachable)", ERROR),
        }
        if self.should_page() or "{" in self.path:
            errors["404"] = openapi.Response("No such object, or no such page", ERROR)
        if self.should_filter() or self.should_page() or self.method in ("POST", "PUT", "PATCH"):
            errors["400"] = openapi.Response("Invalid parameters", FIELD_ERRORS)
        if self.method in ("POST", "PUT", "PATCH"):
            errors["413"] = openapi.Response("Request body too large", ERROR)
        return {**errors, **responses}


class NestedListAutoSchema(DocumentedErrorsAutoSchema):
    """Documents a detail route that answers a paginated list (followers, starred...) as the list it is."""

    def is_list_view(self):
        return True
