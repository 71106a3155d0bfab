"""Settings for the test suite: the real settings, with a throwaway SECRET_KEY when none is set."""
import os
import secrets

os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))

from git_o_matic_9k.settings import *  # noqa: E402,F403  pylint: disable=wildcard-import,unused-wildcard-import,wrong-import-position

# Hashing test users' passwords with the production hasher would dominate the suite's time.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
