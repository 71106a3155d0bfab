"""Conditional-request validators (a URL's ETag and Last-Modified) kept between reads, in the database.

The HTTP client is handed a store and does no ORM work of its own. The database store is shared by every
worker, so a list one worker read whole is a free 304 for the next.
"""
import functools

from django.utils import timezone

from github.bulk import Upsert
from github.models import ConditionalValidator

URL_MAX_LENGTH = ConditionalValidator._meta.get_field("url").max_length


class EtagStore:
    """The validators of every URL read whole, one ConditionalValidator row each. Any object with the same two
    methods can stand in for it."""

    def lookup(self, url: str) -> ConditionalValidator | None:
        """The validators stored for `url` (its `etag` and `last_modified`), or None."""
        return ConditionalValidator.objects.filter(url=url).first()

    def store(self, url: str, etag: str, last_modified: str) -> None:
        """Keep `url`'s validators, replacing older ones; a URL longer than the column is not kept (it is then
        simply never a 304)."""
        if len(url) > URL_MAX_LENGTH:
            return
        _upsert()([(url, etag, last_modified, timezone.now())])


@functools.cache
def _upsert() -> Upsert:
    """One statement storing a URL's validators, whether the URL is new or not."""
    return Upsert(ConditionalValidator, ("url", "etag", "last_modified", "updated"), key="url", insert_only=())
