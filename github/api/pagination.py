"""Page-number pagination with a client-chosen page size, capped so one request stays cheap."""
from rest_framework.pagination import PageNumberPagination


class StablePageNumberPagination(PageNumberPagination):
    """`page` and `page_size` (at most 100); the querysets it pages are always totally ordered."""

    page_size_query_param = "page_size"
    max_page_size = 100
