"""/github/task_runs/: what is queued, running, postponed and what ran, newest first, in the shape of
/github/tasks/{task_id}/. Celery's result table (django-celery-results) is the record: a task triggered through the
API, queued by discovery or queued as the follow-up of a sync the quota stopped part-way has a row from the moment
it is queued (github.tasks.enqueue)."""
import django_filters
from django.db.models import Q
from django_celery_results.models import TaskResult
from rest_framework import mixins

from github.api.filters import StrictFilterSet
from github.api.task_views import ACTIONS, STATES, TaskStateSerializer, task_state
from github.api.views import RefusesUnknownParameters
from github.names import LOGIN_PATTERN, validate_login
from github.tasks import sync_developers


def _login_patterns(login: str) -> Q:
    """The task's login argument, in each form the result table stores it: JSON as the API writes it, or the
    repr Celery's workers write (`'username': 'x'` among the keyword arguments, or the first positional one);
    or one of the logins of a discovery batch (`sync_developers`, whose only argument is a list of logins)."""
    quoted = Q()
    for field in ("task_kwargs", "task_args"):
        quoted |= Q(**{f"{field}__icontains": f'"{login}"'}) | Q(**{f"{field}__icontains": f"'{login}'"})
    return (Q(task_kwargs__icontains=f'"username": "{login}"') | Q(task_kwargs__icontains=f"'username': '{login}'")
            | Q(task_args__icontains=f"('{login}'") | Q(task_args__icontains=f'["{login}"')
            | (Q(task_name=sync_developers.name) & quoted))


class LoginFilter(django_filters.CharFilter):
    """A GitHub login (400 for anything else), documented with GitHub's rule as its pattern."""

    pattern = f"^{LOGIN_PATTERN.pattern}$"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, validators=[validate_login], max_length=39, **kwargs)


class TaskRunFilter(StrictFilterSet):
    """Filters of /github/task_runs/."""

    state = django_filters.ChoiceFilter(field_name="status", choices=[(state, state) for state in STATES],
                                        help_text="PENDING, STARTED, POSTPONED, RETRY, SUCCESS or FAILURE")
    action = django_filters.ChoiceFilter(field_name="task_name",
                                         choices=[(action["task"].name, name) for name, action in ACTIONS.items()],
                                         help_text="The task's full name, e.g. github.tasks.full_profile_sync")
    login = LoginFilter(method="filter_login",
                        help_text="Tasks of this GitHub login (their username argument), any case")

    class Meta:
        model = TaskResult
        fields = ["state", "action", "login"]

    def filter_login(self, queryset, name, value):  # pylint: disable=unused-argument
        """Runs whose username argument is `value`."""
        return queryset.filter(_login_patterns(value))


class TaskRunViewSet(mixins.ListModelMixin, RefusesUnknownParameters):
    """Task runs: queued, running, postponed and finished tasks with their arguments, times and outcome.

    list: Task runs, newest first; filter by `state`, `action` and `login`. Each links its /github/tasks/{task_id}/.
    """

    queryset = TaskResult.objects.order_by("-date_created", "-id")
    serializer_class = TaskStateSerializer
    filterset_class = TaskRunFilter
    filter_backends = [django_filters.rest_framework.DjangoFilterBackend]

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response([task_state(request, record) for record in page])
