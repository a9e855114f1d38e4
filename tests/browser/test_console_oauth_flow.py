"""The console in a real browser, OAuth 2.0 client credentials: the README's demo user
sets up Contoso, copies the four values Entra needs, and Entra's calls against the live
server (a token by HTTP Basic, then SCIM with it) provision users; after Add secret and
revoking the first, only the second secret works.
"""

import base64
import json
import urllib.error
import urllib.parse
import urllib.request

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DEMO_PASSWORD, sign_in

pytestmark = pytest.mark.browser


def call(request: urllib.request.Request) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (our server)
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def fetch_token(token_endpoint: str, client_id: str, secret: str) -> tuple[int, dict]:
    """What Entra sends: the client id and secret, form-urlencoded, in HTTP Basic."""
    pair = f"{urllib.parse.quote_plus(client_id)}:{urllib.parse.quote_plus(secret)}"
    request = urllib.request.Request(  # noqa: S310
        token_endpoint,
        data=b"grant_type=client_credentials",
        headers={
            "Authorization": "Basic " + base64.b64encode(pair.encode()).decode(),
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    return call(request)


def provision(tenant_url: str, access_token: str, user_name: str) -> int:
    body = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": user_name}
    request = urllib.request.Request(  # noqa: S310
        f"{tenant_url}/Users",
        data=json.dumps(body).encode(),
        headers={
            "Authorization": f"Bearer {access_token}",
            "Content-Type": "application/scim+json",
        },
    )
    return call(request)[0]


def copy(page, field_id: str) -> str:
    """Press the field's Copy button; return what the clipboard then holds."""
    value = page.locator(f"#{field_id}").input_value()
    button = page.locator(f'button[data-copy="{field_id}"]')
    button.click()
    expect(button).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == value
    return value


def test_the_demo_user_connects_entra_with_client_credentials_and_rotates_the_secret(
    page, live_server, demo, screenshots
):
    sign_in(page, "demo", DEMO_PASSWORD)
    page.get_by_role("link", name="Security Awareness Training settings for Contoso").click()
    expect(
        page.get_by_role("heading", name="OAuth 2.0 client credentials (recommended)")
    ).to_be_visible()
    screenshots.take(page, "settings")

    page.get_by_role("button", name="Set up OAuth 2.0 client credentials").click()
    expect(
        page.get_by_text("Save this client secret now. It cannot be shown again.")
    ).to_be_visible()
    screenshots.take(page, "issued")
    tenant_url = copy(page, "tenant-url")
    token_endpoint = copy(page, "token-endpoint")
    client_id = copy(page, "client-id")
    first_secret = copy(page, "client-secret")
    assert tenant_url == f"{live_server.url}/api/v2/scim"
    assert token_endpoint == f"{live_server.url}/api/v2/oauth/token"
    assert client_id.startswith("satcli_") and first_secret.startswith("satsec_")

    page.get_by_role("link", name="Done").click()
    expect(page.locator("#entra-status")).to_have_text("Waiting for first request")
    assert first_secret not in page.content()

    status, first_token = fetch_token(token_endpoint, client_id, first_secret)
    assert status == 200 and first_token["expires_in"] == 3600
    assert provision(tenant_url, first_token["access_token"], "dana@contoso.example") == 201

    page.reload()
    expect(page.locator("#entra-status")).to_have_text("Provisioning")
    expect(page.locator(f'tr[data-secret-hint="{first_secret[-4:]}"]')).to_contain_text("UTC")

    page.get_by_role("button", name="Add secret").click()
    expect(page.get_by_text("The client's other secrets keep working")).to_be_visible()
    assert copy(page, "client-id") == client_id
    second_secret = copy(page, "client-secret")
    page.get_by_role("link", name="Done").click()
    expect(page.locator("tr[data-secret-hint]")).to_have_count(2)
    screenshots.take(page, "two-secrets")

    page.get_by_role("button", name=f"Revoke client secret …{first_secret[-4:]}").click()
    page.get_by_role("dialog").get_by_role("button", name="Revoke client secret").click()
    expect(page.get_by_role("status")).to_contain_text(
        f"Client secret …{first_secret[-4:]} revoked"
    )
    expect(page.locator("tr[data-secret-hint]")).to_have_count(1)
    screenshots.take(page, "revoked-first")

    assert fetch_token(token_endpoint, client_id, first_secret)[0] == 401
    assert provision(tenant_url, first_token["access_token"], "erin@contoso.example") == 401
    status, second_token = fetch_token(token_endpoint, client_id, second_secret)
    assert status == 200
    assert provision(tenant_url, second_token["access_token"], "erin@contoso.example") == 201
    assert second_secret not in page.content()
