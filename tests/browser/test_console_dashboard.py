"""The Sites list as a dashboard and the Help page in Chromium, on a desktop (1280 px) and
a phone (390 px): the filter by state with the search, the health badge, the top bar's
current page, and nothing wider than the screen.

The README's demo admin (`demo`, Demo MSP) looks at Contoso, whose Entra is failing, and
Fabrikam, which waits for Entra's first request; a few more sites fill the list.
"""

import pytest
from playwright.sync_api import Locator, Page, expect

from sites import team
from sites.credentials import api_keys, scim_tokens
from sites.models import Site, Staff
from tests.browser.conftest import DEMO_PASSWORD, dashboard, sign_in
from tests.support.oauth import issue_client_secret

pytestmark = pytest.mark.browser

WIDTHS = {"desktop": 1280, "phone": 390}


def assert_fits(page: Page) -> None:
    """No horizontal scrolling: the page is no wider than the viewport."""
    width = page.viewport_size["width"]
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width, f"{page.url} is {scroll_width} px wide at {width} px"


def apply(page: Page, search: str, state: str, *, expect_only: str) -> Locator:
    """Search and filter the Sites list; the one row listed, which starts with `expect_only`."""
    page.get_by_label("Search").fill(search)
    page.get_by_label("Show").select_option(state)
    page.get_by_role("button", name="Apply").click()
    rows = page.locator("tr[data-site]")
    expect(rows).to_have_count(1)
    expect(rows.first.locator("td").first).to_contain_text(expect_only)
    assert_fits(page)
    return rows.first


@pytest.mark.parametrize("width", WIDTHS.values(), ids=WIDTHS.keys())
def test_the_demo_admin_filters_the_sites_by_state_and_name(page, demo, screenshots, width):
    dashboard(demo)
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, "demo", DEMO_PASSWORD)
    expect(page.locator("tr[data-site]")).to_have_count(3)
    expect(page.get_by_role("link", name="Sites", exact=True)).to_have_attribute(
        "aria-current", "page"
    )
    contoso = page.locator('tr[data-site="Contoso"]')
    expect(contoso).to_contain_text("Failing: 80% errors in the last hour")
    expect(contoso).to_contain_text("12 errors in the last 24 hours")
    expect(contoso.locator('td[data-label="Users"]')).to_have_text("2")
    expect(contoso.locator('td[data-label="Active users"]')).to_have_text("1")
    screenshots.take(page, "all")
    assert_fits(page)

    apply(page, "", "Errors in the last 24 hours", expect_only="Contoso")
    expect(page.get_by_label("Show")).to_have_value("errors")
    waiting = apply(page, "fab", "Waiting for first request", expect_only="Fabrikam")
    expect(waiting).to_contain_text("Waiting for first request")
    screenshots.take(page, "waiting")
    apply(page, "", "Training disabled", expect_only="Litware International")

    page.get_by_role("link", name="Show all sites").click()
    expect(page.locator("tr[data-site]")).to_have_count(3)


@pytest.mark.parametrize("width", WIDTHS.values(), ids=WIDTHS.keys())
def test_the_help_link_leads_to_entras_steps_and_the_readme(page, demo, screenshots, width):
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, "demo", DEMO_PASSWORD)
    page.get_by_role("link", name="Help").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Help: pointing Microsoft Entra ID at a site"
    )
    expect(page.get_by_role("link", name="Help")).to_have_attribute("aria-current", "page")
    expect(page.get_by_role("link", name="Sites", exact=True)).not_to_have_attribute(
        "aria-current", "page"
    )
    for heading in ("OAuth 2.0 client credentials", "Workload identity federation", "Secret Token"):
        expect(page.get_by_role("heading", name=heading)).to_be_visible()
    screenshots.take(page, "help")
    assert_fits(page)

    page.get_by_role("link", name="full README").click()
    expect(page.locator("body")).to_contain_text("## Pointing Microsoft Entra ID at a site")


def test_the_tables_of_the_other_pages_fit_a_phone(page, demo, screenshots):
    """The settings page's secrets and tokens, the Team and the API keys become stacked
    rows; a long address breaks rather than widening the page."""
    contoso = Site.objects.get(msp=demo, name="Contoso")
    issue_client_secret(contoso)
    scim_tokens.issue_token(contoso)
    long_address = "a.rather.long.address.for.a.colleague@northwind-international.example"
    team.invite(demo, long_address, Staff.Role.READ_ONLY, by=None)
    api_keys.issue_key(demo, name="Onboarding scripts", by=None)
    page.set_viewport_size({"width": WIDTHS["phone"], "height": 900})
    sign_in(page, "demo", DEMO_PASSWORD)
    for path in (f"/sites/{contoso.public_id}/sat/", "/team/", "/api-keys/", "/sites/add/"):
        page.goto(path)
        screenshots.take(page, path.strip("/").replace("/", "-") or "sites")
        assert_fits(page)
