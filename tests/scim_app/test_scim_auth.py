"""Bearer token -> site, before anything else (RFC 6750; Entra's Secret Token)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from sites.credentials import scim_tokens
from sites.credentials.base import digest
from sites.models import ScimToken
from tests.conftest import ScimClient

from .conftest import assert_scim_error, log_statements

PROBE = 'userName eq "a3c1e2d4-5b6f-4a70-9e81-0f2d3c4b5a69"'


def assert_unauthorized(response):
    assert_scim_error(response, 401)
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "Bearer not-a-token",
        "Bearer satscim_" + "A" * 43,  # well-formed, unknown
        "Bearer satscim_" + "A" * 42 + "!",
    ],
)
def test_it_refuses_missing_malformed_and_unknown_tokens(contoso, header):
    client = ScimClient(None)
    headers = {"Authorization": header} if header is not None else {}
    assert_unauthorized(client.request("GET", "Users", headers=headers))


def test_test_connection_probe_passes_with_a_valid_token(contoso_scim):
    response = contoso_scim.get("Users", filter=PROBE)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/scim+json")
    assert response.json() == {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
        "totalResults": 0,
        "startIndex": 1,
        "itemsPerPage": 0,
        "Resources": [],
    }


def test_the_scheme_name_is_case_insensitive(contoso_scim):
    response = contoso_scim.request(
        "GET", "Users", headers={"Authorization": f"bearer {contoso_scim.token}"}
    )
    assert response.status_code == 200


def test_a_revoked_token_is_refused_at_once(contoso, contoso_scim):
    token = ScimToken.objects.get(site=contoso)
    assert contoso_scim.get("Users").status_code == 200
    scim_tokens.revoke_token(token)
    assert_unauthorized(contoso_scim.get("Users"))


def test_an_expired_token_is_refused(contoso, contoso_scim):
    ScimToken.objects.filter(site=contoso).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert_unauthorized(contoso_scim.get("Users"))


def test_a_site_with_sat_disabled_is_refused(contoso, contoso_scim):
    contoso.sat_enabled = False
    contoso.save()
    body = assert_scim_error(contoso_scim.get("Users"), 401)
    assert "disabled" in body["detail"]


def test_every_endpoint_requires_the_token(contoso):
    client = ScimClient(None)
    for path in [
        "Users",
        "Groups",
        "Schemas",
        "ResourceTypes",
        "ServiceProviderConfig",
        "Bulk",
        "nope",
    ]:
        assert_unauthorized(client.get(path))
    assert_unauthorized(client.post("Users", {"userName": "x"}))


def test_only_a_hash_and_hint_of_the_token_are_stored(contoso):
    token, plaintext = scim_tokens.issue_token(contoso)
    assert plaintext.startswith("satscim_") and len(plaintext) == len("satscim_") + 43
    row = ScimToken.objects.values().get(pk=token.pk)
    assert plaintext not in str(row)
    assert row["secret_hash"] == digest(plaintext)
    assert row["hint"] == plaintext[-4:]


@pytest.mark.django_db(transaction=True)
def test_last_used_is_written_at_most_once_a_minute(
    contoso, contoso_scim, count_queries, monkeypatch
):
    """Written after the request's transaction commits (never holding its row while the
    request runs), and only once a minute."""
    token = ScimToken.objects.get(site=contoso)
    assert token.last_used_at is None
    contoso_scim.get("Users", filter=PROBE)
    first = ScimToken.objects.get(pk=token.pk).last_used_at
    assert first is not None
    # Within the minute: the filter query and the log row (the token is remembered,
    # sites.remembered); no UPDATE.
    with count_queries() as queries:
        contoso_scim.get("Users", filter=PROBE)
    assert not [q for q in queries.statements if q.startswith("UPDATE")]
    assert len(queries) == 1 + log_statements("GET"), queries.statements
    assert ScimToken.objects.get(pk=token.pk).last_used_at == first
    later = first + timedelta(minutes=2)
    monkeypatch.setattr(timezone, "now", lambda: later)
    contoso_scim.get("Users", filter=PROBE)
    assert ScimToken.objects.get(pk=token.pk).last_used_at == later


def test_a_second_token_keeps_the_first_working_for_the_grace_period(
    contoso, contoso_scim, settings
):
    settings.SCIM_TOKEN_GRACE_PERIOD = 3600
    old = ScimToken.objects.get(site=contoso)
    _, new_plaintext = scim_tokens.issue_token(contoso)
    old.refresh_from_db()
    assert old.expires_at is not None
    assert contoso_scim.get("Users").status_code == 200
    assert ScimClient(new_plaintext).get("Users").status_code == 200


def test_the_token_never_reaches_the_log(contoso, contoso_scim, caplog):
    with caplog.at_level("DEBUG"):
        contoso_scim.get("Users", filter=PROBE)
        contoso_scim.post("Users", {"userName": "x@contoso.example"})
        ScimClient(contoso_scim.token[:-1] + "Z").get("Users")
    assert contoso_scim.token not in caplog.text
    assert contoso_scim.token[8:] not in caplog.text


def test_refused_requests_of_a_known_token_are_logged_against_its_site(contoso, contoso_scim):
    from scim_app.models import ProvisioningLogEntry

    token = ScimToken.objects.get(site=contoso)
    scim_tokens.revoke_token(token)
    assert_unauthorized(contoso_scim.get("Users"))
    _, newer = scim_tokens.issue_token(contoso)
    contoso.sat_enabled = False
    contoso.save()
    assert_unauthorized(ScimClient(newer).get("Users"))
    ScimClient("satscim_" + "B" * 43).get("Users")
    rows = list(
        ProvisioningLogEntry.objects.order_by("created").values("site", "credential_hint", "status")
    )
    assert [r["status"] for r in rows] == [401, 401, 401]
    assert rows[0] == {"site": contoso.pk, "credential_hint": f"…{token.hint}", "status": 401}
    assert rows[1]["site"] == contoso.pk
    assert rows[2]["site"] is None and "B" * 8 not in rows[2]["credential_hint"]


def test_a_refused_token_is_not_marked_as_used(contoso, contoso_scim):
    contoso.sat_enabled = False
    contoso.save()
    contoso_scim.get("Users")
    assert ScimToken.objects.get(site=contoso).last_used_at is None
