"""The Django admin: browse and search the crawled graph. GitHub's fields are read-only (the crawler owns them)."""
from django.contrib import admin
from django_celery_results.admin import TaskResultAdmin
from django_celery_results.models import TaskResult

from github.models import Developer, Follow, RateLimit, Repository, Star

admin.site.site_header = "git-o-matic-9k"
admin.site.site_title = "git-o-matic-9k admin"
admin.site.index_title = "The crawled GitHub graph"

DEVELOPER_GITHUB_FIELDS = [
    "github_id", "login", "type", "name", "location", "bio", "company", "email", "blog", "twitter_username",
    "created_at", "updated_at", "followers_count", "following_count", "public_gists", "public_repos",
]
REPOSITORY_GITHUB_FIELDS = [
    "github_id", "owner", "owner_github_id", "name", "full_name", "description", "homepage", "language",
    "created_at", "updated_at", "pushed_at", "has_downloads", "has_issues", "has_pages", "has_projects",
    "has_wiki", "private", "archived", "disabled", "fork", "stargazers_count", "subscribers_count",
    "watchers_count", "open_issues_count", "forks_count", "topics", "license",
]


class TimestampSetFilter(admin.SimpleListFilter):
    """Yes or no: whether the crawl has set `field` (a timestamp, null until then). `labels`: (yes, no)."""

    field = ""
    labels = ("", "")

    def lookups(self, request, model_admin):
        return list(zip(("yes", "no"), self.labels, strict=True))

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(**{f"{self.field}__isnull": self.value() == "no"})
        return queryset


class SyncedFilter(TimestampSetFilter):
    """Synced profiles versus stubs known only from somebody's list."""

    title = "profile"
    parameter_name = "synced"
    field = "profile_synced_at"
    labels = ("synced", "stub (never synced)")


class ProfiledFilter(TimestampSetFilter):
    """Developers whose profile (counts included) was read, alongside somebody's list or by a sync of their own,
    versus those known only by id and login."""

    title = "profile read"
    parameter_name = "profiled"
    field = "profiled_at"
    labels = ("profiled", "id and login only")


class ReadOnlyGitHubAdmin(admin.ModelAdmin):
    """Rows come from GitHub through the crawler: they can be read and deleted here, not added. Their rank (a
    table of its own, github/rank.py) is shown on the change page."""

    show_full_result_count = False  # a COUNT(*) of millions of rows on every changelist page is not worth it

    @admin.display(description="rank")
    def rank(self, obj):
        """PageRank (a developer) or the sum of the stargazers' ranks (a repository); empty until computed."""
        return getattr(getattr(obj, "ranking", None), "rank", None)

    @admin.display(description="rank computed at")
    def rank_computed_at(self, obj):
        """When the rank shown was computed."""
        return getattr(getattr(obj, "ranking", None), "computed_at", None)

    def has_add_permission(self, request):
        return False


@admin.register(Developer)
class DeveloperAdmin(ReadOnlyGitHubAdmin):
    """Developers: GitHub's counts in the list, the stored relation counts on each developer's page."""

    list_display = ["login", "name", "type", "location", "followers_count", "following_count", "public_repos",
                    "profile_synced_at", "gone_at"]
    list_filter = [SyncedFilter, ProfiledFilter, "type"]
    search_fields = ["login", "name", "=github_id"]
    ordering = ["github_id"]
    readonly_fields = [*DEVELOPER_GITHUB_FIELDS, "stored_followers", "stored_following", "stored_starred",
                       "stored_repositories", "discovered_at", "seed_distance", "profiled_at", "profile_synced_at",
                       "followers_synced_at", "following_synced_at", "starred_synced_at",
                       "repositories_synced_at", "gone_at", "rank", "rank_computed_at"]
    fieldsets = [
        ("GitHub", {"fields": DEVELOPER_GITHUB_FIELDS}),
        ("Stored relations", {"fields": ["stored_followers", "stored_following", "stored_starred",
                                         "stored_repositories"]}),
        ("Crawl", {"fields": ["discovered_at", "seed_distance", "profiled_at", "profile_synced_at",
                              "followers_synced_at", "following_synced_at", "starred_synced_at",
                              "repositories_synced_at", "gone_at", "rank", "rank_computed_at"]}),
    ]

    @admin.display(description="followers stored")
    def stored_followers(self, developer):
        """How many followers the crawl has stored (GitHub's own count is followers_count)."""
        return Follow.objects.filter(followee=developer).count()

    @admin.display(description="following stored")
    def stored_following(self, developer):
        """How many followed developers the crawl has stored."""
        return Follow.objects.filter(follower=developer).count()

    @admin.display(description="starred repositories stored")
    def stored_starred(self, developer):
        """How many starred repositories the crawl has stored."""
        return Star.objects.filter(developer=developer).count()

    @admin.display(description="owned repositories stored")
    def stored_repositories(self, developer):
        """How many owned repositories the crawl has stored."""
        return developer.repositories.count()


@admin.register(Repository)
class RepositoryAdmin(ReadOnlyGitHubAdmin):
    """Repositories with their owner and how many stargazers are stored."""

    list_display = ["full_name", "language", "stargazers_count", "forks_count", "archived", "fork", "synced_at"]
    list_filter = ["archived", "fork", "private", "disabled", "language"]
    list_select_related = ["owner"]
    search_fields = ["full_name", "=github_id"]
    ordering = ["github_id"]
    readonly_fields = [*REPOSITORY_GITHUB_FIELDS, "stored_stargazers", "discovered_at", "synced_at",
                       "stargazers_synced_at", "gone_at", "rank", "rank_computed_at"]

    @admin.display(description="stargazers stored")
    def stored_stargazers(self, repository):
        """How many stargazers the crawl has stored (GitHub's own count is stargazers_count)."""
        return Star.objects.filter(repository=repository).count()


@admin.register(RateLimit)
class RateLimitAdmin(admin.ModelAdmin):
    """The quota ledger, read-only: it is written from GitHub's response headers."""

    list_display = ["id", "credential", "resource", "rate_limit", "rate_remaining", "rate_reset", "updated"]
    readonly_fields = ["credential", "resource", "rate_limit", "rate_remaining", "rate_reset_raw", "rate_reset",
                       "read_at", "updated"]

    def has_add_permission(self, request):
        return False


admin.site.unregister(TaskResult)


@admin.register(TaskResult)
class TaskRunAdmin(TaskResultAdmin):
    """Celery's task results, newest first, with the arguments (the login) in the list and searchable."""

    list_display = ["task_id", "task_name", "task_args", "task_kwargs", "status", "date_created", "date_done"]
    ordering = ["-date_created"]
    search_fields = ["task_kwargs", "task_args", "task_id", "task_name"]
    search_help_text = "A login (or any argument), a task id or a task name"
