"""The admin's MSPs, sites, staff and Secret Tokens: support sees each site's
integration status and tokens by hint, never a hash; only superusers revoke.

Root is a superuser, Sam is support staff (view-only), Bob is console staff and no
admin user. Contoso and Fabrikam belong to Northwind IT, Woodgrove to Tailspin MSP.
"""

import pytest
from django.urls import reverse
from django.utils.html import escape

from scim_app.models import ScimUser
from sites.credentials import api_keys, scim_tokens
from sites.models import MSP, CredentialEvent, ScimToken, Site
from tests.support.admin import count_queries, make_log_entry, signed_in_client
from tests.support.provisioned import make_group, make_user

SITES = reverse("admin:sites_site_changelist")
MSPS = reverse("admin:sites_msp_changelist")
TOKENS = reverse("admin:sites_scimtoken_changelist")
EVENTS = reverse("admin:sites_credentialevent_changelist")
STAFF = reverse("admin:sites_staff_changelist")
API_KEYS = reverse("admin:sites_apikey_changelist")


def token_page(token: ScimToken) -> str:
    return reverse("admin:sites_scimtoken_change", args=[token.pk])


def site_page(site: Site) -> str:
    return reverse("admin:sites_site_change", args=[site.pk])


@pytest.fixture(params=["root", "sam"])
def staff(request):
    return signed_in_client(request.getfixturevalue(request.param))


@pytest.fixture
def contoso_token(contoso):
    token, _ = scim_tokens.issue_token(contoso, via="command")
    return token


def test_the_site_list_shows_msp_sat_flag_counts_and_integration_status(
    staff, contoso, fabrikam, woodgrove, contoso_token
):
    dana = make_user(contoso, "dana.fisher@contoso.example")
    make_user(contoso, "eve@contoso.example")
    make_group(contoso, "Finance Team", [dana])
    make_log_entry(contoso, status=409)
    woodgrove.sat_enabled = False
    woodgrove.save()

    page = staff.get(SITES).text
    contoso_row = next(line for line in page.splitlines() if ">Contoso<" in line)
    assert "Northwind IT" in contoso_row
    assert ">2</a></td>" in contoso_row  # users
    assert ">1</a></td>" in contoso_row  # groups and active tokens
    assert '<td class="field-last_request_status">409</td>' in contoso_row
    woodgrove_row = next(line for line in page.splitlines() if ">Woodgrove<" in line)
    assert 'alt="False"' in woodgrove_row


def test_a_site_page_shows_its_last_request_and_last_error(staff, contoso, contoso_token):
    make_log_entry(contoso, status=409, summary="POST /Users → 409 uniqueness")
    make_log_entry(contoso, status=200, summary="filter userName eq x → 0 results")
    page = staff.get(site_page(contoso)).text
    assert "last request" in page and "filter userName eq x" not in page.split("last error")[1]
    assert escape("/api/v2/scim/Users → 409") in page.split("last error")[1]


def test_sites_are_found_by_name_msp_and_public_id(staff, contoso, fabrikam, woodgrove):
    assert "Fabrikam" not in staff.get(SITES, {"q": "Tailspin"}).text
    page = staff.get(SITES, {"q": str(contoso.public_id)}).text
    assert ">Contoso<" in page and ">Fabrikam<" not in page


def test_the_msp_list_counts_sites_and_staff(staff, msp, other_msp, contoso, fabrikam, bob):
    row = next(line for line in staff.get(MSPS).text.splitlines() if "Northwind IT" in line)
    assert ">2</a></td>" in row
    assert '<td class="field-staff_count">1</td>' in row


def test_the_staff_list_shows_roles(staff, alice, bob, charlie):
    page = staff.get(STAFF).text
    assert "alice" in page and "Read-only" in page and "Tailspin MSP" in page


def test_tokens_show_their_hint_and_dates_but_never_the_hash(staff, contoso_token):
    for url in (TOKENS, token_page(contoso_token)):
        page = staff.get(url).text
        assert f"…{contoso_token.hint}" in page
        assert contoso_token.secret_hash not in page
        assert "secret_hash" not in page
    assert "Issued" in staff.get(token_page(contoso_token)).text  # the audit trail


def test_api_keys_show_their_hint_msp_and_dates_but_never_the_hash(staff, alice, root):
    key, plaintext = api_keys.issue_key(alice.staff.msp, name="Onboarding", by=alice)
    api_keys.revoke_key(key)
    for url in (API_KEYS, reverse("admin:sites_apikey_change", args=[key.pk])):
        page = staff.get(url).text
        assert f"…{key.hint}" in page and "Onboarding" in page and "Northwind IT" in page
        assert key.secret_hash not in page and plaintext not in page
        assert "secret_hash" not in page
    assert staff.get(API_KEYS, {"secret_hash__startswith": key.secret_hash[:10]}).status_code == 400
    assert staff.get(reverse("admin:sites_apikey_add")).status_code == 403


@pytest.mark.parametrize("lookup", ["secret_hash", "secret_hash__startswith", "secret_hash__in"])
def test_tokens_cannot_be_looked_up_by_hash(staff, contoso_token, lookup):
    response = staff.get(TOKENS, {lookup: contoso_token.secret_hash[:10]})
    assert response.status_code == 400


def test_the_token_list_filters_by_state(staff, contoso, contoso_token):
    old, _ = scim_tokens.issue_token(contoso, via="command")
    scim_tokens.revoke_token(old, via="command")
    assert f"…{old.hint}" in staff.get(TOKENS, {"state": "revoked"}).text
    usable = staff.get(TOKENS, {"state": "usable"}).text
    assert f"…{old.hint}" not in usable
    # Issuing a second token put the first on its grace period: it has an expiry.
    assert f"…{contoso_token.hint}" in usable
    expiring = staff.get(TOKENS, {"state": "expiring"}).text
    assert f"…{contoso_token.hint}" in expiring and f"…{old.hint}" not in expiring
    assert f"…{contoso_token.hint}" not in staff.get(TOKENS, {"state": "active"}).text


def test_a_superuser_revokes_tokens_and_the_audit_trail_says_so(root, contoso_token):
    client = signed_in_client(root)
    response = client.post(
        TOKENS, {"action": "revoke", "_selected_action": [contoso_token.pk]}, follow=True
    )
    assert "Revoked 1 token(s)." in response.text
    contoso_token.refresh_from_db()
    assert contoso_token.revoked_at is not None
    event = CredentialEvent.objects.get(action=CredentialEvent.Action.REVOKED)
    assert (event.actor, event.via, event.hint) == (root, "admin", contoso_token.hint)
    assert "admin" in client.get(EVENTS).text


def test_support_staff_cannot_revoke_tokens(sam, contoso_token):
    client = signed_in_client(sam)
    assert 'value="revoke"' not in client.get(TOKENS).text
    client.post(TOKENS, {"action": "revoke", "_selected_action": [contoso_token.pk]})
    contoso_token.refresh_from_db()
    assert contoso_token.revoked_at is None


@pytest.mark.parametrize("who", ["root", "sam"])
def test_tokens_and_their_audit_trail_cannot_be_added_edited_or_deleted(
    request, who, contoso_token
):
    client = signed_in_client(request.getfixturevalue(who))
    event = CredentialEvent.objects.get()
    for model, obj in (("scimtoken", contoso_token), ("credentialevent", event)):
        assert client.get(reverse(f"admin:sites_{model}_add")).status_code == 403
        assert client.post(reverse(f"admin:sites_{model}_change", args=[obj.pk])).status_code == 403
        delete = reverse(f"admin:sites_{model}_delete", args=[obj.pk])
        assert client.post(delete, {"post": "yes"}).status_code == 403
    assert ScimToken.objects.exists()


def test_support_staff_can_view_but_not_edit_sites_and_msps(sam, contoso, msp):
    client = signed_in_client(sam)
    page = client.get(site_page(contoso)).text
    assert "Contoso" in page and 'name="_save"' not in page
    client.post(site_page(contoso), {"name": "Hacked", "msp": msp.pk, "sat_enabled": "on"})
    contoso.refresh_from_db()
    assert contoso.name == "Contoso"
    assert client.get(reverse("admin:sites_msp_add")).status_code == 403


def test_the_site_autocomplete_behind_the_list_filters_finds_sites(staff, contoso, woodgrove):
    response = staff.get(
        reverse("admin:autocomplete"),
        {"app_label": "sites", "model_name": "scimtoken", "field_name": "site", "term": "cont"},
    )
    assert response.json()["results"] == [{"id": str(contoso.pk), "text": "Contoso"}]


def test_site_names_are_html_escaped(staff, msp):
    Site.objects.create(msp=msp, name="<script>alert(1)</script>")
    page = staff.get(SITES).text
    assert "<script>alert(1)" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_non_staff_are_refused(bob, contoso_token):
    client = signed_in_client(bob)
    for url in (SITES, MSPS, TOKENS, EVENTS, token_page(contoso_token)):
        assert client.get(url)["Location"].startswith(reverse("admin:login"))


def test_pages_need_the_same_number_of_queries_for_3_or_30_sites(staff, msp):
    def populate(n):
        sites = Site.objects.bulk_create(Site(msp=msp, name=f"Site {n}-{i}") for i in range(n))
        for site in sites:
            scim_tokens.issue_token(site, via="command")
            make_user(site, f"u@{site.pk}.example")
            make_log_entry(site)
        MSP.objects.bulk_create(MSP(name=f"MSP {n}-{i}") for i in range(n))
        return sites[0], ScimToken.objects.filter(site=sites[0]).get()

    def pages(site, token):
        return [SITES, site_page(site), MSPS, TOKENS, token_page(token), EVENTS, STAFF]

    for url in pages(*populate(3)):
        staff.get(url)  # warm the content-type cache, which is per process
    small_site = Site.objects.order_by("pk").first()
    small = [count_queries(staff, url) for url in pages(small_site, small_site.scim_tokens.get())]
    big = [count_queries(staff, url) for url in pages(*populate(30))]
    assert big == small
    assert max(big) <= 12
    assert ScimUser.objects.count() == 33
