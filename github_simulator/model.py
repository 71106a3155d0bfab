"""The entities of a world: accounts and repositories, linked by insertion-ordered dicts.

Dicts rather than lists because GitHub's lists keep the order things happened (oldest follower
first, newest star last) while follows, stars and deletions must stay O(1). ``version`` changes
whenever the entity's served representation changes (see ``World``); the server's page cache
is keyed on it.
"""


# Plain records with slots (a 100,000-account world holds half a million): many attributes, by design.
# pylint: disable=too-many-instance-attributes


class User:
    """An account: a user or an organisation."""

    __slots__ = ("id", "login", "is_org", "site_admin", "created", "fields", "version",
                 "followers", "following", "starred", "repos")

    def __init__(self, user_id, login, is_org, site_admin, created):
        self.id = user_id
        self.login = login
        self.is_org = is_org
        self.site_admin = site_admin
        self.created = created      # epoch seconds
        self.fields = None          # explicit profile values (loaded worlds, update_user)
        self.version = 0
        self.followers = {}         # User -> None, oldest first
        self.following = {}         # User -> None, oldest first
        self.starred = {}           # Repo -> starred_at (epoch seconds), oldest first
        self.repos = {}             # Repo -> None (owned, private included)


class Repo:
    """A repository; ``parent`` is the repository it was forked from."""

    __slots__ = ("id", "owner", "name", "private", "parent", "created", "fields", "version", "alive",
                 "stargazers", "forks")

    def __init__(self, repo_id, owner, name, private, created):
        self.id = repo_id
        self.owner = owner
        self.name = name
        self.private = private
        self.parent = None          # Repo this is a fork of
        self.created = created
        self.fields = None
        self.version = 0
        self.alive = True           # False once deleted (old names may still point here)
        self.stargazers = {}        # User -> starred_at, oldest first
        self.forks = None           # {Repo: None} of direct forks, created on the first fork

    @property
    def full_name(self):
        """``owner/name`` as of now (both parts can be renamed)."""
        return f"{self.owner.login}/{self.name}"

    @property
    def source(self):
        """The root of the fork network (None for a repository that is not a fork)."""
        repo = self.parent
        while repo is not None and repo.parent is not None:
            repo = repo.parent
        return repo

    @property
    def forks_count(self):
        """Direct forks, as GitHub's ``forks_count``."""
        return len(self.forks) if self.forks else 0
