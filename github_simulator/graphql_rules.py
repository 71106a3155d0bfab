"""GitHub's GraphQL schema and the rules GitHub applies to a query before running it.

The schema is GitHub's own published one (``schema/github-graphql-schema.json.gz``), loaded with
graphql-core once per process: every query is parsed and validated against all of it, so a query
GitHub would refuse is refused here too. Then GitHub's documented limits, which graphql-core does
not know:

- every connection needs ``first`` or ``last``, 1 to 100;
- ``nodes(ids:)`` takes at most 100 ids;
- at most 500,000 nodes a call: the sum over connections of their page size times the number of
  times they are requested (the product of the page sizes above them, ``nodes(ids:)`` counting
  its ids);
- the cost: the number of requests, one per connection each time it is requested, divided by
  100 and rounded to the nearest whole number, at least 1. GitHub's worked example,
  ``repositories(first: 100) { issues(first: 50) { labels(first: 60) } }`` = 1 + 100 + 5,000 =
  5,101 requests = 51 points.

Where GitHub's documentation is silent, the conservative reading is taken (a client sized on the
simulator then never overspends on GitHub):

- a connection queried for ``totalCount`` (or ``__typename``) alone may omit ``first``/``last``,
  as GitHub allows; it counts one request each time it is requested, and no nodes;
- fields that share a response key under the same type are merged, as GraphQL merges them; the
  same connection reached through fragments on different types counts once per type;
- ``@skip`` / ``@include`` are honoured, as the executor honours them.
"""

import gzip
import json
import math
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLIncludeDirective,
    GraphQLObjectType,
    GraphQLSkipDirective,
    OperationType,
    build_client_schema,
    get_named_type,
    get_operation_ast,
    parse,
    validate,
)
from graphql.execution.values import get_argument_values, get_directive_values, get_variable_values

SCHEMA_PATH = Path(__file__).resolve().parent / "schema" / "github-graphql-schema.json.gz"
MAX_PAGE_SIZE = 100
MAX_NODES = 500_000
MAX_NODE_IDS = 100
#: Fields that do not make a connection need a page: what a count-only query asks for.
_COUNT_ONLY = frozenset({"totalCount", "__typename"})


@cache
def schema():
    """GitHub's schema as graphql-core's ``GraphQLSchema`` (about 0.3 s, so once per process)."""
    with gzip.open(SCHEMA_PATH, "rt", encoding="utf-8") as handle:
        return build_client_schema(json.load(handle))


class QueryRefused(Exception):
    """A query GitHub answers with ``errors`` and no ``data`` (still HTTP 200)."""

    def __init__(self, errors):
        super().__init__(errors[0]["message"])
        self.errors = errors


def github_error(message, error_type=None, path=None, locations=None):
    """An error as GitHub shapes it: ``type`` first when it has one, then path, locations, message."""
    found = {"type": error_type} if error_type else {}
    if path:
        found["path"] = list(path)
    if locations:
        found["locations"] = locations
    found["message"] = message
    return found


def format_error(exc):
    """A graphql-core error in GitHub's shape (``extensions.type`` moved up to ``type``)."""
    formatted = exc.formatted
    extensions = dict(formatted.get("extensions") or {})
    found = github_error(formatted["message"], extensions.pop("type", None), formatted.get("path"),
                         formatted.get("locations"))
    if extensions:
        found["extensions"] = extensions
    return found


@dataclass(frozen=True)
class Plan:
    """A query that passed every check: what to execute and what it costs.

    ``requests`` and ``nodes`` as GitHub counts them (see the module docstring); ``points`` is
    the cost charged; ``dry_run`` when a ``rateLimit(dryRun: true)`` asks for the cost alone.
    """

    document: DocumentNode
    operation_name: str | None
    variables: dict
    requests: int
    nodes: int
    dry_run: bool

    @property
    def points(self):
        """Requests / 100 rounded to the nearest whole number (halves up), at least 1."""
        return max(1, math.floor(self.requests / 100 + 0.5))


def plan(query, variables=None, operation_name=None):
    """Parse, validate against the whole schema and apply GitHub's limits to ``query``; the
    :class:`Plan`, or :class:`QueryRefused` with GitHub-shaped errors."""
    if not isinstance(query, str):
        raise QueryRefused([github_error("A query attribute must be specified and must be a string.")])
    if variables is not None and not isinstance(variables, dict):
        raise QueryRefused([github_error("Variables are invalid JSON.")])
    document, errors = _parsed(query)
    if errors:
        raise QueryRefused(list(errors))
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        message = (f"Unknown operation named '{operation_name}'." if operation_name
                   else "An operation name is required when the document has several operations.")
        raise QueryRefused([github_error(message)])
    if operation.operation != OperationType.QUERY:
        raise QueryRefused([github_error(
            f"github_simulator serves queries only, not {operation.operation.value}s: change its world "
            "through the /_simulator/world/ control API.")])
    coerced = get_variable_values(schema(), operation.variable_definitions or (), variables or {})
    if isinstance(coerced, list):
        raise QueryRefused([format_error(e) for e in coerced])
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    counter = _Counter(fragments, coerced)
    root = schema().query_type
    counter.selections([operation.selection_set], root, 1, ())
    if counter.errors:
        raise QueryRefused(counter.errors)
    if counter.nodes > MAX_NODES:
        raise QueryRefused([github_error(
            f"This query requests up to {counter.nodes:,} possible nodes which exceeds the maximum limit of "
            f"{MAX_NODES:,}.", "MAX_NODE_LIMIT_EXCEEDED")])
    dry_run = any(node.name.value == "rateLimit" and get_argument_values(root.fields["rateLimit"], node,
                                                                          coerced).get("dryRun")
                  for nodes in counter.collect([operation.selection_set], root).values() for node in nodes)
    return Plan(document, operation_name, variables or {}, counter.requests, counter.nodes, dry_run)


@lru_cache(maxsize=512)
def _parsed(query):
    """``(document, errors)`` of a query text: a client paging a list sends the same text again and
    again with other variables, and validating it against GitHub's schema takes milliseconds."""
    try:
        document = parse(query)
    except GraphQLError as exc:
        return None, (format_error(exc),)
    return document, tuple(format_error(e) for e in validate(schema(), document))


def _is_connection(named_type):
    return (isinstance(named_type, GraphQLObjectType) and named_type.name.endswith("Connection")
            and "pageInfo" in named_type.fields)


class _Counter:
    """Walks a query as the executor would, adding up requests and nodes and noting limit errors."""

    def __init__(self, fragments, variables):
        self.fragments = fragments
        self.variables = variables
        self.requests = 0
        self.nodes = 0
        self.errors = []

    def collect(self, selection_sets, parent_type):
        """``{(type name, response key): [field nodes]}``: the fields the selection sets ask of
        ``parent_type``, fragments expanded (each under its own type condition)."""
        found = {}
        for selection_set in selection_sets:
            self._collect(selection_set, parent_type, found)
        return found

    def _collect(self, selection_set, parent_type, found):
        for selection in selection_set.selections:
            if not self._included(selection):
                continue
            if isinstance(selection, FieldNode):
                key = (parent_type.name, (selection.alias or selection.name).value)
                found.setdefault(key, []).append(selection)
                continue
            if isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments[selection.name.value]
                condition, selection_set_of = fragment.type_condition, fragment.selection_set
            else:
                condition, selection_set_of = selection.type_condition, selection.selection_set
            self._collect(selection_set_of, schema().get_type(condition.name.value) if condition else parent_type,
                          found)

    def _included(self, node):
        skip = get_directive_values(GraphQLSkipDirective, node, self.variables)
        include = get_directive_values(GraphQLIncludeDirective, node, self.variables)
        return not (skip and skip["if"]) and not (include and not include["if"])

    def selections(self, selection_sets, parent_type, times, path, page=None):
        """Count the fields of ``selection_sets``, each requested ``times`` times; under a
        connection, its ``edges`` and ``nodes`` are requested ``page`` times more."""
        for (type_name, key), nodes in self.collect(selection_sets, parent_type).items():
            name = nodes[0].name.value
            owner = schema().get_type(type_name)
            definition = getattr(owner, "fields", {}).get(name)
            if definition is None:          # __typename, introspection
                continue
            repeat = times * page if page is not None and name in ("edges", "nodes") else times
            self._field(definition, nodes, repeat, (*path, key))

    def _field(self, definition, nodes, times, path):
        named = get_named_type(definition.type)
        subsets = [n.selection_set for n in nodes if n.selection_set]
        arguments = get_argument_values(definition, nodes[0], self.variables)
        name = nodes[0].name.value
        if _is_connection(named):
            page = self._page_size(arguments, named, subsets, name, path)
            self.requests += times
            self.nodes += times * page
            self.selections(subsets, named, times, path, page=page)
        elif subsets:
            if name == "nodes" and "ids" in arguments:
                ids = arguments["ids"]
                if len(ids) > MAX_NODE_IDS:
                    self.errors.append(github_error(
                        f"You may not provide more than {MAX_NODE_IDS} node ids; you provided {len(ids)}.",
                        "ARGUMENT_LIMIT", path))
                times *= len(ids)
            self.selections(subsets, named, times, path)

    def _page_size(self, arguments, connection, subsets, name, path):
        """The ``first``/``last`` of a connection (0 for a count-only one), noting what GitHub refuses."""
        first, last = arguments.get("first"), arguments.get("last")
        if first is not None and last is not None:
            self.errors.append(github_error(
                f"Passing both `first` and `last` to paginate the `{name}` connection is not supported.",
                path=path))
            return 0
        size = first if first is not None else last
        if size is None:
            asked = {nodes[0].name.value for nodes in self.collect(subsets, connection).values()}
            if not asked <= _COUNT_ONLY:
                self.errors.append(github_error(
                    f"You must provide a `first` or `last` value to properly paginate the `{name}` connection.",
                    "MISSING_PAGINATION_BOUNDARIES", path))
            return 0
        bound = "first" if first is not None else "last"
        if size > MAX_PAGE_SIZE:
            self.errors.append(github_error(
                f"Requesting {size} records on the `{name}` connection exceeds the `{bound}` limit of "
                f"{MAX_PAGE_SIZE} records.", "EXCESSIVE_PAGINATION", path))
        elif size < 1:
            self.errors.append(github_error(
                f"`{bound}` on the `{name}` connection must be between 1 and {MAX_PAGE_SIZE}, not {size}.",
                "EXCESSIVE_PAGINATION", path))
        return size
