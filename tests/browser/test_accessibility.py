"""axe-core on every console page, as Chromium shows it: no serious or critical violation.

The README's demo admin (`demo`, Demo MSP with Contoso and Fabrikam) opens each page; a
read-only engineer there meets the 403 page; an invited colleague's set-password page is
opened by someone signed out.
"""

import uuid
from collections.abc import Callable
from functools import wraps
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from sites import team
from sites.models import MSP, Site, Staff
from tests.browser.axe import assert_accessible
from tests.browser.conftest import DEMO_PASSWORD, dashboard, sign_in
from tests.conftest import PASSWORD, make_staff

pytestmark = pytest.mark.browser


def contoso(demo: MSP) -> Site:
    return Site.objects.get(msp=demo, name="Contoso")


def invitation_path(demo: MSP) -> str:
    _, link = team.invite(demo, "new.colleague@demo.example", Staff.Role.READ_ONLY, by=None)
    return urlsplit(link).path


def sign_in_page(page: Page, demo: MSP, settings) -> None:
    page.goto("/accounts/login/")


def sign_in_refused(page: Page, demo: MSP, settings) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("demo")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_be_visible()


def set_password_page(page: Page, demo: MSP, settings) -> None:
    page.goto(invitation_path(demo))
    expect(page.get_by_role("heading", name="Choose your password")).to_be_visible()
    expect(page.get_by_label("New password")).to_be_visible()


def set_password_refused(page: Page, demo: MSP, settings) -> None:
    page.goto(invitation_path(demo))
    page.get_by_label("New password").fill("12345678")
    page.get_by_label("Repeat it").fill("12345678")
    page.get_by_role("button", name="Set password and sign in").click()
    expect(page.get_by_role("alert").first).to_be_visible()


def set_password_expired(page: Page, demo: MSP, settings) -> None:
    path = invitation_path(demo)
    # Every link is older than this: the page a link more than 72 hours old shows.
    settings.PASSWORD_RESET_TIMEOUT = -1
    page.goto(path)
    expect(page.get_by_text("more than 72 hours old")).to_be_visible()


def signed_in(then: Callable[[Page, MSP], None]):
    @wraps(then)
    def visit(page: Page, demo: MSP, settings) -> None:
        sign_in(page, "demo", DEMO_PASSWORD)
        then(page, demo)

    return visit


@signed_in
def sites_list(page: Page, demo: MSP) -> None:
    expect(page.get_by_role("heading", name="Sites")).to_be_visible()


@signed_in
def sites_dashboard(page: Page, demo: MSP) -> None:
    """Every column filled: a failing site, a waiting one, one with training disabled."""
    dashboard(demo)
    page.reload()
    expect(page.get_by_text("Failing: 80% errors in the last hour")).to_be_visible()


@signed_in
def sites_filtered(page: Page, demo: MSP) -> None:
    dashboard(demo)
    page.get_by_label("Search").fill("con")
    page.get_by_label("Show").select_option("Errors in the last 24 hours")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("tr[data-site]")).to_have_count(1)


@signed_in
def sites_filtered_empty(page: Page, demo: MSP) -> None:
    page.goto("/?state=expiring")
    expect(page.get_by_text("No site is in the state")).to_be_visible()


@signed_in
def sites_filter_refused(page: Page, demo: MSP) -> None:
    response = page.goto("/?state=nope")
    assert response.status == 400
    expect(page.get_by_role("alert")).to_be_visible()


@signed_in
def sites_on_a_phone(page: Page, demo: MSP) -> None:
    dashboard(demo)
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    expect(page.get_by_text("Failing: 80% errors in the last hour")).to_be_visible()


@signed_in
def help_page(page: Page, demo: MSP) -> None:
    page.get_by_role("link", name="Help").click()
    expect(page.get_by_role("heading", name="Secret Token")).to_be_visible()


@signed_in
def help_on_a_phone(page: Page, demo: MSP) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/help/")
    expect(page.get_by_role("heading", name="Secret Token")).to_be_visible()


@signed_in
def add_site(page: Page, demo: MSP) -> None:
    page.goto("/sites/add/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()


@signed_in
def add_site_refused(page: Page, demo: MSP) -> None:
    page.goto("/sites/add/")
    page.get_by_role("button", name="Add site").click()
    expect(page.get_by_role("alert").first).to_be_visible()


@signed_in
def site_added(page: Page, demo: MSP) -> None:
    page.goto("/sites/add/")
    page.get_by_label("Name").fill("Litware")
    page.get_by_role("button", name="Add site").click()
    expect(page.get_by_role("status")).to_contain_text("Litware")


@signed_in
def confirm_dialog(page: Page, demo: MSP) -> None:
    """A destructive action asks first, in a dialog, which is checked open."""
    page.locator("tr", has_text="Contoso").get_by_role("button", name="Disable training").click()
    expect(page.get_by_role("dialog")).to_be_visible()


@signed_in
def training_disabled(page: Page, demo: MSP) -> None:
    page.locator("tr", has_text="Contoso").get_by_role("button", name="Disable training").click()
    page.get_by_role("dialog").get_by_role("button", name="Disable training").click()
    expect(page.get_by_role("status")).to_contain_text("disabled")


@signed_in
def sat_settings(page: Page, demo: MSP) -> None:
    page.goto(f"/sites/{contoso(demo).public_id}/sat/")
    expect(page.locator("#entra-status")).to_be_visible()


@signed_in
def token_issued(page: Page, demo: MSP) -> None:
    page.goto(f"/sites/{contoso(demo).public_id}/sat/")
    page.get_by_role("button", name="Configure Microsoft Entra Integration").click()
    expect(page.locator("#secret-token")).to_be_visible()


@signed_in
def token_revoked(page: Page, demo: MSP) -> None:
    page.goto(f"/sites/{contoso(demo).public_id}/sat/")
    page.get_by_role("button", name="Configure Microsoft Entra Integration").click()
    page.get_by_role("link", name="Done").click()
    page.get_by_role("button", name="Configure Microsoft Entra Integration").click()
    page.get_by_role("link", name="Done").click()
    page.get_by_role("button", name="Revoke token").first.click()
    page.get_by_role("dialog").get_by_role("button", name="Revoke token").click()
    expect(page.get_by_role("status")).to_contain_text("revoked")


@signed_in
def api_keys(page: Page, demo: MSP) -> None:
    page.goto("/api-keys/")
    expect(page.get_by_role("heading", name="Create an API key")).to_be_visible()


@signed_in
def api_key_issued(page: Page, demo: MSP) -> None:
    page.goto("/api-keys/")
    page.get_by_label("Name").fill("Onboarding")
    page.get_by_role("button", name="Create API key").click()
    expect(page.locator("#api-key")).to_be_visible()


@signed_in
def api_key_revoked(page: Page, demo: MSP) -> None:
    for name in ("Onboarding", "Reports"):
        page.goto("/api-keys/")
        page.get_by_label("Name").fill(name)
        page.get_by_role("button", name="Create API key").click()
    page.get_by_role("link", name="Done").click()
    page.get_by_role("button", name="Revoke API key Onboarding").click()
    expect(page.get_by_role("status")).to_contain_text("revoked")


@signed_in
def team_page(page: Page, demo: MSP) -> None:
    invitation_path(demo)  # a pending invitation shows its own controls
    page.goto("/team/")
    expect(page.get_by_role("heading", name="Invite a colleague")).to_be_visible()


@signed_in
def team_invite_refused(page: Page, demo: MSP) -> None:
    page.goto("/team/")
    page.get_by_label("Email address").fill("demo")
    page.get_by_role("button", name="Invite").click()
    expect(page.get_by_role("alert").first).to_be_visible()


@signed_in
def invitation_issued(page: Page, demo: MSP) -> None:
    page.goto("/team/")
    page.get_by_label("Email address").fill("bob2@demo.example")
    page.get_by_role("button", name="Invite").click()
    expect(page.locator("#invitation-link")).to_be_visible()


@signed_in
def team_changed(page: Page, demo: MSP) -> None:
    invitation_path(demo)
    page.goto("/team/")
    page.get_by_label("Role of new.colleague@demo.example", exact=True).select_option("Admin")
    page.get_by_role("button", name="Change the role of new.colleague@demo.example").click()
    expect(page.get_by_role("status")).to_contain_text("is now Admin")


def not_allowed(page: Page, demo: MSP, settings) -> None:
    make_staff("reader", demo, Staff.Role.READ_ONLY)
    sign_in(page, "reader", PASSWORD)
    response = page.goto("/sites/add/")
    assert response.status == 403


def form_expired(page: Page, demo: MSP, settings) -> None:
    page.goto("/accounts/login/")
    page.context.clear_cookies()  # the CSRF cookie goes: the 403 a stale form gets
    page.get_by_label("Username").fill("demo")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Form expired")).to_be_visible()


@signed_in
def not_found(page: Page, demo: MSP) -> None:
    response = page.goto(f"/sites/{uuid.uuid4()}/sat/")
    assert response.status == 404


@signed_in
def post_only(page: Page, demo: MSP) -> None:
    response = page.goto(f"/api-keys/{uuid.uuid4()}/revoke/")
    assert response.status == 405


PAGES = [
    sign_in_page,
    sign_in_refused,
    set_password_page,
    set_password_refused,
    set_password_expired,
    sites_list,
    sites_dashboard,
    sites_filtered,
    sites_filtered_empty,
    sites_filter_refused,
    sites_on_a_phone,
    help_page,
    help_on_a_phone,
    add_site,
    add_site_refused,
    site_added,
    confirm_dialog,
    training_disabled,
    sat_settings,
    token_issued,
    token_revoked,
    api_keys,
    api_key_issued,
    api_key_revoked,
    team_page,
    team_invite_refused,
    invitation_issued,
    team_changed,
    not_allowed,
    form_expired,
    not_found,
    post_only,
]


@pytest.mark.parametrize("visit", PAGES, ids=lambda visit: visit.__name__)
def test_axe_finds_nothing_serious(page, demo, settings, screenshots, visit):
    visit(page, demo, settings)
    screenshots.take(page, visit.__name__)
    assert_accessible(page)
