"""The console in a real browser: the README's demo user configures Microsoft Entra for
Contoso, copies the Secret Token, and the token works against the live SCIM endpoint
until it is revoked. A read-only engineer cannot configure; another MSP's cannot see.
"""

import json
import urllib.error
import urllib.parse
import urllib.request

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from sites.models import Site
from tests.browser.conftest import DEMO_PASSWORD, sign_in
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def scim_status(base_url: str, secret: str) -> int:
    """Entra's matching query, sent with `secret` as the bearer token."""
    query = urllib.parse.urlencode({"filter": 'userName eq "x"'})
    url = f"{base_url}/api/v2/scim/Users?{query}"
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {secret}"})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (our server)
            assert json.load(response)["totalResults"] == 0
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_the_demo_user_configures_entra_copies_the_token_and_revokes_it(
    page, live_server, demo, screenshots
):
    sign_in(page, "demo", DEMO_PASSWORD)
    screenshots.take(page, "sites")
    contoso = page.locator("tr", has_text="Contoso")
    expect(contoso).to_contain_text("Not configured")

    contoso.get_by_role("link", name="Security Awareness Training settings for Contoso").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Contoso: Security Awareness Training settings"
    )
    screenshots.take(page, "settings")

    page.get_by_role("button", name="Configure Microsoft Entra Integration").click()
    expect(page.get_by_text("Save this token now. It cannot be shown again.")).to_be_visible()
    screenshots.take(page, "token")
    tenant_url = page.locator("#tenant-url").input_value()
    assert tenant_url == f"{live_server.url}/api/v2/scim"
    secret = page.locator("#secret-token").input_value()
    assert secret.startswith("satscim_")

    page.locator('button[data-copy="secret-token"]').click()
    expect(page.locator('button[data-copy="secret-token"]')).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == secret
    page.locator('button[data-copy="tenant-url"]').click()
    expect(page.locator('button[data-copy="tenant-url"]')).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == tenant_url

    page.get_by_role("link", name="Done").click()
    expect(page.locator("#entra-status")).to_have_text("Waiting for first request")

    assert scim_status(live_server.url, secret) == 200

    page.reload()
    expect(page.locator("#entra-status")).to_have_text("Provisioning")
    screenshots.take(page, "provisioning")
    assert secret not in page.content()
    expect(page.locator("#secret-token")).to_have_count(0)

    page.get_by_role("button", name=f"Revoke token …{secret[-4:]}").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text(f"Revoke Secret Token …{secret[-4:]}?")
    dialog.get_by_role("button", name="Revoke token").click()
    expect(page.locator("#entra-status")).to_have_text("Token revoked")
    screenshots.take(page, "revoked")
    assert scim_status(live_server.url, secret) == 401


def test_going_back_to_the_token_page_does_not_show_the_token_again(page, demo, screenshots):
    sign_in(page, "demo", DEMO_PASSWORD)
    site = Site.objects.get(msp=demo, name="Contoso")
    page.goto(f"/sites/{site.public_id}/sat/")
    page.get_by_role("button", name="Configure Microsoft Entra Integration").click()
    secret = page.locator("#secret-token").input_value()
    page.get_by_role("link", name="Done").click()
    page.wait_for_url(f"**/sites/{site.public_id}/sat/")

    try:
        page.go_back()
    except PlaywrightError as error:
        # The token page is a no-store POST result: Chromium shows "Confirm Form
        # Resubmission" instead of a copy of it.
        assert "ERR_CACHE_MISS" in error.message
    screenshots.take(page, "back")
    assert secret not in page.content()

    # Confirming re-sends the Configure form, which is out of date now: nothing is issued.
    page.reload()
    screenshots.take(page, "back-and-reload")
    expect(page.get_by_role("status")).to_contain_text("no token was issued")
    assert secret not in page.content()
    expect(page.locator("#secret-token")).to_have_count(0)
    assert site.scim_tokens.count() == 1


def test_a_read_only_engineer_sees_the_status_but_cannot_configure(
    page, live_server, demo_reader, screenshots
):
    sign_in(page, "reader", PASSWORD)
    page.get_by_role("link", name="Security Awareness Training settings for Contoso").click()
    screenshots.take(page, "read-only-settings")
    expect(page.locator("#entra-status")).to_have_text("Not configured")
    expect(page.get_by_role("button", name="Configure Microsoft Entra Integration")).to_have_count(
        0
    )
    expect(page.get_by_text("ensure your account has Admin permissions")).to_be_visible()

    # Forging the form in the page still gets 403 from the server.
    status = page.evaluate(
        """async () => {
            const csrf = document.querySelector("[name=csrfmiddlewaretoken]").value;
            const response = await fetch(location.pathname + "entra/configure/", {
                method: "POST",
                headers: {"X-CSRFToken": csrf},
                body: new URLSearchParams({newest: "0"}),
            });
            return response.status;
        }"""
    )
    assert status == 403
    assert not Site.objects.get(name="Contoso", msp=demo_reader.staff.msp).scim_tokens.exists()


def test_another_msps_engineer_cannot_reach_the_page(page, demo, charlie, screenshots):
    sign_in(page, "charlie", PASSWORD)
    expect(page.locator("body")).not_to_contain_text("Contoso")
    site = Site.objects.get(msp=demo, name="Contoso")
    response = page.goto(f"/sites/{site.public_id}/sat/")
    screenshots.take(page, "other-msp")
    assert response.status == 404


def test_the_copy_button_comes_back_to_copy_after_two_quick_clicks(page, demo, screenshots):
    page.clock.install()
    sign_in(page, "demo", DEMO_PASSWORD)
    page.locator("tr", has_text="Contoso").get_by_role(
        "link", name="Security Awareness Training settings for Contoso"
    ).click()
    page.get_by_role("button", name="Configure Microsoft Entra Integration").click()
    button = page.locator('button[data-copy="secret-token"]')
    expect(button).to_have_text("Copy")

    button.click()
    expect(button).to_have_text("Copied")
    page.clock.run_for(1500)
    button.click()
    expect(button).to_have_text("Copied")
    screenshots.take(page, "copied-twice")

    page.clock.run_for(1500)  # 3 s after the first click, 1.5 s after the second
    expect(button).to_have_text("Copied")
    page.clock.run_for(1000)
    expect(button).to_have_text("Copy")
    expect(button).not_to_have_class("copied")
