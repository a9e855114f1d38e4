"""Secret Tokens through the REST API: the same function, audit trail and rotation as the
console's Configure Microsoft Entra Integration button.

Alice (admin at Northwind IT) issues and revokes Contoso's tokens with her API key.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from sites.credentials import scim_tokens
from sites.models import CredentialEvent, ScimToken
from tests.conftest import ScimClient
from tests.support.api import ApiClient, key_for


@pytest.fixture
def api(alice):
    return ApiClient(key_for(alice))


def tokens_path(site) -> str:
    return f"sites/{site.public_id}/scim-tokens"


def test_issuing_returns_the_secret_once_with_the_tenant_url(api, alice, contoso):
    response = api.post(tokens_path(contoso))
    assert response.status_code == 201
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert body["tenant_url"] == "http://testserver/api/v2/scim"
    assert body["token"].startswith("satscim_")
    assert body["state"] == "active"
    assert body["created_by"] == "alice"
    assert ScimClient(body["token"]).get("Users").status_code == 200
    token = ScimToken.objects.get()
    assert token.pk == body["id"] and token.site == contoso
    assert body["hint"] == body["token"][-4:]
    listed = api.get(tokens_path(contoso)).json()
    assert body["token"] not in str(listed)
    assert set(listed[0]) == {
        "id",
        "hint",
        "state",
        "created_at",
        "created_by",
        "last_used_at",
        "expires_at",
        "revoked_at",
    }


def test_issuing_writes_the_same_audit_record_as_the_console(api, alice, contoso):
    api.post(tokens_path(contoso))
    event = CredentialEvent.objects.get(kind="scim_token")
    token = ScimToken.objects.get()
    assert (
        event.action,
        event.actor,
        event.via,
        event.msp,
        event.site,
        event.kind,
        event.credential_id,
        event.hint,
    ) == (
        CredentialEvent.Action.ISSUED,
        alice,
        "api",
        contoso.msp,
        contoso,
        "scim_token",
        token.pk,
        token.hint,
    )


def test_a_token_issued_in_the_console_rotates_with_a_grace_period(
    api, client, alice, contoso, settings
):
    settings.SCIM_TOKEN_GRACE_PERIOD = 3600
    client.force_login(alice)
    client.post(f"/sites/{contoso.public_id}/sat/entra/configure/", {"newest": 0})
    console_token = ScimToken.objects.get()
    before = timezone.now()
    api_body = api.post(tokens_path(contoso)).json()
    console_token.refresh_from_db()
    assert before + timedelta(hours=1) <= console_token.expires_at
    assert console_token.expires_at <= timezone.now() + timedelta(hours=1)
    assert console_token.is_usable
    listed = {t["id"]: t["state"] for t in api.get(tokens_path(contoso)).json()}
    assert listed == {console_token.pk: "expiring", api_body["id"]: "active"}
    assert [
        (e.via, e.actor)
        for e in CredentialEvent.objects.filter(kind="scim_token").order_by("at", "pk")
    ] == [
        ("console", alice),
        ("api", alice),
    ]


def test_the_list_is_newest_first_with_each_tokens_state(api, contoso, fabrikam):
    revoked, _ = scim_tokens.issue_token(contoso, via="command")
    scim_tokens.revoke_token(revoked, via="command")
    expired, _ = scim_tokens.issue_token(contoso, via="command")
    ScimToken.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(1))
    current, _ = scim_tokens.issue_token(contoso, via="command")
    scim_tokens.issue_token(fabrikam, via="command")
    listed = api.get(tokens_path(contoso)).json()
    assert [(t["id"], t["state"]) for t in listed] == [
        (current.pk, "active"),
        (expired.pk, "expired"),
        (revoked.pk, "revoked"),
    ]


def test_no_token_is_issued_while_sat_is_disabled(api, contoso):
    contoso.sat_enabled = False
    contoso.save()
    response = api.post(tokens_path(contoso))
    assert response.status_code == 400
    assert response.json() == {
        "sat_enabled": ["Enable Security Awareness Training for this site first."]
    }
    assert not ScimToken.objects.exists()


def test_revoking_stops_the_token_and_is_audited(api, alice, contoso):
    token, plaintext = scim_tokens.issue_token(contoso, via="command")
    response = api.post(f"{tokens_path(contoso)}/{token.pk}/revoke")
    assert response.status_code == 200
    assert response.json()["state"] == "revoked"
    assert ScimClient(plaintext).get("Users").status_code == 401
    event = CredentialEvent.objects.get(action=CredentialEvent.Action.REVOKED)
    assert (event.actor, event.via, event.credential_id) == (alice, "api", token.pk)


def test_revoking_twice_is_harmless_and_audited_once(api, contoso):
    token, _ = scim_tokens.issue_token(contoso, via="command")
    path = f"{tokens_path(contoso)}/{token.pk}"
    assert api.delete(path).status_code == 204
    assert api.delete(path).status_code == 204
    assert api.post(f"{path}/revoke").json()["state"] == "revoked"
    assert CredentialEvent.objects.filter(action=CredentialEvent.Action.REVOKED).count() == 1


def test_reading_one_token_never_shows_its_secret(api, contoso):
    token, plaintext = scim_tokens.issue_token(contoso, via="command")
    response = api.get(f"{tokens_path(contoso)}/{token.pk}")
    assert response.json()["hint"] == token.hint
    assert plaintext not in response.content.decode()
    assert token.secret_hash not in response.content.decode()


@pytest.mark.parametrize("token_id", ["abc", "99999999999999999999", "-1"])
def test_a_malformed_or_unknown_token_id_is_a_json_404(api, contoso, token_id):
    response = api.post(f"{tokens_path(contoso)}/{token_id}/revoke")
    assert response.status_code == 404
    assert response.json() == {"detail": "This site has no Secret Token with this id."}


def test_another_sites_token_cannot_be_revoked_through_this_site(api, contoso, fabrikam):
    token, _ = scim_tokens.issue_token(fabrikam, via="command")
    assert api.post(f"{tokens_path(contoso)}/{token.pk}/revoke").status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None
