"""factory_boy factories for the crawled graph."""
import factory
from django.utils import timezone

from github.models import Developer, Follow, Repository, Star


class DeveloperFactory(factory.django.DjangoModelFactory):
    """A developer whose profile has been synced."""

    class Meta:
        model = Developer

    github_id = factory.Sequence(lambda n: 1000 + n)
    login = factory.Sequence(lambda n: f"dev-{n}")
    name = factory.Faker("name")
    location = "Earth"
    bio = "Writes code."
    company = "ACME"
    email = factory.LazyAttribute(lambda developer: f"{developer.login}@example.com")
    created_at = factory.LazyFunction(timezone.now)
    updated_at = factory.LazyFunction(timezone.now)
    followers_count = 0
    following_count = 0
    public_gists = 0
    public_repos = 0
    profiled_at = factory.SelfAttribute("profile_synced_at")
    profile_synced_at = factory.LazyFunction(timezone.now)


class StubDeveloperFactory(DeveloperFactory):
    """A developer known only from somebody's list: github_id and login."""

    name = location = bio = company = email = created_at = updated_at = None
    followers_count = following_count = public_gists = public_repos = None
    profile_synced_at = None


class ListedDeveloperFactory(DeveloperFactory):
    """A developer profiled alongside a list (GraphQL), its own lists not read yet: not synced."""

    profiled_at = factory.LazyFunction(timezone.now)
    profile_synced_at = None


class RepositoryFactory(factory.django.DjangoModelFactory):
    """A repository with an owner."""

    class Meta:
        model = Repository

    github_id = factory.Sequence(lambda n: 500000 + n)
    owner = factory.SubFactory(DeveloperFactory)
    owner_github_id = factory.SelfAttribute("owner.github_id")
    name = factory.Sequence(lambda n: f"repo-{n}")
    full_name = factory.LazyAttribute(lambda repository: f"{repository.owner.login}/{repository.name}")
    description = "A repository."
    language = "Python"
    created_at = factory.LazyFunction(timezone.now)
    updated_at = factory.LazyFunction(timezone.now)


class FollowFactory(factory.django.DjangoModelFactory):
    """`follower` follows `followee`."""

    class Meta:
        model = Follow

    follower = factory.SubFactory(DeveloperFactory)
    followee = factory.SubFactory(DeveloperFactory)


class StarFactory(factory.django.DjangoModelFactory):
    """`developer` starred `repository`."""

    class Meta:
        model = Star

    developer = factory.SubFactory(DeveloperFactory)
    repository = factory.SubFactory(RepositoryFactory)
