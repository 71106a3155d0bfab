"""Read-only viewsets of /github/. They only read the database: nothing here calls GitHub."""
from django_filters.rest_framework import DjangoFilterBackend
from drf_yasg.utils import swagger_auto_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from github import selectors
from github.api.filters import (
    DeveloperFilter,
    RateLimitFilter,
    RepositoryFilter,
    orders_by_rank,
    refuse_unknown_parameters,
)
from github.api.pagination import CountedQuerySet
from github.api.schema import NestedListAutoSchema
from github.api.serializers import DeveloperSerializer, RateLimitSerializer, RepositorySerializer
from github.models import Developer, Follow, RateLimit, Repository, Star

DEVELOPER_ORDERING = [
    "github_id", "login", "name", "created_at", "updated_at",
    "followers_count", "following_count", "public_gists", "public_repos", "rank",
]
REPOSITORY_ORDERING = [
    "github_id", "name", "full_name", "language", "created_at", "updated_at", "pushed_at",
    "stargazers_count", "subscribers_count", "watchers_count", "open_issues_count", "forks_count", "rank",
]


def nested_list(**options):
    """A detail action listing one of the object's relations (/github/developers/{id}/followers/ and the like):
    paged as a list, documented with its pagination, without the list's filters (`options` go to DRF's action)."""
    def decorate(method):
        listed = action(detail=True, filter_backends=[], **options)(method)
        return swagger_auto_schema(auto_schema=NestedListAutoSchema)(listed)
    return decorate


class RefusesUnknownParameters(viewsets.GenericViewSet):
    """A viewset whose lists (every action but `retrieve`: the list and the nested lists) answer 400 to a query
    parameter they do not understand."""

    def initial(self, request, *args, **kwargs):
        """DRF's checks (authentication, permissions, throttles), then the query parameters'."""
        super().initial(request, *args, **kwargs)
        if self.action not in (None, "retrieve"):
            refuse_unknown_parameters(request, self)


class KnownParametersViewSet(RefusesUnknownParameters, viewsets.ReadOnlyModelViewSet):
    """A read-only viewset whose lists refuse query parameters they do not understand."""


# The relation ids a developer or a repository shows, attached to a page of them in a fixed number of queries.
ATTACH_RELATIONS = {Developer: selectors.attach_developer_relations,
                    Repository: selectors.attach_repository_relations}


class RelationListViewSet(KnownParametersViewSet):
    """Lists and shows objects with the relation ids their serializer shows, in a fixed number of queries; in
    GitHub's id order unless asked otherwise, their nested lists (`nested_list`) too."""

    ordering = ["github_id"]

    def list(self, request, *args, **kwargs):
        return self.paged(self.filter_queryset(self.get_queryset()))

    def retrieve(self, request, *args, **kwargs):
        instance = self.get_object()
        ATTACH_RELATIONS[type(instance)]([instance])
        return Response(self.get_serializer(instance).data)

    def related(self, rows, count=None):
        """A nested list's page: `rows` (the developers or repositories of one relation) in id order."""
        return self.paged(rows.order_by(*self.ordering), count)

    def paged(self, queryset, count=None):
        """One page of `queryset`, their relation ids attached, in the paginated envelope.

        `count`, when given, is a queryset that counts the whole list more cheaply than `queryset` would.
        """
        attach = ATTACH_RELATIONS[queryset.model]
        queryset = queryset.select_related("ranking")  # the serializer's rank, in the page's own query
        if count is None and orders_by_rank(queryset):
            # An inner join walks the rank index (every row has a rank row: github.models.DeveloperRank), where
            # the left join of a nullable relation would sort the whole table; the count needs no join at all.
            count = queryset
            queryset = queryset.filter(ranking__isnull=False)
        if count is not None:
            queryset = CountedQuerySet(queryset, count)
        page = attach(self.paginate_queryset(queryset))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class DeveloperViewSet(RelationListViewSet):
    """GitHub developers: synced profiles and stubs known from somebody's list.

    list: Developers, with filters, `search` (login, name) and `ordering`.
    retrieve: One developer by uuid.
    """

    queryset = Developer.objects.select_related("ranking")
    serializer_class = DeveloperSerializer
    filterset_class = DeveloperFilter
    ordering_fields = DEVELOPER_ORDERING
    search_fields = ["login", "name"]

    @nested_list()
    def followers(self, request, pk=None):  # pylint: disable=unused-argument
        """The developers who follow this developer."""
        developer = self.get_object()
        return self.related(selectors.followers_of(developer), Follow.objects.filter(followee=developer))

    @nested_list()
    def following(self, request, pk=None):  # pylint: disable=unused-argument
        """The developers this developer follows."""
        developer = self.get_object()
        return self.related(selectors.following_of(developer), Follow.objects.filter(follower=developer))

    @nested_list(serializer_class=RepositorySerializer)
    def starred(self, request, pk=None):  # pylint: disable=unused-argument
        """The repositories this developer starred."""
        developer = self.get_object()
        return self.related(selectors.starred_by(developer), Star.objects.filter(developer=developer))

    @nested_list(serializer_class=RepositorySerializer)
    def repositories(self, request, pk=None):  # pylint: disable=unused-argument
        """The repositories this developer owns."""
        return self.related(Repository.objects.filter(owner=self.get_object()))


class RepositoryViewSet(RelationListViewSet):
    """GitHub repositories: owned by or starred by crawled developers.

    list: Repositories, with filters, `search` (full_name, description) and `ordering`.
    retrieve: One repository by uuid.
    """

    queryset = Repository.objects.select_related("ranking")
    serializer_class = RepositorySerializer
    filterset_class = RepositoryFilter
    ordering_fields = REPOSITORY_ORDERING
    search_fields = ["full_name", "description"]

    @nested_list(serializer_class=DeveloperSerializer)
    def stargazers(self, request, pk=None):  # pylint: disable=unused-argument
        """The developers who starred this repository."""
        repository = self.get_object()
        return self.related(selectors.stargazers_of(repository), Star.objects.filter(repository=repository))


class RateLimitViewSet(KnownParametersViewSet):
    """The quota ledger: GitHub's rate limit per credential and resource. Id 1 is the core quota in use.

    list: Every ledger row (empty until the service has talked to GitHub), with filters.
    retrieve: One ledger row.
    """

    queryset = RateLimit.objects.all()
    serializer_class = RateLimitSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = RateLimitFilter
