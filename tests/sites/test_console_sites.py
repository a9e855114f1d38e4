"""The Sites page, Add site and enabling training.

Alice is an admin at Northwind IT (sites Contoso and Fabrikam), Bob is read-only there,
and Charlie at Tailspin (site Woodgrove) must never see Northwind's sites.
"""

import re
from datetime import timedelta

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from scim_app.resources import lifecycle
from sites import services
from sites.credentials import scim_tokens
from sites.models import ScimToken, Site
from tests.support.log import logged
from tests.support.provisioned import bare_user, make_group


def row(response, site_name: str) -> str:
    """The text of the Sites table row of `site_name`, tags and extra spaces removed."""
    html = response.content.decode()
    match = re.search(rf'<tr data-site="{re.escape(site_name)}">(.*?)</tr>', html, re.S)
    assert match, f"no row for {site_name}"
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(1)).split())


def test_alice_sees_her_msps_sites_and_not_tailspins(alice_client, contoso, fabrikam, woodgrove):
    response = alice_client.get("/")
    assert response.status_code == 200
    assert "Contoso" in row(response, "Contoso")
    assert "Fabrikam" in row(response, "Fabrikam")
    assert b"Woodgrove" not in response.content


def test_an_enabled_site_has_a_gear_link_to_its_training_settings(alice_client, contoso):
    response = alice_client.get("/")
    assert "Enabled" in row(response, "Contoso")
    assert f'href="/sites/{contoso.public_id}/sat/"'.encode() in response.content


def test_a_disabled_site_has_no_gear(alice_client, contoso):
    contoso.sat_enabled = False
    contoso.save()
    response = alice_client.get("/")
    assert "Disabled" in row(response, "Contoso")
    assert f'/sites/{contoso.public_id}/sat/"'.encode() not in response.content


def test_the_entra_column_follows_the_sites_tokens_and_log(alice_client, msp, contoso, fabrikam):
    used = Site.objects.create(msp=msp, name="Litware")
    revoked = Site.objects.create(msp=msp, name="Proseware")
    expired = Site.objects.create(msp=msp, name="Trey Research")
    disabled = Site.objects.create(msp=msp, name="Wingtip")
    scim_tokens.issue_token(fabrikam)
    scim_tokens.issue_token(used)
    logged(used, timezone.now().replace(year=2030, month=1, day=2, hour=3, minute=4))
    logged(used, timezone.now().replace(year=2029, month=1, day=2, hour=3, minute=4))
    old, _ = scim_tokens.issue_token(revoked)
    scim_tokens.revoke_token(old)
    lapsed, _ = scim_tokens.issue_token(expired)
    ScimToken.objects.filter(pk=lapsed.pk).update(expires_at=timezone.now() - timedelta(hours=1))
    scim_tokens.issue_token(disabled)
    services.set_sat_enabled(disabled, False)
    logged(disabled)

    response = alice_client.get("/")

    assert "Not configured" in row(response, "Contoso")
    assert "Waiting for first request" in row(response, "Fabrikam")
    assert "Provisioning last request 2030-01-02 03:04 UTC" in row(response, "Litware")
    assert "Token revoked" in row(response, "Proseware")
    assert "Token expired" in row(response, "Trey Research")
    assert "Training disabled" in row(response, "Wingtip")
    assert "Provisioning" not in row(response, "Wingtip")


def test_the_last_request_is_the_logs_even_when_it_was_refused(alice_client, contoso):
    """A request with a revoked token is still Entra calling: the log, not the token's
    last use, says when it last did."""
    token, _ = scim_tokens.issue_token(contoso)
    ScimToken.objects.filter(pk=token.pk).update(
        last_used_at=timezone.now().replace(year=2020, month=5, day=6, hour=7, minute=8)
    )
    logged(contoso, timezone.now().replace(year=2031, month=1, day=2, hour=3, minute=4), 401)
    assert "last request 2031-01-02 03:04 UTC" in row(alice_client.get("/"), "Contoso")


def test_a_site_whose_old_token_expired_after_rotation_is_still_provisioning(alice_client, contoso):
    old, _ = scim_tokens.issue_token(contoso)
    scim_tokens.issue_token(contoso)
    ScimToken.objects.filter(pk=old.pk).update(expires_at=timezone.now() - timedelta(hours=1))
    logged(contoso)
    assert "Provisioning" in row(alice_client.get("/"), "Contoso")


def test_users_active_users_and_groups_are_counted_per_site(alice_client, contoso, fabrikam):
    for name in ("ann@contoso.com", "ben@contoso.com", "cy@contoso.com"):
        bare_user(contoso, name)
    bare_user(contoso, "dan@contoso.com", active=False)
    make_group(contoso, "Sales")
    make_group(contoso, "Finance")
    bare_user(fabrikam, "dee@fabrikam.com")

    response = alice_client.get("/")

    # Users, active users, groups.
    assert row(response, "Contoso").endswith(" 4 3 2 Disable training")
    assert row(response, "Fabrikam").endswith(" 1 1 0 Disable training")


def test_users_entra_deleted_are_not_counted(alice_client, contoso):
    """A user Entra deleted is kept for restore, but is no longer one of the site's."""
    bare_user(contoso, "ann@contoso.com")
    lifecycle.soft_delete(contoso, bare_user(contoso, "gone@contoso.com"))
    lifecycle.soft_delete(contoso, bare_user(contoso, "left@contoso.com", active=False))
    make_group(contoso, "Sales")
    lifecycle.soft_delete(contoso, make_group(contoso, "Old"))

    assert row(alice_client.get("/"), "Contoso").endswith(" 1 1 1 Disable training")


def test_search_finds_sites_by_part_of_the_name_ignoring_case(alice_client, contoso, fabrikam):
    response = alice_client.get("/", {"q": "CONT"})
    assert b'data-site="Contoso"' in response.content
    assert b'data-site="Fabrikam"' not in response.content


def test_a_search_without_results_says_so(alice_client, contoso):
    response = alice_client.get("/", {"q": "nothing like it"})
    assert "No site name contains “nothing like it”.".encode() in response.content


def test_a_search_with_a_nul_character_is_a_form_error_not_a_server_error(alice_client, contoso):
    response = alice_client.get("/?q=a%00b")
    assert response.status_code == 400
    assert b"Null characters are not allowed." in response.content
    assert b'data-site="Contoso"' not in response.content


def test_sites_are_listed_fifty_to_a_page(alice_client, msp):
    Site.objects.bulk_create(Site(msp=msp, name=f"Site {n:03}") for n in range(120))
    first = alice_client.get("/")
    assert first.content.count(b"<tr data-site=") == 50
    assert b"Page 1 of 3" in first.content
    last = alice_client.get("/", {"page": 3})
    assert last.content.count(b"<tr data-site=") == 20
    assert b'data-site="Site 119"' in last.content
    assert alice_client.get("/", {"page": "junk"}).status_code == 200


def test_paging_keeps_the_search(alice_client, msp):
    Site.objects.bulk_create(Site(msp=msp, name=f"Branch {n:03}") for n in range(60))
    response = alice_client.get("/", {"q": "branch"})
    assert b"?q=branch&amp;page=2" in response.content


def sites_page_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/").status_code == 200
    return len(queries)


def test_the_sites_page_costs_the_same_queries_for_3_or_30_sites(alice_client, msp):
    def add_sites(first: int, last: int):
        for n in range(first, last):
            site = Site.objects.create(msp=msp, name=f"Customer {n:02}")
            scim_tokens.issue_token(site)
            logged(site)
            bare_user(site, f"user{n}@example.com")
            make_group(site, f"Group {n}")

    add_sites(0, 3)
    with_3 = sites_page_queries(alice_client)
    add_sites(3, 30)
    with_30 = sites_page_queries(alice_client)
    assert with_3 == with_30
    # session, user, staff, the page of sites, their count, one query per kind of Entra
    # credential (Secret Tokens, client secrets, federation trusts)
    assert with_30 <= 8


def test_bob_sees_the_sites_but_no_admin_buttons(bob_client, contoso):
    response = bob_client.get("/")
    assert "Contoso" in row(response, "Contoso")
    assert b"Add site" not in response.content
    assert b"Disable training" not in response.content


# Add site


def test_alice_adds_a_site(alice_client, msp):
    response = alice_client.post("/sites/add/", {"name": "  Adatum  "})
    assert response.status_code == 302
    assert Site.objects.get(msp=msp, name="Adatum").sat_enabled
    assert "Site “Adatum” added.".encode() in alice_client.get("/").content


def test_an_empty_site_name_is_a_form_error(alice_client, msp):
    response = alice_client.post("/sites/add/", {"name": "   "})
    assert response.status_code == 200
    assert b"This field is required." in response.content
    assert not Site.objects.exists()


def test_a_duplicate_site_name_in_any_case_is_a_form_error(alice_client, contoso):
    response = alice_client.post("/sites/add/", {"name": "CONTOSO"})
    assert response.status_code == 200
    assert b"Your MSP already has a site with this name." in response.content
    assert Site.objects.count() == 1


def test_another_msps_site_name_is_free(alice_client, msp, woodgrove):
    assert alice_client.post("/sites/add/", {"name": "Woodgrove"}).status_code == 302
    assert Site.objects.filter(msp=msp, name="Woodgrove").exists()


def test_a_too_long_site_name_is_a_form_error(alice_client):
    response = alice_client.post("/sites/add/", {"name": "x" * 201})
    assert b"Ensure this value has at most 200 characters" in response.content


def test_bob_may_not_add_sites(bob_client):
    assert bob_client.get("/sites/add/").status_code == 403
    assert bob_client.post("/sites/add/", {"name": "Adatum"}).status_code == 403
    assert not Site.objects.exists()


def test_adding_a_site_needs_the_csrf_token(alice):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    assert client.post("/sites/add/", {"name": "Adatum"}).status_code == 403
    assert not Site.objects.exists()


# Enable or disable training


def test_alice_disables_and_enables_training(alice_client, contoso):
    url = f"/sites/{contoso.public_id}/sat/enabled/"
    # Without the page's dialog (no script), disabling asks on a page of its own first.
    asked = alice_client.post(url, {"enabled": "false"})
    assert asked.status_code == 200 and b"Are you sure?" in asked.content
    assert b'name="confirmed" value="yes"' in asked.content
    contoso.refresh_from_db()
    assert contoso.sat_enabled
    assert alice_client.post(url, {"enabled": "false", "confirmed": "yes"}).status_code == 302
    contoso.refresh_from_db()
    assert not contoso.sat_enabled
    alice_client.post(url, {"enabled": "true"})
    contoso.refresh_from_db()
    assert contoso.sat_enabled


def test_a_bad_enabled_value_changes_nothing(alice_client, contoso):
    alice_client.post(f"/sites/{contoso.public_id}/sat/enabled/", {"enabled": "maybe"})
    contoso.refresh_from_db()
    assert contoso.sat_enabled


def test_enabling_training_is_post_only_admin_only_and_own_msp_only(
    alice_client, bob_client, contoso, woodgrove
):
    assert alice_client.get(f"/sites/{contoso.public_id}/sat/enabled/").status_code == 405
    url = f"/sites/{contoso.public_id}/sat/enabled/"
    assert bob_client.post(url, {"enabled": "false"}).status_code == 403
    other = f"/sites/{woodgrove.public_id}/sat/enabled/"
    assert alice_client.post(other, {"enabled": "false"}).status_code == 404
    contoso.refresh_from_db()
    woodgrove.refresh_from_db()
    assert contoso.sat_enabled and woodgrove.sat_enabled
