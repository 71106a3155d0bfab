"""Serializers of the read API: the product description's shapes, plus `id` and `url`."""
from django.conf import settings
from django.urls import reverse
from rest_framework import serializers

from github.models import Developer, RateLimit, Repository

PLACEHOLDER_PK = "00000000-0000-0000-0000-000000000000"


class HyperlinkListField(serializers.ListField):
    """A list of detail URLs built from primary keys attached by the selectors.

    DRF's HyperlinkedRelatedField reverses one URL per item; a hub has thousands of followers, so this field
    reverses once per request and formats the rest.
    """

    child = serializers.URLField()

    def __init__(self, view_name, **kwargs):
        self.view_name = view_name
        super().__init__(read_only=True, **kwargs)

    def _template(self):
        templates = self.context.setdefault("_url_templates", {})
        if self.view_name not in templates:
            path = reverse(self.view_name, kwargs={"pk": PLACEHOLDER_PK})
            request = self.context.get("request")
            url = request.build_absolute_uri(path) if request is not None else path
            templates[self.view_name] = url.replace(PLACEHOLDER_PK, "{}")
        return templates[self.view_name]

    def to_representation(self, data):
        template = self._template()
        return [template.format(pk) for pk in data]


PREVIEW_HELP = "The first {} of them (API_RELATION_PREVIEW); the whole list, paged, is at {}."


def preview(view_name, source, relation_url):
    """A relation's embedded hyperlinks, documented as the preview they are."""
    return HyperlinkListField(view_name, source=source,
                              help_text=PREVIEW_HELP.format(settings.API_RELATION_PREVIEW, relation_url))


class RankedSerializer(serializers.HyperlinkedModelSerializer):
    """`rank` and `rank_computed_at` from the object's row in its rank table (null until ranked); the views
    select that row with the object (select_related("ranking"))."""

    rank = serializers.FloatField(source="ranking.rank", read_only=True, allow_null=True,
                                  help_text="PageRank in the follow graph (a repository's: the sum of its "
                                            "stargazers'); null until computed")
    rank_computed_at = serializers.DateTimeField(source="ranking.computed_at", read_only=True, allow_null=True,
                                                 help_text="When `rank` was computed")


class DeveloperSerializer(RankedSerializer):
    """A developer with its four relations as hyperlinks, and the URLs of their whole paged lists."""

    github_id = serializers.CharField(read_only=True)
    synced_at = serializers.DateTimeField(
        source="profile_synced_at", read_only=True,
        help_text="When a sync of its own last read the developer (profile, then the four lists); null: never")
    followers = preview("developer-detail", "followers_ids", "followers_url")
    following = preview("developer-detail", "following_ids", "following_url")
    starred_repositories = preview("repository-detail", "starred_ids", "starred_url")
    repositories = preview("repository-detail", "repository_ids", "repositories_url")
    followers_url = serializers.HyperlinkedIdentityField(view_name="developer-followers")
    following_url = serializers.HyperlinkedIdentityField(view_name="developer-following")
    starred_url = serializers.HyperlinkedIdentityField(view_name="developer-starred")
    repositories_url = serializers.HyperlinkedIdentityField(view_name="developer-repositories")

    class Meta:
        model = Developer
        fields = [
            "id", "url", "github_id", "login", "name", "location", "bio", "company", "email",
            "created_at", "updated_at", "followers_count", "following_count", "public_gists", "public_repos",
            "profiled_at", "synced_at", "rank", "rank_computed_at", "followers", "following", "starred_repositories",
            "repositories",
            "followers_url", "following_url", "starred_url", "repositories_url",
        ]


class RepositorySerializer(RankedSerializer):
    """A repository with its owner and stargazers hyperlinked, and the URL of its whole paged stargazer list."""

    github_id = serializers.CharField(read_only=True)
    owner_github_id = serializers.CharField(read_only=True)
    stargazers = preview("developer-detail", "stargazer_ids", "stargazers_url")
    stargazers_url = serializers.HyperlinkedIdentityField(view_name="repository-stargazers")
    # A JSON column holding GitHub's list of topic names: a list of strings in the schema, not "any object".
    topics = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = Repository
        fields = [
            "id", "url", "owner", "github_id", "owner_github_id", "name", "full_name", "description", "homepage",
            "language", "created_at", "updated_at", "pushed_at", "has_downloads", "has_issues", "has_pages",
            "has_projects", "has_wiki", "private", "archived", "disabled", "fork", "stargazers",
            "stargazers_count", "subscribers_count", "watchers_count", "open_issues_count", "forks_count",
            "topics", "license", "rank", "rank_computed_at", "stargazers_url",
        ]


class RateLimitSerializer(serializers.HyperlinkedModelSerializer):
    """One row of the quota ledger, as the product description shows it."""

    class Meta:
        model = RateLimit
        fields = ["id", "url", "resource", "rate_limit", "rate_remaining", "rate_reset_raw", "rate_reset"]
