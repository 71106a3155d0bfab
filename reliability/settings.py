"""Settings of the long reliability runs: the real settings, with the run's own Celery queues, so that its
workers never take another run's (or a developer's) tasks from a shared RabbitMQ."""
import os

_QUEUE = os.environ.get("RELIABILITY_QUEUE", "git-o-matic-9k-reliability")
os.environ["CELERY_QUEUE"] = _QUEUE
os.environ["CELERY_PERIODIC_QUEUE"] = f"{_QUEUE}-periodic"

from git_o_matic_9k.settings import *  # noqa: E402,F403  pylint: disable=wildcard-import,unused-wildcard-import,wrong-import-position
