"""The admin's federation trusts: support sees which Entra apps each site trusts and the
access tokens minted through them; only superusers revoke a trust, which stops Entra at
once; every add and revoke is in the credential audit trail.

Root is a superuser, Sam is support staff (view-only). Contoso trusts `entra_tenant`.
"""

import pytest
from django.urls import reverse

from sites.credentials import federation
from sites.models import AccessToken, CredentialEvent, FederationTrust, Site
from tests.conftest import ScimClient
from tests.support.admin import count_queries, signed_in_client
from tests.support.federation import Tenant, request_token

TRUSTS = reverse("admin:sites_federationtrust_changelist")
ACCESS_TOKENS = reverse("admin:sites_accesstoken_changelist")
EVENTS = reverse("admin:sites_credentialevent_changelist")


def page_of(obj) -> str:
    opts = obj._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])


@pytest.fixture(params=["root", "sam"])
def staff(request):
    return signed_in_client(request.getfixturevalue(request.param))


def access_token(trust: FederationTrust, tenant: Tenant) -> str:
    response = request_token(trust.client.client_id, tenant.assertion())
    assert response.status_code == 200, response.content
    return response.json()["access_token"]


def test_support_sees_the_trusts_their_tokens_and_the_audit_trail(
    staff, contoso_trust, entra_tenant
):
    token = access_token(contoso_trust, entra_tenant)
    listing = staff.get(TRUSTS).text
    assert contoso_trust.subject in listing and "Contoso" in listing
    detail = staff.get(page_of(contoso_trust)).text
    assert entra_tenant.jwks_url in detail and "Issued" in detail
    tokens = staff.get(ACCESS_TOKENS).text
    assert str(contoso_trust) in tokens and token not in tokens
    assert AccessToken.objects.get().secret_hash not in tokens
    assert contoso_trust.hint in staff.get(EVENTS).text


def test_a_superuser_revokes_a_trust_and_entra_stops_at_once(root, contoso_trust, entra_tenant):
    scim = ScimClient(access_token(contoso_trust, entra_tenant))
    response = signed_in_client(root).post(
        TRUSTS, {"action": "revoke", "_selected_action": [contoso_trust.pk]}, follow=True
    )
    assert "Revoked 1 federation trust(s)." in response.text
    assert scim.get("Users").status_code == 401
    event = CredentialEvent.objects.get(action="revoked")
    assert (event.kind, event.actor, event.via) == ("federation_trust", root, "admin")


def test_support_cannot_revoke(sam, contoso_trust):
    client = signed_in_client(sam)
    assert 'value="revoke"' not in client.get(TRUSTS).text
    client.post(TRUSTS, {"action": "revoke", "_selected_action": [contoso_trust.pk]})
    assert FederationTrust.objects.get().revoked_at is None


def test_the_pages_cost_the_same_for_3_or_30_sites(staff, msp, entra_tenant, key_server):
    def populate(n: int) -> FederationTrust:
        trusts = []
        for i in range(n):
            site = Site.objects.create(msp=msp, name=f"Site {n}-{i}")
            tenant = Tenant(key_server)
            trust = federation.add_trust(site, federation.validate(**tenant.trust_values()))
            access_token(trust, tenant)
            trusts.append(trust)
        return trusts[0]

    def pages(trust: FederationTrust) -> list[str]:
        return [TRUSTS, page_of(trust), ACCESS_TOKENS, EVENTS]

    first = populate(3)
    for url in pages(first):
        staff.get(url)  # warm the content-type cache, which is per process
    small = [count_queries(staff, url) for url in pages(first)]
    big = [count_queries(staff, url) for url in pages(populate(30))]
    assert big == small
