"""The admin's OAuth clients, client secrets and access tokens: support sees them by hint,
never a hash; only superusers revoke a secret or a client, which stops Entra at once.

Root is a superuser, Sam is support staff (view-only). Contoso is connected with OAuth
client credentials.
"""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from sites.credentials import oauth
from sites.models import AccessToken, ClientSecret, CredentialEvent, OAuthClient, Site
from tests.conftest import ScimClient
from tests.support.admin import count_queries, signed_in_client
from tests.support.oauth import fetch_access_token, issue_client_secret, request_token

CLIENTS = reverse("admin:sites_oauthclient_changelist")
SECRETS = reverse("admin:sites_clientsecret_changelist")
ACCESS_TOKENS = reverse("admin:sites_accesstoken_changelist")
EVENTS = reverse("admin:sites_credentialevent_changelist")
SITES = reverse("admin:sites_site_changelist")


def page_of(obj) -> str:
    opts = obj._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])


@pytest.fixture(params=["root", "sam"])
def staff(request):
    return signed_in_client(request.getfixturevalue(request.param))


@pytest.fixture
def connected(contoso, contoso_client):
    """Contoso's client id and secret, and an access token Entra fetched with them."""
    return contoso_client, fetch_access_token(contoso_client)


def test_clients_secrets_and_tokens_show_hints_but_never_a_hash(staff, contoso, connected):
    credentials, access_token = connected
    client = OAuthClient.objects.get()
    secret = ClientSecret.objects.get()
    token = AccessToken.objects.get()
    for url in (CLIENTS, page_of(client), SECRETS, page_of(secret), ACCESS_TOKENS, page_of(token)):
        page = staff.get(url).text
        assert "Contoso" in page
        for plaintext in (credentials.client_secret, access_token):
            assert plaintext not in page
        assert secret.secret_hash not in page and token.secret_hash not in page
        assert "secret_hash" not in page
    assert client.client_id in staff.get(CLIENTS).text
    assert f"satsec_…{secret.hint}" in staff.get(page_of(client)).text
    assert f"satat_…{token.hint}" in staff.get(ACCESS_TOKENS).text
    assert "Issued" in staff.get(page_of(secret)).text  # the audit trail


@pytest.mark.parametrize("url", [SECRETS, ACCESS_TOKENS])
def test_secrets_and_tokens_cannot_be_looked_up_by_hash(staff, connected, url):
    secret_hash = ClientSecret.objects.get().secret_hash
    assert staff.get(url, {"secret_hash__startswith": secret_hash[:10]}).status_code == 400


def test_the_secret_list_filters_by_state(staff, contoso, connected):
    expiring = issue_client_secret(contoso)
    ClientSecret.objects.filter(hint=expiring.client_secret[-4:]).update(
        expires_at=timezone.now() + timedelta(days=10)
    )
    active_hint = connected[0].client_secret[-4:]
    expiring_page = staff.get(SECRETS, {"state": "expiring"}).text
    assert f"…{expiring.client_secret[-4:]}" in expiring_page
    assert f"…{active_hint}" not in expiring_page
    active_page = staff.get(SECRETS, {"state": "active"}).text
    assert f"…{active_hint}" in active_page
    assert f"…{expiring.client_secret[-4:]}" not in active_page


def test_the_site_list_counts_active_client_secrets(staff, contoso, connected):
    issue_client_secret(contoso)
    oauth.revoke_secret(ClientSecret.objects.order_by("pk").first())
    row = next(line for line in staff.get(SITES).text.splitlines() if ">Contoso<" in line)
    assert '<td class="field-usable_secret_count"><a href=' in row
    assert "state=usable" in row and ">1</a></td>" in row
    assert "active client secrets: 1" in staff.get(page_of(contoso)).text


def test_a_superuser_revokes_a_secret_and_entra_stops_at_once(root, contoso, connected):
    credentials, access_token = connected
    secret = ClientSecret.objects.get()
    client = signed_in_client(root)

    response = client.post(
        SECRETS, {"action": "revoke", "_selected_action": [secret.pk]}, follow=True
    )

    assert "Revoked 1 client secret(s)." in response.text
    assert ScimClient(access_token).get("Users").status_code == 401
    assert request_token(credentials).status_code == 401
    event = CredentialEvent.objects.get(action="revoked")
    assert (event.kind, event.actor, event.via, event.hint) == (
        "client_secret",
        root,
        "admin",
        secret.hint,
    )
    assert f"satsec_…{secret.hint}" in client.get(EVENTS).text


def test_a_superuser_revokes_a_client_and_the_next_secret_has_a_new_id(root, contoso, connected):
    credentials, access_token = connected
    issue_client_secret(contoso)
    old = OAuthClient.objects.get()

    response = signed_in_client(root).post(
        CLIENTS, {"action": "revoke", "_selected_action": [old.pk]}, follow=True
    )

    assert "Revoked 1 client(s)." in response.text
    assert ScimClient(access_token).get("Users").status_code == 401
    assert request_token(credentials).status_code == 401
    assert not ClientSecret.objects.usable().exists()
    assert CredentialEvent.objects.filter(action="revoked", via="admin").count() == 2
    renewed = issue_client_secret(contoso)
    assert renewed.client_id != old.client_id
    assert fetch_access_token(renewed)


def test_support_staff_cannot_revoke(sam, connected):
    client = signed_in_client(sam)
    for url in (SECRETS, CLIENTS):
        assert 'value="revoke"' not in client.get(url).text
    secret = ClientSecret.objects.get()
    client.post(SECRETS, {"action": "revoke", "_selected_action": [secret.pk]})
    client.post(CLIENTS, {"action": "revoke", "_selected_action": [secret.client_id]})
    assert ClientSecret.objects.usable().count() == 1
    assert OAuthClient.objects.get().revoked_at is None


def test_access_tokens_have_no_revoke_action(root, connected):
    assert 'value="revoke"' not in signed_in_client(root).get(ACCESS_TOKENS).text


@pytest.mark.parametrize("who", ["root", "sam"])
def test_clients_secrets_and_tokens_cannot_be_added_edited_or_deleted(request, who, connected):
    client = signed_in_client(request.getfixturevalue(who))
    for model, obj in (
        ("oauthclient", OAuthClient.objects.get()),
        ("clientsecret", ClientSecret.objects.get()),
        ("accesstoken", AccessToken.objects.get()),
    ):
        assert client.get(reverse(f"admin:sites_{model}_add")).status_code == 403
        assert client.post(reverse(f"admin:sites_{model}_change", args=[obj.pk])).status_code == 403
        delete = reverse(f"admin:sites_{model}_delete", args=[obj.pk])
        assert client.post(delete, {"post": "yes"}).status_code == 403
    assert AccessToken.objects.exists() and ClientSecret.objects.exists()


def test_pages_need_the_same_number_of_queries_for_3_or_30_sites(staff, msp, fresh_counters):
    def populate(n: int) -> Site:
        sites = Site.objects.bulk_create(Site(msp=msp, name=f"Site {n}-{i}") for i in range(n))
        for site in sites:
            fetch_access_token(issue_client_secret(site))
        return sites[0]

    def pages(site: Site) -> list[str]:
        return [
            CLIENTS,
            page_of(OAuthClient.objects.get(site=site)),
            SECRETS,
            page_of(ClientSecret.objects.get(site=site)),
            ACCESS_TOKENS,
            page_of(AccessToken.objects.get(site=site)),
        ]

    first = populate(3)
    for url in pages(first):
        staff.get(url)  # warm the content-type cache, which is per process
    small = [count_queries(staff, url) for url in pages(first)]
    big = [count_queries(staff, url) for url in pages(populate(30))]
    assert big == small
    assert max(big) <= 12
