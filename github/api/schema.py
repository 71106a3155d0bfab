"""The API's description for drf-yasg (title, description, licence)."""
from drf_yasg import openapi

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
