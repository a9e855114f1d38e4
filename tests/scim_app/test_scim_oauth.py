"""The SCIM endpoint with an OAuth access token: accepted exactly like a Secret Token
(same site scoping, same 401s), stopped at once when its secret or client is revoked,
the integration disabled or training turned off, and refused everywhere else.

Contoso's Entra connects with OAuth client credentials (`contoso_oauth_scim`); Fabrikam's
with its Secret Token.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from scim_app.models import ProvisioningLogEntry, ScimUser
from sites import services
from sites.credentials import entra, oauth
from sites.models import AccessToken, ClientSecret, OAuthClient
from tests.conftest import ScimClient
from tests.support.api import ApiClient
from tests.support.oauth import fetch_access_token, issue_client_secret, request_token

from .conftest import assert_scim_error, create_user, entra_user, log_statements

PROBE = 'userName eq "a3c1e2d4-5b6f-4a70-9e81-0f2d3c4b5a69"'


def assert_unauthorized(response) -> str:
    body = assert_scim_error(response, 401)
    assert response["WWW-Authenticate"].startswith("Bearer")
    return body["detail"]


def test_an_access_token_provisions_a_user(contoso, contoso_oauth_scim):
    assert contoso_oauth_scim.get("Users", filter=PROBE).json()["totalResults"] == 0

    created = create_user(contoso_oauth_scim, "dana.fisher@contoso.example")

    user = ScimUser.objects.get()
    assert user.site == contoso and str(user.id) == created["id"]
    found = contoso_oauth_scim.get("Users", filter='userName eq "dana.fisher@contoso.example"')
    assert found.json()["totalResults"] == 1


def test_the_log_names_the_client_and_secret_behind_each_request(contoso, contoso_oauth_scim):
    contoso_oauth_scim.post("Users", entra_user("dana.fisher@contoso.example"))
    secret = ClientSecret.objects.select_related("client").get()
    entry = ProvisioningLogEntry.objects.get(path="/api/v2/scim/Users")
    assert entry.site == contoso
    assert entry.credential_kind == "access_token"
    assert entry.credential_hint == f"satcli_…{secret.client.client_id[-4:]} / …{secret.hint}"


@pytest.mark.parametrize(
    "stop",
    [
        pytest.param(lambda site: oauth.revoke_secret(ClientSecret.objects.get()), id="secret"),
        pytest.param(lambda site: oauth.revoke_client(OAuthClient.objects.get()), id="client"),
        pytest.param(lambda site: entra.disable(site), id="integration disabled"),
        pytest.param(lambda site: services.set_sat_enabled(site, False), id="training off"),
    ],
)
def test_an_access_token_stops_at_once_not_at_its_expiry(contoso, contoso_oauth_scim, stop):
    assert contoso_oauth_scim.get("Users").status_code == 200
    stop(contoso)
    assert_unauthorized(contoso_oauth_scim.get("Users"))
    assert_unauthorized(contoso_oauth_scim.post("Users", entra_user("x@contoso.example")))
    assert not ScimUser.objects.exists()
    # Refused, but still Contoso's Entra calling: logged against the site.
    assert ProvisioningLogEntry.objects.filter(site=contoso, status=401).count() == 2


def test_a_client_marked_revoked_stops_its_tokens_even_with_its_secrets_untouched(
    contoso, contoso_client, contoso_oauth_scim
):
    """The SCIM lookup checks the client itself, not only that revoking it revoked its
    secrets (as oauth.revoke_client does)."""
    OAuthClient.objects.update(revoked_at=timezone.now())
    assert ClientSecret.objects.usable().exists()
    assert "revoked" in assert_unauthorized(contoso_oauth_scim.get("Users"))
    assert request_token(contoso_client).status_code == 401


def test_an_expired_access_token_is_refused(contoso_oauth_scim):
    AccessToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert "expired" in assert_unauthorized(contoso_oauth_scim.get("Users"))


def test_revoking_one_secret_leaves_the_tokens_of_another(contoso, contoso_client):
    first = ScimClient(fetch_access_token(contoso_client))
    second = ScimClient(fetch_access_token(issue_client_secret(contoso)))
    oauth.revoke_secret(ClientSecret.objects.get(hint=contoso_client.client_secret[-4:]))
    assert_unauthorized(first.get("Users"))
    assert second.get("Users").status_code == 200


@pytest.mark.parametrize(
    "token",
    ["satat_" + "A" * 43, "satat_" + "A" * 42 + "!", "satat_short"],
)
def test_unknown_and_malformed_access_tokens_are_refused(contoso, token):
    assert_unauthorized(ScimClient(token).get("Users"))
    entry = ProvisioningLogEntry.objects.get()
    assert entry.site is None and entry.credential_hint == "satat_…"


@pytest.mark.django_db(transaction=True)
def test_a_client_secret_sent_as_a_bearer_token_is_refused_and_never_looked_up(
    contoso_client, count_queries
):
    with count_queries() as queries:
        response = ScimClient(contoso_client.client_secret).get("Users")
    assert "token endpoint" in assert_unauthorized(response)
    assert len(queries) == log_statements("GET")  # the log row only: no lookup
    assert ProvisioningLogEntry.objects.get().credential_hint == "satsec_…"


def test_an_access_token_reaches_its_own_site_only(contoso_oauth_scim, fabrikam_scim):
    fabrikams = create_user(fabrikam_scim, "erin@fabrikam.example")
    response = contoso_oauth_scim.get(f"Users/{fabrikams['id']}")
    assert_scim_error(response, 404)
    listed = contoso_oauth_scim.get("Users", filter='userName eq "erin@fabrikam.example"')
    assert listed.json()["totalResults"] == 0
    patch = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": []}
    assert_scim_error(contoso_oauth_scim.patch(f"Users/{fabrikams['id']}", patch), 404)
    assert ScimUser.objects.get().site.name == "Fabrikam"


def test_an_access_token_is_refused_by_the_rest_api(contoso_oauth_scim, contoso_client):
    for credential in (contoso_oauth_scim.token, contoso_client.client_secret):
        response = ApiClient(credential).get("sites")
        assert response.status_code == 401
        assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.django_db(transaction=True)
def test_last_used_is_written_at_most_once_a_minute(contoso_oauth_scim, count_queries, monkeypatch):
    """Written after the request's transaction commits, and only once a minute."""
    token = AccessToken.objects.get()
    assert token.last_used_at is None
    contoso_oauth_scim.get("Users", filter=PROBE)
    first = AccessToken.objects.get().last_used_at
    assert first is not None
    with count_queries() as queries:
        contoso_oauth_scim.get("Users", filter=PROBE)
    assert not [q for q in queries.statements if q.startswith("UPDATE")]
    # The filter query and the log row: the token is remembered (sites.remembered).
    assert len(queries) == 1 + log_statements("GET"), queries.statements
    later = first + timedelta(minutes=2)
    monkeypatch.setattr(timezone, "now", lambda: later)
    contoso_oauth_scim.get("Users", filter=PROBE)
    assert AccessToken.objects.get().last_used_at == later


def test_a_refused_access_token_is_not_marked_as_used(contoso, contoso_oauth_scim):
    services.set_sat_enabled(contoso, False)
    contoso_oauth_scim.get("Users")
    assert AccessToken.objects.get().last_used_at is None
