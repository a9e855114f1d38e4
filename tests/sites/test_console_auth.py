"""Signing in and out of the console, and the lock against password guessing.

Alice (an admin at Northwind IT) signs in; someone guessing her password is stopped.
"""

import pytest
from django.core.cache import cache

from tests.conftest import PASSWORD


@pytest.fixture(autouse=True)
def no_failures_counted():
    cache.clear()
    yield
    cache.clear()


def sign_in(client, username, password, address="203.0.113.7"):
    return client.post(
        "/accounts/login/", {"username": username, "password": password}, REMOTE_ADDR=address
    )


def test_every_console_page_sends_anonymous_visitors_to_sign_in(client, contoso):
    for path in ("/", "/sites/add/", f"/sites/{contoso.public_id}/sat/"):
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/?next=")


def test_the_sign_in_page_has_a_form_with_csrf(client):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert b"csrfmiddlewaretoken" in response.content
    assert b'name="password"' in response.content


def test_alice_signs_in_and_lands_on_her_sites(client, alice, contoso):
    response = sign_in(client, "alice", PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert b"Contoso" in client.get("/").content


def test_a_wrong_password_is_a_form_error(client, alice):
    response = sign_in(client, "alice", "wrong")
    assert response.status_code == 200
    assert b"Please enter a correct username and password" in response.content


def test_signing_out_is_a_post_and_ends_the_session(client, alice):
    client.force_login(alice)
    refused = client.get("/accounts/logout/")
    assert refused.status_code == 405
    assert refused["Allow"] == "POST"
    assert b"Not possible this way" in refused.content
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert client.get("/").status_code == 302


def test_five_wrong_passwords_lock_the_username_from_that_address(client, alice, settings):
    settings.LOGIN_FAILURE_LIMIT = 5
    for _ in range(5):
        sign_in(client, "alice", "guess")
    response = sign_in(client, "alice", PASSWORD)
    assert response.status_code == 200
    assert b"Too many failed sign-in attempts. Try again in 15 minutes." in response.content
    assert "_auth_user_id" not in client.session


def test_the_lock_ignores_the_case_of_the_username(client, alice, settings):
    settings.LOGIN_FAILURE_LIMIT = 2
    sign_in(client, "alice", "guess")
    sign_in(client, "ALICE", "guess")
    assert b"Too many failed" in sign_in(client, "alice", PASSWORD).content


def test_the_lock_does_not_stop_alice_signing_in_from_elsewhere(client, alice, settings):
    settings.LOGIN_FAILURE_LIMIT = 2
    sign_in(client, "alice", "guess", address="198.51.100.1")
    sign_in(client, "alice", "guess", address="198.51.100.1")
    response = sign_in(client, "alice", PASSWORD, address="192.0.2.50")
    assert response.status_code == 302


def test_guesses_spread_over_many_addresses_lock_the_username_everywhere(client, alice, settings):
    settings.LOGIN_FAILURE_LIMIT = 5
    settings.LOGIN_FAILURE_USERNAME_LIMIT = 4
    for n in range(4):
        sign_in(client, "alice", "guess", address=f"198.51.100.{n}")
    response = sign_in(client, "alice", PASSWORD, address="192.0.2.50")
    assert b"Too many failed sign-in attempts." in response.content
    assert sign_in(client, "bob", "guess", address="192.0.2.50").status_code == 200


def forwarded_sign_in(client, username, password, forwarded_for):
    """A sign-in through the load balancer at 10.0.0.2: it appends the client's address."""
    return client.post(
        "/accounts/login/",
        {"username": username, "password": password},
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR=forwarded_for,
    )


def test_behind_a_trusted_proxy_each_client_address_is_counted_on_its_own(client, alice, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.LOGIN_FAILURE_LIMIT = 2
    forwarded_sign_in(client, "alice", "guess", "203.0.113.7")
    forwarded_sign_in(client, "alice", "guess", "203.0.113.7")
    assert b"Too many failed" in forwarded_sign_in(client, "alice", PASSWORD, "203.0.113.7").content
    # Alice, at another address behind the same balancer, is not locked out by the guesser.
    assert forwarded_sign_in(client, "alice", PASSWORD, "198.51.100.20").status_code == 302


def test_an_address_the_client_wrote_itself_into_x_forwarded_for_does_not_count(
    client, alice, settings
):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.LOGIN_FAILURE_LIMIT = 2
    # The guesser prepends a new fake address each time; the balancer appends the real one.
    forwarded_sign_in(client, "alice", "guess", "1.1.1.1, 203.0.113.7")
    forwarded_sign_in(client, "alice", "guess", "2.2.2.2, 203.0.113.7")
    locked = forwarded_sign_in(client, "alice", PASSWORD, "3.3.3.3, 203.0.113.7")
    assert b"Too many failed" in locked.content


def test_without_trusted_proxies_x_forwarded_for_is_ignored(client, alice, settings):
    settings.LOGIN_FAILURE_LIMIT = 2
    forwarded_sign_in(client, "alice", "guess", "1.1.1.1")
    forwarded_sign_in(client, "alice", "guess", "2.2.2.2")
    assert b"Too many failed" in forwarded_sign_in(client, "alice", PASSWORD, "3.3.3.3").content


def test_a_successful_sign_in_forgets_earlier_failures(client, alice, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    sign_in(client, "alice", "guess")
    sign_in(client, "alice", "guess")
    assert sign_in(client, "alice", PASSWORD).status_code == 302
    client.logout()
    sign_in(client, "alice", "guess")
    sign_in(client, "alice", "guess")
    assert sign_in(client, "alice", PASSWORD).status_code == 302


def test_a_login_without_an_msp_sees_no_console(client, django_user_model):
    user = django_user_model.objects.create_user("mallory", password=PASSWORD)
    client.force_login(user)
    assert client.get("/").status_code == 403


def test_the_admin_sign_in_is_locked_like_the_consoles(client, root, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    for _ in range(3):
        response = client.post(
            "/admin/login/", {"username": root.username, "password": "guess"}, REMOTE_ADDR="1.2.3.4"
        )
        assert b"Too many failed" not in response.content
    response = client.post(
        "/admin/login/", {"username": root.username, "password": PASSWORD}, REMOTE_ADDR="1.2.3.4"
    )
    assert response.status_code == 200
    assert b"Too many failed sign-in attempts." in response.content
    assert "_auth_user_id" not in client.session


def test_the_admin_sign_in_still_works(client, root):
    response = client.post("/admin/login/", {"username": root.username, "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200
