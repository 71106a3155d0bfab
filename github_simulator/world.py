"""The synthetic GitHub world the simulator serves: accounts, repositories, follows and stars.

A world is either generated deterministically from a seed (:meth:`World.generate`) or loaded from
JSON (:meth:`World.from_dict` / :meth:`World.load`) so that a test can write a tiny exact world.

JSON world format
-----------------
::

    {
      "users": [
        {"login": "octocat", "id": 1, "name": "The Octocat", "bio": "🐙", "location": null},
        {"login": "github", "id": 9919, "type": "Organization", "blog": "https://github.com"},
        {"login": "alice"}
      ],
      "repos": [
        {"full_name": "octocat/Hello-World", "id": 1296269, "description": "My first repo",
         "language": "C", "license": "mit", "topics": ["demo"]},
        {"full_name": "alice/Hello-World", "fork_of": "octocat/Hello-World"},
        {"full_name": "alice/secret", "private": true},
        {"full_name": "github/linguist", "archived": true}
      ],
      "follows": [["alice", "octocat"], ["octocat", "github"]],
      "stars": [["alice", "octocat/Hello-World"], ["octocat", "github/linguist", "2020-01-02T03:04:05Z"]]
    }

- ``users``: ``login`` is required. Optional: ``id`` (ids missing are assigned after the largest
  given one, in list order), ``type`` (``"User"`` or ``"Organization"``), ``site_admin`` and the
  profile fields ``name, company, blog, location, email, hireable, bio, twitter_username,
  public_gists, created_at, updated_at``. Unset profile fields are what GitHub serves for an empty
  profile: ``null``, except ``blog`` (``""``) and ``public_gists`` (``0``). Counts (``followers``,
  ``following``, ``public_repos``) are never given: they are always the true list lengths.
- ``repos``: ``full_name`` (``owner/name``) is required. Optional: ``id``, ``private``, ``fork_of``
  (``owner/name`` of the parent) and the fields ``description, homepage, language, topics,
  license, archived, disabled, has_issues, has_projects, has_wiki, has_pages, has_downloads,
  has_discussions, is_template, default_branch, open_issues_count, size, subscribers_count,
  created_at, updated_at, pushed_at``; ``license`` is a key (``"mit"``, ``"apache-2.0"``,
  ``"gpl-3.0"``, ``"bsd-3-clause"``, ``"bsd-2-clause"``, ``"agpl-3.0"``, ``"mpl-2.0"``,
  ``"unlicense"``, ``"other"``) or null.
  ``stargazers_count``, ``forks_count`` and ``watchers_count`` are always the true counts.
- ``follows``: ``[follower, followee]`` pairs in the order they happened (followers lists keep it).
- ``stars``: ``[login, "owner/name"]`` or ``[login, "owner/name", starred_at]``, applied in
  ``starred_at`` order (a star without a date comes a minute after the previous one).

Organisations cannot follow or star (as on GitHub); private repositories cannot be starred.

Consistency and change
----------------------
All reads and mutations hold :attr:`World.lock`. Every mutation bumps a version counter on each
entity whose served representation it changes (a star bumps the user, whose starred list changed,
and the repository, whose stargazers and ``stargazers_count`` changed; a rename bumps the user and
all its repositories, whose URLs embed the login). The server keys its cached pages on those
versions, so a change is visible immediately and changes the ETag of every response that shows it.
"""

import bisect
import gc
import json
import re
import threading
import time

from . import fake, generate, payloads
from .model import Repo, User

_LOGIN_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$")
_REPO_NAME_RE = re.compile(r"^[A-Za-z0-9._-]{1,100}$")

#: Profile fields a world file or ``update_user`` may set.
USER_FIELDS = ("name", "company", "blog", "location", "email", "hireable", "bio", "twitter_username",
               "public_gists", "created_at", "updated_at")
#: Repository fields a world file or ``update_repo`` may set.
REPO_FIELDS = ("description", "homepage", "language", "topics", "license", "archived", "disabled",
               "has_issues", "has_projects", "has_wiki", "has_pages", "has_downloads", "has_discussions",
               "is_template", "default_branch", "open_issues_count", "size", "subscribers_count",
               "created_at", "updated_at", "pushed_at")


class World:  # pylint: disable=too-many-instance-attributes,too-many-public-methods
    """Accounts, repositories and their relations; thread-safe; see the module docstring.

    Its public methods are the interface tests, demos and benchmarks code against: mutations,
    ground truth, and the lookups the server uses.
    """

    def __init__(self, seed=None):
        #: Reentrant lock held by every read and mutation (the server holds it while rendering).
        self.lock = threading.RLock()
        #: API base URL used by the ground-truth payload helpers (:meth:`user`, :meth:`repo`);
        #: a running :class:`~github_simulator.Simulator` sets it to its own base URL.
        self.base_url = "https://api.github.com"
        self._seed = seed            # None for loaded worlds: details are explicit, not derived
        self._org_logins = []        # for generated "company": "@org" values
        self._users = {}             # id -> User, ascending ids
        self._user_ids = []          # sorted ids of live accounts, for /users?since=
        self._by_login = {}          # login.lower() -> User
        self._repos = {}             # id -> Repo
        self._repo_ids = []          # sorted ids of live repositories, for /repositories?since=
        self._by_name = {}           # "<owner id>/<name.lower()>" -> Repo (a str is smaller than a tuple)
        self._redirects = {}         # (old owner login.lower(), old name.lower()) -> Repo
        self._tick = 0
        #: Epoch second of the latest change; strictly increases with every mutation so that
        #: ``Last-Modified`` / ``If-Modified-Since`` (one-second resolution) never miss a change.
        self.clock = int(time.time())

    # -----------------------------------------------------------------------------------------
    # Construction
    # -----------------------------------------------------------------------------------------

    @classmethod
    def generate(cls, users=5000, seed=42):
        """A GitHub-like world of ``users`` accounts, identical for identical arguments (see
        ``generate.py`` for its shape). Runs with the cyclic garbage collector paused, which would
        otherwise rescan the millions of new objects over and over and double the time taken."""
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            return cls._generate(users, seed)
        finally:
            if was_enabled:
                gc.enable()

    @classmethod
    def _generate(cls, users, seed):
        if users < 1:
            raise ValueError("a world needs at least one account")
        world = cls(seed=seed)
        accounts, repos = generate.generate(users, seed)
        world._org_logins = [a.login for a in accounts if a.is_org]
        world._index(accounts, repos)
        return world

    @classmethod
    def load(cls, path):
        """A world from a JSON file in the format of the module docstring."""
        with open(path, encoding="utf-8") as handle:
            return cls.from_dict(json.load(handle))

    @classmethod
    def from_dict(cls, data):
        """A world exactly as described by ``data`` (format in the module docstring)."""
        world = cls(seed=None)
        accounts = _accounts_from(data.get("users", []))
        by_login = {a.login.lower(): a for a in accounts}
        repos, by_name = _repos_from(data.get("repos", []), by_login)

        _relations_from(data, by_login, by_name, repos)
        world._index(sorted(accounts, key=lambda a: a.id), sorted(repos, key=lambda r: r.id))
        return world

    def _index(self, accounts, repos):
        """Fill the lookup tables; ``accounts`` and ``repos`` come sorted by id."""
        for account in accounts:
            self._users[account.id] = account
            self._by_login[account.login.lower()] = account
        self._user_ids = [a.id for a in accounts]
        for repo in repos:
            self._repos[repo.id] = repo
            self._by_name[_name_key(repo.owner.id, repo.name)] = repo
        self._repo_ids = [r.id for r in repos]

    # -----------------------------------------------------------------------------------------
    # Details (explicit fields over derived or empty defaults)
    # -----------------------------------------------------------------------------------------

    def user_details(self, user):
        """Profile fields of ``user`` (name, company, ..., created_at, updated_at)."""
        if self._seed is None:
            details = {"name": None, "company": None, "blog": "", "location": None, "email": None,
                       "hireable": None, "bio": None, "twitter_username": None, "public_gists": 0,
                       "created_at": fake.iso(user.created), "updated_at": fake.iso(user.created)}
        else:
            details = fake.user_details(self._seed, user.id, user.is_org, user.created, self._org_logins)
        if user.fields:
            details.update(user.fields)
        return details

    def repo_details(self, repo):
        """Descriptive fields of ``repo`` (description, language, licence key, flags, dates...)."""
        if self._seed is None:
            created = fake.iso(repo.created)
            details = {"description": None, "homepage": None, "language": None, "topics": [],
                       "license": None, "archived": False, "disabled": False, "has_issues": True,
                       "has_projects": True, "has_wiki": True, "has_pages": False, "has_downloads": True,
                       "has_discussions": False, "is_template": False, "default_branch": "main",
                       "open_issues_count": 0, "size": 0, "subscribers_count": 0,
                       "created_at": created, "updated_at": created, "pushed_at": created}
        else:
            source = repo.source
            details = fake.repo_details(self._seed, repo.id, repo.created, source.id if source else None)
        if repo.fields:
            details.update(repo.fields)
        return details

    # -----------------------------------------------------------------------------------------
    # Lookups used by the server (callers hold the lock)
    # -----------------------------------------------------------------------------------------

    def find_user(self, login):
        """The live account whose login matches case-insensitively, or None."""
        return self._by_login.get(login.lower())

    def user_by_id(self, user_id):
        """The live account with this id (renames do not change it), or None."""
        return self._users.get(user_id)

    def find_repo(self, owner_login, name):
        """``(repo, moved)`` for ``owner/name``: the public repository, ``moved`` True when the
        name is an old one (renamed repository or owner); ``(None, False)`` when nothing public."""
        owner = self._by_login.get(owner_login.lower())
        if owner is not None:
            repo = self._by_name.get(_name_key(owner.id, name))
            if repo is not None:
                return (None, False) if repo.private else (repo, False)
        repo = self._redirects.get((owner_login.lower(), name.lower()))
        if repo is not None and repo.alive and not repo.private:
            return repo, True
        return None, False

    def repo_by_id(self, repo_id):
        """The live public repository with this id, or None (private ones are invisible)."""
        repo = self._repos.get(repo_id)
        return None if repo is None or repo.private else repo

    def users_after(self, since, count):
        """Up to ``count`` live accounts with ids above ``since``, ascending; and whether more follow."""
        start = bisect.bisect_right(self._user_ids, since)
        ids = self._user_ids[start:start + count]
        return [self._users[i] for i in ids], start + count < len(self._user_ids)

    def repos_after(self, since, count):
        """Up to ``count`` public repositories with ids above ``since``; and whether more follow."""
        start = bisect.bisect_right(self._repo_ids, since)
        found = []
        for position in range(start, len(self._repo_ids)):
            repo = self._repos[self._repo_ids[position]]
            if not repo.private:
                if len(found) == count:
                    return found, True
                found.append(repo)
        return found, False

    def public_repos(self, user):
        """Repositories ``user`` owns that anyone may see (``public_repos`` counts these)."""
        return [r for r in user.repos if not r.private]

    def sorted_repos(self, repos, sort="full_name", direction=None):
        """``repos`` ordered like ``GET /users/{u}/repos?sort=&direction=`` (GitHub's defaults:
        ``full_name`` ascending, every other sort descending)."""
        if direction not in ("asc", "desc"):
            direction = "asc" if sort == "full_name" else "desc"
        if sort == "created":
            keyed = [((r.created, r.id), r) for r in repos]
        elif sort in ("updated", "pushed"):
            keyed = [((self.repo_details(r)[f"{sort}_at"], r.id), r) for r in repos]
        else:
            keyed = [(r.full_name.lower(), r) for r in repos]
        keyed.sort(key=lambda pair: pair[0], reverse=direction == "desc")
        return [r for _, r in keyed]

    # -----------------------------------------------------------------------------------------
    # Mutations
    # -----------------------------------------------------------------------------------------

    def _changed(self, *entities):
        """Record a mutation: new versions for ``entities``, the change clock moves forward."""
        for entity in entities:
            self._tick += 1
            entity.version = self._tick
        self.clock = max(self.clock + 1, int(time.time()))

    def _user(self, login):
        user = self._by_login.get(login.lower())
        if user is None:
            raise KeyError(f"no such user: {login!r}")
        return user

    def _repo(self, full_name):
        owner_login, _, name = full_name.partition("/")
        owner = self._by_login.get(owner_login.lower())
        repo = self._by_name.get(_name_key(owner.id, name)) if owner else None
        if repo is None:
            raise KeyError(f"no such repository: {full_name!r}")
        return repo

    def update_user(self, login, **fields):
        """Change profile fields (see ``USER_FIELDS``, plus ``site_admin``); ``updated_at`` moves."""
        unknown = set(fields) - ({*USER_FIELDS, "site_admin"} - {"created_at"})
        if unknown:
            raise ValueError(f"cannot update {sorted(unknown)}")
        with self.lock:
            user = self._user(login)
            touched = [user]
            if "site_admin" in fields:
                user.site_admin = bool(fields.pop("site_admin"))
                touched.extend(user.repos)   # their payloads embed the owner
            self._changed(*touched)
            user.fields = {**(user.fields or {}), "updated_at": fake.iso(self.clock), **fields}

    def update_repo(self, full_name, **fields):
        """Change repository fields (see ``REPO_FIELDS``, e.g. ``archived=True``)."""
        unknown = set(fields) - (set(REPO_FIELDS) - {"created_at"})
        if unknown:
            raise ValueError(f"cannot update {sorted(unknown)}")
        _check_license(fields)
        with self.lock:
            repo = self._repo(full_name)
            self._changed(repo, *self._descendants(repo))   # forks embed their parent and source
            repo.fields = {**(repo.fields or {}), "updated_at": fake.iso(self.clock), **fields}

    def follow(self, follower_login, followee_login):
        """``follower`` starts following ``followee`` (appended last); no-op if already."""
        with self.lock:
            follower, followee = self._user(follower_login), self._user(followee_login)
            _check_follow(follower, followee)
            if followee not in follower.following:
                follower.following[followee] = None
                followee.followers[follower] = None
                self._changed(follower, followee)

    def unfollow(self, follower_login, followee_login):
        """``follower`` stops following ``followee``; no-op if it was not."""
        with self.lock:
            follower, followee = self._user(follower_login), self._user(followee_login)
            if _unlink(follower, follower.following, followee, followee.followers):
                self._changed(follower, followee)

    def star(self, login, full_name):
        """``login`` stars ``owner/repo`` now (newest); no-op if already starred."""
        with self.lock:
            user, repo = self._user(login), self._repo(full_name)
            _check_star(user, repo)
            if repo not in user.starred:
                starred_at = int(time.time())
                user.starred[repo] = starred_at
                repo.stargazers[user] = starred_at
                self._changed(user, repo, *self._descendants(repo))

    def unstar(self, login, full_name):
        """``login`` removes its star from ``owner/repo``; no-op if there was none."""
        with self.lock:
            user, repo = self._user(login), self._repo(full_name)
            if _unlink(user, user.starred, repo, repo.stargazers):
                self._changed(user, repo, *self._descendants(repo))

    def rename_user(self, old_login, new_login):
        """Change a login: the old one answers 404, ``/user/{id}`` keeps working, and the
        account's repositories answer 301 under their old full names."""
        if not _LOGIN_RE.match(new_login):
            raise ValueError(f"invalid login {new_login!r}")
        with self.lock:
            user = self._user(old_login)
            clash = self._by_login.get(new_login.lower())
            if clash is not None and clash is not user:
                raise ValueError(f"login {new_login!r} is taken")
            old = user.login.lower()
            for repo in user.repos:
                self._redirects[(old, repo.name.lower())] = repo
            del self._by_login[old]
            self._by_login[new_login.lower()] = user
            user.login = new_login
            self._changed(user, *user.repos, *(f for r in user.repos for f in self._descendants(r)))

    def rename_repo(self, full_name, new_name):
        """Rename ``owner/old`` to ``owner/new_name``; the old name answers 301."""
        _check_repo_name(new_name)
        with self.lock:
            repo = self._repo(full_name)
            clash = self._by_name.get(_name_key(repo.owner.id, new_name))
            if clash is not None and clash is not repo:
                raise ValueError(f"{repo.owner.login}/{new_name} exists")
            self._redirects[(repo.owner.login.lower(), repo.name.lower())] = repo
            del self._by_name[_name_key(repo.owner.id, repo.name)]
            self._by_name[_name_key(repo.owner.id, new_name)] = repo
            repo.name = new_name
            # The owner's repository list is sorted by name: it changed too.
            self._changed(repo, repo.owner, *self._descendants(repo))

    def delete_user(self, login):
        """Delete an account with its repositories, follows and stars: all of it answers 404."""
        with self.lock:
            user = self._user(login)
            for repo in list(user.repos):
                self._delete_repo(repo)
            for other in user.followers:
                del other.following[user]
            for other in user.following:
                del other.followers[user]
            for repo in user.starred:
                del repo.stargazers[user]
            touched = [*user.followers, *user.following, *user.starred,
                       *(f for r in user.starred for f in self._descendants(r))]
            user.followers, user.following, user.starred = {}, {}, {}
            del self._by_login[user.login.lower()]
            del self._users[user.id]
            del self._user_ids[bisect.bisect_left(self._user_ids, user.id)]
            self._changed(user, *touched)

    def delete_repo(self, full_name):
        """Delete a repository: it answers 404 and disappears from every list; its forks become
        standalone repositories (as on GitHub when a fork network loses its root)."""
        with self.lock:
            self._delete_repo(self._repo(full_name))

    def _delete_repo(self, repo):
        touched = [repo, repo.owner, *repo.stargazers]
        for user in repo.stargazers:
            del user.starred[repo]
        repo.stargazers = {}
        if repo.parent is not None:
            del repo.parent.forks[repo]
            touched.extend([repo.parent, *self._descendants(repo.parent)])
        for fork in repo.forks or ():
            touched.extend(self._descendants(fork))
            fork.parent = None
            touched.append(fork)
        repo.forks = None
        repo.alive = False
        del repo.owner.repos[repo]
        del self._by_name[_name_key(repo.owner.id, repo.name)]
        del self._repos[repo.id]
        del self._repo_ids[bisect.bisect_left(self._repo_ids, repo.id)]
        self._changed(*touched)

    def _descendants(self, repo):
        """Forks of ``repo``, forks of those, ...: their full payloads embed ``repo``."""
        found = []
        pending = list(repo.forks or ())
        while pending:
            fork = pending.pop()
            found.append(fork)
            pending.extend(fork.forks or ())
        return found

    # -----------------------------------------------------------------------------------------
    # Ground truth, as the API shows it (for tests and benchmarks)
    # -----------------------------------------------------------------------------------------

    def user(self, login):
        """The ``GET /users/{login}`` payload (URLs under :attr:`base_url`)."""
        with self.lock:
            return payloads.public_user(self, self._user(login), self.base_url)

    def repo(self, full_name):
        """The ``GET /repos/{owner}/{repo}`` payload of a public repository."""
        with self.lock:
            repo = self._repo(full_name)
            if repo.private:
                raise KeyError(f"no such repository: {full_name!r}")
            return payloads.repository(self, repo, self.base_url, full=True)

    def followers_of(self, login):
        """Logins of the followers, oldest first (the API's order)."""
        with self.lock:
            return [u.login for u in self._user(login).followers]

    def following_of(self, login):
        """Logins ``login`` follows, oldest first (the API's order)."""
        with self.lock:
            return [u.login for u in self._user(login).following]

    def starred_by(self, login):
        """Full names of the starred repositories, newest star first (the API's default)."""
        with self.lock:
            return [r.full_name for r in reversed(self._user(login).starred)]

    def repos_of(self, login):
        """Full names of the public repositories owned, sorted by full name (the API's default)."""
        with self.lock:
            return [r.full_name for r in self.sorted_repos(self.public_repos(self._user(login)))]

    def stargazers_of(self, full_name):
        """Logins of the stargazers, oldest first (the API's order)."""
        with self.lock:
            return [u.login for u in self._repo(full_name).stargazers]

    def logins(self):
        """All live logins, in id (sign-up) order."""
        with self.lock:
            return [self._users[i].login for i in self._user_ids]

    def summary(self):
        """Counts that describe the world (printed by the CLI)."""
        with self.lock:
            accounts = list(self._users.values())
            repos = list(self._repos.values())
            return {
                "users": sum(not a.is_org for a in accounts),
                "organizations": sum(a.is_org for a in accounts),
                "repositories": len(repos),
                "private_repositories": sum(r.private for r in repos),
                "forks": sum(r.parent is not None for r in repos),
                "follows": sum(len(a.following) for a in accounts),
                "stars": sum(len(a.starred) for a in accounts),
                "max_followers": max((len(a.followers) for a in accounts), default=0),
                "max_stargazers": max((len(r.stargazers) for r in repos), default=0),
            }


def _accounts_from(entries):
    """Accounts of a JSON world's ``users`` (ids assigned after the largest given one)."""
    next_id = max((e["id"] for e in entries if "id" in e), default=0) + 1
    accounts = []
    taken = set()
    for entry in entries:
        unknown = set(entry) - {"login", "id", "type", "site_admin", *USER_FIELDS}
        if unknown:
            raise ValueError(f"user {entry.get('login')!r}: unknown fields {sorted(unknown)}")
        login = entry["login"]
        if not _LOGIN_RE.match(login) or login.lower() in taken:
            raise ValueError(f"invalid or duplicate login {login!r}")
        taken.add(login.lower())
        if entry.get("type", "User") not in ("User", "Organization"):
            raise ValueError(f"user {login!r}: type must be 'User' or 'Organization'")
        user_id = entry.get("id")
        if user_id is None:
            user_id, next_id = next_id, next_id + 1
        # Default sign-up dates follow ids, as GitHub's do.
        created = fake.parse_iso(entry["created_at"]) if "created_at" in entry else fake.GITHUB_START + 3600 * user_id
        account = User(user_id, login, entry.get("type") == "Organization", bool(entry.get("site_admin")), created)
        account.fields = {k: entry[k] for k in USER_FIELDS if k in entry}
        accounts.append(account)
    if len({a.id for a in accounts}) != len(accounts):
        raise ValueError("duplicate user ids")
    return accounts


def _repos_from(entries, by_login):
    """Repositories of a JSON world's ``repos``, in list order, and their name index."""
    next_id = max((e["id"] for e in entries if "id" in e), default=0) + 1
    repos = []
    by_name = {}
    for entry in entries:
        unknown = set(entry) - {"full_name", "id", "private", "fork_of", *REPO_FIELDS}
        if unknown:
            raise ValueError(f"repo {entry.get('full_name')!r}: unknown fields {sorted(unknown)}")
        owner_login, _, name = entry["full_name"].partition("/")
        owner = by_login.get(owner_login.lower())
        if owner is None:
            raise ValueError(f"repo {entry['full_name']!r}: unknown owner")
        _check_repo_name(name)
        if _name_key(owner.id, name) in by_name:
            raise ValueError(f"duplicate repository {entry['full_name']!r}")
        repo_id = entry.get("id")
        if repo_id is None:
            repo_id, next_id = next_id, next_id + 1
        created = fake.parse_iso(entry["created_at"]) if "created_at" in entry else owner.created + 86400
        repo = Repo(repo_id, owner, name, bool(entry.get("private")), created)
        repo.fields = {k: entry[k] for k in REPO_FIELDS if k in entry}
        _check_license(repo.fields)
        owner.repos[repo] = None
        by_name[_name_key(owner.id, name)] = repo
        repos.append(repo)
    if len({r.id for r in repos}) != len(repos):
        raise ValueError("duplicate repository ids")
    return repos, by_name


def _relations_from(data, by_login, by_name, repos):
    """Apply a JSON world's ``follows``, ``stars`` and ``fork_of`` (``repos`` in list order)."""

    def repo_named(full_name):
        owner_login, _, name = full_name.partition("/")
        owner = by_login.get(owner_login.lower())
        return by_name.get(_name_key(owner.id, name)) if owner else None

    for pair in data.get("follows", []):
        follower, followee = (by_login.get(login.lower()) for login in pair)
        if follower is None or followee is None:
            raise ValueError(f"follow {pair!r}: unknown login")
        _check_follow(follower, followee)
        follower.following[followee] = None
        followee.followers[follower] = None
    _stars_from(data.get("stars", []), by_login, repo_named)
    for repo, entry in zip(repos, data.get("repos", []), strict=True):
        if entry.get("fork_of"):
            parent = repo_named(entry["fork_of"])
            if parent is None or parent.private or repo.private or parent is repo:
                raise ValueError(f"repo {entry['full_name']!r}: fork_of must name another public repository")
            repo.parent = parent
            if parent.forks is None:
                parent.forks = {}
            parent.forks[repo] = None


def _stars_from(entries, by_login, repo_named):
    """Stars in ``starred_at`` order (a star without a date comes a minute after the previous one)."""
    stars = []
    previous = fake.GITHUB_START
    for star in entries:
        user, repo = by_login.get(star[0].lower()), repo_named(star[1])
        if user is None or repo is None:
            raise ValueError(f"star {star!r}: unknown login or repository")
        _check_star(user, repo)
        previous = fake.parse_iso(star[2]) if len(star) > 2 else previous + 60
        stars.append((previous, user, repo))
    stars.sort(key=lambda s: s[0])
    for starred_at, user, repo in stars:
        user.starred[repo] = starred_at
        repo.stargazers[user] = starred_at


def _unlink(source, outgoing, target, incoming):
    """Drop the edge `source` -> `target` from both its ends (`outgoing` of the source, `incoming` of the
    target); whether there was one."""
    if target not in outgoing:
        return False
    del outgoing[target]
    del incoming[source]
    return True


def _name_key(owner_id, name):
    return f"{owner_id}/{name.lower()}"


def _check_follow(follower, followee):
    if follower is followee:
        raise ValueError("an account cannot follow itself")
    if follower.is_org:
        raise ValueError(f"organisation {follower.login!r} cannot follow")


def _check_star(user, repo):
    if user.is_org:
        raise ValueError(f"organisation {user.login!r} cannot star")
    if repo.private:
        raise ValueError(f"private repository {repo.full_name!r} cannot be starred")


def _check_repo_name(name):
    if not _REPO_NAME_RE.match(name) or name in (".", ".."):
        raise ValueError(f"invalid repository name {name!r}")


def _check_license(fields):
    key = fields.get("license")
    if key is not None and key not in fake.LICENSES:
        raise ValueError(f"unknown licence key {key!r}; known: {sorted(fake.LICENSES)}")
