"""The console, the admin and the API docs in headless Chromium, served exactly as in
production: gunicorn with DEBUG off, static files from `collectstatic` through WhiteNoise,
the Content-Security-Policy on, a fresh PostgreSQL database set up by the operator's
commands (migrate, create_msp, createsuperuser).

What only this can catch: a stylesheet or script that 404s once DEBUG is off (a missing
`collectstatic` step, a name missing from the manifest), a page whose inline script or
style the CSP blocks (the page looks fine in development, where nothing enforces it),
and the operator's first steps not working as the README says.

A failing test leaves a screenshot of each step and each open page in
test-artifacts/<test name>/.
"""

from __future__ import annotations

import base64
import re
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote_plus, urlsplit

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Response,
    expect,
    sync_playwright,
)

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, Screenshots

from .servers import (
    ARTIFACTS,
    LOOPBACK,
    Gunicorn,
    app_environment,
    free_port,
    fresh_database,
    last_line,
    manage,
    request,
    requires_postgres,
)

pytestmark = [requires_postgres, pytest.mark.browser]
SCENARIO_DEADLINE = 120  # seconds

ADMIN_EMAIL = "alice@acme.example"
METRICS_TOKEN = "metrics-" + secrets.token_urlsafe(16)
NO_PROBLEMS = {
    "stylesheets and scripts not 200": [],
    "Content-Security-Policy refusals": [],
    "uncaught page errors": [],
}
# Chromium's own value for an element nothing styles.
TRANSPARENT = "rgba(0, 0, 0, 0)"


@dataclass
class PageLog:
    """Everything the browser fetched and printed, over every page of the test."""

    responses: list[Response] = field(default_factory=list)
    console: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    def watch(self, context: BrowserContext) -> None:
        def on_page(page: Page) -> None:
            page.on("response", lambda response: self.responses.append(response))
            page.on("console", lambda message: self.console.append(describe(page, message)))
            page.on("pageerror", lambda error: self.page_errors.append(f"{page.url}: {error}"))

        context.on("page", on_page)

    def assets(self) -> list[Response]:
        return [r for r in self.responses if r.request.resource_type in ("stylesheet", "script")]

    def failed_assets(self) -> list[str]:
        return [f"{r.status} {r.url}" for r in self.assets() if r.status != 200]

    def csp_refusals(self) -> list[str]:
        # Chromium reports each CSP block as a console error: "Refused to load ..." or
        # "Executing inline script violates the following Content Security Policy ...".
        return [
            line
            for line in self.console
            if "Refused to" in line or "Content Security Policy" in line
        ]

    def problems(self) -> dict[str, list[str]]:
        """What went wrong so far; all empty when the pages loaded as they should."""
        return {
            "stylesheets and scripts not 200": self.failed_assets(),
            "Content-Security-Policy refusals": self.csp_refusals(),
            "uncaught page errors": self.page_errors,
        }


def describe(page: Page, message: ConsoleMessage) -> str:
    return f"{message.type} on {page.url}: {message.text}"


@dataclass
class Deployment:
    url: str
    set_password_link: str
    superuser: str
    superuser_password: str


@pytest.fixture
def deployment(stack, static_root: Path, tmp_path: Path) -> Deployment:
    """The README's production set-up, step by step, on a fresh database."""
    database_url = stack.enter_context(fresh_database("browser"))
    port = free_port()  # known before start: create_msp's link must point at it
    env = app_environment(
        database_url,
        static_root,
        PUBLIC_URL=f"http://{LOOPBACK}:{port}",
        METRICS_TOKEN=METRICS_TOKEN,
    )
    server = Gunicorn(env, tmp_path, port=port)

    manage(env, "migrate", "--no-input")
    created = manage(env, "create_msp", "Acme IT", "--admin", ADMIN_EMAIL)
    link = last_line(created.stdout)
    assert link.startswith(f"{server.url}/accounts/set-password/"), created.stdout
    superuser, superuser_password = "root", "root-" + secrets.token_urlsafe(16)
    manage(
        {
            **env,
            "DJANGO_SUPERUSER_USERNAME": superuser,
            "DJANGO_SUPERUSER_PASSWORD": superuser_password,
            "DJANGO_SUPERUSER_EMAIL": "root@acme.example",
        },
        "createsuperuser",
        "--no-input",
    )

    stack.callback(server.stop)
    server.start()
    return Deployment(server.url, link, superuser, superuser_password)


class Chromium:
    """Headless Debian Chromium on the deployment, driven from a thread of its own.

    Playwright's sync API allows one instance per thread, and tests/browser keeps one
    open in the main thread for the whole session: started there too, this one would
    fail whenever both folders run in one process. Every Playwright call of this test
    therefore happens in `run`'s thread.
    """

    def __init__(self, deployment: Deployment, artifacts: Path):
        self.deployment = deployment
        self.artifacts = artifacts
        self.page_log = PageLog()
        self.screenshots = Screenshots()
        self.contexts: list[BrowserContext] = []
        self.browser: Browser | None = None

    def new_context(self) -> BrowserContext:
        """A browser profile of its own (cookies, clipboard permission) on the
        deployment, watched by `page_log`."""
        assert self.browser is not None
        context = self.browser.new_context(base_url=self.deployment.url)
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=self.deployment.url)
        self.page_log.watch(context)
        self.contexts.append(context)
        return context

    def run(self, scenario: Callable[[Chromium], None]) -> None:
        """Run `scenario(self)` in a new thread; its failure is raised here."""
        failure: list[BaseException] = []

        def main() -> None:
            try:
                self._run(scenario)
            except BaseException as error:
                failure.append(error)

        thread = threading.Thread(target=main, name="chromium")
        thread.start()
        thread.join(timeout=SCENARIO_DEADLINE)
        assert not thread.is_alive(), f"the browser scenario ran over {SCENARIO_DEADLINE} s"
        if failure:
            raise failure[0]

    def _run(self, scenario: Callable[[Chromium], None]) -> None:
        with sync_playwright() as playwright:
            self.browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
            try:
                scenario(self)
            except BaseException:
                self.save_screenshots()
                raise
            finally:
                for context in self.contexts:
                    context.close()
                self.browser.close()

    def save_screenshots(self) -> None:
        """The steps recorded, and every page still open, into test-artifacts/."""
        self.artifacts.mkdir(parents=True, exist_ok=True)
        for number, (step, png) in enumerate(self.screenshots.shots, 1):
            (self.artifacts / f"{number:02}-{step}.png").write_bytes(png)
        for number, context in enumerate(self.contexts, 1):
            for page_number, page in enumerate(context.pages, 1):
                page.screenshot(path=self.artifacts / f"last-{number}-{page_number}.png")


def path_of(url: str) -> str:
    return urlsplit(url).path


def test_the_console_admin_and_api_docs_work_in_production_mode(
    deployment: Deployment, request: pytest.FixtureRequest
):
    artifacts = ARTIFACTS / re.sub(r"[^\w.-]+", "_", request.node.name)
    Chromium(deployment, artifacts).run(lambda chromium: use_the_deployment(chromium, deployment))


def use_the_deployment(chromium: Chromium, deployment: Deployment) -> None:
    """What an operator, a new MSP admin and support staff do on day one."""
    new_context, page_log, screenshots = (
        chromium.new_context,
        chromium.page_log,
        chromium.screenshots,
    )
    page = new_context().new_page()

    # The link create_msp printed: the new admin chooses a password and is signed in.
    page.goto(deployment.set_password_link)
    expect(page.get_by_role("heading", name="Choose your password")).to_be_visible()
    screenshots.take(page, "set-password")
    password = "Acme-" + secrets.token_urlsafe(12)
    page.get_by_label("New password").fill(password)
    page.get_by_label("Repeat it").fill(password)
    page.get_by_role("button", name="Set password and sign in").click()
    page.wait_for_url(lambda url: path_of(url) == "/")
    expect(page.get_by_role("heading", name="Sites", level=1)).to_be_visible()
    screenshots.take(page, "sites")
    # The console's stylesheet is applied, not only fetched.
    assert page.locator(".topbar").evaluate("e => getComputedStyle(e).backgroundColor") not in (
        TRANSPARENT,
        "",
    )

    page.get_by_role("link", name="Add site").click()
    page.get_by_label("Name").fill("Litware")
    page.get_by_role("button", name="Add site").click()
    page.wait_for_url(lambda url: path_of(url) == "/")
    expect(page.get_by_role("status")).to_contain_text("Litware")

    page.get_by_role("link", name="Security Awareness Training settings for Litware").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Litware")
    page.get_by_role("button", name="Configure Microsoft Entra Integration").click()
    tenant_url = page.locator("#tenant-url").input_value()
    secret = page.locator("#secret-token").input_value()
    screenshots.take(page, "token")
    assert tenant_url == f"{deployment.url}/api/v2/scim"
    assert secret.startswith("satscim_")
    page.locator('button[data-copy="secret-token"]').click()
    expect(page.locator('button[data-copy="secret-token"]')).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == secret
    # The token the console showed is the one the deployed SCIM endpoint accepts.
    scim = request("GET", tenant_url + "/Users", headers={"Authorization": f"Bearer {secret}"})
    assert scim.status == 200, scim.text
    assert scim.headers.get("x-request-id")
    # Prometheus sees it, whichever of gunicorn's two worker processes served it.
    assert request("GET", deployment.url + "/metrics").status == 401
    metrics = request(
        "GET", deployment.url + "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}
    )
    assert metrics.status == 200
    assert (
        'sat_http_requests_total{method="GET",route="/api/v2/scim/Users",status="200"} 1.0'
        in metrics.text
    ), metrics.text[:3000]

    # OAuth 2.0 client credentials, as Entra's gallery requires: the console's four values,
    # a token from the deployed token endpoint (HTTP Basic, as Entra sends it), then SCIM.
    page.get_by_role("link", name="Done").click()
    page.get_by_role("button", name="Set up OAuth 2.0 client credentials").click()
    token_endpoint = page.locator("#token-endpoint").input_value()
    client_id = page.locator("#client-id").input_value()
    client_secret = page.locator("#client-secret").input_value()
    assert token_endpoint == f"{deployment.url}/api/v2/oauth/token"
    basic = base64.b64encode(f"{quote_plus(client_id)}:{quote_plus(client_secret)}".encode())
    token = request(
        "POST",
        token_endpoint,
        form={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic.decode()}"},
    )
    assert token.status == 200, token.text
    access_token = token.json()["access_token"]
    scim = request(
        "GET", tenant_url + "/Users", headers={"Authorization": f"Bearer {access_token}"}
    )
    assert scim.status == 200, scim.text
    page.get_by_role("link", name="Done").click()

    # Help, and the README it links, as the deployment serves them.
    page.get_by_role("link", name="Help").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Help: pointing Microsoft Entra ID at a site"
    )
    screenshots.take(page, "help")
    page.get_by_role("link", name="full README").click()
    expect(page.locator("body")).to_contain_text("## Pointing Microsoft Entra ID at a site")
    page.go_back()

    console_assets = [path_of(r.url) for r in page_log.assets()]
    # collectstatic's manifest is used: hashed names, which browsers may keep a year.
    assert any(re.fullmatch(r"/static/console\.[0-9a-f]{12}\.css", p) for p in console_assets)
    assert any(re.fullmatch(r"/static/console\.[0-9a-f]{12}\.js", p) for p in console_assets)
    assert page_log.problems() == NO_PROBLEMS, "on the console's pages"

    # Support's admin, as the superuser createsuperuser made.
    admin = new_context().new_page()
    admin.goto("/admin/")
    admin.get_by_label("Username").fill(deployment.superuser)
    admin.get_by_label("Password").fill(deployment.superuser_password)
    admin.get_by_role("button", name="Log in").click()
    expect(
        admin.get_by_role("heading", name="Provisioned data, sites and credentials")
    ).to_be_visible()
    screenshots.take(admin, "admin")
    admin_css = [
        r for r in page_log.assets() if path_of(r.url).startswith("/static/admin/css/base.")
    ]
    assert admin_css and all(r.status == 200 for r in admin_css), page_log.failed_assets()
    header_background = admin.locator("#header").evaluate(
        "e => getComputedStyle(e).backgroundColor"
    )
    assert header_background not in (TRANSPARENT, ""), "the admin's CSS is not applied"
    assert page_log.problems() == NO_PROBLEMS, "on the admin's pages"

    # The API docs: Swagger UI from our own static files, started by a script file.
    docs = new_context().new_page()
    docs.goto("/api/v1/docs/")
    expect(docs.locator(".swagger-ui .opblock").first).to_be_visible(timeout=15_000)
    screenshots.take(docs, "api-docs")

    favicon = docs.request.get("/favicon.ico")
    assert favicon.status == 200
    assert re.fullmatch(r"/static/favicon\.[0-9a-f]{12}\.svg", path_of(favicon.url))

    assert page_log.problems() == NO_PROBLEMS, "on the API docs (Swagger UI) or the favicon"
