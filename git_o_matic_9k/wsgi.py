"""WSGI entry point (gunicorn git_o_matic_9k.wsgi)."""
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "git_o_matic_9k.settings")
application = get_wsgi_application()
