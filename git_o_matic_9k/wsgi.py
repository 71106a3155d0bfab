"""WSGI entry point (gunicorn git_o_matic_9k.wsgi)."""
import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "git_o_matic_9k.settings")
application = get_wsgi_application()
# The objects of the loaded project (Django, DRF, the models, about 100,000) live as long as the process: moved
# out of the collector's reach, a full collection no longer walks them all, a pause of 50 to 80 ms that landed on
# one request in twenty (the p95 of small endpoints in BENCHMARKS.md, API latency).
gc.freeze()
