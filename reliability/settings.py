"""Settings of the long reliability runs: the real settings, with the run's own Celery queue, so that its
workers never take another run's (or a developer's) tasks from a shared RabbitMQ."""
import os

from kombu import Queue

from git_o_matic_9k.settings import *  # noqa: F403  pylint: disable=wildcard-import,unused-wildcard-import

CELERY_TASK_DEFAULT_QUEUE = os.environ.get("RELIABILITY_QUEUE", "git-o-matic-9k-reliability")
CELERY_TASK_QUEUES = [Queue(CELERY_TASK_DEFAULT_QUEUE)]
