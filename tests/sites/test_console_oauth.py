"""A site's SAT settings, OAuth 2.0 client credentials: set up, the four values shown
once, Add secret (rotation), Revoke, Disable integration, and expiring secrets flagged.

Alice (admin at Northwind IT) connects Contoso; Bob (read-only there) sees the client and
its secrets but may change nothing; Charlie (Tailspin) gets 404 for anything of
Northwind's.
"""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from sites import services
from sites.credentials import oauth, scim_tokens
from sites.models import AccessToken, ClientSecret, CredentialEvent, OAuthClient, Site
from tests.conftest import ScimClient
from tests.support.admin import count_queries as page_queries
from tests.support.log import logged
from tests.support.oauth import ClientCredentials, issue_client_secret, request_token
from tests.support.storage import columns_containing


def settings_url(site) -> str:
    return f"/sites/{site.public_id}/sat/"


def issue_url(site) -> str:
    return f"{settings_url(site)}entra/oauth/secrets/"


CONFIRMED = {"confirmed": "yes"}


def revoke_url(site, secret) -> str:
    return f"{settings_url(site)}entra/oauth/secrets/{secret.pk}/revoke/"


def add_secret(client, site, lifetime_days: int | None = None):
    """Press Set up / Add secret on a freshly loaded settings page, as a person would."""
    page = client.get(settings_url(site)).content.decode()
    newest = re.search(r'name="newest_secret" value="(\d+)"', page).group(1)
    chosen = re.search(r'<option value="(\d+)" selected>', page).group(1)
    form = {"newest_secret": newest, "lifetime_days": lifetime_days or chosen}
    return client.post(issue_url(site), form)


def field(response, field_id: str) -> str:
    pattern = rf'id="{field_id}" type="text" value="([^"]+)"'
    match = re.search(pattern, response.content.decode())
    assert match, f"no {field_id} on the page"
    return match.group(1)


def shown_credentials(response) -> ClientCredentials:
    return ClientCredentials(field(response, "client-id"), field(response, "client-secret"))


def gets_a_token(credentials: ClientCredentials) -> bool:
    response = request_token(credentials)
    return (
        response.status_code == 200
        and ScimClient(response.json()["access_token"]).get("Users").status_code == 200
    )


@pytest.fixture(autouse=True)
def counters(fresh_counters):
    """The token endpoint's rate limits start from zero in every test."""


def test_the_settings_page_offers_both_methods(alice_client, contoso):
    html = alice_client.get(settings_url(contoso)).content.decode()
    assert "OAuth 2.0 client credentials (recommended)" in html
    assert 'id="token-endpoint" type="text" value="http://testserver/api/v2/oauth/token"' in html
    assert "Set up OAuth 2.0 client credentials</button>" in html
    assert "No active client secret." in html
    assert 'id="client-id"' not in html  # no client until the first secret
    assert "Configure Microsoft Entra Integration</button>" in html


def test_the_token_endpoint_follows_scim_base_url(alice_client, contoso, settings):
    settings.SCIM_BASE_URL = "https://sat.example.com/api/v2/scim"
    html = alice_client.get(settings_url(contoso)).content.decode()
    assert 'value="https://sat.example.com/api/v2/oauth/token"' in html


def test_set_up_shows_the_four_values_once_and_they_work(alice_client, alice, contoso):
    response = add_secret(alice_client, contoso)

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    html = response.content.decode()
    assert "Save this client secret now. It cannot be shown again." in html
    assert html.count('data-copy="') == 4
    assert field(response, "tenant-url") == "http://testserver/api/v2/scim"
    assert field(response, "token-endpoint") == "http://testserver/api/v2/oauth/token"
    assert f'id="done" href="{settings_url(contoso)}">Done</a>' in html
    credentials = shown_credentials(response)
    assert gets_a_token(credentials)

    client = OAuthClient.objects.get()
    secret = ClientSecret.objects.get()
    assert client.site == contoso and client.client_id == credentials.client_id
    assert client.created_by == alice and secret.created_by == alice
    assert credentials.client_secret.startswith("satsec_")
    assert credentials.client_secret.endswith(secret.hint)
    event = CredentialEvent.objects.get(kind="client_secret")
    assert (event.action, event.actor, event.via, event.site, event.credential_id) == (
        "issued",
        alice,
        "console",
        contoso,
        secret.pk,
    )


def test_a_secret_lasts_a_year_unless_another_lifetime_is_chosen(alice_client, contoso):
    add_secret(alice_client, contoso)
    add_secret(alice_client, contoso, lifetime_days=1095)
    one_year, three_years = ClientSecret.objects.order_by("pk")
    now = timezone.now()
    assert now + timedelta(days=364) < one_year.expires_at <= now + timedelta(days=365)
    assert now + timedelta(days=1094) < three_years.expires_at <= now + timedelta(days=1095)


def test_the_default_lifetime_follows_the_setting(alice_client, contoso, settings):
    settings.OAUTH_SECRET_LIFETIME_DAYS = 500
    html = alice_client.get(settings_url(contoso)).content.decode()
    assert '<option value="500" selected>500 days</option>' in html
    add_secret(alice_client, contoso)
    expires = ClientSecret.objects.get().expires_at
    assert timezone.now() + timedelta(days=499) < expires


@pytest.mark.parametrize("days", ["364", "1096", "36500000000"])
def test_a_lifetime_outside_one_to_three_years_issues_nothing(alice_client, contoso, days):
    response = alice_client.post(
        issue_url(contoso), {"newest_secret": "0", "lifetime_days": days}, follow=True
    )
    assert b"A client secret lasts 365 to 1095 days" in response.content
    assert not ClientSecret.objects.exists()


def test_the_secret_is_never_stored_or_shown_again(alice_client, contoso):
    credentials = shown_credentials(add_secret(alice_client, contoso))

    page = alice_client.get(settings_url(contoso)).content.decode()
    assert credentials.client_secret not in page
    assert f"satsec_…{credentials.client_secret[-4:]}" in page
    assert f'id="client-id" type="text" value="{credentials.client_id}"' in page
    assert credentials.client_secret not in str(dict(alice_client.session))
    assert columns_containing(credentials.client_secret) == []
    assert "sites.ClientSecret.hint" in columns_containing(credentials.client_secret[-4:])


def test_resending_the_form_issues_no_second_secret(alice_client, contoso):
    """A reload of the page showing the secret re-posts the form it came from."""
    form = {"newest_secret": "0", "lifetime_days": "365"}
    first = alice_client.post(issue_url(contoso), form)
    secret = field(first, "client-secret")

    again = alice_client.post(issue_url(contoso), form, follow=True)

    assert again.redirect_chain == [(settings_url(contoso), 302)]
    assert b"no secret was issued" in again.content
    assert secret.encode() not in again.content
    assert b'id="client-secret"' not in again.content
    assert ClientSecret.objects.count() == 1


def test_add_secret_rotates_without_downtime(alice_client, contoso):
    first = shown_credentials(add_secret(alice_client, contoso))
    page = alice_client.get(settings_url(contoso)).content.decode()
    assert "Add secret</button>" in page

    response = add_secret(alice_client, contoso)
    second = shown_credentials(response)

    assert second.client_id == first.client_id
    assert gets_a_token(first) and gets_a_token(second)
    assert "The client's other secrets keep working" in response.content.decode()
    page = alice_client.get(settings_url(contoso)).content.decode()
    assert page.count("<tr data-secret-hint=") == 2


def test_revoke_stops_a_secret_and_its_access_tokens_at_once(alice_client, alice, contoso):
    first = shown_credentials(add_secret(alice_client, contoso))
    second = shown_credentials(add_secret(alice_client, contoso))
    old_token = ScimClient(request_token(first).json()["access_token"])
    secret = ClientSecret.objects.get(hint=first.client_secret[-4:])

    response = alice_client.post(revoke_url(contoso, secret), CONFIRMED, follow=True)

    assert f"Client secret …{secret.hint} revoked".encode() in response.content
    assert response.content.count(b"<tr data-secret-hint=") == 1
    assert old_token.get("Users").status_code == 401
    assert request_token(first).status_code == 401
    assert gets_a_token(second)
    event = CredentialEvent.objects.get(kind="client_secret", action="revoked")
    assert (event.actor, event.credential_id, event.via) == (alice, secret.pk, "console")


def test_revoking_twice_says_it_was_already_revoked(alice_client, contoso):
    issue_client_secret(contoso)
    secret = ClientSecret.objects.get()
    alice_client.post(revoke_url(contoso, secret), CONFIRMED)
    response = alice_client.post(revoke_url(contoso, secret), CONFIRMED, follow=True)
    assert f"Client secret …{secret.hint} was already revoked.".encode() in response.content
    assert CredentialEvent.objects.filter(action="revoked").count() == 1


def test_disable_integration_revokes_every_secret_and_token(alice_client, contoso, fabrikam):
    credentials = shown_credentials(add_secret(alice_client, contoso))
    access = ScimClient(request_token(credentials).json()["access_token"])
    _, secret_token = scim_tokens.issue_token(contoso)
    fabrikams = issue_client_secret(fabrikam)

    response = alice_client.post(f"{settings_url(contoso)}entra/disable/", CONFIRMED, follow=True)

    assert b"1 token(s) revoked, 1 client secret(s) revoked" in response.content
    assert access.get("Users").status_code == 401
    assert ScimClient(secret_token).get("Users").status_code == 401
    assert request_token(credentials).status_code == 401
    assert gets_a_token(fabrikams)
    assert b"No active client secret." in response.content
    assert b"Entra cannot provision this site" in response.content
    # The client keeps its id: a new secret reconnects Entra with only the secret changed.
    again = shown_credentials(add_secret(alice_client, contoso))
    assert again.client_id == credentials.client_id


def test_disable_integration_is_offered_for_a_site_connected_with_oauth_only(alice_client, contoso):
    issue_client_secret(contoso)
    html = alice_client.get(settings_url(contoso)).content.decode()
    assert "Disable integration</button>" in html
    assert "No active token." in html  # no Secret Token, and that is fine


def test_a_site_with_training_disabled_gets_no_secret(alice_client, contoso):
    services.set_sat_enabled(contoso, False)
    page = alice_client.get(settings_url(contoso)).content.decode()
    assert "Set up OAuth 2.0 client credentials</button>" not in page
    response = alice_client.post(
        issue_url(contoso), {"newest_secret": "0", "lifetime_days": "365"}, follow=True
    )
    assert b"Enable Security Awareness Training for this site first." in response.content
    assert not ClientSecret.objects.exists() and not OAuthClient.objects.exists()


# The status and expiring secrets


def test_the_status_of_a_site_connected_with_oauth_only(alice_client, contoso):
    credentials = issue_client_secret(contoso)
    status = re.compile(r'id="entra-status">([^<]+)<')
    assert status.search(alice_client.get(settings_url(contoso)).text)[1] == (
        "Waiting for first request"
    )
    request_token(credentials)  # Entra's Test Connection starts with a token request
    assert status.search(alice_client.get(settings_url(contoso)).text)[1] == "Provisioning"
    oauth.revoke_secret(ClientSecret.objects.get())
    assert status.search(alice_client.get(settings_url(contoso)).text)[1] == (
        "Client secret revoked"
    )
    issue_client_secret(contoso)
    ClientSecret.objects.filter(revoked_at=None).update(expires_at=timezone.now())
    assert status.search(alice_client.get(settings_url(contoso)).text)[1] == (
        "Client secret expired"
    )


def test_a_secret_expiring_within_30_days_is_flagged(alice_client, contoso, fabrikam):
    issue_client_secret(contoso)
    issue_client_secret(fabrikam)
    soon = timezone.now() + timedelta(days=29)
    ClientSecret.objects.filter(site=contoso).update(expires_at=soon)
    ClientSecret.objects.filter(site=fabrikam).update(expires_at=timezone.now() + timedelta(31))

    page = alice_client.get(settings_url(contoso)).content.decode()
    assert f"A client secret expires on {soon:%Y-%m-%d %H:%M} UTC." in page
    assert "expires soon" in page
    assert 'id="secret-expiring"' not in alice_client.get(settings_url(fabrikam)).text

    sites = alice_client.get("/").content.decode()
    contoso_row = re.search(r'<tr data-site="Contoso">(.*?)</tr>', sites, re.S)[1]
    fabrikam_row = re.search(r'<tr data-site="Fabrikam">(.*?)</tr>', sites, re.S)[1]
    assert f"Client secret expires {soon:%Y-%m-%d}" in contoso_row
    assert "Client secret expires" not in fabrikam_row


def test_a_revoked_or_expired_secret_is_not_flagged(alice_client, contoso):
    issue_client_secret(contoso)
    issue_client_secret(contoso)
    old, expired = ClientSecret.objects.order_by("pk")
    ClientSecret.objects.filter(pk=old.pk).update(expires_at=timezone.now() + timedelta(days=3))
    oauth.revoke_secret(old)
    ClientSecret.objects.filter(pk=expired.pk).update(expires_at=timezone.now())
    assert "Client secret expires" not in alice_client.get("/").text
    assert 'id="secret-expiring"' not in alice_client.get(settings_url(contoso)).text


def test_the_sites_page_costs_the_same_queries_with_secrets_for_3_or_30_sites(alice_client, msp):
    def add_sites(first: int, last: int):
        for n in range(first, last):
            site = Site.objects.create(msp=msp, name=f"Customer {n:02}")
            issue_client_secret(site)
            scim_tokens.issue_token(site)
            logged(site)
        ClientSecret.objects.update(expires_at=timezone.now() + timedelta(days=10))

    add_sites(0, 3)
    with_3 = page_queries(alice_client, "/")
    add_sites(3, 30)
    assert page_queries(alice_client, "/") == with_3
    assert alice_client.get("/").text.count("Client secret expires") == 30


# Who may do what


def test_bob_sees_the_client_and_secrets_but_no_buttons(bob_client, contoso):
    credentials = issue_client_secret(contoso)
    html = bob_client.get(settings_url(contoso)).content.decode()
    assert credentials.client_id in html and f"satsec_…{credentials.client_secret[-4:]}" in html
    assert "Add secret</button>" not in html
    assert "Revoke</button>" not in html
    assert 'name="lifetime_days"' not in html


@pytest.mark.parametrize(
    ("who", "status"), [("bob_client", 403), ("charlie_client", 404)], ids=["bob", "charlie"]
)
def test_bob_and_charlie_may_not_add_or_revoke_secrets(request, contoso, who, status):
    """Bob is read-only (403); to Charlie, Northwind's sites do not exist (404)."""
    client = request.getfixturevalue(who)
    credentials = issue_client_secret(contoso)
    secret = ClientSecret.objects.get()
    form = {"newest_secret": str(secret.pk), "lifetime_days": "365"}
    assert client.post(issue_url(contoso), form).status_code == status
    assert client.post(revoke_url(contoso, secret)).status_code == status
    assert ClientSecret.objects.count() == 1
    assert gets_a_token(credentials)


def test_a_secret_of_another_site_cannot_be_revoked_through_this_one(
    alice_client, contoso, fabrikam
):
    credentials = issue_client_secret(fabrikam)
    secret = ClientSecret.objects.get()
    assert alice_client.post(revoke_url(contoso, secret)).status_code == 404
    assert gets_a_token(credentials)


def test_adding_and_revoking_are_post_only_and_need_the_csrf_token(alice, alice_client, contoso):
    credentials = issue_client_secret(contoso)
    secret = ClientSecret.objects.get()
    for url in (issue_url(contoso), revoke_url(contoso, secret)):
        response = alice_client.get(url)
        assert response.status_code == 405 and response["Allow"] == "POST"
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(alice)
    form = {"newest_secret": str(secret.pk), "lifetime_days": "365"}
    assert strict.post(issue_url(contoso), form).status_code == 403
    assert strict.post(revoke_url(contoso, secret)).status_code == 403
    assert ClientSecret.objects.count() == 1
    assert gets_a_token(credentials)
    assert not AccessToken.objects.filter(revoked_at__isnull=False).exists()


def test_disable_integration_during_a_redis_outage_changes_nothing_and_says_retry(
    alice_client, contoso, unreachable_redis
):
    """Revoking tells every worker to forget the credentials it remembers (through Redis):
    with Redis away the revocation is rolled back whole, and the page says to try again,
    rather than the site looking disabled while some worker still lets Entra in."""
    scim_tokens.issue_token(contoso)
    issue_client_secret(contoso)
    alice_client.raise_request_exception = False

    response = alice_client.post(f"{settings_url(contoso)}entra/disable/", CONFIRMED)

    assert response.status_code == 503
    assert b"Briefly unavailable" in response.content
    assert int(response["Retry-After"]) > 0
    assert not contoso.scim_tokens.filter(revoked_at__isnull=False).exists()
    assert not ClientSecret.objects.filter(revoked_at__isnull=False).exists()
    assert not CredentialEvent.objects.filter(action="revoked").exists()
