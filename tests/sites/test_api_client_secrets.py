"""OAuth client secrets through the REST API: the same rules, audit trail and rotation as
the console's Set up / Add secret; the site's status names the nearest expiry; disabling
the integration revokes secrets and Secret Tokens alike.

Alice (admin at Northwind IT) manages Contoso's secrets with her API key; Bob
(read-only) may only read; Charlie (Tailspin) finds Northwind's sites missing.
"""

from datetime import timedelta

import pytest
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from sites.credentials import oauth, scim_tokens
from sites.models import AccessToken, ClientSecret, CredentialEvent, OAuthClient
from tests.conftest import ScimClient
from tests.support.api import ApiClient, key_for
from tests.support.oauth import ClientCredentials, fetch_access_token, request_token

FIELDS = {
    "id",
    "client_id",
    "hint",
    "state",
    "created_at",
    "created_by",
    "last_used_at",
    "expires_at",
    "revoked_at",
}


@pytest.fixture(autouse=True)
def counters(fresh_counters):
    """The token endpoint's rate limits start from zero in every test."""


@pytest.fixture
def api(alice):
    return ApiClient(key_for(alice))


def secrets_path(site) -> str:
    return f"sites/{site.public_id}/client-secrets"


def issue(site) -> ClientSecret:
    return oauth.issue_secret(site, via="command")[0]


def test_issuing_returns_the_secret_once_with_what_entra_needs(api, contoso):
    response = api.post(secrets_path(contoso))

    assert response.status_code == 201
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert set(body) == FIELDS | {"client_secret", "tenant_url", "token_endpoint"}
    assert body["tenant_url"] == "http://testserver/api/v2/scim"
    assert body["token_endpoint"] == "http://testserver/api/v2/oauth/token"
    assert body["client_secret"].startswith("satsec_")
    assert body["hint"] == body["client_secret"][-4:]
    assert body["client_id"] == OAuthClient.objects.get(site=contoso).client_id
    assert (body["state"], body["created_by"], body["revoked_at"]) == ("active", "alice", None)
    credentials = ClientCredentials(body["client_id"], body["client_secret"])
    assert ScimClient(fetch_access_token(credentials)).get("Users").status_code == 200

    listed = api.get(secrets_path(contoso)).json()
    assert body["client_secret"] not in str(listed)
    assert [set(s) for s in listed] == [FIELDS]


def test_issuing_writes_the_same_audit_record_as_the_console(api, alice, contoso):
    body = api.post(secrets_path(contoso)).json()
    event = CredentialEvent.objects.get(kind="client_secret")
    assert (event.kind, event.action, event.actor, event.via, event.site, event.msp) == (
        "client_secret",
        "issued",
        alice,
        "api",
        contoso,
        contoso.msp,
    )
    assert (event.credential_id, event.hint) == (body["id"], body["hint"])


def test_a_secret_lasts_a_year_or_the_lifetime_asked_for(api, contoso):
    one_year = api.post(secrets_path(contoso)).json()
    three_years = api.post(secrets_path(contoso), {"lifetime_days": 1095}).json()
    now = timezone.now()
    assert now + timedelta(days=364) < parse_datetime(one_year["expires_at"])
    assert parse_datetime(one_year["expires_at"]) <= now + timedelta(days=365)
    assert now + timedelta(days=1094) < parse_datetime(three_years["expires_at"])
    assert three_years["client_id"] == one_year["client_id"]


@pytest.mark.parametrize(
    ("lifetime", "error"),
    [
        (364, "A client secret lasts 365 to 1095 days (1 to 3 years)."),
        (1096, "A client secret lasts 365 to 1095 days (1 to 3 years)."),
        ("a year", "A valid integer is required."),
    ],
)
def test_a_lifetime_outside_one_to_three_years_is_refused(api, contoso, lifetime, error):
    response = api.post(secrets_path(contoso), {"lifetime_days": lifetime})
    assert response.status_code == 400
    assert response.json() == {"lifetime_days": [error]}
    assert not ClientSecret.objects.exists()


def test_no_secret_is_issued_while_sat_is_disabled(api, contoso):
    contoso.sat_enabled = False
    contoso.save()
    response = api.post(secrets_path(contoso))
    assert response.status_code == 400
    assert response.json() == {
        "sat_enabled": ["Enable Security Awareness Training for this site first."]
    }
    assert not ClientSecret.objects.exists() and not OAuthClient.objects.exists()


def test_the_list_is_newest_first_with_each_secrets_state(api, contoso, fabrikam):
    revoked = issue(contoso)
    oauth.revoke_secret(revoked)
    expired = issue(contoso)
    expiring = issue(contoso)
    current = issue(contoso)
    ClientSecret.objects.filter(pk=expired.pk).update(expires_at=timezone.now())
    ClientSecret.objects.filter(pk=expiring.pk).update(
        expires_at=timezone.now() + timedelta(days=20)
    )
    issue(fabrikam)
    listed = api.get(secrets_path(contoso)).json()
    assert [(s["id"], s["state"]) for s in listed] == [
        (current.pk, "active"),
        (expiring.pk, "expiring"),
        (expired.pk, "expired"),
        (revoked.pk, "revoked"),
    ]


def test_revoking_stops_the_secret_and_its_access_tokens(api, alice, contoso):
    secret, plaintext = oauth.issue_secret(contoso, via="command")
    credentials = ClientCredentials(secret.client.client_id, plaintext)
    scim = ScimClient(fetch_access_token(credentials))

    response = api.post(f"{secrets_path(contoso)}/{secret.pk}/revoke")

    assert response.status_code == 200
    assert response.json()["state"] == "revoked"
    assert scim.get("Users").status_code == 401
    assert request_token(credentials).status_code == 401
    event = CredentialEvent.objects.get(action="revoked")
    assert (event.actor, event.via, event.credential_id) == (alice, "api", secret.pk)


def test_revoking_twice_is_harmless_and_audited_once(api, contoso):
    secret = issue(contoso)
    path = f"{secrets_path(contoso)}/{secret.pk}"
    assert api.delete(path).status_code == 204
    assert api.delete(path).status_code == 204
    assert api.post(f"{path}/revoke").json()["state"] == "revoked"
    assert CredentialEvent.objects.filter(action="revoked").count() == 1


def test_reading_one_secret_never_shows_it(api, contoso):
    secret, plaintext = oauth.issue_secret(contoso, via="command")
    response = api.get(f"{secrets_path(contoso)}/{secret.pk}")
    assert response.json()["hint"] == secret.hint
    assert plaintext not in response.content.decode()
    assert secret.secret_hash not in response.content.decode()


@pytest.mark.parametrize("secret_id", ["abc", "99999999999999999999", "-1"])
def test_a_malformed_or_unknown_secret_id_is_a_json_404(api, contoso, secret_id):
    response = api.post(f"{secrets_path(contoso)}/{secret_id}/revoke")
    assert response.status_code == 404
    assert response.json() == {"detail": "This site has no OAuth client secret with this id."}


def test_another_sites_secret_cannot_be_revoked_through_this_site(api, contoso, fabrikam):
    secret = issue(fabrikam)
    assert api.post(f"{secrets_path(contoso)}/{secret.pk}/revoke").status_code == 404
    assert api.delete(f"{secrets_path(contoso)}/{secret.pk}").status_code == 404
    secret.refresh_from_db()
    assert secret.revoked_at is None


def test_bob_reads_secrets_but_may_not_issue_or_revoke(client, bob, contoso):
    client.force_login(bob)
    bob_api = ApiClient(client=client)
    secret = issue(contoso)
    assert bob_api.get(secrets_path(contoso)).status_code == 200
    assert bob_api.post(secrets_path(contoso)).status_code == 403
    assert bob_api.post(f"{secrets_path(contoso)}/{secret.pk}/revoke").status_code == 403
    assert bob_api.post(f"sites/{contoso.public_id}/entra/disable").status_code == 403
    assert ClientSecret.objects.get().revoked_at is None


def test_charlie_finds_northwinds_secrets_missing(charlie, contoso):
    charlie_api = ApiClient(key_for(charlie))
    secret = issue(contoso)
    for response in (
        charlie_api.get(secrets_path(contoso)),
        charlie_api.post(secrets_path(contoso)),
        charlie_api.post(f"{secrets_path(contoso)}/{secret.pk}/revoke"),
        charlie_api.post(f"sites/{contoso.public_id}/entra/disable"),
    ):
        assert response.status_code == 404
    assert ClientSecret.objects.get().revoked_at is None


# The status, and disabling the integration


def test_the_status_names_the_nearest_expiry_of_a_usable_secret(api, contoso):
    status_path = f"sites/{contoso.public_id}/status"
    assert api.get(status_path).json()["nearest_secret_expiry"] is None
    soonest, later, revoked = issue(contoso), issue(contoso), issue(contoso)
    in_40_days = timezone.now() + timedelta(days=40)
    ClientSecret.objects.filter(pk=soonest.pk).update(expires_at=in_40_days)
    ClientSecret.objects.filter(pk=revoked.pk).update(expires_at=timezone.now() + timedelta(1))
    oauth.revoke_secret(revoked)

    status = api.get(status_path).json()

    assert parse_datetime(status["nearest_secret_expiry"]) == in_40_days
    assert status["entra_status"] == "Waiting for first request"
    assert later.expires_at > in_40_days


def test_the_status_of_a_site_whose_only_secret_was_revoked(api, contoso):
    oauth.revoke_secret(issue(contoso))
    status = api.get(f"sites/{contoso.public_id}/status").json()
    assert status["entra_status"] == "Client secret revoked"
    assert status["nearest_secret_expiry"] is None


def test_disabling_the_integration_revokes_every_credential(api, alice, contoso, fabrikam):
    secret, plaintext = oauth.issue_secret(contoso, via="command")
    issue(contoso)
    _, secret_token = scim_tokens.issue_token(contoso, via="command")
    scim = ScimClient(fetch_access_token(ClientCredentials(secret.client.client_id, plaintext)))
    fabrikams = issue(fabrikam)

    response = api.post(f"sites/{contoso.public_id}/entra/disable")

    assert response.status_code == 200
    assert response.json() == {"scim_tokens": 1, "client_secrets": 2, "federation_trusts": 0}
    assert scim.get("Users").status_code == 401
    assert ScimClient(secret_token).get("Users").status_code == 401
    assert not contoso.client_secrets.usable().exists()
    assert AccessToken.objects.count() == 1  # stopped by its secret, not deleted
    fabrikams.refresh_from_db()
    assert fabrikams.is_usable
    events = CredentialEvent.objects.filter(action="revoked")
    assert {(e.kind, e.via, e.actor) for e in events} == {
        ("client_secret", "api", alice),
        ("scim_token", "api", alice),
    }
    assert events.count() == 3
    assert api.post(f"sites/{contoso.public_id}/entra/disable").json() == {
        "scim_tokens": 0,
        "client_secrets": 0,
        "federation_trusts": 0,
    }
