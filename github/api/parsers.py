"""The API's JSON parser: DRF's, with a bound on nesting.

Python's json module parses recursively: a body nested about 1,000 levels deep (2 KB) raises RecursionError, which
DRF does not catch (a 500), and one a little shallower parses but recurses again wherever it is printed or
validated. No request of this API nests more than a few levels, so anything deeper than MAX_DEPTH is a 400.
"""
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

MAX_DEPTH = 32
MESSAGE = f"JSON parse error - nested deeper than {MAX_DEPTH} levels."


def _deeper_than(value, limit: int) -> bool:
    """Whether `value` nests lists and objects more than `limit` levels deep (a loop: no recursion to exhaust)."""
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, (dict, list)):
            if depth > limit:
                return True
            pending.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return False


class BoundedJSONParser(JSONParser):
    """JSON bodies nested at most MAX_DEPTH levels; deeper ones are a ParseError (400), never a RecursionError."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError as error:
            raise ParseError(MESSAGE) from error
        if _deeper_than(data, MAX_DEPTH):
            raise ParseError(MESSAGE)
        return data
