"""The top bar (its Help link and which page it marks as current) and the Help page.

Alice is an admin at Northwind IT (site Contoso), Bob is read-only there; a login with
no MSP (Sam, support staff) is refused by the console.
"""

import re

import pytest
from django.test import Client


def current(response) -> list[str]:
    """The top bar's links marked as the page shown."""
    nav = re.search(r'<nav aria-label="Console">(.*?)</nav>', response.content.decode(), re.S)
    assert nav, "no top bar"
    return re.findall(r'<a href="[^"]+" aria-current="page">([^<]+)</a>', nav[1])


@pytest.mark.parametrize(
    ("path", "marked"),
    [("/", ["Sites"]), ("/team/", ["Team"]), ("/api-keys/", ["API keys"]), ("/help/", ["Help"])],
)
def test_the_top_bar_marks_the_page_shown(alice_client, path, marked):
    assert current(alice_client.get(path)) == marked


def test_pages_outside_the_top_bar_mark_none(alice_client, contoso):
    assert current(alice_client.get(f"/sites/{contoso.public_id}/")) == []
    assert current(alice_client.get("/sites/add/")) == []


def test_the_current_page_is_marked_also_with_a_search(alice_client, contoso):
    assert current(alice_client.get("/", {"q": "cont", "state": "waiting"})) == ["Sites"]


def test_every_console_page_links_to_help(alice_client, bob_client, contoso):
    for client, path in ((alice_client, "/"), (bob_client, f"/sites/{contoso.public_id}/")):
        assert b'<a href="/help/"' in client.get(path).content


def test_the_help_page_has_entras_three_ways_with_this_installations_urls(bob_client):
    response = bob_client.get("/help/")
    assert response.status_code == 200
    page = response.content.decode()
    for heading in (
        "OAuth 2.0 client credentials (recommended)",
        "Workload identity federation (no secret)",
        "Secret Token",
        "Reading the Sites list",
    ):
        assert f">{heading}</h2>" in page
    assert "<code>http://testserver/api/v2/scim</code>" in page
    assert "<code>http://testserver/api/v2/oauth/token</code>" in page
    assert "At least 40% of at least 10 requests in the last hour" in page
    assert 'href="/help/README.md"' in page


def test_the_full_readme_is_one_click_away(bob_client):
    response = bob_client.get("/help/README.md")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert "private" in response["Cache-Control"]
    text = b"".join(response.streaming_content).decode()
    assert "## Pointing Microsoft Entra ID at a site" in text


def test_help_needs_a_sign_in(db):
    for path in ("/help/", "/help/README.md"):
        response = Client().get(path)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


def test_a_login_without_an_msp_gets_the_consoles_403(signed_in, sam):
    assert signed_in(sam).get("/help/").status_code == 403
