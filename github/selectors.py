"""Reads for the API: querysets and the relation ids a page of developers or repositories shows.

Relation ids are read from the edge tables directly (index-only, no join with the developer table), one query
per relation for a whole page, so a page costs the same number of queries whatever its size.
"""
from collections import defaultdict

from github.models import Developer, Follow, Repository, Star


def _group(queryset, key, value):
    """{key: [value, ...]} from two columns of `queryset`, in the queryset's order."""
    grouped = defaultdict(list)
    for key_value, value_value in queryset.values_list(key, value):
        grouped[key_value].append(value_value)
    return grouped


def attach_developer_relations(developers):
    """Set followers_ids, following_ids, starred_ids and repository_ids on each developer; 4 queries in all."""
    ids = [developer.pk for developer in developers]
    if not ids:
        return developers
    followers = _group(Follow.objects.filter(followee_id__in=ids).order_by("id"), "followee_id", "follower_id")
    following = _group(Follow.objects.filter(follower_id__in=ids).order_by("id"), "follower_id", "followee_id")
    starred = _group(Star.objects.filter(developer_id__in=ids).order_by("id"), "developer_id", "repository_id")
    owned = _group(Repository.objects.filter(owner_id__in=ids).order_by("github_id"), "owner_id", "id")
    for developer in developers:
        developer.followers_ids = followers[developer.pk]
        developer.following_ids = following[developer.pk]
        developer.starred_ids = starred[developer.pk]
        developer.repository_ids = owned[developer.pk]
    return developers


def attach_repository_relations(repositories):
    """Set stargazer_ids on each repository; 1 query in all."""
    ids = [repository.pk for repository in repositories]
    if not ids:
        return repositories
    stargazers = _group(Star.objects.filter(repository_id__in=ids).order_by("id"), "repository_id", "developer_id")
    for repository in repositories:
        repository.stargazer_ids = stargazers[repository.pk]
    return repositories


def followers_of(developer):
    """The developers who follow `developer`."""
    return Developer.objects.filter(pk__in=Follow.objects.filter(followee=developer).values("follower_id"))


def following_of(developer):
    """The developers `developer` follows."""
    return Developer.objects.filter(pk__in=Follow.objects.filter(follower=developer).values("followee_id"))


def starred_by(developer):
    """The repositories `developer` starred."""
    return Repository.objects.filter(pk__in=Star.objects.filter(developer=developer).values("repository_id"))


def stargazers_of(repository):
    """The developers who starred `repository`."""
    return Developer.objects.filter(pk__in=Star.objects.filter(repository=repository).values("developer_id"))
