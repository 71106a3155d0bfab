"""/github/tasks/: list the actions, trigger one, follow its state.

Triggering spends the owner's GitHub quota, so POST needs the `github.trigger_tasks` permission (or staff) and
is throttled per user. Input is checked against GitHub's naming rules before anything is queued.
"""
import ast
import json

from celery import states
from django.urls import reverse
from django_celery_results.models import TaskResult
from drf_yasg.utils import swagger_auto_schema
from kombu.exceptions import OperationalError as BrokerUnreachable
from rest_framework import permissions, serializers, status, viewsets
from rest_framework.exceptions import APIException
from rest_framework.response import Response
from rest_framework.throttling import UserRateThrottle

from github.api.throttling import UserThrottle
from github.names import validate_login, validate_repository_name
from github.tasks import POSTPONED, discovery_scraper, enqueue, full_profile_sync, full_repository_sync

# The states a task shows here and in /github/task_runs/, in the order it goes through them.
STATES = [states.PENDING, states.STARTED, POSTPONED, states.RETRY, states.SUCCESS, states.FAILURE]

# The most developers one discovery_scraper triggered through the API may queue (its `count`).
DISCOVERY_MAX_COUNT = 100

# What the API can trigger: each action's task, its parameters (true: required) and what GET shows of it.
ACTIONS = {
    "full_profile_sync": {
        "task": full_profile_sync,
        "parameters": {"username": True},
        "description": "Sync a developer: profile, followers, following, starred repositories, owned "
                       "repositories and their stargazers.",
    },
    "full_repository_sync": {
        "task": full_repository_sync,
        "parameters": {"username": True, "repo_name": True},
        "description": "Sync a repository (full payload), its owner and its stargazers. repo_name is the name "
                       "without the owner, e.g. 'garapa', not 'h3nnn4n/garapa'.",
    },
    "discovery_scraper": {
        "task": discovery_scraper,
        "parameters": {"count": False},
        "description": "Queue syncs of the next developers to crawl: never-synced developers nearest to the seed "
                       "users first, then those synced longest ago, within the batch size and the quota. count "
                       f"(optional, 1 to {DISCOVERY_MAX_COUNT}) is how many to queue instead of the batch size.",
    },
}


class TaskRequestSerializer(serializers.Serializer):  # pylint: disable=abstract-method
    """What to run: an action name and the parameters it needs (GitHub's naming rules apply)."""

    name = serializers.ChoiceField(choices=sorted(ACTIONS), initial="full_profile_sync", help_text="The action to run")
    username = serializers.CharField(required=False, max_length=39, validators=[validate_login],
                                     help_text="A GitHub login (full_profile_sync, full_repository_sync)")
    repo_name = serializers.CharField(required=False, max_length=100, validators=[validate_repository_name],
                                      help_text="A repository name without its owner (full_repository_sync)")
    count = serializers.IntegerField(required=False, min_value=1, max_value=DISCOVERY_MAX_COUNT,
                                     help_text="How many developers to queue (discovery_scraper; default: the "
                                               "batch size)")

    def validate(self, attrs):
        action = ACTIONS[attrs["name"]]
        missing = {name: ["This field is required for this action."]
                   for name, required in action["parameters"].items() if required and not attrs.get(name)}
        extra = {name: ["This action takes no such parameter."]
                 for name in attrs if name != "name" and name not in action["parameters"]}
        if missing or extra:
            raise serializers.ValidationError({**missing, **extra})
        return attrs


class TaskStateSerializer(serializers.Serializer):  # pylint: disable=abstract-method
    """A queued or finished task, as /github/tasks/{task_id}/ shows it."""

    task_id = serializers.CharField()
    url = serializers.URLField()
    name = serializers.CharField()
    arguments = serializers.JSONField(help_text="The action's parameters, an object")
    state = serializers.ChoiceField(choices=STATES)
    date_created = serializers.DateTimeField(allow_null=True)
    date_done = serializers.DateTimeField(allow_null=True)
    result = serializers.JSONField(allow_null=True, help_text="Requests spent, 304s and records written; or the "
                                                              "postponement's retry time")
    error = serializers.CharField(allow_null=True)


class CanTriggerTasks(permissions.BasePermission):
    """Reading task states needs a login; triggering one needs the trigger_tasks permission or staff."""

    message = "Triggering tasks needs the 'Can trigger GitHub sync tasks' permission."

    def has_permission(self, request, view):
        if request.method in permissions.SAFE_METHODS:
            return True
        user = request.user
        return bool(user and (user.is_staff or user.has_perm("github.trigger_tasks")))


class TaskTriggerThrottle(UserRateThrottle):
    """Per-user limit on triggering (TASKS_THROTTLE_RATE); reading states counts only against API_THROTTLE_RATE."""

    scope = "tasks"

    def allow_request(self, request, view):
        if request.method in permissions.SAFE_METHODS:
            return True
        return super().allow_request(request, view)


class QueueUnavailable(APIException):
    """503: the broker could not take the task, so nothing was queued and nothing recorded."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "The task queue (the Celery broker) is unreachable: nothing was queued. Try again later."
    default_code = "queue_unavailable"


def _task_url(request, task_id):
    return request.build_absolute_uri(reverse("task-detail", kwargs={"pk": task_id}))


def _json(text, default=None):
    """A JSON column of django-celery-results, or `default` when it is empty or not JSON."""
    try:
        return json.loads(text) if text else default
    except ValueError:
        return default


def _arguments(record: TaskResult) -> dict:
    """The task's keyword arguments as an object. Rows stored before the result backend wrote them as JSON
    (github/results.py) hold Celery's Python repr, "{'username': 'x'}", in a JSON string: literal_eval reads
    it (literals only, nothing is executed)."""
    arguments = _json(record.task_kwargs, {})
    if isinstance(arguments, str):
        try:
            arguments = ast.literal_eval(arguments)
        except (ValueError, SyntaxError):
            arguments = {}
    return arguments if isinstance(arguments, dict) else {}


def _error_message(result) -> str:
    """"HttpErrorException: API rate limit exceeded" from Celery's stored exception."""
    if not isinstance(result, dict):
        return str(result)
    message = result.get("exc_message", "")
    if isinstance(message, (list, tuple)):
        message = " ".join(str(part) for part in message)
    return f"{result.get('exc_type', 'Error')}: {message}"


def task_state(request, record: TaskResult) -> dict:
    """A task's record as /github/tasks/{task_id}/ and /github/task_runs/ show it (TaskStateSerializer)."""
    result = _json(record.result)
    failed = record.status == states.FAILURE
    return {
        "task_id": record.task_id,
        "url": _task_url(request, record.task_id),
        "name": (record.task_name or "").rsplit(".", 1)[-1],
        "arguments": _arguments(record),
        "state": record.status,
        "date_created": record.date_created,
        "date_done": record.date_done if record.status in states.READY_STATES else None,
        "result": None if failed else result,
        "error": _error_message(result) if failed else None,
    }


class TaskViewSet(viewsets.ViewSet):
    """The crawler's actions.

    list: The actions you can trigger, with their parameters and what they do; the Link header points to
    /github/task_runs/, what is queued and what ran.
    create: Queue an action. Answers 202 with the task's id and the URL to follow it.
    retrieve: A task's state (PENDING, STARTED, POSTPONED, RETRY, SUCCESS, FAILURE), when, and its result.
    """

    permission_classes = [permissions.IsAuthenticated, CanTriggerTasks]
    throttle_classes = [UserThrottle, TaskTriggerThrottle]
    serializer_class = TaskRequestSerializer
    lookup_value_regex = r"[0-9A-Za-z-]{1,64}"

    def get_serializer(self, *args, **kwargs):
        """The request form the browsable API shows."""
        return TaskRequestSerializer(*args, **kwargs)

    def list(self, request):
        """The actions, their parameters (true = required) and descriptions; the task runs in the Link header."""
        runs = request.build_absolute_uri(reverse("taskrun-list"))
        return Response([
            {"name": name, "parameters": action["parameters"], "description": action["description"]}
            for name, action in ACTIONS.items()
        ], headers={"Link": f'<{runs}>; rel="task-runs"'})

    @swagger_auto_schema(request_body=TaskRequestSerializer, responses={202: TaskStateSerializer})
    def create(self, request):
        """Validate, queue it, record it as PENDING (503 when the broker is down)."""
        serializer = TaskRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        name = serializer.validated_data["name"]
        action = ACTIONS[name]
        arguments = {key: value for key, value in serializer.validated_data.items() if key in action["parameters"]}
        try:
            record = enqueue(action["task"], **arguments)
        except BrokerUnreachable as error:
            raise QueueUnavailable() from error
        return Response(task_state(request, record), status=status.HTTP_202_ACCEPTED,
                        headers={"Location": _task_url(request, record.task_id)})

    @swagger_auto_schema(responses={200: TaskStateSerializer})
    def retrieve(self, request, pk=None):
        """A task's state and result."""
        record = TaskResult.objects.filter(task_id=pk).first()
        if record is None:
            return Response({"detail": "No such task."}, status=status.HTTP_404_NOT_FOUND)
        return Response(task_state(request, record))
