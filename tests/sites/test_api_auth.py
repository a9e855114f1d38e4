"""Who may call /api/v1/ and what they may do: the console's permission model.

Alice (admin, Northwind IT) may read and change Contoso; Bob (read-only there) may only
read; Charlie (admin at Tailspin) must find Northwind's sites missing (404), never
forbidden. Secret Tokens are not API keys, nor API keys Secret Tokens.
"""

import pytest
from django.core.cache import cache
from django.utils import timezone

from sites.credentials import api_keys
from sites.credentials.base import digest
from sites.models import ApiKey, Staff
from tests.support.api import ApiClient, key_for
from tests.support.storage import columns_containing


@pytest.fixture
def alice_api(alice):
    return ApiClient(key_for(alice))


@pytest.fixture
def bob_api(client, bob):
    # Only admins create keys, so Bob uses the API signed in, as in the browsable API.
    client.force_login(bob)
    return ApiClient(client=client)


@pytest.fixture
def charlie_api(charlie):
    return ApiClient(key_for(charlie))


def site_paths(site) -> list[str]:
    base = f"sites/{site.public_id}"
    return [base, f"{base}/scim-tokens", f"{base}/status", f"{base}/users", f"{base}/groups"]


def test_alice_reads_every_resource_of_her_sites_with_her_key(alice_api, contoso):
    for path in ["sites", *site_paths(contoso)]:
        assert alice_api.get(path).status_code == 200, path


def test_alice_changes_her_sites_with_her_key(alice_api, contoso):
    assert alice_api.patch(f"sites/{contoso.public_id}", {"name": "Contoso Ltd"}).status_code == 200
    assert alice_api.post("sites", {"name": "Litware"}).status_code == 201
    assert alice_api.post(f"sites/{contoso.public_id}/scim-tokens").status_code == 201


def test_bob_reads_but_every_write_is_forbidden(bob_api, contoso):
    for path in ["sites", *site_paths(contoso)]:
        assert bob_api.get(path).status_code == 200, path
    writes = [
        bob_api.post("sites", {"name": "Litware"}),
        bob_api.patch(f"sites/{contoso.public_id}", {"sat_enabled": False}),
        bob_api.post(f"sites/{contoso.public_id}/scim-tokens"),
    ]
    for response in writes:
        assert response.status_code == 403
        assert response.json() == {"detail": "Ensure your account has Admin permissions."}
    contoso.refresh_from_db()
    assert contoso.sat_enabled
    assert not contoso.scim_tokens.exists()


def test_charlie_finds_northwinds_sites_missing_not_forbidden(charlie_api, contoso, woodgrove):
    listed = charlie_api.get("sites").json()["results"]
    assert [s["name"] for s in listed] == ["Woodgrove"]
    for path in site_paths(contoso):
        response = charlie_api.get(path)
        assert response.status_code == 404, path
        assert response.json() == {"detail": "No site with this id."}
    assert charlie_api.patch(f"sites/{contoso.public_id}", {"name": "Mine"}).status_code == 404
    assert charlie_api.post(f"sites/{contoso.public_id}/scim-tokens").status_code == 404


def test_charlie_cannot_revoke_northwinds_token_even_knowing_its_id(charlie_api, contoso):
    from sites.credentials import scim_tokens

    token, _ = scim_tokens.issue_token(contoso, via="command")
    path = f"sites/{contoso.public_id}/scim-tokens/{token.pk}"
    assert charlie_api.post(f"{path}/revoke").status_code == 404
    assert charlie_api.delete(path).status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_anonymous_requests_get_401_with_a_bearer_challenge(client, contoso):
    for path in ["sites", *site_paths(contoso)]:
        response = ApiClient().get(path)
        assert response.status_code == 401, path
        assert response["WWW-Authenticate"] == 'Bearer realm="SAT Portal API"'
        assert response.json()["detail"] == "Authentication credentials were not provided."


@pytest.mark.parametrize(
    "credential",
    [
        "satapi_" + "x" * 43,  # well-formed, unknown
        "satapi_short",
        "not-a-key",
        "",
    ],
)
def test_unknown_or_malformed_keys_get_401(credential, contoso):
    response = ApiClient().client.get(
        "/api/v1/sites", headers={"Authorization": f"Bearer {credential}"}
    )
    assert response.status_code == 401
    assert "detail" in response.json()


def test_a_revoked_key_gets_401_at_once(alice, contoso):
    plaintext = key_for(alice)
    api = ApiClient(plaintext)
    assert api.get("sites").status_code == 200
    api_keys.revoke_key(ApiKey.objects.get())
    response = api.get("sites")
    assert response.status_code == 401
    assert "unknown or revoked" in response.json()["detail"]


def test_a_scim_secret_token_is_not_an_api_key(contoso_scim, contoso):
    response = ApiClient(contoso_scim.token).get("sites")
    assert response.status_code == 401


def test_an_api_key_is_not_a_scim_secret_token(alice, contoso):
    from tests.conftest import ScimClient

    response = ScimClient(key_for(alice)).get("Users")
    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/scim+json")


def test_the_console_session_works_for_the_browsable_api(client, alice, contoso):
    client.force_login(alice)
    response = client.get("/api/v1/sites/", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert b"Contoso" in response.content


def test_a_session_write_needs_the_csrf_token(alice, contoso):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(alice)
    response = ApiClient(client=browser).post("sites", {"name": "Litware"})
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]


def test_a_login_without_an_msp_is_forbidden(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("mallory"))
    response = ApiClient(client=client).get("sites")
    assert response.status_code == 403
    assert response.json() == {"detail": "This login does not belong to an MSP."}


def test_a_key_acts_with_its_creators_role_at_the_time_of_use(alice, contoso):
    api = ApiClient(key_for(alice))
    Staff.objects.filter(user=alice).update(role=Staff.Role.READ_ONLY)
    assert api.get("sites").status_code == 200
    response = api.patch(f"sites/{contoso.public_id}", {"sat_enabled": False})
    assert response.status_code == 403
    assert "can only read" in response.json()["detail"]


def test_a_key_whose_creator_was_deleted_stops_working(alice, contoso):
    api = ApiClient(key_for(alice))
    alice.delete()
    response = api.get(f"sites/{contoso.public_id}")
    assert response.status_code == 401
    assert "no longer has access" in response.json()["detail"]
    assert api.post("sites", {"name": "Litware"}).status_code == 401


def test_a_key_whose_creator_was_deactivated_stops_working(alice, contoso):
    api = ApiClient(key_for(alice))
    alice.is_active = False
    alice.save()
    assert api.get("sites").status_code == 401


def test_a_key_stops_working_when_its_creator_moves_to_another_msp(
    alice, contoso, woodgrove, other_msp
):
    api = ApiClient(key_for(alice))
    Staff.objects.filter(user=alice).update(msp=other_msp)
    assert api.get("sites").status_code == 401
    assert api.get(f"sites/{woodgrove.public_id}").status_code == 401
    assert api.post("sites", {"name": "Litware"}).status_code == 401


def test_a_key_whose_creator_leaves_every_msp_stops_working(alice, contoso):
    api = ApiClient(key_for(alice))
    Staff.objects.filter(user=alice).delete()
    assert api.get("sites").status_code == 401


def test_last_used_is_recorded_at_most_once_a_minute(alice_api, django_capture_on_commit_callbacks):
    key = ApiKey.objects.get()
    assert key.last_used_at is None
    with django_capture_on_commit_callbacks(execute=True):
        alice_api.get("sites")
    key.refresh_from_db()
    first = key.last_used_at
    assert first is not None
    with django_capture_on_commit_callbacks(execute=True) as written:
        alice_api.get("sites")
    assert written == []
    key.refresh_from_db()
    assert key.last_used_at == first
    ApiKey.objects.update(last_used_at=timezone.now() - timezone.timedelta(minutes=2))
    with django_capture_on_commit_callbacks(execute=True):
        alice_api.get("sites")
    key.refresh_from_db()
    assert key.last_used_at > first


def test_only_the_hash_of_a_key_is_stored(alice):
    plaintext = key_for(alice)
    key = ApiKey.objects.get()
    assert plaintext.startswith("satapi_") and len(plaintext) == 50
    assert key.secret_hash == digest(plaintext)
    assert key.hint == plaintext[-4:]
    assert plaintext not in str(key)
    assert columns_containing(plaintext) == []
    assert columns_containing(plaintext[7:20]) == []
    assert "sites.ApiKey.hint" in columns_containing(plaintext[-4:])


class TestThrottling:
    @pytest.fixture(autouse=True)
    def fresh_counts(self, settings):
        cache.clear()
        settings.API_RATE_LIMIT = "3/min"
        yield
        cache.clear()

    def test_a_key_over_its_rate_gets_429_with_retry_after(self, alice_api):
        for _ in range(3):
            assert alice_api.get("sites").status_code == 200
        response = alice_api.get("sites")
        assert response.status_code == 429
        assert 0 < int(response["Retry-After"]) <= 60
        assert "throttled" in response.json()["detail"]

    def test_each_key_has_its_own_count(self, alice, alice_api):
        for _ in range(3):
            alice_api.get("sites")
        assert alice_api.get("sites").status_code == 429
        assert ApiClient(key_for(alice, "another")).get("sites").status_code == 200
