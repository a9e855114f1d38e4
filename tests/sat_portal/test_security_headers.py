"""Headers a production deployment relies on: a Content-Security-Policy without inline
script on every page, no caching of API answers, HSTS and HTTPS when configured."""

import re
from pathlib import Path

import pytest

from tests.conftest import ROOT, ScimClient

PAGES = ["/accounts/login/", "/admin/login/", "/api/v1/docs/"]


@pytest.mark.parametrize("path", PAGES)
def test_pages_carry_a_csp_that_allows_only_our_own_scripts(client, db, path):
    response = client.get(path)
    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy


def test_no_template_of_ours_has_an_inline_script_or_style():
    for template in (ROOT / "templates").rglob("*.html"):
        html = template.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), template
        assert "<style" not in html and " style=" not in html, template
        assert not re.search(r"\son[a-z]+=", html), template  # onclick=... handlers


def test_scim_and_api_answers_are_never_cached(contoso_scim, client, db):
    answers = [
        contoso_scim.get("Users"),
        ScimClient(None).get("Users"),  # 401
        client.get("/api/v1/sites/"),  # 401
        client.get("/api/v1/nowhere"),  # 404
    ]
    for response in answers:
        assert response["Cache-Control"] == "no-store", response.status_code


def test_hsts_is_sent_over_https_when_configured(client, db, settings):
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_HSTS_PRELOAD = True
    response = client.get("/accounts/login/", secure=True)
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"


def test_with_ssl_redirect_the_console_moves_to_https_but_scim_is_refused_not_redirected(
    client, contoso_scim, settings
):
    settings.SECURE_SSL_REDIRECT = True
    console = client.get("/accounts/login/")
    assert console.status_code == 301 and console["Location"].startswith("https://")

    scim = contoso_scim.get("Users")
    assert scim.status_code == 403
    assert scim["Content-Type"].startswith("application/scim+json")
    assert "https://" in scim.json()["detail"]
    assert contoso_scim.request("GET", "Users", secure=True).status_code == 200


def test_the_favicon_is_served(client, db):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    icon = client.get(response["Location"])
    assert icon.status_code == 200 and icon["Content-Type"] == "image/svg+xml"
    assert "max-age=315360000" in icon["Cache-Control"]  # hashed name: cached for years
    assert Path(response["Location"]).name.startswith("favicon.")
