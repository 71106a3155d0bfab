"""GitHub's GET endpoints over a :class:`~github_simulator.world.World`: routing, paging, payloads.

Nothing here knows about sockets, tokens or quotas (see ``server.py``): :meth:`Api.get` maps a
path and query to a :class:`Reply`. Bodies are cached per (endpoint, entity, page, variant, base
URL) and keyed on the versions of every entity the page shows, so a hot page costs a dict lookup
and a version comparison, while any change in the world is visible at once. The ETag is a hash of
the body: identical bodies share an ETag, and a change that shows changes it.
"""

import hashlib
import math
import threading
from collections import OrderedDict
from functools import partial
from urllib.parse import unquote, urlencode

from . import fake, payloads
from .replies import DOCS, Reply, dump, error

STAR_MEDIA_TYPE = "star+json"
_USER_LISTS = ("followers", "following", "starred", "repos")
#: GitHub's answer past the last page it agrees to serve (page 400 of stargazers).
PAGINATION_LIMITED = (
    "In order to keep the API fast for everyone, pagination is limited for this resource. "
    "Check the rel=last link relation in the Link response header to see how far back you can traverse."
)

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
        """Integer parameter ``name``; ``default`` when absent or not a number (GitHub ignores those)."""
        try:
            return int(self.params.get(name, default))
        except ValueError:
            return default

    def paging(self):
        """``(page, per_page)``: per_page defaults to 30 and is capped at 100, as on GitHub."""
        per_page = self.number("per_page", 30)
        per_page = 30 if per_page < 1 else min(per_page, 100)
        return max(self.number("page", 1), 1), per_page


def etag_of(body):
    """A weak ETag (GitHub's are weak too) from the body: same body, same ETag."""
    return 'W/"' + hashlib.blake2b(body, digest_size=20).hexdigest() + '"'


class _BodyCache:
    """LRU of rendered bodies bounded by total size: ``key -> (signature, body, etag, last_modified)``."""

    def __init__(self, max_bytes):
        self._entries = OrderedDict()
        self._bytes = 0
        self._max_bytes = max_bytes
        self._lock = threading.Lock()

    def get(self, key):
        """The entry of ``key`` (marked recently used), or None."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
            return entry

    def put(self, key, entry):
        """Store ``entry``, evicting the least recently used ones beyond the byte budget."""
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

    def __init__(self, world, stargazer_page_cap=400, cache_bytes=128 * 2 ** 20):
        self.world = world
        self.stargazer_page_cap = stargazer_page_cap
        self._cache = _BodyCache(cache_bytes)

    def route(self, path):
        """``(endpoint name, handler, arguments)``; the name is the path template, or
        ``"unknown"`` (handler None) for paths GitHub would not serve here."""
        parts = [unquote(p) for p in path[1:].split("/")]
        head, rest = parts[0], parts[1:]
        found = ("unknown", None, ())
        if not rest and head in ("rate_limit", "users", "repositories"):
            # /rate_limit has no handler here: the server answers it, as it owns the quotas.
            found = (f"/{head}", {"users": self._users, "repositories": self._repositories}.get(head), ())
        elif head in ("users", "user") and len(rest) in (1, 2) and (head == "users" or rest[0].isdigit()):
            template, key = ("/users/{username}", rest[0]) if head == "users" else ("/user/{account_id}", int(rest[0]))
            if len(rest) == 1:
                found = (template, self._user, (key,))
            elif rest[1] in _USER_LISTS:
                found = (f"{template}/{rest[1]}", self._user_list, (key, rest[1]))
        elif head == "repos" and len(rest) in (2, 3) and rest[2:] in ([], ["stargazers"]):
            found = ("/repos/{owner}/{repo}" + "/stargazers" * (len(rest) == 3), self._repo_by_name,
                     (rest[0], rest[1], rest[2:]))
        elif head == "repositories" and len(rest) in (1, 2) and rest[0].isdigit() and rest[1:] in ([], ["stargazers"]):
            found = ("/repositories/{repository_id}" + "/stargazers" * (len(rest) == 2), self._repo_by_id,
                     (int(rest[0]), rest[1:]))
        return found

    @staticmethod
    def rate_limit(usage, authenticated):
        """``GET /rate_limit``; never cached (it changes with every counted request)."""
        body = dump(payloads.rate_limit(usage, authenticated))
        return Reply(200, body, etag=etag_of(body), last_modified=None)

    def get(self, handler, args, request):
        """Answer ``request`` with a handler from :meth:`route`, holding the world's lock."""
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

    def _page(self, request, version, items, render, link_path):
        """One page of the list ``items``, with GitHub's ``Link`` header pointing at ``link_path``.

        ``version`` covers the list's membership and order, each item's (id, version) how it
        renders. Stargazer lists stop at ``stargazer_page_cap`` pages, as GitHub's do.
        """
        page, per_page = request.paging()
        chosen = items[(page - 1) * per_page:page * per_page]
        signature = (version, tuple((e.id, e.version) for e in map(entity, chosen)))
        last = math.ceil(len(items) / per_page)
        if link_path.endswith("/stargazers"):
            last = min(last, self.stargazer_page_cap)
        link = self._link(request, link_path, page, last)
        key = (link_path, request.star, tuple(request.query), request.base)
        return self._ok(key, signature, lambda: [render(x) for x in chosen], [("Link", link)] if link else [])

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

    def _find_user(self, key):
        """By login (a str, case-insensitively) or by id (an int)."""
        return self.world.user_by_id(key) if isinstance(key, int) else self.world.find_user(key)

    def _user(self, request, key):
        user = self._find_user(key)
        if user is None:
            by_id = isinstance(key, int)
            return error(404, "Not Found", _DOC_URLS["/user/{account_id}" if by_id else "/users/{username}"])
        return self._ok(("user", user.id, request.base), user.version,
                        lambda: payloads.public_user(self.world, user, request.base))

    def _user_list(self, request, key, kind):
        """followers, following (simple users), starred (repositories), repos (minimal ones).
        Links point at ``/user/{id}/...``, as GitHub's do, so paging survives a rename."""
        user = self._find_user(key)
        if user is None:
            return error(404, "Not Found", _DOC_URLS[kind])
        simple = partial(payloads.simple_user, base=request.base)
        repository = partial(payloads.repository, self.world, base=request.base)
        params = request.params
        if kind in ("followers", "following"):
            items, render = list(user.followers if kind == "followers" else user.following), simple
        elif kind == "repos":
            sort = params.get("sort") if params.get("sort") in ("created", "updated", "pushed") else "full_name"
            repos = self.world.public_repos(user) if params.get("type") != "member" else []  # no collaborators here
            items, render = self.world.sorted_repos(repos, sort, params.get("direction")), repository
        else:
            # Newest star first unless asked otherwise; the star media type adds starred_at.
            items = list(user.starred.items())
            if params.get("sort") == "updated":
                items.sort(key=lambda star: self.world.repo_details(star[0])["updated_at"])
            if params.get("direction", "desc") != "asc":
                items.reverse()
            render = _dated("repo", repository) if request.star else _undated(repository)
        return self._page(request, user.version, items, render, f"/user/{user.id}/{kind}")

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
        """The full repository, or (``rest`` = ["stargazers"]) its stargazers."""
        if repo is None:
            return error(404, "Not Found", _DOC_URLS["stargazers" if rest else "repo"])
        if not rest:
            parent, source = repo.parent, repo.source
            signature = (repo.version, parent and (parent.id, parent.version), source and (source.id, source.version))
            return self._ok(("repo", repo.id, request.base), signature,
                            lambda: payloads.repository(self.world, repo, request.base, full=True))
        if request.paging()[0] > self.stargazer_page_cap:
            return error(422, PAGINATION_LIMITED, "https://docs.github.com/v3/#pagination")
        simple = partial(payloads.simple_user, base=request.base)
        render = _dated("user", simple) if request.star else _undated(simple)
        return self._page(request, repo.version, list(repo.stargazers.items()), render,
                          f"/repositories/{repo.id}/stargazers")

    def _users(self, request):
        """``GET /users?since=``: accounts by id; paged by ``since`` only, Link ``next`` + ``first``."""
        return self._since_list(request, "users", self.world.users_after,
                                partial(payloads.simple_user, base=request.base))

    def _repositories(self, request):
        """``GET /repositories?since=``: public repositories by id, paged like ``/users``."""
        return self._since_list(request, "repositories", self.world.repos_after,
                                partial(payloads.repository, self.world, base=request.base))

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


def _dated(name, render):
    """Render ``(entity, starred_at)`` items as the star media type does: ``{"starred_at", name}``."""
    def dated(item):
        return {"starred_at": fake.iso(item[1]), name: render(item[0])}
    return dated


def _undated(render):
    """Render ``(entity, starred_at)`` items without their date (the default media type)."""
    def undated(item):
        return render(item[0])
    return undated
