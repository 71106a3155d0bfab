"""FilterSets and filter backends of the read API.

Every filter, ordering and search here has an index behind it (see the models and the trigram migration), so
they stay fast on millions of rows. Bad values answer 400 naming the parameter, never 500.
"""
from datetime import UTC

import django_filters
from django import forms
from django.db.models import F, OrderBy, Value
from django.db.models.functions import StrIndex
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import filters
from rest_framework.exceptions import ValidationError
from rest_framework.settings import api_settings

from github.models import Developer, RateLimit, Repository

BIGINT_MAX = 2**63 - 1
COMPARISONS = ["exact", "lt", "lte", "gt", "gte"]
TEXT_LOOKUPS = ["exact", "icontains", "isnull"]
# The text filters of the service this one replaced, kept with their meaning: `contains` is case-sensitive,
# `lte`/`gte` compare as text (in the database's collation).
TEXT_RANGE = ["lte", "gte"]
# `search` ANDs a pair of ILIKEs per term, and the database's planning time grows about quadratically with the
# terms: a few thousand terms kept a worker busy for tens of seconds. Real searches are a few words.
SEARCH_MAX_TERMS = 10
SEARCH_MAX_TERM_LENGTH = 100
# The API's `rank` of a developer or repository lives in a table of its own (github.models.DeveloperRank).
RANK = "ranking__rank"


def orders_by_rank(queryset):
    """Whether `queryset` is ordered by rank (the `ordering` parameter names `rank`)."""
    return any(isinstance(term, OrderBy) and term.expression == F(RANK) for term in queryset.query.order_by)


class BigIntegerFormField(forms.IntegerField):
    """An integer that fits a 64-bit column, so an absurd number is a 400 rather than a database error."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", -BIGINT_MAX - 1)
        kwargs.setdefault("max_value", BIGINT_MAX)
        super().__init__(*args, **kwargs)


class IntegerFilter(django_filters.NumberFilter):
    """A whole-number filter (django-filter's NumberFilter accepts decimals, which no column here holds)."""

    field_class = BigIntegerFormField


class UTCDateTimeFormField(forms.DateTimeField):
    """A date-time in UTC. Python accepts UTC offsets up to ±23:59 but PostgreSQL only up to ±15:59, so an
    offset such as -23:09 reached the database as written and failed there (500); in UTC it cannot."""

    def to_python(self, value):
        result = super().to_python(value)  # pylint: disable=no-member  # BaseTemporalField defines it
        if result is None:
            return None
        try:
            return result.astimezone(UTC)
        except OverflowError as error:  # 0001-01-01T00:00+01:00 is in year 0 in UTC
            raise forms.ValidationError("Enter a date-time between the years 1 and 9999 in UTC.",
                                        code="invalid") from error


class UTCDateTimeFilter(django_filters.DateTimeFilter):
    """A date-time filter that compares in UTC, whatever offset the client wrote."""

    field_class = UTCDateTimeFormField


class StrictBooleanFormField(forms.NullBooleanField):
    """true/false (also 1/0, yes/no); anything else is an error rather than silently no filter at all."""

    widget = forms.TextInput
    TRUE = {"true", "1", "yes", "on"}
    FALSE = {"false", "0", "no", "off"}

    def to_python(self, value):
        if value in (None, ""):
            return None
        text = str(value).strip().lower()
        if text in self.TRUE:
            return True
        if text in self.FALSE:
            return False
        raise forms.ValidationError("Enter true or false.", code="invalid")

    def validate(self, value):
        """Any parsed value is valid; a missing one means the filter is not applied."""


class StrictBooleanFilter(django_filters.BooleanFilter):
    """A boolean filter that answers 400 for a value that is neither true nor false."""

    field_class = StrictBooleanFormField

    def __init__(self, *args, **kwargs):
        kwargs["widget"] = forms.TextInput
        super().__init__(*args, **kwargs)


class CaseInsensitiveExactFilter(django_filters.CharFilter):
    """Matches LOWER(column) = LOWER(value), the expression the case-insensitive unique index is built on."""

    def filter(self, qs, value):
        if not value:
            return qs
        return qs.filter(**{f"{self.field_name}__lower": value.lower()})


class CaseSensitiveContainsFilter(django_filters.CharFilter):
    """`contains` as the old service meant it: case-sensitive, on SQLite too (whose LIKE ignores ASCII case).

    The case-insensitive match comes first so that PostgreSQL can use the trigram index on UPPER(column) that
    `icontains` uses; STRPOS (SQLite: INSTR) then keeps the rows that contain the value as written.
    """

    def filter(self, qs, value):
        if not value:
            return qs
        position = f"_{self.field_name}_position"
        return (qs.filter(**{f"{self.field_name}__icontains": value})
                .alias(**{position: StrIndex(self.field_name, Value(value))})
                .filter(**{f"{position}__gt": 0}))


class StrictFilterSet(django_filters.FilterSet):
    """Base FilterSet whose integer columns filter as whole numbers, whose booleans reject other words and whose
    date-times compare in UTC."""

    @classmethod
    def filter_for_lookup(cls, field, lookup_type):
        filter_class, params = super().filter_for_lookup(field, lookup_type)
        if lookup_type == "contains":
            return CaseSensitiveContainsFilter, params
        if filter_class is django_filters.BooleanFilter:
            return StrictBooleanFilter, params
        if filter_class is django_filters.DateTimeFilter:
            return UTCDateTimeFilter, params
        if filter_class is django_filters.NumberFilter and field.get_internal_type() in {
            "IntegerField",
            "BigIntegerField",
        }:
            filter_class = IntegerFilter
        return filter_class, params


class RankedFilterSet(StrictFilterSet):
    """`rank__gte` and `rank__lte`, read from the model's rank table (github.models.DeveloperRank), through its
    rank index."""

    rank__gte = django_filters.NumberFilter(field_name=RANK, lookup_expr="gte", help_text="Rank at least this")
    rank__lte = django_filters.NumberFilter(field_name=RANK, lookup_expr="lte", help_text="Rank at most this")


class DeveloperFilter(RankedFilterSet):
    """Filters of /github/developers/."""

    login = CaseInsensitiveExactFilter(field_name="login", help_text="Login, case-insensitive exact match")
    email = CaseInsensitiveExactFilter(field_name="email", help_text="Public email, case-insensitive exact match")
    synced = StrictBooleanFilter(
        field_name="profile_synced_at",
        lookup_expr="isnull",
        exclude=True,
        help_text="true: synced by a sync of its own (profile, then its lists); false: never synced (stubs, and "
                  "developers profiled alongside a list whose own lists are not read yet)",
    )
    profiled = StrictBooleanFilter(
        field_name="profiled_at",
        lookup_expr="isnull",
        exclude=True,
        help_text="true: profile known, counts included (synced, or read alongside a list); false: stubs known "
                  "only by id and login. profiled=true&synced=false: profiled, lists not yet read",
    )

    class Meta:
        model = Developer
        fields = {
            "github_id": ["exact"],
            "login": TEXT_RANGE,
            "name": [*TEXT_LOOKUPS, "contains", *TEXT_RANGE],
            "bio": [*TEXT_LOOKUPS, "contains", *TEXT_RANGE],
            "location": [*TEXT_LOOKUPS, *TEXT_RANGE],
            "company": [*TEXT_LOOKUPS, *TEXT_RANGE],
            "email": ["icontains", "isnull", *TEXT_RANGE],
            "followers_count": COMPARISONS,
            "following_count": COMPARISONS,
            "public_gists": COMPARISONS,
            "public_repos": COMPARISONS,
            "created_at": COMPARISONS,
            "updated_at": COMPARISONS,
        }


class RepositoryFilter(RankedFilterSet):
    """Filters of /github/repositories/."""

    owner = django_filters.UUIDFilter(field_name="owner_id", help_text="The owner's uuid")
    owner_login = django_filters.CharFilter(method="filter_owner_login", help_text="The owner's login, any case")
    name = CaseInsensitiveExactFilter(field_name="name", help_text="Repository name, case-insensitive")
    full_name = CaseInsensitiveExactFilter(field_name="full_name", help_text="owner/name, case-insensitive")
    # GitHub matches languages in any case (`language:python`).
    language = CaseInsensitiveExactFilter(field_name="language", help_text="Main language, case-insensitive")

    class Meta:
        model = Repository
        fields = {
            "owner_github_id": ["exact"],
            "github_id": ["exact"],
            "language": ["isnull"],
            "description": ["exact", "contains", "icontains", "isnull"],
            "homepage": ["exact", "isnull"],
            "has_downloads": ["exact"],
            "has_issues": ["exact"],
            "has_pages": ["exact"],
            "has_projects": ["exact"],
            "has_wiki": ["exact"],
            "private": ["exact"],
            "archived": ["exact"],
            "disabled": ["exact"],
            "fork": ["exact"],
            "stargazers_count": COMPARISONS,
            "subscribers_count": COMPARISONS,
            "watchers_count": COMPARISONS,
            "open_issues_count": COMPARISONS,
            "forks_count": COMPARISONS,
            "created_at": COMPARISONS,
            "updated_at": COMPARISONS,
            "pushed_at": COMPARISONS,
        }

    def filter_owner_login(self, queryset, name, value):  # pylint: disable=unused-argument
        """Repositories whose owner has this login, through the owner's case-insensitive login index."""
        return queryset.filter(owner__in=Developer.objects.named(value).values("id"))


class RateLimitFilter(StrictFilterSet):
    """Filters of /github/rate_limit/ (a handful of rows: one per token and resource, so no index is needed)."""

    class Meta:
        model = RateLimit
        fields = {name: ["exact", "lte", "gte"]
                  for name in ("rate_limit", "rate_remaining", "rate_reset", "rate_reset_raw")}


def descending(field: str) -> bool:
    """Whether an `ordering` term asks for descending order: exactly one leading `-`."""
    return field.startswith("-")


def ordering_name(field: str) -> str:
    """The field an `ordering` term names: `-login` names `login`, `--login` names `-login` (no such field)."""
    return field[1:] if descending(field) else field


class StrictOrderingFilter(filters.OrderingFilter):
    """`ordering` that answers 400 for an unknown field and always ends on a unique column (a stable order).

    Nulls (stubs have no counts yet) sort as the smallest value on every database: last when descending (the
    top-N query), first when ascending; github/models.py indexes nullable columns in exactly that order.
    """

    def get_ordering(self, request, queryset, view):
        params = request.query_params.get(self.ordering_param)
        if not params:
            return self.get_default_ordering(view)
        fields = [param.strip() for param in params.split(",") if param.strip()]
        allowed = {name for name, _label in self.get_valid_fields(queryset, view, {"request": request})}
        unknown = [field for field in fields if ordering_name(field) not in allowed]
        if unknown or not fields:
            raise ValidationError(
                {self.ordering_param: [f"Unknown ordering field(s): {', '.join(unknown) or params!r}. "
                                       f"Allowed: {', '.join(sorted(allowed))} (prefix - for descending)."]}
            )
        if not any(ordering_name(field) == "github_id" for field in fields):
            fields.append("github_id")
        return [self._order(queryset.model, field) for field in fields]

    @staticmethod
    def _order(model, field):
        name = ordering_name(field)
        if name == "rank":  # in the rank table, null for rows not ranked yet
            name = RANK
        elif not model._meta.get_field(name).null:
            return field
        return F(name).desc(nulls_last=True) if descending(field) else F(name).asc(nulls_first=True)


class SafeSearchFilter(filters.SearchFilter):
    """`search` that answers 400 for a NUL character (PostgreSQL cannot compare with one) instead of a 500, and
    for more than SEARCH_MAX_TERMS terms or a term longer than SEARCH_MAX_TERM_LENGTH characters."""

    def get_search_terms(self, request):
        value = request.query_params.get(self.search_param, "")
        if "\x00" in value:
            raise ValidationError({self.search_param: ["Null characters are not allowed."]})
        terms = super().get_search_terms(request)
        if len(terms) > SEARCH_MAX_TERMS:
            raise ValidationError({self.search_param: [
                f"At most {SEARCH_MAX_TERMS} search terms are allowed ({len(terms)} given)."]})
        if any(len(term) > SEARCH_MAX_TERM_LENGTH for term in terms):
            raise ValidationError({self.search_param: [
                f"A search term may be at most {SEARCH_MAX_TERM_LENGTH} characters long."]})
        return terms


def known_parameters(view) -> set[str]:
    """The query parameters a list view understands: its filters, `ordering`, `search`, the pagination's (`page`,
    `page_size`, `cursor`) and `format`, from the filter backends and paginator the view (or its action) actually
    uses."""
    names = {api_settings.URL_FORMAT_OVERRIDE}
    paginator = view.paginator
    if paginator is not None:
        names |= {paginator.page_query_param, paginator.page_size_query_param,
                  getattr(paginator, "cursor_query_param", None)}
    for backend in view.filter_backends:
        if issubclass(backend, DjangoFilterBackend):
            filterset_class = backend().get_filterset_class(view)
            names |= set(filterset_class.base_filters) if filterset_class else set()
        elif issubclass(backend, filters.OrderingFilter):
            names.add(backend.ordering_param)
        elif issubclass(backend, filters.SearchFilter):
            names.add(backend.search_param)
    return names - {None}


def refuse_unknown_parameters(request, view):
    """400 naming each query parameter `view` does not understand (django-filter silently ignores them, so a
    typo or an old filter name answered the whole table), and listing the ones it does."""
    allowed = known_parameters(view)
    unknown = sorted(set(request.query_params) - allowed)
    if unknown:
        raise ValidationError({name: [f"Unknown query parameter. Allowed: {', '.join(sorted(allowed))}."]
                               for name in unknown})
