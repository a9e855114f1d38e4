"""Workload identity federation from the console and the REST API: an MSP admin pastes
the four values Entra shows, gets back the Client ID, Token URL and Tenant URL, and can
revoke the trust (the console asks first). Bad values are form errors (a 400 in the
API), never a trust that points elsewhere.

Alice is an admin at Northwind IT, Bob is read-only there, Charlie is at another MSP.
"""

import pytest

from sites import services
from sites.credentials import federation
from sites.models import CredentialEvent, FederationTrust
from tests.support.api import ApiClient, key_for
from tests.support.federation import request_token

CONFIRMED = {"confirmed": "yes"}


def sat_url(site) -> str:
    return f"/sites/{site.public_id}/sat/"


def add_url(site) -> str:
    return f"{sat_url(site)}entra/federation/"


def revoke_url(site, trust) -> str:
    return f"{sat_url(site)}entra/federation/{trust.pk}/revoke/"


def test_alice_pastes_what_entra_shows_and_gets_what_to_paste_back(
    alice_client, alice, contoso, entra_tenant
):
    response = alice_client.post(add_url(contoso), entra_tenant.trust_values(), follow=True)

    assert response.redirect_chain[-1][0].endswith("/sat/#federation")
    html = response.content.decode()
    trust = FederationTrust.objects.get()
    assert trust.site == contoso and trust.created_by == alice
    assert "now trusts the Entra app" in html
    for field, value in (
        ("federation-client-id", trust.client.client_id),
        ("federation-token-url", "http://testserver/api/v2/oauth/token"),
        ("federation-tenant-url", "http://testserver/api/v2/scim"),
    ):
        assert f'id="{field}" type="text" value="{value}"' in html
    assert f'data-trust-subject="{trust.subject}"' in html
    event = CredentialEvent.objects.get(kind="federation_trust")
    assert (event.action, event.actor, event.via) == ("issued", alice, "console")
    # What the page shows is what works.
    assert request_token(trust.client.client_id, entra_tenant.assertion()).status_code == 200


def test_values_that_point_elsewhere_are_form_errors_and_nothing_is_added(
    alice_client, contoso, entra_tenant
):
    values = entra_tenant.trust_values(jwks_url="https://keys.attacker.example/keys")
    response = alice_client.post(add_url(contoso), values)
    assert response.status_code == 400
    html = response.content.decode()
    assert "The URL must be on one of the allowed key hosts" in html
    assert 'aria-invalid="true"' in html
    # What was typed stays, so only the wrong field needs fixing.
    assert f'value="{values["subject"]}"' in html
    assert not FederationTrust.objects.exists()


def test_missing_values_are_form_errors(alice_client, contoso):
    response = alice_client.post(add_url(contoso), {"issuer": "", "subject": "x"})
    assert response.status_code == 400
    assert response.content.decode().count("This field is required.") == 3


def test_the_same_app_twice_is_a_form_error(alice_client, contoso, entra_tenant):
    alice_client.post(add_url(contoso), entra_tenant.trust_values())
    response = alice_client.post(add_url(contoso), entra_tenant.trust_values())
    assert response.status_code == 400
    assert "already trusts this app" in response.content.decode()
    assert FederationTrust.objects.count() == 1


def test_no_trust_while_training_is_disabled(alice_client, contoso, entra_tenant):
    services.set_sat_enabled(contoso, False)
    assert b"Set up workload identity federation" not in alice_client.get(sat_url(contoso)).content
    response = alice_client.post(add_url(contoso), entra_tenant.trust_values())
    assert response.status_code == 400
    assert not FederationTrust.objects.exists()


def test_revoking_asks_first_then_stops_the_trust(alice_client, alice, contoso, contoso_trust):
    page = alice_client.get(sat_url(contoso)).content.decode()
    assert f'data-confirm="Revoke the federation trust of {contoso_trust.subject}?' in page
    asked = alice_client.post(revoke_url(contoso, contoso_trust))
    assert b"Are you sure?" in asked.content
    assert FederationTrust.objects.get().revoked_at is None

    response = alice_client.post(revoke_url(contoso, contoso_trust), CONFIRMED, follow=True)
    assert b"revoked: Entra gets no access token through it" in response.content
    assert FederationTrust.objects.get().revoked_at is not None
    assert b'id="entra-status">Federation trust revoked<' in response.content
    event = CredentialEvent.objects.get(kind="federation_trust", action="revoked")
    assert event.actor == alice


def test_disabling_the_integration_counts_the_trusts(alice_client, contoso, contoso_trust):
    response = alice_client.post(f"{sat_url(contoso)}entra/disable/", CONFIRMED, follow=True)
    assert b"1 federation trust(s) revoked" in response.content
    assert FederationTrust.objects.get().revoked_at is not None


@pytest.mark.parametrize(("who", "status"), [("bob_client", 403), ("charlie_client", 404)])
def test_bob_and_charlie_may_not_add_or_revoke(
    request, contoso, contoso_trust, entra_tenant, who, status
):
    client = request.getfixturevalue(who)
    assert client.post(add_url(contoso), entra_tenant.trust_values()).status_code == status
    assert client.post(revoke_url(contoso, contoso_trust), CONFIRMED).status_code == status
    assert FederationTrust.objects.get().revoked_at is None


def test_a_trust_of_another_site_cannot_be_revoked_through_this_one(
    alice_client, contoso_trust, fabrikam
):
    assert alice_client.post(revoke_url(fabrikam, contoso_trust), CONFIRMED).status_code == 404


# --- REST API ---------------------------------------------------------------------------


def trusts_path(site) -> str:
    return f"sites/{site.public_id}/federation-trusts"


def test_the_api_adds_lists_and_revokes_trusts(alice, contoso, entra_tenant):
    api = ApiClient(key_for(alice))
    response = api.post(trusts_path(contoso), entra_tenant.trust_values())
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["token_endpoint"] == "http://testserver/api/v2/oauth/token"
    assert body["tenant_url"] == "http://testserver/api/v2/scim"
    assert body["client_id"].startswith("satcli_") and body["state"] == "active"
    assert body["subject"] == entra_tenant.subject and body["created_by"] == alice.username
    assert CredentialEvent.objects.get(kind="federation_trust").via == "api"

    listed = api.get(trusts_path(contoso)).json()
    assert [trust["id"] for trust in listed] == [body["id"]]
    assert request_token(body["client_id"], entra_tenant.assertion()).status_code == 200

    revoked = api.post(f"{trusts_path(contoso)}/{body['id']}/revoke")
    assert revoked.status_code == 200 and revoked.json()["state"] == "revoked"
    assert api.delete(f"{trusts_path(contoso)}/{body['id']}").status_code == 204
    assert request_token(body["client_id"], entra_tenant.assertion()).status_code == 401


def test_the_api_refuses_values_that_point_elsewhere(alice, contoso, entra_tenant):
    api = ApiClient(key_for(alice))
    response = api.post(
        trusts_path(contoso), entra_tenant.trust_values(issuer="https://evil.example/x")
    )
    assert response.status_code == 400
    assert "issuer" in response.json()
    assert not FederationTrust.objects.exists()


def test_read_only_and_other_msps_keys_cannot_add(bob, charlie, contoso, entra_tenant):
    assert (
        ApiClient(key_for(bob)).post(trusts_path(contoso), entra_tenant.trust_values()).status_code
        == 403
    )
    assert (
        ApiClient(key_for(charlie))
        .post(trusts_path(contoso), entra_tenant.trust_values())
        .status_code
        == 404
    )
    assert not FederationTrust.objects.exists()


def test_an_unknown_trust_is_a_404(alice, contoso, fabrikam):
    other = federation.add_trust(
        fabrikam,
        federation.validate(
            issuer="https://login.microsoftonline.com/3f2a9c1e-7b4d-4e8a-9c6f-2d1b5a7e8c90/v2.0",
            jwks_url="https://login.microsoftonline.com/3f2a9c1e-7b4d-4e8a-9c6f-2d1b5a7e8c90/discovery/v2.0/keys",
            subject="s",
            audience="a",
        ),
    )
    api = ApiClient(key_for(alice))
    assert api.get(f"{trusts_path(contoso)}/{other.pk}").status_code == 404
    assert api.get(f"{trusts_path(contoso)}/nope").status_code == 404
