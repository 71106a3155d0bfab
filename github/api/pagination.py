"""Page-number pagination with a client-chosen page size, capped so one request stays cheap."""
from rest_framework.pagination import PageNumberPagination


class StablePageNumberPagination(PageNumberPagination):
    """`page` and `page_size` (at most 100); the querysets it pages are always totally ordered."""

    page_size_query_param = "page_size"
    max_page_size = 100


class CountedQuerySet:
    """A queryset to page whose count() comes from a cheaper query with the same answer.

    A nested list such as a hub's followers/ counts its edges on the edge table's index instead of counting
    developers through a semi-join; the foreign keys guarantee the two numbers agree.
    """

    def __init__(self, queryset, count):
        self.queryset = queryset
        self.ordered = queryset.ordered
        self._count = count

    def count(self):
        """The number of objects, from the cheaper query."""
        return self._count()

    def __getitem__(self, item):
        return self.queryset[item]

    def __len__(self):
        return self.count()
