"""Setting up workload identity federation for a site: the values Entra shows, checked
so that a site can only ever trust Microsoft's keys for one tenant; and
`add_federation_trust`, whose last line is what to paste back into Entra."""

import json
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from sites import services
from sites.credentials import federation
from sites.models import CredentialEvent, FederationTrust, OAuthClient
from tests.conftest import ScimClient
from tests.support.federation import request_token

TENANT = "3f2a9c1e-7b4d-4e8a-9c6f-2d1b5a7e8c90"
MICROSOFT = "https://login.microsoftonline.com"
ENTRA_SHOWS = {
    "issuer": f"{MICROSOFT}/{TENANT}/v2.0",
    "jwks_url": f"{MICROSOFT}/{TENANT}/discovery/v2.0/keys",
    "subject": "9f7c1c3e-0d1e-4a4b-8a39-2c3a4f5b6d7e",
    "audience": "api://0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0",
}


def refused(**values) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as error:
        federation.validate(**{**ENTRA_SHOWS, **values})
    return error.value.message_dict


def test_what_entra_shows_is_accepted_as_pasted_with_stray_spaces_trimmed():
    values = federation.validate(**{name: f"  {value} " for name, value in ENTRA_SHOWS.items()})
    assert values.issuer == ENTRA_SHOWS["issuer"] and values.subject == ENTRA_SHOWS["subject"]
    # The v1 issuer form and a bare app id as audience are Entra's too.
    federation.validate(
        **{**ENTRA_SHOWS, "issuer": f"{MICROSOFT}/{TENANT}/", "audience": "0b1c2d3e"}
    )


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("issuer", f"https://evil.example/{TENANT}/v2.0", "login.microsoftonline.com"),
        (
            "jwks_url",
            f"https://evil.example/{TENANT}/discovery/v2.0/keys",
            "login.microsoftonline.com",
        ),
        (
            "jwks_url",
            f"https://login.microsoftonline.com.evil.example/{TENANT}/discovery/v2.0/keys",
            "login.microsoftonline.com",
        ),
        ("jwks_url", f"http://login.microsoftonline.com/{TENANT}/discovery/v2.0/keys", "https://"),
        (
            "jwks_url",
            f"https://user@login.microsoftonline.com/{TENANT}/discovery/v2.0/keys",
            "user name",
        ),
        ("jwks_url", f"{MICROSOFT}/{TENANT}/discovery/v2.0/keys?x=1", "query"),
        ("issuer", f"{MICROSOFT}/common/v2.0", "tenant ID"),
        ("issuer", f"{MICROSOFT}/organizations/v2.0", "tenant ID"),
        ("issuer", f"{MICROSOFT}/{TENANT}/oauth2/v2.0/token", "tenant ID"),
        (
            "jwks_url",
            f"{MICROSOFT}/11111111-2222-3333-4444-555555555555/discovery/v2.0/keys",
            "issuer's tenant",
        ),
        ("jwks_url", f"{MICROSOFT}/common/discovery/v2.0/keys", "issuer's tenant"),
        # Under the tenant's path but not its keys: only the key document itself.
        ("jwks_url", f"{MICROSOFT}/{TENANT}/../common/discovery/v2.0/keys", "issuer's tenant"),
        (
            "jwks_url",
            f"{MICROSOFT}/{TENANT}/%2e%2e/organizations/discovery/keys",
            "issuer's tenant",
        ),
        ("jwks_url", f"{MICROSOFT}/{TENANT}/v2.0", "issuer's tenant"),
        (
            "jwks_url",
            f"https://login.microsoftonline.com:8443/{TENANT}/discovery/v2.0/keys",
            "login.microsoftonline.com",
        ),
        ("tenant_id", "11111111-2222-3333-4444-555555555555", "not the issuer's"),
        ("tenant_id", "contoso.onmicrosoft.com", "tenant ID looks like"),
        ("subject", "", "required"),
        ("audience", "api://two words", "exactly as Entra shows"),
        ("issuer", "not-a-url", "login.microsoftonline.com"),
    ],
)
def test_a_site_cannot_be_pointed_at_other_keys(field, value, message):
    errors = refused(**{field: value})
    assert message in " ".join(errors[field]), errors


def test_loopback_keys_need_the_allow_list_and_only_loopback_may_be_plain_http(settings):
    loopback = {
        "issuer": f"http://127.0.0.1:8123/{TENANT}/v2.0",
        "jwks_url": f"http://127.0.0.1:8123/{TENANT}/discovery/v2.0/keys",
    }
    assert "jwks_url" in refused(**loopback) and "issuer" in refused(**loopback)
    settings.FEDERATION_JWKS_HOSTS = ["login.microsoftonline.com", "127.0.0.1"]
    federation.validate(**{**ENTRA_SHOWS, **loopback})
    # Another host in the allow-list is https only.
    settings.FEDERATION_JWKS_HOSTS = ["login.microsoftonline.com", "keys.example.com"]
    errors = refused(jwks_url=f"http://keys.example.com/{TENANT}/discovery/v2.0/keys")
    assert "https://" in errors["jwks_url"][0]
    federation.validate(
        jwks_url=f"https://keys.example.com/{TENANT}/discovery/v2.0/keys",
        **{k: v for k, v in ENTRA_SHOWS.items() if k != "jwks_url"},
    )


def test_a_trust_is_refused_while_training_is_off(contoso):
    services.set_sat_enabled(contoso, False)
    with pytest.raises(ValidationError):
        federation.add_trust(contoso, federation.validate(**ENTRA_SHOWS))
    assert not FederationTrust.objects.exists() and not OAuthClient.objects.exists()


def test_a_trust_uses_the_sites_client_or_creates_it(contoso):
    first = federation.add_trust(contoso, federation.validate(**ENTRA_SHOWS))
    second = federation.add_trust(
        contoso, federation.validate(**{**ENTRA_SHOWS, "subject": "another-object-id"})
    )
    assert first.client == second.client == OAuthClient.objects.get(site=contoso)


# --- add_federation_trust ---------------------------------------------------------------


def run(*args) -> tuple[dict, str]:
    out, err = StringIO(), StringIO()
    call_command("add_federation_trust", *args, stdout=out, stderr=err)
    return json.loads(out.getvalue().strip().splitlines()[-1]), err.getvalue()


def options(values: dict) -> list[str]:
    return [
        "--issuer", values["issuer"],
        "--jwks-url", values["jwks_url"],
        "--subject", values["subject"],
        "--audience", values["audience"],
    ]  # fmt: skip


def test_the_command_prints_what_entra_needs_and_the_flow_works(contoso, entra_tenant):
    added, err = run("contoso", *options(entra_tenant.trust_values()))
    assert set(added) == {"client_id", "token_endpoint", "tenant_url"}
    assert added["tenant_url"] == "http://localhost:8000/api/v2/scim"
    assert added["token_endpoint"] == "http://localhost:8000/api/v2/oauth/token"
    trust = FederationTrust.objects.get()
    assert trust.site == contoso and added["client_id"] == trust.client.client_id
    assert "Contoso" in err
    event = CredentialEvent.objects.get()
    assert (event.kind, event.action, event.via) == ("federation_trust", "issued", "command")

    response = request_token(added["client_id"], entra_tenant.assertion())
    assert response.status_code == 200, response.content
    assert ScimClient(response.json()["access_token"]).get("Users").status_code == 200


def test_the_command_says_what_is_wrong(contoso):
    with pytest.raises(CommandError, match=r"login\.microsoftonline\.com"):
        run("Contoso", *options({**ENTRA_SHOWS, "jwks_url": "https://evil.example/keys"}))
    with pytest.raises(CommandError, match="No site is named"):
        run("Nowhere", *options(ENTRA_SHOWS))
    assert not FederationTrust.objects.exists()


def test_both_of_microsofts_key_documents_are_accepted():
    for path in ("discovery/v2.0/keys", "discovery/keys"):
        values = federation.validate(**{**ENTRA_SHOWS, "jwks_url": f"{MICROSOFT}/{TENANT}/{path}"})
        assert values.jwks_url.endswith(path)
