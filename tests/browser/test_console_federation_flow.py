"""The console in a real browser, workload identity federation, as the README's three
steps: Entra shows an Issuer, JWKS URL, Subject and Audience (here, a tenant of our own
on a loopback port); the demo user pastes them on Contoso's settings page and copies
back the Client ID, Token URL and Tenant URL; Entra's calls against the live server (a
token for a signed assertion, then SCIM with it) provision users, until the trust is
revoked.

With README_SCREENSHOTS set to a folder, the test also writes the README's pictures of
step 2 there (docs/images/federation-*.png).
"""

import os
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import expect

from sites.credentials import federation
from sites.models import FederationTrust
from tests.browser.conftest import DEMO_PASSWORD, sign_in
from tests.browser.test_console_oauth_flow import call, copy, provision

pytestmark = pytest.mark.browser


def fetch_token(token_endpoint: str, client_id: str, assertion: str) -> tuple[int, dict]:
    """What Entra sends with workload identity federation (RFC 7523 §2.2)."""
    form = {
        "grant_type": "client_credentials",
        "client_id": client_id,
        "client_assertion_type": federation.ASSERTION_TYPE,
        "client_assertion": assertion,
    }
    request = urllib.request.Request(  # noqa: S310 (our live server)
        token_endpoint,
        data=urllib.parse.urlencode(form).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    return call(request)


MICROSOFT_EXAMPLE = {
    "issuer": "https://login.microsoftonline.com/3f2a9c1e-7b4d-4e8a-9c6f-2d1b5a7e8c90/v2.0",
    "jwks_url": "https://login.microsoftonline.com/3f2a9c1e-7b4d-4e8a-9c6f-2d1b5a7e8c90/discovery/v2.0/keys",
    "subject": "9f7c1c3e-0d1e-4a4b-8a39-2c3a4f5b6d7e",
    "audience": "api://0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0",
}


def fill(page, values: dict) -> None:
    for label, name in (
        ("Issuer", "issuer"),
        ("JWKS URL", "jwks_url"),
        ("Subject", "subject"),
        ("Audience", "audience"),
    ):
        page.get_by_label(label, exact=True).fill(values[name])


def readme_picture(locator, name: str) -> None:
    folder = os.environ.get("README_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        locator.screenshot(path=Path(folder) / f"federation-{name}.png")


def test_the_demo_user_connects_entra_by_federation_with_no_secret_at_all(
    page, live_server, demo, entra_tenant, screenshots, settings
):
    page.set_viewport_size({"width": 1100, "height": 900})
    sign_in(page, "demo", DEMO_PASSWORD)
    page.get_by_role("link", name="Security Awareness Training settings for Contoso").click()
    section = page.locator("#federation-form")
    expect(
        page.get_by_role("heading", name="Workload identity federation (no secret)")
    ).to_be_visible()

    # Step 2: paste what Entra shows (the README's picture: a Microsoft tenant's values).
    fill(page, MICROSOFT_EXAMPLE)
    readme_picture(section, "1-paste")
    # The tenant of this test; first with a key URL on another host: a form error.
    values = entra_tenant.trust_values()
    fill(page, {**values, "jwks_url": "https://keys.attacker.example/keys"})
    page.get_by_role("button", name="Set up workload identity federation").click()
    expect(page.get_by_role("alert").filter(has_text="allowed key hosts")).to_be_visible()
    expect(page.get_by_label("Subject")).to_have_value(values["subject"])
    assert not FederationTrust.objects.exists()
    page.get_by_label("JWKS URL").fill(values["jwks_url"])
    page.get_by_role("button", name="Set up workload identity federation").click()
    expect(page.get_by_role("status")).to_contain_text("now trusts the Entra app")
    expect(page.locator("tr[data-trust-subject]")).to_have_count(1)
    screenshots.take(page, "trusted")
    if os.environ.get("README_SCREENSHOTS"):
        # As a deployment behind its public name shows them.
        served, settings.SCIM_BASE_URL = (
            settings.SCIM_BASE_URL,
            "https://sat.example.com/api/v2/scim",
        )
        page.reload()
        readme_picture(page.locator("#federation-values"), "2-copy")
        settings.SCIM_BASE_URL = served
        page.reload()

    # Step 3: what Entra is given back; none of it is secret.
    client_id = copy(page, "federation-client-id")
    token_endpoint = copy(page, "federation-token-url")
    tenant_url = copy(page, "federation-tenant-url")
    assert client_id.startswith("satcli_")
    assert token_endpoint == f"{live_server.url}/api/v2/oauth/token"
    assert tenant_url == f"{live_server.url}/api/v2/scim"

    # Entra's Test Connection, then provisioning.
    status, token = fetch_token(token_endpoint, client_id, entra_tenant.assertion())
    assert status == 200, token
    assert provision(tenant_url, token["access_token"], "dana@contoso.example") == 201
    page.reload()
    expect(page.locator("#entra-status")).to_have_text("Provisioning")

    page.get_by_role("button", name=f"Revoke federation trust {values['subject']}").click()
    page.get_by_role("dialog").get_by_role("button", name="Revoke trust").click()
    expect(page.get_by_role("status")).to_contain_text("revoked")
    expect(page.locator("#entra-status")).to_have_text("Federation trust revoked")
    assert provision(tenant_url, token["access_token"], "erin@contoso.example") == 401
    assert fetch_token(token_endpoint, client_id, entra_tenant.assertion())[0] == 401
