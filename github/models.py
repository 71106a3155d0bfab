"""The crawled graph: developers, repositories, who follows whom, who starred what, and the quota ledger.

GitHub's numeric id is the identity of every developer and repository (logins and repository names change);
our own primary keys are UUIDs so that URLs do not leak crawl order. A developer known only from somebody's
follower or stargazer list is a *stub*: github_id and login, profile fields null until its profile is read.
"""
import uuid

from django.db import models
from django.db.models import F
from django.db.models.functions import Lower

# `field__lower=value` is LOWER(column) = value: the expression the case-insensitive unique constraints and filter
# indexes are built on, so a lookup in any case goes through them.
models.CharField.register_lookup(Lower)


class NamedQuerySet(models.QuerySet):
    """Rows found by the name GitHub gives them (a login, owner/name) in any case, as GitHub matches names."""

    def named(self, name: str) -> "NamedQuerySet":
        """The rows (0 or 1: the name's case-insensitive unique index) whose name is `name` in any case."""
        return self.filter(**{f"{self.model.NAME_FIELD}__lower": name.lower()})


class NullsSmallestIndex(models.Index):
    """An index in the order the API sorts a nullable column: nulls count as the smallest value.

    `ordering=-followers_count` (the top-N query) reads it forwards, `ordering=followers_count` backwards, and
    range filters use it too: one index for both directions (see StrictOrderingFilter in github/api/filters.py).
    PostgreSQL needs `DESC NULLS LAST` spelled out; SQLite sorts nulls smallest already and cannot declare it.

    `tie`, the unique column the API orders ties by (`github_id`), comes second and descending, so that read
    backwards the index is exactly the ascending order: the stubs' nulls, 40% of the developers, come first,
    and without it their order by github_id was a sort of all of them for the first page (100 ms at 1,000,000
    developers). Read forwards, ties are sorted by github_id group by group, small groups at the top.
    """

    def __init__(self, *, column, name, tie=None):
        self.column, self.tie = column, tie
        super().__init__(F(column).desc(nulls_last=True), *([F(tie).desc()] if tie else []), name=name)

    def deconstruct(self):
        kwargs = {"column": self.column, "name": self.name} | ({"tie": self.tie} if self.tie else {})
        return f"{self.__module__}.{type(self).__name__}", (), kwargs

    def create_sql(self, model, schema_editor, using="", **kwargs):
        if schema_editor.connection.vendor == "postgresql":
            return super().create_sql(model, schema_editor, using=using, **kwargs)
        plain = models.Index(fields=[self.column, *([f"-{self.tie}"] if self.tie else [])], name=self.name)
        return plain.create_sql(model, schema_editor, using=using, **kwargs)


def nulls_smallest_index(table, column):
    """A NullsSmallestIndex with a name within Django's 30 characters, ties by github_id."""
    return NullsSmallestIndex(column=column, name=f"{table[:4]}_{column[:16]}_desc_idx", tie="github_id")


def present(column):
    """The condition of a partial index on a column stubs leave null: only the rows that have a value."""
    return models.Q(**{f"{column}__isnull": False})


class Developer(models.Model):
    """A GitHub account (user or organisation)."""

    NAME_FIELD = "login"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    github_id = models.BigIntegerField(unique=True)
    login = models.CharField(max_length=39)
    type = models.CharField(max_length=20, null=True, blank=True, help_text="User or Organization")
    name = models.CharField(max_length=255, null=True, blank=True)
    location = models.CharField(max_length=255, null=True, blank=True)
    bio = models.TextField(null=True, blank=True)
    company = models.CharField(max_length=255, null=True, blank=True)
    email = models.CharField(max_length=255, null=True, blank=True)
    blog = models.CharField(max_length=255, null=True, blank=True)
    twitter_username = models.CharField(max_length=255, null=True, blank=True)
    created_at = models.DateTimeField(null=True, blank=True, help_text="GitHub's creation time")
    updated_at = models.DateTimeField(null=True, blank=True, help_text="GitHub's last update time")
    followers_count = models.IntegerField(null=True, blank=True)
    following_count = models.IntegerField(null=True, blank=True)
    public_gists = models.IntegerField(null=True, blank=True)
    public_repos = models.IntegerField(null=True, blank=True)

    followers = models.ManyToManyField(
        "self",
        through="Follow",
        through_fields=("followee", "follower"),
        symmetrical=False,
        related_name="following",
    )
    starred_repositories = models.ManyToManyField("Repository", through="Star", related_name="stargazers")

    # Crawler bookkeeping: when each part was last read completely from GitHub (null = never).
    discovered_at = models.DateTimeField(auto_now_add=True)
    seed_distance = models.IntegerField(
        null=True, blank=True, help_text="Hops from the nearest seed user (0 = a seed); discovery goes nearest first"
    )
    profiled_at = models.DateTimeField(
        null=True, blank=True,
        help_text="When the profile (counts included) was last read, by a sync of its own or alongside a list "
                  "(null: a stub, known only by id and login)",
    )
    profile_synced_at = models.DateTimeField(null=True, blank=True)
    followers_synced_at = models.DateTimeField(null=True, blank=True)
    following_synced_at = models.DateTimeField(null=True, blank=True)
    starred_synced_at = models.DateTimeField(null=True, blank=True)
    repositories_synced_at = models.DateTimeField(null=True, blank=True)
    gone_at = models.DateTimeField(null=True, blank=True, help_text="When GitHub answered 404 for this account")
    sync_queued_at = models.DateTimeField(
        null=True, blank=True, help_text="When discovery queued a sync of this developer (cleared when it ends)"
    )

    objects = NamedQuerySet.as_manager()

    class Meta:
        ordering = ["github_id"]
        constraints = [models.UniqueConstraint(Lower("login"), name="developer_login_ci_unique")]
        indexes = [
            models.Index(fields=["login"]),
            # Partial (`present`): a stub, most rows of a crawl, has none of these columns, and an index a row is
            # not in costs its insert nothing. The filters they serve (exact, lte/gte, the case-insensitive `email`)
            # match no null and no ordering reads them.
            models.Index(fields=["location"], name="developer_location_idx", condition=present("location")),
            models.Index(fields=["company"], name="developer_company_idx", condition=present("company")),
            models.Index(fields=["email"], name="developer_email_idx", condition=present("email")),
            models.Index(Lower("email"), name="developer_email_ci_idx", condition=present("email")),
            # bio__lte/gte (GitHub caps a bio at 160 characters, well within a btree entry). Whole, not partial: a
            # partial one would be a candidate for every `bio` LIKE (its condition implied), read from end to end.
            models.Index(fields=["bio"], name="developer_bio_idx"),
            *[nulls_smallest_index("developer", name) for name in (
                "name", "created_at", "updated_at", "followers_count", "following_count", "public_gists",
                "public_repos",
            )],
            # The `synced` filter: synced profiles in the API's default order.
            models.Index(fields=["github_id"], name="developer_synced_idx",
                         condition=models.Q(profile_synced_at__isnull=False)),
            # Discovery: never-synced stubs nearest to a seed, then the developers synced longest ago.
            models.Index(
                fields=["seed_distance", "github_id"], name="developer_stub_queue_idx",
                condition=models.Q(profile_synced_at__isnull=True, gone_at__isnull=True),
            ),
            models.Index(
                fields=["profile_synced_at", "github_id"], name="developer_resync_queue_idx",
                condition=models.Q(profile_synced_at__isnull=False, gone_at__isnull=True),
            ),
        ]

    def __str__(self):
        return self.login


def edge_end(model):
    """One end of an edge (Follow, Star): a relation to `model` without a database foreign key.

    The crawl writes an edge only between rows the same sync has just upserted, and deletes no developer or
    repository (GitHub's deletions are marked, `gone_at`); deleting one through the ORM still deletes its edges
    (CASCADE). A foreign key made PostgreSQL check every edge at commit, one query an edge through a trigger: a
    quarter of its CPU ingesting full pages (BENCHMARKS.md, "Worker throughput"). The reliability runs count
    dangling edges after every crawl (reliability/canonical.py). No single-column index: the edge's unique
    constraint and its reverse index serve lookups by either side, and every index is written once per edge.
    """
    return models.ForeignKey(model, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False)


def edge_meta(table: str, source: str, target: str):
    """The Meta of an edge table: one row per (source, target), which the crawl's bulk writes rely on (ON CONFLICT,
    github/bulk.py), and the reverse index that reads the edges from the target's side."""
    return type("Meta", (), {
        "constraints": [models.UniqueConstraint(fields=[source, target], name=f"{table}_unique")],
        "indexes": [models.Index(fields=[target, source], name=f"{table}_{target}_idx")],
    })


class Edge(models.Model):
    """An edge between two rows (`edge_end`s), shown as "source ARROW target", and when the crawl first saw it."""

    ARROW = "->"
    first_seen_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True

    def __str__(self):
        source, target = (field.attname for field in self._meta.fields if field.is_relation)
        return f"{getattr(self, source)} {self.ARROW} {getattr(self, target)}"


class Follow(Edge):
    """One edge of the follow graph: `follower` follows `followee`. Both directions are read from this table."""

    follower = edge_end(Developer)
    followee = edge_end(Developer)
    Meta = edge_meta("follow", "follower", "followee")


# A repository's flags as GitHub's defaults have them: the columns' defaults, and what ingestion stores for a flag
# a payload leaves out.
REPOSITORY_FLAGS = {
    "archived": False, "disabled": False, "fork": False, "private": False, "has_pages": False,
    "has_downloads": True, "has_issues": True, "has_projects": True, "has_wiki": True,
}
# The rarer value of each flag and of the homepage's presence: what their filters' partial indexes hold.
RARE_REPOSITORY_FLAGS = {flag: not default for flag, default in REPOSITORY_FLAGS.items()} | {"homepage__isnull": False}


class Repository(models.Model):
    """A GitHub repository. `subscribers_count` is only known once the full repository payload was read."""

    NAME_FIELD = "full_name"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    github_id = models.BigIntegerField(unique=True)
    owner = models.ForeignKey(Developer, on_delete=models.CASCADE, related_name="repositories")
    owner_github_id = models.BigIntegerField()
    name = models.CharField(max_length=100)
    full_name = models.CharField(max_length=140)
    description = models.TextField(null=True, blank=True)
    homepage = models.CharField(max_length=500, null=True, blank=True)
    language = models.CharField(max_length=100, null=True, blank=True)
    created_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(null=True, blank=True)
    pushed_at = models.DateTimeField(null=True, blank=True)
    has_downloads = models.BooleanField(default=REPOSITORY_FLAGS["has_downloads"])
    has_issues = models.BooleanField(default=REPOSITORY_FLAGS["has_issues"])
    has_pages = models.BooleanField(default=REPOSITORY_FLAGS["has_pages"])
    has_projects = models.BooleanField(default=REPOSITORY_FLAGS["has_projects"])
    has_wiki = models.BooleanField(default=REPOSITORY_FLAGS["has_wiki"])
    private = models.BooleanField(default=REPOSITORY_FLAGS["private"])
    archived = models.BooleanField(default=REPOSITORY_FLAGS["archived"])
    disabled = models.BooleanField(default=REPOSITORY_FLAGS["disabled"])
    fork = models.BooleanField(default=REPOSITORY_FLAGS["fork"])
    stargazers_count = models.IntegerField(default=0)
    subscribers_count = models.IntegerField(null=True, blank=True)
    watchers_count = models.IntegerField(default=0)
    open_issues_count = models.IntegerField(default=0)
    forks_count = models.IntegerField(default=0)
    topics = models.JSONField(default=list, blank=True)
    license = models.CharField(max_length=100, null=True, blank=True, help_text="SPDX id of the licence")

    # Crawler bookkeeping.
    discovered_at = models.DateTimeField(auto_now_add=True)
    synced_at = models.DateTimeField(null=True, blank=True, help_text="Last read of the full repository payload")
    stargazers_synced_at = models.DateTimeField(null=True, blank=True)
    gone_at = models.DateTimeField(null=True, blank=True, help_text="When GitHub answered 404 for this repository")

    objects = NamedQuerySet.as_manager()

    class Meta:
        ordering = ["github_id"]
        verbose_name_plural = "repositories"
        constraints = [models.UniqueConstraint(Lower("full_name"), name="repository_full_name_ci_unique")]
        indexes = [
            models.Index(fields=["owner_github_id"]),
            models.Index(fields=["name"]),
            models.Index(fields=["full_name"]),
            *[nulls_smallest_index("repository", name) for name in (
                "language", "created_at", "updated_at", "pushed_at", "subscribers_count",
            )],
            models.Index(fields=["stargazers_count"]),
            models.Index(fields=["watchers_count"]),
            models.Index(fields=["open_issues_count"]),
            models.Index(fields=["forks_count"]),
            models.Index(Lower("name"), name="repository_name_ci_idx"),
            # The case-insensitive `language` filter; `description` and `homepage` exact and isnull (GitHub caps
            # a description at 350 characters, well within a btree entry).
            models.Index(Lower("language"), name="repository_language_ci_idx"),
            models.Index(fields=["description"], name="repository_description_idx"),
            models.Index(fields=["homepage"], name="repository_homepage_value_idx"),
            # Boolean and presence filters: a partial index on the rarer value, in the API's default order.
            *[
                models.Index(fields=["github_id"], name=f"repository_{name.split('__', maxsplit=1)[0]}_idx",
                             condition=models.Q(**{name: value}))
                for name, value in RARE_REPOSITORY_FLAGS.items()
            ],
        ]

    def __str__(self):
        return self.full_name


class Star(Edge):
    """`developer` starred `repository`; the reverse side is Repository.stargazers."""

    ARROW = "*"
    developer = edge_end(Developer)
    repository = edge_end(Repository)
    Meta = edge_meta("star", "developer", "repository")


def rank_of(model):
    """The key of a rank table: one row per row of `model`, `ranking` on the model's side.

    No database foreign key, so the swap (github/rank.py) needs no constraint rebuilt; deleting a row through
    the ORM still deletes its rank.
    """
    return models.OneToOneField(model, on_delete=models.CASCADE, primary_key=True, db_constraint=False,
                                related_name="ranking")


class RankRow(models.Model):
    """A row of a narrow rank table (github/rank.py computes them): the table is replaced whole at each
    computation (a freshly loaded copy swapped in), where writing the rank into the developers table rewrote
    each row into its ~20 indexes, minutes at 1,000,000 rows.

    Every developer and repository has a row (a database trigger adds one, rank null, on insert), so the API
    orders by rank through an inner join that walks the rank index (a left join would sort every row).
    """

    computed_at = models.DateTimeField(null=True, help_text="When `rank` was computed")

    class Meta:
        abstract = True

    def __str__(self):
        return f"{self.pk} {self.rank}"  # pylint: disable=no-member  # each table declares its rank


class DeveloperRank(RankRow):
    """A developer's PageRank in the follow graph."""

    developer = rank_of(Developer)
    rank = models.FloatField(null=True, help_text="PageRank in the follow graph (all ranks sum to 1)")

    class Meta:
        indexes = [NullsSmallestIndex(column="rank", name="developerrank_rank_idx")]


class RepositoryRank(RankRow):
    """A repository's rank: the sum of its stargazers' PageRanks."""

    repository = rank_of(Repository)
    rank = models.FloatField(null=True, help_text="Sum of the PageRanks of its stargazers")

    class Meta:
        indexes = [NullsSmallestIndex(column="rank", name="repositoryrank_rank_idx")]


class RateLimit(models.Model):
    """The quota ledger: one row per credential and GitHub resource; id 1 is the first credential's core quota.

    `credential` is a label (a short hash of the token, or "anonymous"), never the token itself.
    """

    credential = models.CharField(max_length=64)
    resource = models.CharField(max_length=20, default="core")
    rate_limit = models.IntegerField()
    rate_remaining = models.IntegerField()
    rate_reset_raw = models.BigIntegerField(help_text="Reset time as GitHub sends it: UTC epoch seconds")
    rate_reset = models.DateTimeField()
    updated = models.DateTimeField(auto_now=True, help_text="Last change of the row, reservations included")
    read_at = models.DateTimeField(null=True, help_text="GitHub's clock (its Date header) when it sent the reading "
                                                        "the row holds")

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["credential", "resource"], name="ratelimit_unique")]
        # Triggering a sync spends this quota, so the right to do it lives here.
        permissions = [("trigger_tasks", "Can trigger GitHub sync tasks")]

    def __str__(self):
        return f"{self.credential}/{self.resource}: {self.rate_remaining}/{self.rate_limit}"


class ConditionalValidator(models.Model):
    """The ETag and Last-Modified of a GitHub URL as last read completely, for conditional requests.

    Kept per URL, not per token: when another token's ETag differs, GitHub answers 200 and nothing is lost.
    """

    url = models.CharField(max_length=500, unique=True)
    etag = models.CharField(max_length=200, blank=True, default="")
    last_modified = models.CharField(max_length=64, blank=True, default="")
    updated = models.DateTimeField(auto_now=True)

    def __str__(self):
        return self.url


class ListProgress(models.Model):
    """Where the read of a list longer than one window's budget stopped, so the next run continues from there.

    Holds the items read so far (GitHub's URLs dropped), the next page's URL as GitHub linked it, and the
    validators of the page 1 they were read with: a later run asks for page 1 conditionally on them and goes
    on only when it is unchanged (304, free), else reads the list again from the start. Deleted in the
    transaction that stores the list whole; the relation set is never replaced from a part.
    """

    path = models.CharField(max_length=500, unique=True, help_text="The list as the sync asks for it, e.g. "
                                                                    "/users/octocat/followers")
    etag = models.CharField(max_length=200, blank=True, default="")
    last_modified = models.CharField(max_length=64, blank=True, default="")
    next_url = models.TextField()
    items = models.JSONField(default=list)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "list progress"

    def __str__(self):
        return f"{self.path}: {len(self.items)} items read"


class CrawlSnapshot(models.Model):
    """The crawl's status at one moment (github/status.py), taken by a beat task every SNAPSHOT_INTERVAL_MINUTES
    and kept SNAPSHOT_KEEP_DAYS: the dashboard's history, read without counting the big tables on a page view."""

    taken_at = models.DateTimeField(db_index=True)
    developers = models.BigIntegerField(help_text="Stored, stubs included (PostgreSQL's estimate when large)")
    profiled = models.BigIntegerField(help_text="Profile read at least once")
    fully_synced = models.BigIntegerField(help_text="Profile and all four lists read")
    repositories = models.BigIntegerField()
    follows = models.BigIntegerField()
    stars = models.BigIntegerField()
    never_synced = models.BigIntegerField(help_text="Frontier: stubs discovery has yet to sync")
    due_for_resync = models.BigIntegerField(help_text="Frontier: synced longer than DISCOVERY_RESYNC_HOURS ago")
    tasks = models.JSONField(default=dict, help_text="Tasks by state: queued, running, postponed, ...")
    quotas = models.JSONField(default=list, help_text="Ledger rows: credential label, resource, limit, remaining")
    failures = models.JSONField(default=list, help_text="The latest failed tasks and their messages")

    class Meta:
        ordering = ["-taken_at"]

    def __str__(self):
        return f"snapshot {self.taken_at:%Y-%m-%d %H:%M:%S}"
