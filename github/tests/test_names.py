"""GitHub's naming rules: what may become part of a request URL."""
import pytest
from django.core.exceptions import ValidationError

from github.names import validate_login, validate_repository_name


@pytest.mark.parametrize("login", ["a", "h3nnn4n", "octo-cat", "A-B-C", "x" * 39, "0", "9-9"])
def test_valid_logins_pass_through(login):
    assert validate_login(login) == login


@pytest.mark.parametrize(
    "login",
    [
        "", "x" * 40, "-octocat", "octocat-", "octo--cat", "octo_cat", "octo.cat", "octo cat", "octo/cat",
        "../admin", "octocat?x=1", "octocat#x", "evil.com/x", "http://evil.com", "octocat\n", "octocät",
        "%2e%2e", None, 42,
    ],
)
def test_invalid_logins_are_refused_with_the_rule(login):
    with pytest.raises(ValidationError) as error:
        validate_login(login)
    assert error.value.code == "invalid_login"
    assert "1-39 letters, digits or single hyphens" in error.value.messages[0]


@pytest.mark.parametrize("name", ["garapa", "a", "my.repo", "my_repo-2", ".github", "...", "x" * 100])
def test_valid_repository_names_pass_through(name):
    assert validate_repository_name(name) == name


@pytest.mark.parametrize(
    "name",
    ["", ".", "..", "x" * 101, "owner/repo", "a b", "repo?x", "repo#x", "repo%2f", "répo", "repo\n", None],
)
def test_invalid_repository_names_are_refused_with_the_rule(name):
    with pytest.raises(ValidationError) as error:
        validate_repository_name(name)
    assert error.value.code == "invalid_repository_name"
    assert "not '.' or '..'" in error.value.messages[0]
