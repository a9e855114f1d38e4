"""The Team page in a real browser: Alice (admin at Northwind IT) invites a colleague as
read-only and copies the one-time link; the colleague opens it in a browser of their own,
chooses a password and lands signed in on Sites, able to look and not to change."""

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

NEW_PASSWORD = "a-long-new-password-for-bob2"


def test_an_invited_colleague_sets_a_password_and_signs_in_read_only(
    page, browser, live_server, settings, alice, contoso, screenshots
):
    settings.PUBLIC_URL = live_server.url  # the link is built from it, as e-mails are
    sign_in(page, "alice", PASSWORD)
    page.get_by_role("navigation").get_by_role("link", name="Team").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Team")
    page.get_by_label("Email address").fill("bob2@northwind.example")
    page.get_by_label("Role", exact=True).select_option("Read-only")
    page.get_by_role("button", name="Invite").click()

    expect(page.get_by_role("alert")).to_have_text(
        "Send this link to bob2@northwind.example now. It cannot be shown again."
    )
    screenshots.take(page, "invitation")
    copy = page.locator('button[data-copy="invitation-link"]')
    copy.click()
    expect(copy).to_have_text("Copied")
    link = page.evaluate("navigator.clipboard.readText()")
    assert link == page.locator("#invitation-link").input_value()
    assert link.startswith(f"{live_server.url}/accounts/set-password/")

    colleague_browser = browser.new_context(base_url=live_server.url)
    try:
        colleague = colleague_browser.new_page()
        colleague.goto(link)
        expect(colleague.get_by_role("heading", level=1)).to_have_text("Choose your password")
        expect(colleague.get_by_text("Signing in as bob2@northwind.example")).to_be_visible()
        # The token leaves the address bar (Django keeps it in the session instead).
        assert urlsplit(colleague.url).path.endswith("/set-password/")
        colleague.get_by_label("New password").fill(NEW_PASSWORD)
        colleague.get_by_label("Repeat it").fill(NEW_PASSWORD)
        colleague.get_by_role("button", name="Set password and sign in").click()

        colleague.wait_for_url(f"{live_server.url}/")
        screenshots.take(colleague, "signed-in")
        expect(colleague.get_by_role("status")).to_contain_text("Your password is set")
        expect(colleague.get_by_role("banner")).to_contain_text(
            "bob2@northwind.example · Northwind IT · Read-only"
        )
        expect(colleague.locator("tr", has_text="Contoso")).to_be_visible()
        expect(colleague.get_by_role("link", name="Add site")).to_have_count(0)

        colleague.goto("/team/")
        expect(colleague.get_by_role("button", name="Invite")).to_have_count(0)
        expect(colleague.get_by_text("Only admins invite colleagues")).to_be_visible()

        # The link worked once.
        colleague.get_by_role("button", name="Sign out").click()
        colleague.goto(link)
        expect(colleague.get_by_text("This link has been used already")).to_be_visible()
    finally:
        colleague_browser.close()

    page.get_by_role("link", name="Done").click()
    row = page.locator('tr[data-member="bob2@northwind.example"]')
    expect(row).to_contain_text("Read-only")
    expect(row).not_to_contain_text("Invited: no password yet")
    expect(page.get_by_text("alice invited bob2@northwind.example as Read-only")).to_be_visible()
    assert link not in page.content()
    screenshots.take(page, "team")
