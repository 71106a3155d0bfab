"""GitHub's GraphQL API over a :class:`~github_simulator.world.World`: resolvers for graphql-core.

A query that passed :func:`~github_simulator.graphql_rules.plan` is executed by graphql-core's
executor over the world's own objects (accounts, repositories), with one resolver per served field
(:data:`_RESOLVERS`); a field of GitHub's schema the simulator does not serve resolves to an error
naming it, never to a made-up value. The same world as the REST side, field for field:
``databaseId`` is REST's ``id``, ``id`` is REST's ``node_id``, counts are the same list lengths,
lists keep REST's order. GitHub's nullability is kept: a non-null ``User.email`` is ``""`` where
REST says ``null``, ``websiteUrl`` is null where REST's ``blog`` is ``""``.

What is not modelled: ``viewer`` (tokens are not accounts here), gists, watchers, issues and
topics beyond what REST shows of them (``gists``, ``watchers`` and ``issues`` answer their
``totalCount`` with no nodes), collaborators and organisation members (``ownerAffiliations``
other than ``OWNER`` add nothing). Ids use GitHub's legacy format, as REST's ``node_id`` does.

Nothing here knows about HTTP, tokens or quotas (see ``server.py``).
"""

import base64
import binascii
import re
from functools import cache

from graphql import GraphQLError, execute

from . import fake, payloads
from .graphql_rules import format_error, schema

_ROOT = object()
_NODE_KINDS = ("User", "Organization", "Repository")
#: Colours of the languages the world generates (GitHub's linguist colours).
_LANGUAGE_COLORS = {
    "Python": "#3572A5", "JavaScript": "#f1e05a", "TypeScript": "#3178c6", "Go": "#00ADD8", "Rust": "#dea584",
    "Java": "#b07219", "C": "#555555", "C++": "#f34b7d", "C#": "#178600", "Ruby": "#701516", "PHP": "#4F5D95",
    "Kotlin": "#A97BFF", "Swift": "#F05138", "Shell": "#89e051", "Haskell": "#5e5086", "Elixir": "#6e4a7e",
    "Scala": "#c22d40", "Dart": "#00B4AB", "Lua": "#000080", "Zig": "#ec915c", "HTML": "#e34c26",
    "CSS": "#563d7c", "Jupyter Notebook": "#DA5B0B", "Vue": "#41b883", "Nix": "#7e7eff", "OCaml": "#ef7a08",
}


def not_found(message):
    """GitHub's partial-data error: the field is null, the error carries ``type: NOT_FOUND``."""
    return GraphQLError(message, extensions={"type": "NOT_FOUND"})


class Context:
    """What the resolvers of one query share: the world, the base URL, the query's plan, the
    quota state for ``rateLimit`` and the count of nodes returned (for the time model)."""

    def __init__(self, world, base, plan, rate_limit):
        self.world = world
        self.base = base
        self.plan = plan
        self.rate_limit = rate_limit       # callable -> the rateLimit object
        self.returned = 0
        self._details = {}

    def details(self, entity):
        """Profile or repository details, computed once per entity and query."""
        key = (type(entity).__name__, entity.id)
        found = self._details.get(key)
        if found is None:
            found = self._details[key] = (self.world.repo_details(entity) if key[0] == "Repo"
                                          else self.world.user_details(entity))
        return found


def run(world, base, plan, rate_limit):
    """Execute ``plan`` over ``world`` holding its lock: ``(response body dict, nodes returned)``."""
    context = Context(world, base, plan, rate_limit)
    with world.lock:
        result = execute(schema(), plan.document, root_value=_ROOT, context_value=context,
                         variable_values=plan.variables, operation_name=plan.operation_name,
                         field_resolver=_resolve, type_resolver=_type_of)
    body = {"data": result.data}
    if result.errors:
        body["errors"] = [format_error(e) for e in result.errors]
    return body, context.returned


def _type_of(value, _info, _abstract_type):
    if isinstance(value, dict):
        return value["__typename"]
    if hasattr(value, "is_org"):
        return "Organization" if value.is_org else "User"
    return "Repository"


def _resolve(source, info, **arguments):
    """One field: its resolver, a dict's key (plain value objects), or an error naming it."""
    resolver = _RESOLVERS.get((info.parent_type.name, info.field_name))
    if resolver is not None:
        if source is _ROOT and info.context.plan.dry_run and info.field_name != "rateLimit":
            return None                   # rateLimit(dryRun: true): the cost, nothing run
        return resolver(source, info.context, **{_snake(name): value for name, value in arguments.items()})
    if isinstance(source, dict) and info.field_name in source:
        return source[info.field_name]
    if isinstance(source, Connection):
        return source.field(info.field_name)
    raise GraphQLError(f"github_simulator does not serve {info.parent_type.name}.{info.field_name}.")


@cache
def _snake(name):
    """GitHub's argument names in Python's style (``followRenames`` -> ``follow_renames``)."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


# ---------------------------------------------------------------------------------------------
# Connections
# ---------------------------------------------------------------------------------------------

def _cursor(position, entity_id):
    return base64.b64encode(f"cursor:v2:{position}:{entity_id}".encode()).decode()


class Connection:
    """A page of a list: ``items`` are ``(node, starred_at or None)`` in the list's order.

    Cursors carry the item's position and id: a cursor still finds its item when the list moved
    under it (someone followed or unfollowed between two pages), and its position otherwise.
    """

    def __init__(self, context, items, arguments, total=None):
        """``items``: the list, or a function that makes it, with its ``total`` (so that a
        count-only connection never builds a list of a million followers)."""
        self.context = context
        self._make = items if callable(items) else lambda: items
        self._items = None
        self.arguments = arguments
        self.total = len(self.items) if total is None else total
        self._page = None

    @property
    def items(self):
        """The list, made on first use."""
        if self._items is None:
            self._items = self._make()
        return self._items

    def field(self, name):
        """``totalCount``, ``edges``, ``nodes``, ``pageInfo``."""
        if name == "totalCount":
            return self.total
        start, end = self._bounds()
        chosen = self.items[start:end]
        if name == "edges":
            return [{"cursor": _cursor(start + i, node.id), "node": node,
                     "starredAt": None if starred is None else fake.iso(starred)}
                    for i, (node, starred) in enumerate(chosen)]
        if name == "nodes":
            return [node for node, _ in chosen]
        if name == "pageInfo":
            return {"hasNextPage": end < len(self.items), "hasPreviousPage": start > 0,
                    "startCursor": _cursor(start, chosen[0][0].id) if chosen else None,
                    "endCursor": _cursor(end - 1, chosen[-1][0].id) if chosen else None}
        raise GraphQLError(f"github_simulator does not serve the connection field {name}.")

    def _bounds(self):
        """``[start, end)`` of the page, computed once (and its nodes counted once)."""
        if self._page is None:
            start, end = 0, len(self.items)
            if self.arguments.get("after") is not None:
                start = self._position(self.arguments["after"], "after") + 1
            if self.arguments.get("before") is not None:
                end = self._position(self.arguments["before"], "before")
            if self.arguments.get("first") is not None:
                end = min(end, start + self.arguments["first"])
            elif self.arguments.get("last") is not None:
                start = max(start, end - self.arguments["last"])
            else:                           # count-only: graphql_rules lets nothing else through
                end = start
            start = min(start, len(self.items))
            self._page = (start, max(start, end))
            self.context.returned += self._page[1] - self._page[0]
        return self._page

    def _position(self, cursor, name):
        try:
            text = base64.b64decode(cursor, validate=True).decode()
            prefix, _, rest = text.partition("cursor:v2:")
            position, _, entity_id = rest.partition(":")
            position, entity_id = int(position), int(entity_id)
            if prefix:
                raise ValueError(prefix)
        except (ValueError, binascii.Error, UnicodeDecodeError):
            raise GraphQLError(f"`{name}` does not appear to be a valid cursor.",
                               extensions={"type": "INVALID_CURSOR_ARGUMENTS"}) from None
        if 0 <= position < len(self.items) and self.items[position][0].id == entity_id:
            return position
        for index, (node, _) in enumerate(self.items):
            if node.id == entity_id:
                return index
        return min(position, len(self.items))


def _ordered(items, order, keys):
    """``items`` sorted by ``order`` (``{field, direction}``) with ``keys``: field -> sort key."""
    if not order:
        return items
    items = sorted(items, key=keys[order["field"]])
    return items[::-1] if order["direction"] == "DESC" else items


def _empty(context, arguments, total):
    """A connection the world counts but does not hold (gists, watchers, issues)."""
    return Connection(context, [], arguments, total=total)


# ---------------------------------------------------------------------------------------------
# Query
# ---------------------------------------------------------------------------------------------

def _user(_root, context, login):
    account = context.world.find_user(login)
    if account is None or account.is_org:
        raise not_found(f"Could not resolve to a User with the login of '{login}'.")
    return account


def _organization(_root, context, login):
    account = context.world.find_user(login)
    if account is None or not account.is_org:
        raise not_found(f"Could not resolve to an Organization with the login of '{login}'.")
    return account


def _repository_owner(_root, context, login):
    return context.world.find_user(login)


def _repository(_root, context, owner, name, follow_renames=True):
    repo, moved = context.world.find_repo(owner, name)
    if repo is None or (moved and not follow_renames):
        raise not_found(f"Could not resolve to a Repository with the name '{owner}/{name}'.")
    return repo


def _owned_repository(account, context, name, follow_renames=True):
    return _repository(None, context, account.login, name, follow_renames)


def decode_node_id(node_id):
    """``(kind, id)`` of a legacy node id (``MDQ6VXNlcjE=`` -> ``("User", 1)``), or None."""
    try:
        text = base64.b64decode(node_id, validate=True).decode()
        length, _, rest = text.partition(":")
        kind, number = rest[:int(length)], int(rest[int(length):])
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
    return (kind, number) if kind in _NODE_KINDS else None


def _lookup(context, node_id):
    decoded = decode_node_id(node_id)
    found = None
    if decoded is not None:
        kind, number = decoded
        if kind == "Repository":
            found = context.world.repo_by_id(number)
        else:
            found = context.world.user_by_id(number)
            if found is not None and found.is_org != (kind == "Organization"):
                found = None
    return found


def _node(_root, context, id):  # noqa: A002 (GitHub's argument name) pylint: disable=redefined-builtin
    found = _lookup(context, id)
    if found is None:
        raise not_found(f"Could not resolve to a node with the global id of '{id}'")
    context.returned += 1
    return found


def _nodes(_root, context, ids):
    """Unknown ids are null entries, each with its NOT_FOUND error (an exception as a list item
    is how graphql-core reports an error at that item's path)."""
    found = [_lookup(context, node_id) for node_id in ids]
    context.returned += sum(f is not None for f in found)
    return [f if f is not None else not_found(f"Could not resolve to a node with the global id of '{i}'")
            for i, f in zip(ids, found, strict=True)]


def _rate_limit(_root, context, dry_run=False):
    del dry_run                             # the plan knows; the answer is the same
    return context.rate_limit()


def _viewer(_root, _context):
    raise GraphQLError("github_simulator does not serve viewer: its tokens are not accounts.")


# ---------------------------------------------------------------------------------------------
# User and Organization
# ---------------------------------------------------------------------------------------------

def _kind(account):
    return "Organization" if account.is_org else "User"


def _detail(name, empty=None):
    """A profile or repository detail by its REST name; ``empty`` where GitHub's type is non-null."""
    def resolve(entity, context):
        value = context.details(entity)[name]
        return empty if value is None else value
    return resolve


def _website(account, context):
    return context.details(account)["blog"] or None


def _avatar(account, context, size=None):
    url = f"{context.base}/avatars/u/{account.id}?v=4"
    return f"{url}&s={size}" if size else url


def _followers(account, context, **arguments):
    return Connection(context, lambda: [(u, None) for u in account.followers], arguments, len(account.followers))


def _following(account, context, **arguments):
    return Connection(context, lambda: [(u, None) for u in account.following], arguments, len(account.following))


def _starred(account, context, order_by=None, owned_by_viewer=None, **arguments):
    """Oldest star first (GitHub's default ``STARRED_AT ASC``)."""
    if owned_by_viewer:                     # no viewer here: nothing is owned by it
        return Connection(context, [], arguments)
    def items():
        return _ordered(list(account.starred.items()), order_by, {"STARRED_AT": lambda item: item[1]})
    return Connection(context, items, arguments, len(account.starred))


_REPO_ORDER = {"CREATED_AT": lambda item: (item[0].created, item[0].id), "NAME": lambda item: item[0].name.lower()}


def _repository_list(context, repos, arguments):
    """``repos`` (oldest first, or ``orderBy``) filtered as ``repositories`` and ``forks`` filter.

    A token here is nobody: private repositories are invisible (as REST's lists show them), and
    ``affiliations`` (the viewer's) has nothing to act on. The world has no collaborators or
    organisation members, so ``ownerAffiliations`` without ``OWNER`` matches nothing.
    """
    arguments = dict(arguments)
    order = arguments.pop("order_by", None)
    arguments.pop("affiliations", None)
    privacy, visibility = arguments.pop("privacy", None), arguments.pop("visibility", None)
    owners = arguments.pop("owner_affiliations", None)
    filters = {name: arguments.pop(name) for name in ("is_fork", "is_archived", "is_locked", "has_issues_enabled")
               if arguments.get(name) is not None}
    if privacy == "PRIVATE" or visibility in ("PRIVATE", "INTERNAL") or (owners is not None and "OWNER" not in owners):
        repos = []

    def values(repo):
        details = context.details(repo)
        return {"is_fork": repo.parent is not None, "is_archived": bool(details["archived"]), "is_locked": False,
                "has_issues_enabled": bool(details["has_issues"])}

    chosen = [(r, None) for r in sorted(repos, key=lambda r: r.id) if not r.private
              and all(values(r)[name] == wanted for name, wanted in filters.items())]
    keys = {**_REPO_ORDER,
            "UPDATED_AT": lambda item: (context.details(item[0])["updated_at"], item[0].id),
            "PUSHED_AT": lambda item: (context.details(item[0])["pushed_at"], item[0].id),
            "STARGAZERS": lambda item: (len(item[0].stargazers), item[0].id)}
    return Connection(context, _ordered(chosen, order, keys), arguments)


def _repositories(account, context, **arguments):
    """Repositories the account owns."""
    return _repository_list(context, list(account.repos), arguments)


def _gists(account, context, **arguments):
    arguments.pop("privacy", None)
    arguments.pop("order_by", None)
    return _empty(context, arguments, context.details(account)["public_gists"])


_ACCOUNT = {
    "id": lambda a, _c: payloads.node_id(_kind(a), a.id),
    "databaseId": lambda a, _c: a.id,
    "login": lambda a, _c: a.login,
    "name": _detail("name"),
    "location": _detail("location"),
    "twitterUsername": _detail("twitter_username"),
    "websiteUrl": _website,
    "avatarUrl": _avatar,
    "url": lambda a, c: f"{c.base}/{a.login}",
    "resourcePath": lambda a, _c: f"/{a.login}",
    "createdAt": _detail("created_at"),
    "updatedAt": _detail("updated_at"),
    "repositories": _repositories,
    "repository": _owned_repository,
}
_USER = {
    **_ACCOUNT,
    "email": _detail("email", ""),
    "bio": _detail("bio"),
    "company": _detail("company"),
    "isHireable": lambda a, c: bool(c.details(a)["hireable"]),
    "isSiteAdmin": lambda a, _c: a.site_admin,
    "followers": _followers,
    "following": _following,
    "starredRepositories": _starred,
    "gists": _gists,
}
_ORGANIZATION = {
    **_ACCOUNT,
    "email": _detail("email"),
    "description": _detail("bio"),
    "isVerified": lambda _a, _c: False,
}


# ---------------------------------------------------------------------------------------------
# Repository
# ---------------------------------------------------------------------------------------------

def _language(repo, context):
    name = context.details(repo)["language"]
    if name is None:
        return None
    return {"__typename": "Language", "name": name, "color": _LANGUAGE_COLORS.get(name),
            "id": payloads.node_id("Language", sum(map(ord, name)))}


def _license(repo, context):
    key = context.details(repo)["license"]
    if key is None:
        return None
    simple = payloads.license_simple(key, context.base)
    return {"__typename": "License", "key": key, "name": simple["name"], "spdxId": simple["spdx_id"],
            "id": simple["node_id"], "nickname": None, "pseudoLicense": key == "other",
            "url": None if key == "other" else f"http://choosealicense.com/licenses/{key}/"}


def _topics(repo, context, **arguments):
    topics = [{"__typename": "RepositoryTopic", "id": payloads.node_id("RepositoryTopic", repo.id * 1000 + i),
               "resourcePath": f"/topics/{name}", "url": f"{context.base}/topics/{name}",
               "topic": {"__typename": "Topic", "name": name, "id": payloads.node_id("Topic", sum(map(ord, name)))}}
              for i, name in enumerate(context.details(repo)["topics"])]
    return Connection(context, [(_Plain(t, i), None) for i, t in enumerate(topics)], arguments)


class _Plain(dict):
    """A value object with an ``id`` for cursors (topics)."""

    def __init__(self, values, position):
        super().__init__(values)
        self.id = position


def _stargazers(repo, context, order_by=None, **arguments):
    """Oldest star first, as REST lists them."""
    def items():
        return _ordered(list(repo.stargazers.items()), order_by, {"STARRED_AT": lambda item: item[1]})
    return Connection(context, items, arguments, len(repo.stargazers))


def _forks(repo, context, **arguments):
    """Direct forks."""
    return _repository_list(context, list(repo.forks or ()), arguments)


def _issues(repo, context, states=None, **arguments):
    """The world knows REST's ``open_issues_count`` only: all open, none closed."""
    for ignored in ("labels", "order_by", "filter_by"):
        arguments.pop(ignored, None)
    open_count = context.details(repo)["open_issues_count"]
    return _empty(context, arguments, open_count if states is None or "OPEN" in states else 0)


def _watchers(repo, context, **arguments):
    return _empty(context, arguments, context.details(repo)["subscribers_count"])


def _flag(name):
    return lambda repo, context: bool(context.details(repo)[name])


_REPOSITORY = {
    "id": lambda r, _c: payloads.node_id("Repository", r.id),
    "databaseId": lambda r, _c: r.id,
    "name": lambda r, _c: r.name,
    "nameWithOwner": lambda r, _c: r.full_name,
    "owner": lambda r, _c: r.owner,
    "description": _detail("description"),
    "homepageUrl": _detail("homepage"),
    "url": lambda r, c: f"{c.base}/{r.full_name}",
    "resourcePath": lambda r, _c: f"/{r.full_name}",
    "isPrivate": lambda r, _c: r.private,
    "visibility": lambda r, _c: "PRIVATE" if r.private else "PUBLIC",
    "isFork": lambda r, _c: r.parent is not None,
    "parent": lambda r, _c: r.parent,
    "isArchived": _flag("archived"),
    "isDisabled": _flag("disabled"),
    "isTemplate": _flag("is_template"),
    "hasIssuesEnabled": _flag("has_issues"),
    "hasProjectsEnabled": _flag("has_projects"),
    "hasWikiEnabled": _flag("has_wiki"),
    "hasDiscussionsEnabled": _flag("has_discussions"),
    "isMirror": lambda _r, _c: False,
    "isEmpty": lambda _r, _c: False,
    "isLocked": lambda _r, _c: False,
    "forkingAllowed": lambda _r, _c: True,
    "mirrorUrl": lambda _r, _c: None,
    "createdAt": _detail("created_at"),
    "updatedAt": _detail("updated_at"),
    "pushedAt": _detail("pushed_at"),
    "diskUsage": _detail("size"),
    "stargazerCount": lambda r, _c: len(r.stargazers),
    "forkCount": lambda r, _c: r.forks_count,
    "primaryLanguage": _language,
    "licenseInfo": _license,
    "repositoryTopics": _topics,
    "stargazers": _stargazers,
    "forks": _forks,
    "issues": _issues,
    "watchers": _watchers,
    "defaultBranchRef": lambda r, c: {"__typename": "Ref", "name": c.details(r)["default_branch"],
                                      "prefix": "refs/heads/"},
}

_QUERY = {
    "user": _user,
    "organization": _organization,
    "repositoryOwner": _repository_owner,
    "repository": _repository,
    "node": _node,
    "nodes": _nodes,
    "rateLimit": _rate_limit,
    "viewer": _viewer,
}

#: (GraphQL type, field) -> resolver(source, context, **arguments).
_RESOLVERS = {
    **{("Query", field): resolver for field, resolver in _QUERY.items()},
    **{("User", field): resolver for field, resolver in _USER.items()},
    **{("Organization", field): resolver for field, resolver in _ORGANIZATION.items()},
    **{("Repository", field): resolver for field, resolver in _REPOSITORY.items()},
}
