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


class NestedListAutoSchema(SwaggerAutoSchema):
    """Documents a detail route that answers a paginated list (followers, starred...) as the list it is."""

    def is_list_view(self):
        return True
