"""git-o-matic-9k: a GitHub developer and repository discovery service."""
from .celery import app as celery_app

__all__ = ("celery_app",)
