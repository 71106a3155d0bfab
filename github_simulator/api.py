"""GitHub's GET endpoints over a :class:`~github_simulator.world.World`: routing, paging, payloads.

Nothing here knows about sockets, tokens or quotas (see ``server.py``): :meth:`Api.get` maps a
path and query to a :class:`Reply`. Bodies are cached per (endpoint, entity, page, variant, base
URL) and keyed on the versions of every entity the page shows, so a hot page costs a dict lookup
and a version comparison, while any change in the world is visible at once. The ETag is a hash of
the body: identical bodies share an ETag, and a change that shows changes it.
"""

import hashlib
import json
import math
import threading
from collections import OrderedDict
from itertools import islice
from urllib.parse import unquote, urlencode

from . import fake, payloads

DOCS = "https://docs.github.com/rest"
STAR_MEDIA_TYPE = "star+json"
#: GitHub's answer past the last page it agrees to serve (page 400 of stargazers).
PAGINATION_LIMITED = ("In order to keep the API fast for everyone, pagination is limited for this resource. "
                      "Check the rel=last link relation in the Link response header to see how far back you can traverse.")

_DOC_URLS = {
    "/users/{username}": f"{DOCS}/users/users#get-a-user",
    "/user/{account_id}": f"{DOCS}/users/users#get-a-user-using-their-id",
    "followers": f"{DOCS}/users/followers#list-followers-of-a-user",
    "following": f"{DOCS}/users/followers#list-the-people-a-user-follows",
    "starred": f"{DOCS}/activity/starring#list-repositories-starred-by-a-user",
    "repos": f"{DOCS}/repos/repos#list-repositories-for-a-user",
    "repo": f"{DOCS}/repos/repos#get-a-repository",
    "stargazers": f"{DOCS}/activity/starring#list-stargazers",
    "/users": f"{DOCS}/users/users#list-users",
    "/repositories": f"{DOCS}/repos/repos#list-public-repositories",
}


class Request:
    """What an endpoint needs from an HTTP request."""

    __slots__ = ("base", "query", "params", "star")

    def __init__(self, base, query, accept):
        self.base = base                                  # API base URL the client used
        self.query = query                                # [(name, value)] in request order
        self.params = {}
        for name, value in query:
            self.params.setdefault(name, value)           # first value wins, like GitHub
        self.star = STAR_MEDIA_TYPE in (accept or "")     # application/vnd.github.star+json

    def number(self, name, default):
        try:
            return int(self.params.get(name, default))
        except ValueError:
            return default

    def paging(self):
        """``(page, per_page)``: per_page defaults to 30 and is capped at 100, as on GitHub."""
        per_page = self.number("per_page", 30)
        per_page = 30 if per_page < 1 else min(per_page, 100)
        return max(self.number("page", 1), 1), per_page


class Reply:
    """An HTTP answer before rate-limit headers: status, JSON body and endpoint headers."""

    __slots__ = ("status", "body", "headers", "etag", "last_modified")

    def __init__(self, status, body, headers=(), etag=None, last_modified=None):
        self.status = status
        self.body = body
        self.headers = list(headers)
        self.etag = etag
        self.last_modified = last_modified


def error(status, message, documentation_url=DOCS, **extra):
    """GitHub's error body: ``{"message", "documentation_url", "status"}`` (plus ``extra``)."""
    body = {"message": message, **extra, "documentation_url": documentation_url, "status": str(status)}
    return Reply(status, dump(body))


def dump(payload):
    """Compact UTF-8 JSON, non-ASCII characters unescaped, like GitHub's."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def etag_of(body):
    return 'W/"' + hashlib.blake2b(body, digest_size=20).hexdigest() + '"'


class _BodyCache:
    """LRU of rendered bodies bounded by total size: ``key -> (signature, body, etag, last_modified)``."""

    def __init__(self, max_bytes):
        self._entries = OrderedDict()
        self._bytes = 0
        self._max_bytes = max_bytes
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
            return entry

    def put(self, key, entry):
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= len(old[1])
            self._entries[key] = entry
            self._bytes += len(entry[1])
            while self._bytes > self._max_bytes and len(self._entries) > 1:
                _, evicted = self._entries.popitem(last=False)
                self._bytes -= len(evicted[1])


class Api:
    """The endpoints. :meth:`route` names the endpoint of a path (for statistics) and
    :meth:`get` answers it."""

    def __init__(self, world, stargazer_page_cap=400, cache_bytes=256 * 2 ** 20):
        self.world = world
        self.stargazer_page_cap = stargazer_page_cap
        self._cache = _BodyCache(cache_bytes)

    def route(self, path):
        """``(endpoint name, handler, arguments)``; the name is the path template, or
        ``"unknown"`` (handler None) for paths GitHub would not serve here."""
        parts = [unquote(p) for p in path[1:].split("/")]
        n = len(parts)
        head = parts[0]
        if n == 1 and head == "rate_limit":
            return "/rate_limit", None, ()   # answered by the server, which owns the quotas
        if n == 1 and head == "users":
            return "/users", self._users, ()
        if n == 1 and head == "repositories":
            return "/repositories", self._repositories, ()
        if head == "users" and n in (2, 3):
            if n == 2:
                return "/users/{username}", self._user, (parts[1], None)
            if parts[2] in ("followers", "following", "starred", "repos"):
                return f"/users/{{username}}/{parts[2]}", self._user_list, (parts[1], None, parts[2])
        if head == "user" and n in (2, 3) and parts[1].isdigit():
            if n == 2:
                return "/user/{account_id}", self._user, (None, int(parts[1]))
            if parts[2] in ("followers", "following", "starred", "repos"):
                return f"/user/{{account_id}}/{parts[2]}", self._user_list, (None, int(parts[1]), parts[2])
        if head == "repos" and n in (3, 4) and (n == 3 or parts[3] == "stargazers"):
            suffix = "/stargazers" if n == 4 else ""
            return f"/repos/{{owner}}/{{repo}}{suffix}", self._repo_by_name, (parts[1], parts[2], parts[3:])
        if head == "repositories" and n in (2, 3) and parts[1].isdigit() and (n == 2 or parts[2] == "stargazers"):
            suffix = "/stargazers" if n == 3 else ""
            return f"/repositories/{{repository_id}}{suffix}", self._repo_by_id, (int(parts[1]), parts[2:])
        return "unknown", None, ()

    @staticmethod
    def rate_limit(limit, used, reset, authenticated):
        """``GET /rate_limit``; never cached (it changes with every counted request)."""
        body = dump(payloads.rate_limit(limit, used, reset, authenticated))
        return Reply(200, body, etag=etag_of(body), last_modified=None)

    def get(self, handler, args, request):
        if handler is None:
            return error(404, "Not Found")
        with self.world.lock:
            return handler(request, *args)

    # -----------------------------------------------------------------------------------------
    # Rendering with cache
    # -----------------------------------------------------------------------------------------

    def _ok(self, key, signature, render, headers=()):
        """A 200 whose body is ``render()``, re-rendered only when ``signature`` changed."""
        entry = self._cache.get(key)
        if entry is None or entry[0] != signature:
            body = dump(render())
            etag = etag_of(body)
            # Same body as before: keep its date. New: it changed at the latest change (an upper
            # bound that is never earlier than the truth, so If-Modified-Since stays correct).
            modified = entry[3] if entry is not None and entry[2] == etag else self.world.clock
            entry = (signature, body, etag, modified)
            self._cache.put(key, entry)
        return Reply(200, entry[1], headers, etag=entry[2], last_modified=entry[3])

    def _page(self, request, key, owner_version, total, items, render_item, link_path, cap=None):
        """One page of a list endpoint, with GitHub's ``Link`` header.

        ``items(start, stop)`` yields the page's entities; ``owner_version`` covers membership and
        order, each item's (id, version) covers how it renders.
        """
        page, per_page = request.paging()
        start = (page - 1) * per_page
        chosen = list(items(start, start + per_page)) if start < total else []
        signature = (owner_version, tuple((e.id, e.version) for e in (entity(x) for x in chosen)))
        last = math.ceil(total / per_page)
        if cap is not None:
            last = min(last, cap)
        link = self._link(request, link_path, page, last)
        return self._ok((*key, page, per_page, request.base), signature,
                        lambda: [render_item(x) for x in chosen], [("Link", link)] if link else [])

    @staticmethod
    def _link(request, path, page, last):
        """``Link: <...page=N-1>; rel="prev", <...>; rel="next", <...>; rel="last", <...>; rel="first"``
        with the request's other parameters kept, none when one page holds everything."""
        if page <= 1 and last <= 1:
            return None
        others = [(k, v) for k, v in request.query if k != "page"]

        def url(number):
            return f"<{request.base}{path}?{urlencode(others + [('page', number)])}>"

        links = []
        if page > 1:
            links.append(f'{url(page - 1)}; rel="prev"')
        if page < last:
            links.append(f'{url(page + 1)}; rel="next"')
            links.append(f'{url(last)}; rel="last"')
        if page > 1:
            links.append(f'{url(1)}; rel="first"')
        return ", ".join(links)

    # -----------------------------------------------------------------------------------------
    # Endpoints (called with the world lock held)
    # -----------------------------------------------------------------------------------------

    def _find_user(self, login, user_id):
        return self.world.find_user(login) if login is not None else self.world.user_by_id(user_id)

    def _user(self, request, login, user_id):
        user = self._find_user(login, user_id)
        if user is None:
            return error(404, "Not Found", _DOC_URLS["/users/{username}" if login else "/user/{account_id}"])
        return self._ok(("user", user.id, request.base), user.version,
                        lambda: payloads.public_user(self.world, user, request.base))

    def _user_list(self, request, login, user_id, kind):
        """followers, following (simple users), starred (repositories), repos (minimal ones).
        Links point at ``/user/{id}/...``, as GitHub's do, so paging survives a rename."""
        user = self._find_user(login, user_id)
        if user is None:
            return error(404, "Not Found", _DOC_URLS[kind])
        base = request.base
        link_path = f"/user/{user.id}/{kind}"
        if kind in ("followers", "following"):
            people = user.followers if kind == "followers" else user.following
            return self._page(request, (kind, user.id), user.version, len(people),
                              lambda a, b: islice(people, a, b), lambda u: payloads.simple_user(u, base), link_path)
        if kind == "repos":
            owned = request.params.get("type") != "member"   # nobody is a collaborator here
            sort, direction = request.params.get("sort"), request.params.get("direction")
            sort = sort if sort in ("created", "updated", "pushed") else "full_name"
            repos = self.world.sorted_repos(self.world.public_repos(user), sort, direction) if owned else []
            return self._page(request, (kind, user.id, owned, sort, direction), user.version, len(repos),
                              lambda a, b: repos[a:b], lambda r: payloads.repository(self.world, r, base), link_path)
        # starred: newest star first by default; the star media type adds starred_at.
        sort, direction = request.params.get("sort", "created"), request.params.get("direction", "desc")
        if sort == "updated":
            stars = sorted(user.starred.items(), key=lambda s: self.world.repo_details(s[0])["updated_at"],
                           reverse=direction != "asc")
            items = lambda a, b: stars[a:b]  # noqa: E731
        elif direction == "asc":
            items = lambda a, b: islice(user.starred.items(), a, b)  # noqa: E731
        else:
            items = lambda a, b: islice(reversed(user.starred.items()), a, b)  # noqa: E731
        if request.star:
            render = lambda s: {"starred_at": fake.iso(s[1]), "repo": payloads.repository(self.world, s[0], base)}  # noqa: E731
        else:
            render = lambda s: payloads.repository(self.world, s[0], base)  # noqa: E731
        return self._page(request, (kind, user.id, sort, direction, request.star), user.version, len(user.starred),
                          items, render, link_path)

    def _repo_by_name(self, request, owner, name, rest):
        repo, moved = self.world.find_repo(owner, name)
        if moved:
            # Renamed (or owner renamed): GitHub answers 301 to the id-based URL, keeping the rest.
            query = f"?{urlencode(request.query)}" if request.query else ""
            location = f"{request.base}/repositories/{repo.id}{''.join('/' + p for p in rest)}{query}"
            reply = error(301, "Moved Permanently", "https://docs.github.com/v3/#http-redirects", url=location)
            reply.headers.append(("Location", location))
            return reply
        return self._repo(request, repo, rest)

    def _repo_by_id(self, request, repo_id, rest):
        return self._repo(request, self.world.repo_by_id(repo_id), rest)

    def _repo(self, request, repo, rest):
        if not rest:
            if repo is None:
                return error(404, "Not Found", _DOC_URLS["repo"])
            parent, source = repo.parent, repo.source
            signature = (repo.version, parent and (parent.id, parent.version), source and (source.id, source.version))
            return self._ok(("repo", repo.id, request.base), signature,
                            lambda: payloads.repository(self.world, repo, request.base, full=True))
        if repo is None:
            return error(404, "Not Found", _DOC_URLS["stargazers"])
        page, _ = request.paging()
        if page > self.stargazer_page_cap:
            return error(422, PAGINATION_LIMITED, "https://docs.github.com/v3/#pagination")
        base = request.base
        if request.star:
            render = lambda s: {"starred_at": fake.iso(s[1]), "user": payloads.simple_user(s[0], base)}  # noqa: E731
        else:
            render = lambda s: payloads.simple_user(s[0], base)  # noqa: E731
        return self._page(request, ("stargazers", repo.id, request.star), repo.version, len(repo.stargazers),
                          lambda a, b: islice(repo.stargazers.items(), a, b), render,
                          f"/repositories/{repo.id}/stargazers", cap=self.stargazer_page_cap)

    def _users(self, request):
        """``GET /users?since=``: accounts by id; paged by ``since`` only, Link ``next`` + ``first``."""
        return self._since_list(request, "users", self.world.users_after,
                                lambda u: payloads.simple_user(u, request.base))

    def _repositories(self, request):
        return self._since_list(request, "repositories", self.world.repos_after,
                                lambda r: payloads.repository(self.world, r, request.base))

    def _since_list(self, request, name, after, render):
        since = request.number("since", 0)
        _, per_page = request.paging()
        found, more = after(since, per_page)
        signature = tuple((e.id, e.version) for e in found)
        links = []
        if more:
            others = [(k, v) for k, v in request.query if k != "since"]
            links.append(f'<{request.base}/{name}?{urlencode(others + [("since", found[-1].id)])}>; rel="next"')
        links.append(f'<{request.base}/{name}{{?since}}>; rel="first"')
        return self._ok((name, since, per_page, request.base), signature,
                        lambda: [render(e) for e in found], [("Link", ", ".join(links))])


def entity(item):
    """The user or repository behind a list item (items of starred/stargazers are (entity, date))."""
    return item[0] if isinstance(item, tuple) else item
