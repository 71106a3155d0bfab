"""The product as its users meet it: a real headless Chromium against a live server with data in it.

Logs in through the browsable API and pages, filters and follows its hyperlinks; reads every operation and
filter in swagger and tries one; renders redoc; searches and opens a developer in the admin; logs out and is
refused. Every step saves a screenshot in docs/screenshots/tmp/ (git-ignored; the README shows a few of them).

Debian's chromium and chromium-driver (/usr/bin/chromium, /usr/bin/chromedriver; CHROMIUM_BINARY and
CHROMEDRIVER point elsewhere, as on GitHub's runners) are used as they are: nothing is downloaded at run time.
Without them the tests skip, except in CI (CI=true), where a missing browser is a failure.
"""
import json
import os
import re
import shutil
import tempfile
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from django_celery_results.models import TaskResult
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from github import dashboard
from github import status as crawl_status
from github.api.filters import DeveloperFilter, RepositoryFilter
from github.models import CrawlSnapshot, Developer, Follow, RateLimit, Repository, Star
from github.tests.factories import DeveloperFactory, FollowFactory, RepositoryFactory, StarFactory, StubDeveloperFactory
from github.tests.support import purge_queues

CHROMIUM = os.environ.get("CHROMIUM_BINARY", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
SCREENSHOTS = Path(os.environ.get("SCREENSHOT_DIR", Path(__file__).resolve().parents[2] / "docs/screenshots/tmp"))
WAIT_SECONDS = 20
PASSWORD = "browser-password-123"  # a test user's password, in the throwaway test database only
EXTRA_DEVELOPERS = 60  # with the two below: more than one page of 50

# Flags this machine needs: no sandbox as root, and no background connections to a network that is closed.
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-quic", "--disable-dev-shm-usage",
    "--window-size=1280,900", "--hide-scrollbars",
]


def browser_missing():
    """Why no browser can be started here, or None when Chromium and its driver are both installed."""
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not os.access(path, os.X_OK)]
    if missing:
        return f"{' and '.join(missing)} not installed (apt-get install chromium chromium-driver)"
    return None


BROWSER_MISSING = browser_missing()
IN_CI = os.environ.get("CI", "").lower() == "true"
# Skipped as a whole (before any database is set up) on a developer's machine without Chromium; never in CI.
pytestmark = pytest.mark.skipif(BROWSER_MISSING is not None and not IN_CI,
                                reason=f"browser tests need headless Chromium: {BROWSER_MISSING}")


@pytest.fixture(scope="module")
def driver():
    """One headless Chromium for the module, with a fresh profile; in CI a missing Chromium is a failure."""
    if BROWSER_MISSING:
        pytest.fail(f"CI (CI=true) runs the browser tests, but {BROWSER_MISSING}")
    profile = tempfile.mkdtemp(prefix="git-o-matic-9k-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in [*CHROMIUM_FLAGS, f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    # Both paths given: Selenium Manager has nothing to look up or download.
    chromium = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    chromium.set_page_load_timeout(WAIT_SECONDS)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    yield chromium
    chromium.quit()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def browser(driver, live_server):
    """The module's Chromium with no cookies left from the previous test, and helpers bound to the live server."""
    driver.delete_all_cookies()
    return Browser(driver, live_server.url)


class Browser:
    """Small helpers over a WebDriver: open a path, wait for things, read the browsable API's JSON, screenshot."""

    def __init__(self, driver, base_url):
        self.driver = driver
        self.base_url = base_url
        # A page that is still being replaced hands out elements that go stale: waiting retries them.
        self.wait = WebDriverWait(driver, WAIT_SECONDS, ignored_exceptions=[StaleElementReferenceException])

    def open(self, path):
        self.driver.get(self.base_url + path)

    def path(self):
        return self.driver.current_url.removeprefix(self.base_url)

    def find(self, css):
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def find_all(self, css):
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def visible(self, css):
        """Wait until an element matching `css` is displayed, and return it."""
        return self.wait.until(expected_conditions.visibility_of_element_located((By.CSS_SELECTOR, css)))

    def click(self, css):
        """Wait until the element is clickable, scroll to it and click it."""
        element = self.wait.until(expected_conditions.element_to_be_clickable((By.CSS_SELECTOR, css)))
        self.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", element)
        element.click()
        return element

    def until(self, condition, message):
        return self.wait.until(lambda _driver: condition(), message)

    def body_text(self):
        return self.find("body").text

    def api_response(self):
        """The status line and the JSON body the browsable API page shows."""
        text = self.visible(".response-info pre").text
        status = text.splitlines()[0]
        start = min(index for index in (text.find("{"), text.find("[")) if index >= 0)
        return status, json.loads(text[start:])

    def log_in(self, path, username, password):
        """Fill and submit a Django or DRF login form (same field ids) at `path`."""
        self.open(path)
        self.visible("#id_username").send_keys(username)
        self.find("#id_password").send_keys(password)
        self.click("[type=submit]")

    def screenshot(self, name):
        """Save the visible page as docs/screenshots/tmp/<name>.png."""
        self.driver.save_screenshot(str(SCREENSHOTS / f"{name}.png"))


@pytest.fixture
def graph(transactional_db):
    """octocat (followed by hubot, starring hubot's spoon-knife, owning hello-world) and 60 more developers."""
    octocat = DeveloperFactory(login="octocat", github_id=1, type="User", name="The Octocat", location="San Francisco",
                               company="@github", followers_count=21000, following_count=9, public_repos=8)
    hubot = DeveloperFactory(login="hubot", github_id=2, type="User", name="Hubot", location="The Internet",
                             followers_count=150, following_count=1, public_repos=1)
    spoon_knife = RepositoryFactory(owner=hubot, github_id=1300192, name="Spoon-Knife", full_name="hubot/Spoon-Knife",
                                    description="This repo is for demonstration purposes only.", language="HTML",
                                    stargazers_count=13000, forks_count=150000)
    hello_world = RepositoryFactory(owner=octocat, github_id=1296269, name="Hello-World",
                                    full_name="octocat/Hello-World", description="My first repository on GitHub!",
                                    stargazers_count=3000)
    FollowFactory(follower=hubot, followee=octocat)
    StarFactory(developer=octocat, repository=spoon_knife)
    others = [
        DeveloperFactory(login=f"dev-{number:02d}", github_id=100 + number, type="User",
                         location="Berlin" if number % 3 else "Lisbon", followers_count=number,
                         public_repos=number % 7)
        for number in range(EXTRA_DEVELOPERS)
    ]
    return {"octocat": octocat, "hubot": hubot, "spoon_knife": spoon_knife, "hello_world": hello_world,
            "others": others}


@pytest.fixture
def reader(transactional_db):
    """An ordinary user: may read the API, may not use the admin."""
    return get_user_model().objects.create_user(username="reader", password=PASSWORD)


@pytest.fixture
def admin_user(transactional_db):
    """A superuser for the admin."""
    return get_user_model().objects.create_superuser(username="admin", email="", password=PASSWORD)


def test_browsable_api_refuses_anonymous_then_logs_in_pages_and_filters(browser, graph, reader):
    # Anonymous: refused, with a way to log in.
    browser.open("/github/developers/")
    status, body = browser.api_response()
    assert status == "HTTP 403 Forbidden"
    assert body == {"detail": "Authentication credentials were not provided."}

    browser.log_in("/api-auth/login/?next=/github/developers/", "reader", PASSWORD)
    browser.until(lambda: browser.path() == "/github/developers/", "login did not lead back to the developers")
    status, page_1 = browser.api_response()
    assert status == "HTTP 200 OK"
    assert page_1["count"] == EXTRA_DEVELOPERS + 2
    assert [item["login"] for item in page_1["results"][:3]] == ["octocat", "hubot", "dev-00"]
    assert len(page_1["results"]) == 50
    assert "reader" in browser.find(".navbar").text
    browser.screenshot("api-developers")

    # Page through with the pagination control.
    browser.click(".pagination a[aria-label=Next]")
    browser.until(lambda: "page=2" in browser.path(), "no second page")
    _, page_2 = browser.api_response()
    assert [item["login"] for item in page_2["results"]] == [f"dev-{n:02d}" for n in range(48, EXTRA_DEVELOPERS)]
    assert page_2["next"] is None and page_2["previous"]
    browser.click(".pagination a[aria-label=Previous]")
    browser.until(lambda: "page=2" not in browser.path(), "no way back to the first page")

    # Filter through the Filters dialog: developers with at least 100 followers.
    browser.click("button[data-target='#filtersModal']")
    browser.visible("#filtersModal #id_followers_count__gte").send_keys("100")
    browser.screenshot("api-filters")
    browser.click("#filtersModal button[type=submit]")
    browser.until(lambda: "followers_count__gte=100" in browser.path(), "the filter was not applied")
    status, filtered = browser.api_response()
    assert status == "HTTP 200 OK"
    assert [item["login"] for item in filtered["results"]] == ["octocat", "hubot"]
    browser.screenshot("api-developers-filtered")

    # A bad filter value answers 400 naming the parameter, in the page too.
    browser.open("/github/developers/?followers_count__gte=many")
    status, error = browser.api_response()
    assert status == "HTTP 400 Bad Request" and "followers_count__gte" in error


def test_browsable_api_follows_hyperlinks_and_logs_out(browser, graph, reader):
    browser.log_in("/api-auth/login/", "reader", PASSWORD)
    browser.until(lambda: browser.path() == "/github/", "login did not lead to the API root")
    _, root = browser.api_response()
    assert set(root) == {"developers", "repositories", "rate_limit", "tasks", "task_runs", "swagger", "redoc",
                         "dashboard"}

    # From octocat to a follower, and from octocat to a starred repository, by their hyperlinks.
    octocat, hubot, spoon_knife = graph["octocat"], graph["hubot"], graph["spoon_knife"]
    browser.open("/github/developers/?login=octocat")
    browser.click(f"a[href$='/github/developers/{octocat.pk}/']")
    browser.until(lambda: browser.path() == f"/github/developers/{octocat.pk}/", "octocat's page did not open")
    _, detail = browser.api_response()
    assert detail["login"] == "octocat" and len(detail["followers"]) == 1
    browser.screenshot("api-developer")
    browser.click(f".response-info a[href='{browser.base_url}/github/developers/{hubot.pk}/']")
    browser.until(lambda: browser.path() == f"/github/developers/{hubot.pk}/", "the follower link did not open")
    _, follower = browser.api_response()
    assert follower["login"] == "hubot"
    assert follower["following"] == [f"{browser.base_url}/github/developers/{octocat.pk}/"]
    browser.driver.back()
    browser.click(f".response-info a[href='{browser.base_url}/github/repositories/{spoon_knife.pk}/']")
    browser.until(lambda: browser.path() == f"/github/repositories/{spoon_knife.pk}/", "the star link did not open")
    _, repository = browser.api_response()
    assert repository["full_name"] == "hubot/Spoon-Knife"
    assert repository["stargazers"] == [f"{browser.base_url}/github/developers/{octocat.pk}/"]
    browser.screenshot("api-repository")

    # The nested list of a developer's followers is a page of developers too.
    browser.open(f"/github/developers/{octocat.pk}/followers/")
    _, followers = browser.api_response()
    assert [item["login"] for item in followers["results"]] == ["hubot"]

    # Log out from the user menu: the API refuses again.
    browser.click(".navbar .dropdown-toggle")
    browser.click(".navbar .dropdown-menu a[onclick*=logoutForm]")
    browser.until(lambda: "reader" not in browser.find(".navbar").text, "still logged in")
    browser.open("/github/developers/")
    status, _ = browser.api_response()
    assert status == "HTTP 403 Forbidden"


def schema_operations(browser):
    """{operationId: [parameter names]} of the schema the swagger page loads, read in the same session."""
    browser.open("/github/swagger.json")
    schema = json.loads(browser.find("body").text)
    return {
        operation["operationId"]: [parameter["name"] for parameter in operation.get("parameters", [])]
        for path_item in schema["paths"].values()
        for method, operation in path_item.items()
        if method != "parameters"
    }


def test_swagger_shows_every_operation_and_filter_and_tries_one(browser, graph, reader):
    # Anonymous visitors are sent to the login page, and come back.
    browser.open("/github/swagger/")
    browser.until(lambda: browser.path().startswith("/api-auth/login/"), "swagger did not ask for a login")
    browser.visible("#id_username").send_keys("reader")
    browser.find("#id_password").send_keys(PASSWORD)
    browser.click("[type=submit]")
    browser.until(lambda: browser.path() == "/github/swagger/", "login did not lead back to swagger")
    browser.visible(".opblock")
    browser.screenshot("swagger")
    shown = {re.sub(r"^operations-[^-]+-", "", block.get_attribute("id")) for block in browser.find_all(".opblock")}

    expected = schema_operations(browser)
    assert shown == set(expected)
    assert {"developers_list", "developers_read", "developers_followers", "developers_following",
            "developers_starred", "developers_repositories", "repositories_list", "repositories_read",
            "repositories_stargazers", "rate_limit_list", "rate_limit_read", "tasks_list", "tasks_create",
            "tasks_read"} <= shown

    # Every filter, the ordering, the search and the pagination parameters, as swagger lists them.
    browser.open("/github/swagger/")
    for operation, filterset in (("developers_list", DeveloperFilter), ("repositories_list", RepositoryFilter)):
        block = f".opblock[id$='-{operation}']"
        browser.click(f"{block} .opblock-summary-control")
        browser.visible(f"{block} tr[data-param-name]")
        names = [row.get_attribute("data-param-name") for row in browser.find_all(f"{block} tr[data-param-name]")]
        assert set(names) == set(expected[operation])
        assert set(filterset().filters) | {"ordering", "search", "page", "page_size"} <= set(names)

    # Try one: developers with login=octocat, executed by the page with the session's cookie.
    block = ".opblock[id$='-developers_list']"
    browser.click(f"{block} .try-out__btn")
    browser.visible(f"{block} tr[data-param-name=login] input").send_keys("octocat")
    browser.click(f"{block} .execute")
    status_cell = browser.visible(f"{block} .live-responses-table .response .response-col_status")
    assert status_cell.text.strip() == "200"
    response_body = browser.find(f"{block} .live-responses-table .response-col_description pre").text
    assert json.loads(response_body)["results"][0]["login"] == "octocat"
    assert "/github/developers/?login=octocat" in browser.find(f"{block} .request-url pre").text
    browser.driver.execute_script(
        "arguments[0].scrollIntoView({block: 'start'});", browser.find(f"{block} .responses-wrapper")
    )
    browser.screenshot("swagger-try-it-out")


def test_redoc_renders_the_documentation(browser, reader):
    browser.log_in("/api-auth/login/?next=/github/redoc/", "reader", PASSWORD)
    browser.until(lambda: browser.path() == "/github/redoc/", "login did not lead to redoc")
    title = browser.visible("h1")
    assert title.text.startswith("git-o-matic-9k API")
    menu = browser.visible("[role=menu], .menu-content")
    browser.until(lambda: "developers" in menu.text.lower(), "redoc's menu lists no developers operations")
    assert "GitHub developer and repository discovery" in browser.body_text()
    # The filter parameters of the developers list are documented with their types.
    browser.open("/github/redoc/#operation/developers_list")
    browser.until(lambda: "followers_count__gte" in browser.body_text(), "redoc shows no filter parameters")
    browser.screenshot("redoc")


def test_admin_search_open_and_log_out(browser, graph, admin_user, reader):
    # An ordinary user cannot use the admin.
    browser.log_in("/admin/login/", "reader", PASSWORD)
    assert "not authorized" in browser.visible(".errornote").text or "staff account" in browser.body_text()

    browser.log_in("/admin/login/?next=/admin/", "admin", PASSWORD)
    browser.until(lambda: browser.path() == "/admin/", "the admin login failed")
    assert "Developers" in browser.visible("#content-main").text
    browser.click("#content-main a[href='/admin/github/developer/']")

    # Search developers, open the one found.
    search = browser.visible("#searchbar")
    search.send_keys("octo")
    browser.click("#changelist-search [type=submit]")
    browser.until(lambda: "q=octo" in browser.path(), "the search was not submitted")
    browser.until(lambda: [row.find_element("css selector", "th").text
                           for row in browser.find_all("#result_list tbody tr")] == ["octocat"],
                  "the search did not find exactly octocat")
    browser.screenshot("admin-search")
    browser.click("#result_list tbody th a")
    browser.until(lambda: browser.path().startswith(f"/admin/github/developer/{graph['octocat'].pk}/change/"),
                  "the developer did not open")
    content = browser.visible("#content-main").text
    assert "The Octocat" in content and "San Francisco" in content
    assert browser.find(".field-stored_followers .readonly").text == "1"
    assert browser.find(".field-stored_starred .readonly").text == "1"
    browser.screenshot("admin-developer")

    # Log out (a POST from the header's button) and be refused: by the admin, the API and the docs.
    browser.click("#logout-form [type=submit]")
    browser.until(lambda: "Logged out" in browser.body_text(), "no logged-out page")
    browser.open("/admin/github/developer/")
    browser.until(lambda: browser.path().startswith("/admin/login/"), "the admin did not ask for a login again")
    browser.open("/github/developers/")
    status, _ = browser.api_response()
    assert status == "HTTP 403 Forbidden"
    browser.screenshot("refused")
    browser.open("/github/redoc/")
    browser.until(lambda: browser.path().startswith("/api-auth/login/"), "redoc did not ask for a login again")


def crawl_history(hours=3, every=timedelta(minutes=5)):
    """Snapshots of a crawl that grew to the database's size over the last `hours`, quota spent hour by hour."""
    now = timezone.now()
    steps = int(timedelta(hours=hours) / every)
    final = {"developers": Developer.objects.count(), "profiled": Developer.objects.filter(
        profile_synced_at__isnull=False).count(), "repositories": Repository.objects.count(),
        "follows": Follow.objects.count(), "stars": Star.objects.count()}
    for step in range(steps):
        taken_at = now - every * (steps - step)
        share = (step + 1) / (steps + 1)
        reset = taken_at.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        spent = int(4200 * (1 - (reset - taken_at) / timedelta(hours=1)))
        quotas = [{"credential": "token-3f2a9c1b7d4e", "resource": resource, "limit": limit,
                   "remaining": limit - used, "spent": used, "allowed": limit - used, "allowed_per_window": limit,
                   "reset": reset.isoformat()}
                  for resource, limit, used in (("core", 5000, spent), ("search", 30, spent // 300))]
        CrawlSnapshot.objects.create(
            taken_at=taken_at, **{name: int(value * share) for name, value in final.items()},
            fully_synced=int(Developer.objects.exclude(repositories_synced_at=None).count() * share),
            never_synced=int(40 * (1 - share)) + crawl_status.graph_counts()["never_synced"],
            due_for_resync=step // 12, quotas=quotas, failures=[],
            tasks={"queued": (step * 7) % 5, "running": 2, "postponed": step % 3, "retrying": 0, "failed": step // 18})


def test_dashboard_draws_the_crawl_and_refreshes_by_itself(browser, graph, reader, monkeypatch):
    # A crawl under way: most developers fully synced, following octocat and starring Spoon-Knife; a frontier.
    now = timezone.now()
    others = graph["others"]
    Developer.objects.filter(pk__in=[developer.pk for developer in others[:45]]).update(
        followers_synced_at=now, following_synced_at=now, starred_synced_at=now, repositories_synced_at=now)
    Follow.objects.bulk_create(Follow(follower=developer, followee=graph["octocat"]) for developer in others)
    Star.objects.bulk_create(Star(developer=developer, repository=graph["spoon_knife"]) for developer in others[:30])
    StubDeveloperFactory.create_batch(12)
    purge_queues()  # nothing queued: the dashboard says why nothing happens
    crawl_history()
    reset = now + timedelta(minutes=25)
    RateLimit.objects.create(credential="token-3f2a9c1b7d4e", rate_limit=5000, rate_remaining=1800,
                             rate_reset_raw=int(reset.timestamp()), rate_reset=reset)
    TaskResult.objects.create(task_id="failed-1", task_name="github.tasks.full_profile_sync", status="FAILURE",
                              task_kwargs='{"username": "ghost-user"}',
                              traceback="Traceback ...\nHttpErrorException: API rate limit exceeded")
    crawl_status.take_snapshot()

    browser.open("/github/dashboard/")
    browser.until(lambda: browser.path().startswith("/api-auth/login/"), "the dashboard did not ask for a login")
    browser.log_in("/api-auth/login/?next=/github/dashboard/", "reader", PASSWORD)
    browser.until(lambda: browser.path() == "/github/dashboard/", "login did not lead to the dashboard")

    # The numbers are the database's.
    expected = {"developers": Developer.objects.count(), "profiled": Developer.objects.filter(
        profile_synced_at__isnull=False).count(), "fully-synced": 45, "repositories": Repository.objects.count(),
        "follows": Follow.objects.count(), "stars": Star.objects.count(), "never-synced": 12, "quota-left": 1800}
    for element_id, count in expected.items():
        assert browser.visible(f"#{element_id}").text == str(count), element_id
    assert "API rate limit exceeded" in browser.find("#failures").text
    assert "waiting for the next discovery run at" in browser.find("#idle-reason").text
    assert browser.find("#top-developers tr:nth-child(2) a").text == "octocat"
    assert browser.find("#top-repositories tr:nth-child(2) a").text == "hubot/Spoon-Knife"

    # Every chart is drawn: an SVG of a sensible size with a line per series.
    charts = browser.find_all(".chart svg")
    assert len(charts) == 5
    for chart in charts:
        assert chart.size["width"] > 300 and chart.size["height"] > 150
        assert chart.find_elements(By.CSS_SELECTOR, "path.line.reactive")
    browser.driver.set_window_size(1280, 1900)
    try:
        browser.screenshot("dashboard")
    finally:
        browser.driver.set_window_size(1280, 900)

    # It refreshes by itself: a new snapshot shows up without a reload.
    monkeypatch.setattr(dashboard, "REFRESH_SECONDS", 2)
    browser.open("/github/dashboard/")
    DeveloperFactory.create_batch(3)
    crawl_status.take_snapshot()
    browser.until(lambda: browser.find("#developers").text == str(expected["developers"] + 3),
                  "the dashboard did not refresh itself")
