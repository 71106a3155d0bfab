"""GitHub's naming rules, checked before a login or repository name becomes part of a URL.

Anything a user typed goes through these first, so it can never add a path segment, a query or another host
to a request: the client quotes the value anyway, but a value that passes here needs no quoting at all.
"""
import re

from django.core.exceptions import ValidationError

# 1-39 characters, letters, digits and single hyphens, neither first nor last.
LOGIN_PATTERN = re.compile(r"[A-Za-z0-9](?:-?[A-Za-z0-9]){0,38}")
# 1-100 characters of letters, digits, ".", "_" and "-"; "." and ".." would walk the URL path.
REPOSITORY_NAME_PATTERN = re.compile(r"[A-Za-z0-9._-]{1,100}")


def validate_login(value: str) -> str:
    """The value, if it is a possible GitHub login; otherwise ValidationError saying GitHub's rule."""
    if not isinstance(value, str) or len(value) > 39 or not LOGIN_PATTERN.fullmatch(value):
        raise ValidationError(
            "%(value)r is not a valid GitHub login: 1-39 letters, digits or single hyphens, "
            "not starting or ending with a hyphen.",
            code="invalid_login",
            params={"value": value},
        )
    return value


def validate_repository_name(value: str) -> str:
    """The value, if it is a possible GitHub repository name (without the owner); otherwise ValidationError."""
    if not isinstance(value, str) or value in {".", ".."} or not REPOSITORY_NAME_PATTERN.fullmatch(value):
        raise ValidationError(
            "%(value)r is not a valid GitHub repository name: 1-100 letters, digits, '.', '_' or '-', "
            "not '.' or '..', and without the owner.",
            code="invalid_repository_name",
            params={"value": value},
        )
    return value
