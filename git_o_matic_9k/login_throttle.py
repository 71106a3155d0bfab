"""Login throttling against password guessing: the API login page, the admin login page and HTTP basic auth.

Django and DRF let anyone try passwords as fast as they can send them, and every /github/ endpoint accepts
basic auth, so each request is one guess. Failures are counted per username and per client address in the
cache (the database cache: every web process shares it) through Django's `user_login_failed` signal, which
both the login forms and DRF's BasicAuthentication raise. Once a username or an address has failed
LOGIN_FAILURE_LIMIT times (per address: LOGIN_FAILURE_LIMIT_PER_ADDRESS) within LOGIN_LOCKOUT_SECONDS, the
middleware answers 429 to every further login attempt for it, right password included, until the window
ends: a guesser learns nothing from the answer.

Token authentication is not counted: a token is 160 random bits, not something to guess.
"""
import base64
import binascii
import hashlib

from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.core.cache import cache
from django.dispatch import receiver
from django.http import HttpResponse, JsonResponse

LOGIN_PATHS = ("/api-auth/login/", "/admin/login/")
MESSAGE = "Too many failed logins. Try again later."


def client_address(request) -> str:
    """The client's address: REMOTE_ADDR, or with LOGIN_THROTTLE_PROXIES proxies in front (Heroku's router:
    1) the address the nearest trusted proxy appended to X-Forwarded-For, which the client cannot forge."""
    proxies = settings.LOGIN_THROTTLE_PROXIES
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if proxies and forwarded:
        return forwarded[-min(proxies, len(forwarded))]
    return request.META.get("REMOTE_ADDR", "")


def _key(kind: str, value: str) -> str:
    # Hashed: a username may be any length or character, cache keys may not.
    return f"login-failures:{kind}:{hashlib.sha256(value.encode()).hexdigest()[:32]}"


def _keys(request, username: str | None) -> list[tuple[str, int]]:
    """The counters this attempt is counted on, each with its limit."""
    keys = [(_key("address", client_address(request)), settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS)]
    if username:
        keys.append((_key("username", username.strip().lower()), settings.LOGIN_FAILURE_LIMIT))
    return keys


def attempted_username(request) -> str | None:
    """The username a request tries to log in with: a login form's POST, or basic auth; None if neither."""
    if request.method == "POST" and request.path in LOGIN_PATHS:
        return request.POST.get("username", "")
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        return base64.b64decode(encoded.strip(), validate=True).decode("utf-8").partition(":")[0]
    except (binascii.Error, UnicodeDecodeError):
        return ""  # DRF refuses it; still an attempt from this address


def is_locked_out(request, username: str) -> bool:
    """Whether this username or this address has used up its failures in the current window."""
    counts = cache.get_many([key for key, _limit in _keys(request, username)])
    return any(counts.get(key, 0) >= limit for key, limit in _keys(request, username))


@receiver(user_login_failed)
def count_failure(sender, credentials, request=None, **kwargs):  # pylint: disable=unused-argument
    """Count a failed login against its username and address (the window starts at the first failure)."""
    if request is None:
        return
    for key, _limit in _keys(request, credentials.get("username")):
        if cache.add(key, 1, timeout=settings.LOGIN_LOCKOUT_SECONDS):
            continue
        try:
            cache.incr(key)
        except ValueError:  # expired between add() and incr()
            cache.add(key, 1, timeout=settings.LOGIN_LOCKOUT_SECONDS)


class LoginThrottleMiddleware:
    """Answers 429 to login attempts (form POSTs, basic auth) of a locked-out username or address."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        username = attempted_username(request)
        if username is not None and is_locked_out(request, username):
            headers = {"Retry-After": str(settings.LOGIN_LOCKOUT_SECONDS)}
            if request.path.startswith("/github/"):
                return JsonResponse({"detail": MESSAGE}, status=429, headers=headers)
            return HttpResponse(MESSAGE, status=429, content_type="text/plain; charset=utf-8", headers=headers)
        return self.get_response(request)
