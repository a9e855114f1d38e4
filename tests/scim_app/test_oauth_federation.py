"""Workload identity federation at the token endpoint (RFC 7523 §2.2): Contoso's Entra
tenant signs a client assertion, Contoso trusts that tenant's provisioning app
(`contoso_trust`), and the token endpoint answers with an access token for Contoso's
SCIM endpoint. No secret is pasted anywhere.

The tenant is ours (tests.support.federation): its keys are generated here and served
on a loopback port; its assertions carry the claims of Microsoft's example payload.
"""

import json
import time

import jwt
import pytest
from django.utils import timezone

from scim_app.models import ProvisioningLogEntry, ScimUser
from sites import services
from sites.credentials import entra, federation, jwks, oauth
from sites.models import AccessToken, CredentialEvent, FederationTrust
from tests.conftest import ScimClient
from tests.support.federation import Tenant, request_token, rsa_key
from tests.support.oauth import fetch_access_token, issue_client_secret
from tests.support.parallel import in_thread
from tests.support.storage import columns_containing

from .conftest import assert_scim_error, create_user
from .test_oauth_token import assert_error


def client_id_of(trust: FederationTrust) -> str:
    return trust.client.client_id


def token_for(trust: FederationTrust, tenant: Tenant, **claims) -> str:
    response = request_token(client_id_of(trust), tenant.assertion(**claims))
    assert response.status_code == 200, response.content
    return response.json()["access_token"]


def assert_refused(response, reason: str, *, status: int = 401, error: str = "invalid_client"):
    """Refused per RFC 6749 §5.2, the reason code in the provisioning log, and nothing of
    the assertion stored."""
    description = assert_error(response, status, error)
    entry = ProvisioningLogEntry.objects.latest("created")
    assert entry.path == "/api/v2/oauth/token"
    assert entry.scim_type == error
    assert f"({reason})" in entry.summary, entry.summary
    assert entry.credential_kind == "federation_trust"
    assert entry.request_body == entry.response_body == ""
    return description


# --- The whole flow -------------------------------------------------------------------


def test_entra_provisions_a_user_with_an_access_token_from_a_signed_assertion(
    contoso, contoso_trust, entra_tenant
):
    assertion = entra_tenant.assertion()
    response = request_token(client_id_of(contoso_trust), assertion, scope="scim")
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "scope"}
    assert body["token_type"] == "Bearer" and body["scope"] == "scim"
    assert response["Cache-Control"] == "no-store"

    scim = ScimClient(body["access_token"])
    created = create_user(scim, "ada@contoso.example")
    assert ScimUser.objects.get(pk=created["id"]).site == contoso

    token = AccessToken.objects.get()
    assert token.trust == contoso_trust and token.secret is None and token.site == contoso
    token_request = ProvisioningLogEntry.objects.get(path="/api/v2/oauth/token")
    assert token_request.status == 200 and token_request.site == contoso
    assert token_request.credential_kind == "federation_trust"
    assert token_request.credential_hint == f"{contoso_trust.client.hint} / {contoso_trust.hint}"
    # The assertion and the access token are stored nowhere, in no column.
    assert columns_containing(assertion.split(".")[2][:40]) == []
    assert columns_containing(body["access_token"]) == []


def test_a_trust_keeps_its_audit_trail_and_notes_its_use(
    contoso, contoso_trust, entra_tenant, django_capture_on_commit_callbacks
):
    issued = CredentialEvent.objects.get(kind="federation_trust")
    assert issued.action == "issued" and issued.site == contoso and issued.via == "command"
    assert issued.hint == contoso_trust.hint
    with django_capture_on_commit_callbacks(execute=True):
        token_for(contoso_trust, entra_tenant)
    assert FederationTrust.objects.get().last_used_at is not None


def test_revoking_the_trust_stops_its_access_tokens_at_once(contoso_trust, entra_tenant):
    scim = ScimClient(token_for(contoso_trust, entra_tenant))
    assert scim.get("Users").status_code == 200
    assert federation.revoke_trust(contoso_trust, via="command")
    assert_scim_error(scim.get("Users"), 401)
    assert_refused(
        request_token(client_id_of(contoso_trust), entra_tenant.assertion()),
        federation.Reason.NO_TRUST,
    )
    assert CredentialEvent.objects.filter(kind="federation_trust", action="revoked").count() == 1


def test_disabling_the_integration_revokes_the_trusts_too(contoso, contoso_trust, entra_tenant):
    scim = ScimClient(token_for(contoso_trust, entra_tenant))
    disabled = entra.disable(contoso, via="command")
    assert disabled.federation_trusts == 1
    assert_scim_error(scim.get("Users"), 401)


def test_revoking_the_client_revokes_its_trusts(contoso_trust, entra_tenant):
    scim = ScimClient(token_for(contoso_trust, entra_tenant))
    oauth.revoke_client(contoso_trust.client, via="admin")
    assert FederationTrust.objects.get().revoked_at is not None
    assert_scim_error(scim.get("Users"), 401)


def test_training_turned_off_stops_the_tokens_and_refuses_new_ones(
    contoso, contoso_trust, entra_tenant
):
    scim = ScimClient(token_for(contoso_trust, entra_tenant))
    services.set_sat_enabled(contoso, False)
    assert_scim_error(scim.get("Users"), 401)
    description = assert_refused(
        request_token(client_id_of(contoso_trust), entra_tenant.assertion()),
        federation.Reason.SAT_DISABLED,
    )
    assert "disabled" in description


def test_a_site_may_trust_several_apps(contoso, contoso_trust, entra_tenant, key_server):
    other = Tenant(key_server)
    federation.add_trust(contoso, federation.validate(**other.trust_values()), via="command")
    for tenant in (entra_tenant, other):
        assert request_token(client_id_of(contoso_trust), tenant.assertion()).status_code == 200


def test_the_same_app_cannot_be_trusted_twice(contoso, contoso_trust, entra_tenant):
    with pytest.raises(federation.ValidationError) as refused:
        federation.add_trust(contoso, federation.validate(**entra_tenant.trust_values()))
    assert "already trusts" in str(refused.value)


def test_a_trust_secret_and_token_can_live_side_by_side(contoso, contoso_trust, entra_tenant):
    """Moving from a client secret to federation: both work until the secret is revoked."""
    credentials = issue_client_secret(contoso)
    assert credentials.client_id == client_id_of(contoso_trust)
    assert ScimClient(fetch_access_token(credentials)).get("Users").status_code == 200
    assert ScimClient(token_for(contoso_trust, entra_tenant)).get("Users").status_code == 200


# --- The access token's lifetime ------------------------------------------------------


def test_the_access_token_never_outlives_the_assertion_by_default(contoso_trust, entra_tenant):
    response = request_token(client_id_of(contoso_trust), entra_tenant.assertion(lifetime=600))
    assert 590 <= response.json()["expires_in"] <= 600
    token = AccessToken.objects.get()
    assert token.expires_at <= timezone.now() + timezone.timedelta(seconds=600)


def test_a_long_assertion_gets_the_configured_lifetime(contoso_trust, entra_tenant, settings):
    settings.OAUTH_ACCESS_TOKEN_LIFETIME = 7200
    response = request_token(client_id_of(contoso_trust), entra_tenant.assertion(lifetime=5400))
    assert 5390 <= response.json()["expires_in"] <= 5400
    response = request_token(client_id_of(contoso_trust), entra_tenant.assertion(lifetime=9000))
    assert response.json()["expires_in"] == 7200


def test_the_policy_may_let_a_token_outlive_its_assertion(contoso_trust, entra_tenant, settings):
    settings.FEDERATION_TOKEN_OUTLIVES_ASSERTION = 1800
    response = request_token(client_id_of(contoso_trust), entra_tenant.assertion(lifetime=600))
    assert 2390 <= response.json()["expires_in"] <= 2400


# --- Every check refuses ----------------------------------------------------------------

HOUR = 3600


# Claims as functions of the time the test runs (not when it is collected).
REFUSED_CLAIMS = {
    "wrong issuer": (
        lambda now: {
            "iss": "https://login.microsoftonline.com/3f2a9c1e-7b4d-4e8a-9c6f-2d1b5a7e8c90/v2.0"
        },
        "no_matching_trust",
    ),
    "wrong subject": (
        lambda now: {"sub": "00000000-0000-0000-0000-000000000bad"},
        "subject_mismatch",
    ),
    "wrong audience": (
        lambda now: {"aud": "api://00000000-0000-0000-0000-000000000bad"},
        "audience_mismatch",
    ),
    "no audience": (lambda now: {"aud": None}, "missing_claim"),
    "no expiry": (lambda now: {"exp": None}, "missing_claim"),
    "no issued-at": (lambda now: {"iat": None}, "missing_claim"),
    "expired": (lambda now: {"exp": now - 600}, "assertion_expired"),
    "not yet valid": (lambda now: {"nbf": now + 600}, "assertion_not_yet_valid"),
    "issued in the future": (lambda now: {"iat": now + 600}, "assertion_not_yet_valid"),
    "issued too long ago": (lambda now: {"iat": now - 3 * HOUR}, "assertion_too_old"),
}


@pytest.mark.parametrize("case", REFUSED_CLAIMS)
def test_an_assertion_whose_claims_do_not_hold_is_refused(contoso_trust, entra_tenant, case):
    claims, reason = REFUSED_CLAIMS[case]
    assertion = entra_tenant.assertion(**claims(int(time.time())))
    assert_refused(request_token(client_id_of(contoso_trust), assertion), reason)
    assert not AccessToken.objects.exists()


@pytest.mark.parametrize("seconds_left", [-30, 5])
def test_an_assertion_about_to_expire_gets_no_token_of_a_few_seconds(
    contoso_trust, entra_tenant, seconds_left
):
    """Within the clock leeway an expired assertion still verifies; a token that ends in
    seconds (or has ended) is of no use to Entra, which must send a fresh assertion."""
    assertion = entra_tenant.assertion(exp=int(time.time()) + seconds_left)
    description = assert_refused(
        request_token(client_id_of(contoso_trust), assertion), "assertion_expired"
    )
    assert "fresh" in description
    assert not AccessToken.objects.exists()


@pytest.mark.parametrize(
    "claims",
    [
        {"iat": "1700000000"},
        {"exp": "99999999999"},
        {"exp": 1e20},
        {"exp": True},
    ],
    ids=["iat as text", "exp as text", "exp in the year 3e12", "exp as a boolean"],
)
def test_odd_numeric_dates_in_a_signed_assertion_are_refused_not_a_500(
    contoso_trust, entra_tenant, claims
):
    response = request_token(client_id_of(contoso_trust), entra_tenant.assertion(**claims))
    assert response.status_code == 401, response.content
    entry = ProvisioningLogEntry.objects.latest("created")
    assert (
        "(malformed_assertion)" in entry.summary
        or "(missing_claim)" in entry.summary
        or ("(assertion_" in entry.summary)
    )
    assert not AccessToken.objects.exists()


def test_who_a_site_trusts_is_not_told_to_someone_guessing(contoso_trust, entra_tenant):
    """A wrong issuer and a wrong subject get the same answer (the log tells them apart),
    so that nobody learns a site's tenant or app by trying."""
    client_id = client_id_of(contoso_trust)
    wrong_issuer = request_token(client_id, entra_tenant.assertion(iss="https://x.example/v2.0"))
    wrong_subject = request_token(client_id, entra_tenant.assertion(sub="someone-else"))
    assert wrong_issuer.json() == wrong_subject.json()
    summaries = [entry.summary for entry in ProvisioningLogEntry.objects.order_by("created")]
    assert "(no_matching_trust)" in summaries[0] and "(subject_mismatch)" in summaries[1]


def test_the_same_app_may_be_trusted_under_both_of_its_audiences(contoso, entra_tenant):
    """Entra shows api://<app id> or the bare app id: a site may trust both, and each
    assertion is checked against the trust with its own audience."""
    for audience in (entra_tenant.audience, entra_tenant.app_id):
        trust = federation.add_trust(
            contoso, federation.validate(**entra_tenant.trust_values(audience=audience))
        )
    for audience in (entra_tenant.audience, entra_tenant.app_id):
        assertion = entra_tenant.assertion(aud=audience)
        assert request_token(client_id_of(trust), assertion).status_code == 200


def test_a_client_id_with_a_nul_is_an_unknown_client_not_an_outage(contoso_trust, entra_tenant):
    response = request_token("satcli_\x00x", entra_tenant.assertion())
    assert_error(response, 401, "invalid_client")
    assert "(unknown_client)" in ProvisioningLogEntry.objects.get().summary


def test_the_audience_must_match_exactly_not_as_one_of_a_list(contoso_trust, entra_tenant):
    assertion = entra_tenant.assertion(aud=[entra_tenant.audience, "api://other"])
    assert_refused(request_token(client_id_of(contoso_trust), assertion), "audience_mismatch")


def test_a_bare_app_id_is_not_its_api_uri(contoso_trust, entra_tenant):
    assertion = entra_tenant.assertion(aud=entra_tenant.app_id)
    assert_refused(request_token(client_id_of(contoso_trust), assertion), "audience_mismatch")


def test_the_clock_leeway_tolerates_a_little_skew(contoso_trust, entra_tenant):
    now = int(time.time())
    assertion = entra_tenant.assertion(iat=now + 30, nbf=now + 30)
    assert request_token(client_id_of(contoso_trust), assertion).status_code == 200


def test_the_tenant_id_is_checked_when_the_trust_names_one(contoso, entra_tenant):
    trust = federation.add_trust(
        contoso,
        federation.validate(**entra_tenant.trust_values(tenant_id=entra_tenant.tenant_id)),
    )
    assert request_token(client_id_of(trust), entra_tenant.assertion()).status_code == 200
    other_tenant = entra_tenant.assertion(tid="11111111-2222-3333-4444-555555555555")
    assert_refused(request_token(client_id_of(trust), other_tenant), "tenant_mismatch")
    assert_refused(
        request_token(client_id_of(trust), entra_tenant.assertion(tid=None)), "tenant_mismatch"
    )


def test_a_signature_by_another_key_is_refused(contoso_trust, entra_tenant):
    forged = entra_tenant.assertion(key=rsa_key(1))  # same kid, the attacker's key
    assert_refused(request_token(client_id_of(contoso_trust), forged), "bad_signature")


def test_a_tampered_payload_is_refused(contoso_trust, entra_tenant):
    header, _, signature = entra_tenant.assertion().split(".")
    other_payload = entra_tenant.assertion(
        sub=entra_tenant.subject, exp=int(time.time()) + 9999
    ).split(".")[1]
    tampered = f"{header}.{other_payload}.{signature}"
    assert_refused(request_token(client_id_of(contoso_trust), tampered), "bad_signature")


def test_alg_none_is_refused(contoso_trust, entra_tenant):
    claims = jwt.decode(entra_tenant.assertion(), options={"verify_signature": False})
    unsigned = jwt.encode(claims, None, algorithm="none", headers={"kid": "key-1"})
    assert_refused(request_token(client_id_of(contoso_trust), unsigned), "algorithm_not_allowed")


def test_hmac_signed_with_the_public_key_is_refused(contoso_trust, entra_tenant):
    """alg confusion: an HS256 token whose HMAC key is the tenant's public key, which
    anyone can fetch."""
    claims = jwt.decode(entra_tenant.assertion(), options={"verify_signature": False})
    public = entra_tenant.server.documents[entra_tenant.jwks_path]["keys"][0]["n"].encode()
    confused = jwt.encode(claims, public, algorithm="HS256", headers={"kid": "key-1"})
    assert_refused(request_token(client_id_of(contoso_trust), confused), "algorithm_not_allowed")


def test_other_rsa_algorithms_are_refused(contoso_trust, entra_tenant):
    claims = jwt.decode(entra_tenant.assertion(), options={"verify_signature": False})
    rs512 = jwt.encode(claims, rsa_key(0), algorithm="RS512", headers={"kid": "key-1"})
    assert_refused(request_token(client_id_of(contoso_trust), rs512), "algorithm_not_allowed")


def test_an_assertion_without_a_kid_is_refused(contoso_trust, entra_tenant):
    claims = jwt.decode(entra_tenant.assertion(), options={"verify_signature": False})
    no_kid = jwt.encode(claims, rsa_key(0), algorithm="RS256")
    assert_refused(request_token(client_id_of(contoso_trust), no_kid), "missing_kid")


@pytest.mark.parametrize("assertion", ["not-a-jwt", "a.b.c", "x" * 9000])
def test_garbage_is_refused_as_malformed(contoso_trust, assertion):
    assert_refused(request_token(client_id_of(contoso_trust), assertion), "malformed_assertion")


def test_an_unknown_client_is_refused(contoso_trust, entra_tenant):
    response = request_token("satcli_" + "A" * 22, entra_tenant.assertion())
    assert_error(response, 401, "invalid_client")
    entry = ProvisioningLogEntry.objects.get()
    assert entry.site is None and "(unknown_client)" in entry.summary


def test_another_sites_trust_does_not_let_its_tenant_into_this_site(
    contoso_trust, fabrikam, entra_tenant, key_server
):
    """Fabrikam trusts its own tenant. Contoso's tenant's assertion, sent with Fabrikam's
    client id, matches none of Fabrikam's trusts, and Fabrikam's with Contoso's id none
    of Contoso's."""
    fabrikam_tenant = Tenant(key_server)
    fabrikam_trust = federation.add_trust(
        fabrikam, federation.validate(**fabrikam_tenant.trust_values())
    )
    refused = request_token(client_id_of(fabrikam_trust), entra_tenant.assertion())
    assert_refused(refused, "no_matching_trust")
    assert ProvisioningLogEntry.objects.latest("created").site == fabrikam
    refused = request_token(client_id_of(contoso_trust), fabrikam_tenant.assertion())
    assert_refused(refused, "no_matching_trust")
    assert not AccessToken.objects.exists()


def test_a_client_secret_and_an_assertion_together_are_refused(
    contoso, contoso_trust, entra_tenant
):
    credentials = issue_client_secret(contoso)
    response = request_token(
        credentials.client_id, entra_tenant.assertion(), client_secret=credentials.client_secret
    )
    assert "one way only" in assert_error(response, 400, "invalid_request")


@pytest.mark.parametrize(
    ("form", "message"),
    [
        (
            {"client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:saml2-bearer"},
            "client_assertion_type must be",
        ),
        ({"client_assertion": ""}, "client_assertion is missing"),
    ],
)
def test_a_malformed_assertion_request_is_refused(contoso_trust, entra_tenant, form, message):
    response = request_token(client_id_of(contoso_trust), entra_tenant.assertion(), **form)
    assert message in assert_error(response, 400, "invalid_request")


def test_the_client_id_is_required(contoso_trust, entra_tenant):
    response = request_token(None, entra_tenant.assertion())
    assert "client_id is missing" in assert_error(response, 400, "invalid_request")


# --- The tenant's keys ------------------------------------------------------------------


def test_keys_are_fetched_once_and_then_served_from_the_cache(
    contoso_trust, entra_tenant, key_server
):
    for _ in range(3):
        token_for(contoso_trust, entra_tenant)
    assert key_server.fetches == [entra_tenant.jwks_path]


def test_a_rotated_key_is_fetched_when_an_assertion_names_it(
    contoso_trust, entra_tenant, key_server
):
    token_for(contoso_trust, entra_tenant)
    entra_tenant.publish({"key-2": rsa_key(1)})  # Microsoft rotates: key-1 is gone
    token_for(contoso_trust, entra_tenant, kid="key-2")
    assert len(key_server.fetches) == 2


def test_unknown_kids_refetch_at_most_once_per_interval(contoso_trust, entra_tenant, key_server):
    token_for(contoso_trust, entra_tenant)
    for _ in range(5):
        made_up = entra_tenant.assertion(kid="made-up", key=rsa_key(1))
        assert_refused(request_token(client_id_of(contoso_trust), made_up), "unknown_kid")
    assert len(key_server.fetches) == 2  # the first, and one refetch for the unknown kid
    # The known key still works meanwhile.
    token_for(contoso_trust, entra_tenant)


def age_keys(url: str, seconds: float) -> None:
    """Move the cache's clock `seconds` on: its key set, and its last failed or
    unknown-kid fetch, are that much older."""
    entry = jwks.key_set(url)
    for moment in ("fetched_at", "failed_at", "refetched_at"):
        if getattr(entry, moment) is not None:
            setattr(entry, moment, getattr(entry, moment) - seconds)


def test_stale_keys_serve_while_microsoft_is_down(
    contoso_trust, entra_tenant, key_server, settings
):
    token_for(contoso_trust, entra_tenant)
    key_server.mode = "error"
    age_keys(entra_tenant.jwks_url, settings.FEDERATION_JWKS_MAX_AGE + 10)
    token_for(contoso_trust, entra_tenant)  # refetch failed: the stale keys served
    assert len(key_server.fetches) == 2
    # Failing, the host is not asked again before the refetch interval.
    token_for(contoso_trust, entra_tenant)
    assert len(key_server.fetches) == 2


def test_keys_too_stale_are_not_used_and_entra_is_told_to_retry(
    contoso_trust, entra_tenant, key_server, settings
):
    token_for(contoso_trust, entra_tenant)
    key_server.mode = "error"
    age_keys(entra_tenant.jwks_url, settings.FEDERATION_JWKS_STALE_SECONDS + 10)
    response = request_token(client_id_of(contoso_trust), entra_tenant.assertion())
    assert_refused(response, "jwks_unavailable", status=503, error="temporarily_unavailable")
    assert int(response["Retry-After"]) > 0
    key_server.mode = "ok"
    age_keys(entra_tenant.jwks_url, settings.FEDERATION_JWKS_REFETCH_INTERVAL)
    token_for(contoso_trust, entra_tenant)  # back


@pytest.mark.parametrize("mode", ["error", "garbage"])
def test_keys_never_fetched_cannot_be_used(contoso_trust, entra_tenant, key_server, mode):
    key_server.mode = mode
    response = request_token(client_id_of(contoso_trust), entra_tenant.assertion())
    assert_refused(response, "jwks_unavailable", status=503, error="temporarily_unavailable")


def test_a_slow_key_host_costs_at_most_the_timeout(
    contoso_trust, entra_tenant, key_server, settings
):
    settings.FEDERATION_JWKS_TIMEOUT = 1
    key_server.mode, key_server.delay = "slow", 3
    started = time.monotonic()
    response = request_token(client_id_of(contoso_trust), entra_tenant.assertion())
    assert_refused(response, "jwks_unavailable", status=503, error="temporarily_unavailable")
    # Not a speed assertion: the request gave up instead of waiting for the slow host.
    assert time.monotonic() - started < key_server.delay


def test_a_key_host_that_trickles_is_cut_off_at_the_timeout(
    contoso_trust, entra_tenant, key_server, settings
):
    """The timeout bounds the whole fetch, not each read: a byte every 20 ms would take
    far longer than a second to deliver a key set."""
    settings.FEDERATION_JWKS_TIMEOUT = 1
    key_server.mode, key_server.delay = "trickle", 0.02
    started = time.monotonic()
    response = request_token(client_id_of(contoso_trust), entra_tenant.assertion())
    assert_refused(response, "jwks_unavailable", status=503, error="temporarily_unavailable")
    assert time.monotonic() - started < 3 * settings.FEDERATION_JWKS_TIMEOUT


@pytest.mark.parametrize("mode", ["truncated", "nested"])
def test_a_broken_key_set_answer_is_a_failed_fetch_and_stale_keys_serve(
    contoso_trust, entra_tenant, key_server, settings, mode
):
    token_for(contoso_trust, entra_tenant)
    key_server.mode = mode
    age_keys(entra_tenant.jwks_url, settings.FEDERATION_JWKS_MAX_AGE + 10)
    for _ in range(3):
        token_for(contoso_trust, entra_tenant)
    assert len(key_server.fetches) == 2  # the failure is remembered: not asked per request


@pytest.mark.parametrize("mode", ["truncated", "nested"])
def test_a_broken_key_set_never_fetched_is_a_retry_not_a_500(
    contoso_trust, entra_tenant, key_server, mode
):
    key_server.mode = mode
    response = request_token(client_id_of(contoso_trust), entra_tenant.assertion())
    assert_refused(response, "jwks_unavailable", status=503, error="temporarily_unavailable")


def publish_document(tenant: Tenant, key_server, keys: list[dict]) -> None:
    key_server.documents[tenant.jwks_path] = {"keys": keys}


def test_a_published_private_key_is_no_signing_key(contoso_trust, entra_tenant, key_server):
    """A key set that leaks the private half is not used to verify anything."""
    private = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(rsa_key(0)))
    publish_document(entra_tenant, key_server, [{**private, "kid": "key-1", "use": "sig"}])
    response = request_token(client_id_of(contoso_trust), entra_tenant.assertion())
    assert_refused(response, "jwks_unavailable", status=503, error="temporarily_unavailable")


def test_an_empty_key_set_never_replaces_the_keys_held(
    contoso_trust, entra_tenant, key_server, settings
):
    token_for(contoso_trust, entra_tenant)
    publish_document(entra_tenant, key_server, [])
    age_keys(entra_tenant.jwks_url, settings.FEDERATION_JWKS_MAX_AGE + 10)
    token_for(contoso_trust, entra_tenant)  # the empty set was a failed fetch
    assert len(key_server.fetches) == 2


@pytest.mark.django_db(transaction=True)
def test_while_keys_are_refetched_the_same_tenant_is_served_with_the_keys_held(
    contoso_trust, entra_tenant, key_server, settings
):
    token_for(contoso_trust, entra_tenant)
    settings.FEDERATION_JWKS_TIMEOUT = 5
    age_keys(entra_tenant.jwks_url, settings.FEDERATION_JWKS_MAX_AGE + 10)
    key_server.mode, key_server.delay = "slow", 3
    refetching = in_thread(request_token, client_id_of(contoso_trust), entra_tenant.assertion())
    while len(key_server.fetches) < 2:
        time.sleep(0.01)
    # Another of Contoso's token requests does not queue behind the slow refetch (not a
    # speed assertion: waiting would take the whole delay).
    started = time.monotonic()
    token_for(contoso_trust, entra_tenant)
    assert time.monotonic() - started < key_server.delay
    refetching.join()


@pytest.mark.django_db(transaction=True)
def test_a_key_fetch_never_holds_up_other_sites_scim_requests(
    contoso_trust, entra_tenant, key_server, fabrikam_scim, settings
):
    settings.FEDERATION_JWKS_TIMEOUT = 5
    key_server.mode, key_server.delay = "slow", 3
    waiting = in_thread(request_token, client_id_of(contoso_trust), entra_tenant.assertion())
    while not key_server.fetches:
        time.sleep(0.01)
    # Contoso's token request is waiting on its tenant's keys; Fabrikam's Entra is served.
    assert fabrikam_scim.get("Users").status_code == 200
    assert waiting.is_alive()
    waiting.join()
