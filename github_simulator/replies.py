"""An HTTP answer before rate-limit headers, and GitHub's JSON error body.

Its own module so that the quota layer (``limits.py``) and the endpoint layers (``api.py``,
``graphql_api.py``) can all build answers while depending on each other one way only.
"""

import json

DOCS = "https://docs.github.com/rest"


class Reply:
    """An HTTP answer before rate-limit headers: status, JSON body and endpoint headers."""

    __slots__ = ("status", "body", "headers", "etag", "last_modified")

    def __init__(self, status, body, headers=(), etag=None, last_modified=None):
        self.status = status
        self.body = body
        self.headers = list(headers)
        self.etag = etag
        self.last_modified = last_modified


def error(status, message, documentation_url=DOCS, **extra):
    """GitHub's error body: ``{"message", "documentation_url", "status"}`` (plus ``extra``)."""
    body = {"message": message, **extra, "documentation_url": documentation_url, "status": str(status)}
    return Reply(status, dump(body))


def dump(payload):
    """Compact UTF-8 JSON, non-ASCII characters unescaped, like GitHub's."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
