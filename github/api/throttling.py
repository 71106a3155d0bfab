"""The per-user limit on every API request (API_THROTTLE_RATE), reads included.

One user's script must not take the API from everybody else. The statement timeout bounds what one request
costs; this bounds how many a user sends. DRF's throttle writes its history on every request: in the database
cache that is four more SQL statements per read, so it counts in each web process's memory instead (the
"throttle" cache). A user spread over N web processes gets up to N times the rate; triggering tasks, which
spends GitHub quota, keeps its exact shared count (TASKS_THROTTLE_RATE, github/api/task_views.py).
"""
from django.core.cache import caches
from rest_framework.throttling import UserRateThrottle


class UserThrottle(UserRateThrottle):
    """API_THROTTLE_RATE requests per user (per client address for anonymous requests), per web process."""

    scope = "user"
    cache = caches["throttle"]
