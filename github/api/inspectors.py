"""drf-yasg support: filter, ordering and search parameters documented with their real types.

drf-yasg's stock inspector goes through coreapi and types every django-filter parameter as a string; users of
swagger then cannot tell a count from a date. This inspector reads the FilterSet itself.
"""
import django_filters
from django_filters.rest_framework import DjangoFilterBackend
from drf_yasg import openapi
from drf_yasg.inspectors.base import FilterInspector, NotHandled
from rest_framework.filters import OrderingFilter, SearchFilter

from github.api.filters import SEARCH_MAX_TERM_LENGTH, SEARCH_MAX_TERMS

# Any text without NUL characters.
TEXT_PATTERN = "^[^\\x00]*$"
# `search`'s limits as a pattern: up to SEARCH_MAX_TERMS words (split on spaces and commas, as DRF splits them) of
# up to SEARCH_MAX_TERM_LENGTH characters, no NUL. Stricter than the filter on quotes (DRF reads a quoted phrase
# as one term), which the pattern leaves out rather than count.
_WORD = f'[^\\s,"\\x00]{{1,{SEARCH_MAX_TERM_LENGTH}}}'
SEARCH_PATTERN = f"^[\\s,]*({_WORD}([\\s,]+{_WORD}){{0,{SEARCH_MAX_TERMS - 1}}})?[\\s,]*$"
INT64_BOUNDS = {"minimum": -(2**63), "maximum": 2**63 - 1}


def filter_parameter_type(filter_field):
    """The OpenAPI (type, format) a django-filter filter accepts."""
    if isinstance(filter_field, django_filters.BooleanFilter):
        return openapi.TYPE_BOOLEAN, None
    if isinstance(filter_field, django_filters.NumberFilter):
        return openapi.TYPE_INTEGER, None
    if isinstance(filter_field, (django_filters.IsoDateTimeFilter, django_filters.DateTimeFilter)):
        return openapi.TYPE_STRING, openapi.FORMAT_DATETIME
    if isinstance(filter_field, django_filters.UUIDFilter):
        return openapi.TYPE_STRING, openapi.FORMAT_UUID
    return openapi.TYPE_STRING, None


def filter_parameter_description(name, filter_field):
    """The filter's help text, or one derived from its field and lookup."""
    help_text = filter_field.extra.get("help_text")
    if help_text:
        return str(help_text)
    lookup = filter_field.lookup_expr
    words = {"exact": "equals", "icontains": "contains, any case", "contains": "contains, case-sensitive",
             "isnull": "is null",
             "lt": "less than", "lte": "at most", "gt": "greater than", "gte": "at least"}
    return f"{filter_field.field_name} {words.get(lookup, lookup)}" if lookup else name


class TypedFilterInspector(FilterInspector):
    """Documents FilterSet, ordering and search parameters with their types and allowed values."""

    def get_filter_parameters(self, filter_backend):
        if isinstance(filter_backend, DjangoFilterBackend):
            filterset_class = getattr(self.view, "filterset_class", None)
            if filterset_class is None:
                return []
            parameters = []
            for name, filter_field in filterset_class.base_filters.items():
                param_type, param_format = filter_parameter_type(filter_field)
                # Django's form fields refuse NUL characters (400): say so, so clients need not find out. A filter
                # with a stricter rule (a GitHub login) names its own pattern; a choice lists its values.
                text = (param_type, param_format) == (openapi.TYPE_STRING, None)
                pattern = getattr(filter_field, "pattern", TEXT_PATTERN) if text else None
                choices = filter_field.extra.get("choices")
                enum = [value for value, _label in choices] if isinstance(filter_field, django_filters.ChoiceFilter) \
                    else None
                # The database's 64-bit integers: a value beyond them is a 400.
                bounds = INT64_BOUNDS if param_type == openapi.TYPE_INTEGER else {}
                parameters.append(openapi.Parameter(
                    name, openapi.IN_QUERY, description=filter_parameter_description(name, filter_field),
                    type=param_type, format=param_format, pattern=pattern, enum=enum, required=False, **bounds,
                ))
            return parameters
        if isinstance(filter_backend, OrderingFilter):
            fields = getattr(self.view, "ordering_fields", [])
            one = f"-?({'|'.join(fields)})"
            return [openapi.Parameter(
                filter_backend.ordering_param, openapi.IN_QUERY, type=openapi.TYPE_STRING, required=False,
                description=f"Comma-separated fields to order by, - for descending: {', '.join(fields)}",
                pattern=f"^({one}(,{one})*)?$",
            )]
        if isinstance(filter_backend, SearchFilter):
            fields = getattr(self.view, "search_fields", [])
            return [openapi.Parameter(
                filter_backend.search_param, openapi.IN_QUERY, type=openapi.TYPE_STRING, required=False,
                description=f"Words to find, any case, in: {', '.join(fields)} (at most {SEARCH_MAX_TERMS} words "
                            f"of at most {SEARCH_MAX_TERM_LENGTH} characters)",
                pattern=SEARCH_PATTERN,
            )]
        return NotHandled
