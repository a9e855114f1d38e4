"""Headless Debian Chromium driven by Playwright against pytest-django's live server.

A failing test leaves a screenshot of every step it recorded, and of each page still
open, in test-artifacts/<test name>/.
"""

import io
import os
import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command
from django.db import connections
from django.utils import timezone
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright
from pytest_django.live_server_helper import LiveServer

from sites.credentials import scim_tokens
from sites.models import MSP, Site, Staff
from tests.conftest import make_staff
from tests.support.log import logged
from tests.support.provisioned import bare_user

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
# alongside it are synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
DEMO_PASSWORD = "demo-password-for-browser-tests"


@pytest.fixture(scope="session")
def live_server():
    """pytest-django's live server, serving static files as production does: WhiteNoise
    from the collected, hashed files. (Django's own test handler would find them unhashed
    in the apps' folders, and hide a missing or broken collectstatic.)"""
    server = LiveServer("localhost", start=False)
    server.thread.static_handler = lambda handler: handler
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser() -> Browser:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()
        # While Playwright's event loop runs in this thread, Django keeps the thread's
        # database connections apart from its usual ones (asgiref's Local turns to
        # context variables): close them before the loop stops, or they stay open and the
        # test database cannot be dropped at the end of the run.
        connections.close_all()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.call_failed = report.failed
    return report


class Screenshots:
    """Screenshots of the steps of one test, written out only if it fails."""

    def __init__(self):
        self.shots: list[tuple[str, bytes]] = []

    def take(self, page: Page, step: str) -> None:
        self.shots.append((step, page.screenshot(full_page=True)))

    def save(self, folder: Path, context: BrowserContext) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        for number, (step, png) in enumerate(self.shots, 1):
            (folder / f"{number:02}-{step}.png").write_bytes(png)
        for number, page in enumerate(context.pages, 1):
            page.screenshot(path=folder / f"last-{number}.png", full_page=True)


@pytest.fixture
def screenshots() -> Screenshots:
    return Screenshots()


@pytest.fixture
def context(browser, live_server, screenshots, request) -> BrowserContext:
    context = browser.new_context(base_url=live_server.url)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    yield context
    if getattr(request.node, "call_failed", False):
        screenshots.save(ARTIFACTS / re.sub(r"[^\w.-]+", "_", request.node.name), context)
    context.close()


@pytest.fixture
def page(context) -> Page:
    return context.new_page()


@pytest.fixture
def demo(transactional_db):
    """The README's demo: MSP "Demo MSP" with Contoso and Fabrikam, admin login `demo`."""
    call_command("seed_demo", password=DEMO_PASSWORD, stdout=io.StringIO())
    return MSP.objects.get(name="Demo MSP")


@pytest.fixture
def demo_reader(demo):
    """A read-only engineer at the demo MSP."""
    return make_staff("reader", demo, Staff.Role.READ_ONLY)


def sign_in(page: Page, username: str, password: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: urlsplit(url).path == "/")


def dashboard(demo: MSP) -> None:
    """Contoso: 12 errors and 3 successes in the last hour, 2 users (1 active). Fabrikam:
    configured, never called. Litware: training disabled, with a long name."""
    contoso = Site.objects.get(msp=demo, name="Contoso")
    scim_tokens.issue_token(contoso)
    for status in [500] * 12 + [200] * 3:
        logged(contoso, timezone.now() - timedelta(minutes=10), status)
    bare_user(contoso, "ann@contoso.example")
    bare_user(contoso, "ben@contoso.example", active=False)
    scim_tokens.issue_token(Site.objects.get(msp=demo, name="Fabrikam"))
    Site.objects.create(
        msp=demo, name="Litware International Holdings Worldwide Limited", sat_enabled=False
    )
