"""The console's API keys page: Alice (admin at Northwind IT) creates a key, sees it once
and revokes it; Bob (read-only) may not; Charlie (Tailspin) cannot touch Northwind's keys.
"""

import re

import pytest

from sites.credentials import api_keys
from sites.credentials.base import digest
from sites.models import ApiKey
from tests.support.api import ApiClient


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice)
    return client


def create(client, name: str):
    """Press Create API key on a freshly loaded page, as a person would."""
    page = client.get("/api-keys/").content.decode()
    newest = re.search(r'name="newest" value="(\d+)"', page).group(1)
    return client.post("/api-keys/", {"name": name, "newest": newest})


def test_alice_creates_a_key_and_sees_it_once(alice_client, alice, msp, contoso):
    response = create(alice_client, "Onboarding")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    page = response.content.decode()
    assert "Save this key now. It cannot be shown again." in page
    plaintext = re.search(r'value="(satapi_[A-Za-z0-9_-]{43})"', page).group(1)
    key = ApiKey.objects.get()
    assert (key.name, key.msp, key.created_by) == ("Onboarding", msp, alice)
    assert key.secret_hash == digest(plaintext)
    assert ApiClient(plaintext).get("sites").status_code == 200

    listing = alice_client.get("/api-keys/").content.decode()
    assert plaintext not in listing
    assert f"satapi_…{key.hint}" in listing
    assert "Onboarding" in listing


def test_a_key_needs_a_name(alice_client):
    response = create(alice_client, "")
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert not ApiKey.objects.exists()


def test_resending_the_create_form_creates_no_second_key(alice_client):
    """A reload of the page showing the key re-posts the form it came from."""
    page = alice_client.get("/api-keys/").content.decode()
    form = {"name": "Onboarding", "newest": re.search(r'name="newest" value="(\d+)"', page)[1]}
    first = alice_client.post("/api-keys/", form)
    plaintext = re.search(r'value="(satapi_[A-Za-z0-9_-]{43})"', first.content.decode())[1]

    again = alice_client.post("/api-keys/", form, follow=True)

    assert again.redirect_chain == [("/api-keys/", 302)]
    assert "so no key was created" in again.content.decode()
    assert plaintext not in again.content.decode()
    assert ApiKey.objects.count() == 1
    assert alice_client.post("/api-keys/", {"name": "No page"}).status_code == 302
    assert ApiKey.objects.count() == 1
    assert create(alice_client, "Second").status_code == 200
    assert ApiKey.objects.count() == 2


def test_alice_revokes_a_key_and_it_stops_working(alice_client, alice):
    key, plaintext = api_keys.issue_key(alice.staff.msp, name="Old script", by=alice)
    response = alice_client.post(f"/api-keys/{key.public_id}/revoke/", follow=True)
    assert "API key “Old script” revoked" in response.content.decode()
    assert ApiClient(plaintext).get("sites").status_code == 401
    assert "Revoked" in alice_client.get("/api-keys/").content.decode()
    again = alice_client.post(f"/api-keys/{key.public_id}/revoke/", follow=True)
    assert "was already revoked" in again.content.decode()


def test_revoking_needs_a_post(alice_client, alice):
    key, _ = api_keys.issue_key(alice.staff.msp, name="Script", by=alice)
    response = alice_client.get(f"/api-keys/{key.public_id}/revoke/")
    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert b"Not possible this way" in response.content


def test_bob_may_not_see_create_or_revoke_keys(client, bob, alice):
    key, _ = api_keys.issue_key(alice.staff.msp, name="Script", by=alice)
    client.force_login(bob)
    assert client.get("/api-keys/").status_code == 403
    assert client.post("/api-keys/", {"name": "Mine"}).status_code == 403
    assert client.post(f"/api-keys/{key.public_id}/revoke/").status_code == 403
    assert ApiKey.objects.filter(revoked_at__isnull=True).count() == 1


def test_charlie_sees_only_his_msps_keys_and_cannot_revoke_northwinds(client, alice, charlie):
    key, _ = api_keys.issue_key(alice.staff.msp, name="Northwind script", by=alice)
    client.force_login(charlie)
    assert "Northwind script" not in client.get("/api-keys/").content.decode()
    assert client.post(f"/api-keys/{key.public_id}/revoke/").status_code == 404
    key.refresh_from_db()
    assert key.revoked_at is None


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get("/api-keys/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_the_list_takes_a_fixed_number_of_queries(
    alice_client, alice, django_assert_max_num_queries
):
    for i in range(5):
        api_keys.issue_key(alice.staff.msp, name=f"Script {i}", by=alice)
    with django_assert_max_num_queries(6):
        response = alice_client.get("/api-keys/")
    assert response.status_code == 200
    assert all(f"Script {i}".encode() in response.content for i in range(5))


def test_the_menu_links_api_keys_for_admins_only(signed_in, alice, bob):
    assert b'href="/api-keys/"' in signed_in(alice).get("/").content
    assert b'href="/api-keys/"' not in signed_in(bob).get("/").content
