"""A site's Security Awareness Training settings: Configure Microsoft Entra Integration,
the Secret Token shown once, rotation, Revoke and Disable integration.

Alice (admin at Northwind IT) configures Contoso; Bob (read-only there) sees the status
but may change nothing; Charlie (Tailspin) gets 404 for anything of Northwind's.
"""

import re
import uuid
from datetime import timedelta

from django.test import Client
from django.utils import timezone
from django.utils.html import escape

from sites import services
from sites.credentials import scim_tokens
from sites.models import CredentialEvent, ScimToken
from tests.conftest import ScimClient
from tests.support.provisioned import bare_user, make_group
from tests.support.storage import columns_containing

# What the confirmation dialog (or, without script, the page that asks) adds to the form.
CONFIRMED = {"confirmed": "yes"}


def settings_url(site) -> str:
    return f"/sites/{site.public_id}/sat/"


def configure(client, site):
    """Press Configure on a freshly loaded settings page, as a person would."""
    page = client.get(settings_url(site)).content.decode()
    newest = re.search(r'name="newest" value="(\d+)"', page).group(1)
    return client.post(f"{settings_url(site)}entra/configure/", {"newest": newest})


def works(secret: str) -> bool:
    """Whether Entra can provision with `secret`: the SCIM endpoint's own answer."""
    return ScimClient(secret).get("Users").status_code == 200


def events_of(token: ScimToken):
    return CredentialEvent.objects.filter(kind="scim_token", credential_id=token.pk)


def secret_in(response) -> str:
    match = re.search(r'id="secret-token" type="text" value="([^"]+)"', response.content.decode())
    assert match, "no Secret Token on the page"
    return match.group(1)


def test_the_settings_page_shows_details_tenant_url_and_status(alice_client, contoso):
    response = alice_client.get(settings_url(contoso))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Contoso: Security Awareness Training settings" in html
    assert str(contoso.public_id) in html
    assert 'value="http://testserver/api/v2/scim"' in html
    assert "Not configured" in html
    assert "Configure Microsoft Entra Integration" in html
    assert "no-store" in response["Cache-Control"]


def test_the_tenant_url_follows_scim_base_url(alice_client, contoso, settings):
    settings.SCIM_BASE_URL = "https://sat.example.com/api/v2/scim"
    response = alice_client.get(settings_url(contoso))
    assert b'value="https://sat.example.com/api/v2/scim"' in response.content


def test_configure_shows_the_secret_token_once_and_it_works(alice_client, alice, contoso):
    response = configure(alice_client, contoso)

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    html = response.content.decode()
    assert "Save this token now. It cannot be shown again." in html
    assert 'id="tenant-url" type="text" value="http://testserver/api/v2/scim"' in html
    assert html.count('data-copy="') == 2
    assert f'href="{settings_url(contoso)}"' in html  # Done
    secret = secret_in(response)
    assert works(secret)
    token = ScimToken.objects.get()
    assert token.site == contoso and secret.endswith(token.hint)
    assert token.created_by == alice
    event = events_of(token).get()
    assert (event.action, event.actor, event.via, event.hint) == (
        "issued",
        alice,
        "console",
        token.hint,
    )


def test_the_secret_token_is_never_stored_or_shown_again(alice_client, contoso):
    response = configure(alice_client, contoso)
    secret = secret_in(response)

    page = alice_client.get(settings_url(contoso)).content.decode()
    assert secret not in page
    assert f"satscim_…{secret[-4:]}" in page
    assert secret not in alice_client.get("/").content.decode()
    assert secret not in str(dict(alice_client.session))
    assert columns_containing(secret) == []
    # The search does look everywhere: the last characters are kept, as the hint.
    assert "sites.ScimToken.hint" in columns_containing(secret[-4:])


def test_resending_the_configure_form_issues_no_second_token(alice_client, contoso):
    """A reload of the page showing the token re-posts the form it came from."""
    page = alice_client.get(settings_url(contoso)).content.decode()
    newest = re.search(r'name="newest" value="(\d+)"', page).group(1)
    url = f"{settings_url(contoso)}entra/configure/"
    first = alice_client.post(url, {"newest": newest})
    secret = secret_in(first)

    again = alice_client.post(url, {"newest": newest}, follow=True)

    assert again.redirect_chain == [(settings_url(contoso), 302)]
    assert b"no token was issued" in again.content
    assert secret.encode() not in again.content
    assert b'id="secret-token"' not in again.content
    assert contoso.scim_tokens.count() == 1


def test_configure_without_the_form_field_issues_nothing(alice_client, contoso):
    response = alice_client.post(f"{settings_url(contoso)}entra/configure/")
    assert response.status_code == 302
    assert not contoso.scim_tokens.exists()


def test_waiting_then_provisioning_status_on_the_settings_page(alice_client, contoso):
    secret = secret_in(configure(alice_client, contoso))
    assert b"Waiting for first request" in alice_client.get(settings_url(contoso)).content

    assert ScimClient(secret).get("ServiceProviderConfig").status_code == 200
    bare_user(contoso, "ann@contoso.com")
    bare_user(contoso, "ben@contoso.com", active=False)
    make_group(contoso, "Sales")

    html = alice_client.get(settings_url(contoso)).content.decode()
    assert "Provisioning" in html
    request = contoso.provisioning_log.get()
    assert f'<dd id="last-request">{request.created:%Y-%m-%d %H:%M} UTC · 200 · ' in html
    assert '<dd id="last-error">None</dd>' in html
    assert "<dt>Users</dt><dd>2</dd>" in html
    assert "<dt>Active users</dt><dd>1</dd>" in html
    assert "<dt>Groups</dt><dd>1</dd>" in html


def test_the_settings_page_shows_the_last_error_from_the_provisioning_log(alice_client, contoso):
    secret = secret_in(configure(alice_client, contoso))
    missing = ScimClient(secret).get("Users/2f1e9b8c-0000-4000-8000-000000000000")
    assert missing.status_code == 404
    ScimClient(secret).get("ServiceProviderConfig")
    error = contoso.provisioning_log.get(status=404)

    html = alice_client.get(settings_url(contoso)).content.decode()

    assert f'<dd id="last-error">{error.created:%Y-%m-%d %H:%M} UTC · 404 · ' in html
    assert escape(error.summary) in html
    assert '<dd id="last-request">' in html and "· 200 ·" in html


def test_a_site_with_training_disabled_says_so_instead_of_provisioning(alice_client, contoso):
    secret = secret_in(configure(alice_client, contoso))
    ScimClient(secret).get("ServiceProviderConfig")
    services.set_sat_enabled(contoso, False)

    html = alice_client.get(settings_url(contoso)).content.decode()

    assert '<span class="badge muted" id="entra-status">Training disabled</span>' in html


def test_configuring_again_keeps_the_old_token_for_the_grace_period(alice_client, contoso):
    old_secret = secret_in(configure(alice_client, contoso))
    response = configure(alice_client, contoso)
    new_secret = secret_in(response)

    assert works(old_secret) and works(new_secret)
    old = contoso.scim_tokens.get(hint=old_secret[-4:])
    assert timezone.now() + timedelta(hours=23) < old.expires_at
    assert f"The previous token …{old.hint} keeps working until" in response.content.decode()
    page = alice_client.get(settings_url(contoso)).content.decode()
    assert page.count("<tr data-token-hint=") == 2
    assert "replaced by a newer token" in page
    assert "keep working for 1 day after that" in page.replace("\xa0", " ")


def test_revoke_stops_a_token_at_once(alice_client, alice, contoso):
    secret = secret_in(configure(alice_client, contoso))
    scim = ScimClient(secret)
    assert scim.get("ServiceProviderConfig").status_code == 200
    token = contoso.scim_tokens.get()

    response = alice_client.post(
        f"{settings_url(contoso)}entra/tokens/{token.pk}/revoke/", CONFIRMED
    )

    assert response.status_code == 302
    assert scim.get("ServiceProviderConfig").status_code == 401
    page = alice_client.get(settings_url(contoso)).content.decode()
    assert f"Token …{token.hint} revoked" in page
    assert "Token revoked" in page
    assert events_of(token).filter(action="revoked", actor=alice).exists()


def test_revoking_twice_says_it_was_already_revoked(alice_client, contoso):
    token, _ = scim_tokens.issue_token(contoso)
    url = f"{settings_url(contoso)}entra/tokens/{token.pk}/revoke/"
    alice_client.post(url, CONFIRMED)
    response = alice_client.post(url, CONFIRMED, follow=True)
    assert f"Token …{token.hint} was already revoked.".encode() in response.content
    assert events_of(token).filter(action="revoked").count() == 1


def test_disable_integration_revokes_every_token(alice_client, contoso, fabrikam):
    first = secret_in(configure(alice_client, contoso))
    second = secret_in(configure(alice_client, contoso))
    _, fabrikams = scim_tokens.issue_token(fabrikam)

    response = alice_client.post(f"{settings_url(contoso)}entra/disable/", CONFIRMED, follow=True)

    assert b"2 token(s) revoked" in response.content
    assert not works(first) and not works(second)
    assert works(fabrikams)
    assert b"No active token" in response.content


def test_a_site_with_training_disabled_cannot_be_configured(alice_client, contoso):
    contoso.sat_enabled = False
    contoso.save()
    page = alice_client.get(settings_url(contoso))
    assert b"Configure Microsoft Entra Integration</button>" not in page.content
    response = alice_client.post(f"{settings_url(contoso)}entra/configure/", {"newest": "0"})
    assert response.status_code == 302
    assert not contoso.scim_tokens.exists()


# Who may do what


def test_bob_sees_the_status_but_no_buttons(bob_client, contoso):
    scim_tokens.issue_token(contoso)
    response = bob_client.get(settings_url(contoso))
    assert response.status_code == 200
    assert b"Waiting for first request" in response.content
    assert b"Configure Microsoft Entra Integration</button>" not in response.content
    assert b"Revoke</button>" not in response.content
    assert b"ensure your account has Admin permissions" in response.content


def test_bob_may_not_configure_revoke_or_disable(bob_client, contoso):
    token, secret = scim_tokens.issue_token(contoso)
    base = settings_url(contoso)
    assert bob_client.post(f"{base}entra/configure/", {"newest": token.pk}).status_code == 403
    assert bob_client.post(f"{base}entra/tokens/{token.pk}/revoke/").status_code == 403
    assert bob_client.post(f"{base}entra/disable/").status_code == 403
    assert contoso.scim_tokens.count() == 1
    assert works(secret)


def test_charlie_gets_404_for_every_page_and_action_of_northwind(charlie_client, contoso):
    token, secret = scim_tokens.issue_token(contoso)
    base = settings_url(contoso)
    assert charlie_client.get(base).status_code == 404
    assert charlie_client.post(f"{base}entra/configure/", {"newest": token.pk}).status_code == 404
    assert charlie_client.post(f"{base}entra/tokens/{token.pk}/revoke/").status_code == 404
    assert charlie_client.post(f"{base}entra/disable/").status_code == 404
    assert works(secret)


def test_a_token_of_another_site_cannot_be_revoked_through_this_one(
    alice_client, contoso, fabrikam
):
    token, secret = scim_tokens.issue_token(fabrikam)
    url = f"{settings_url(contoso)}entra/tokens/{token.pk}/revoke/"
    assert alice_client.post(url).status_code == 404
    assert works(secret)


def test_an_unknown_site_or_token_is_404(alice_client, contoso):
    assert alice_client.get(f"/sites/{uuid.uuid4()}/sat/").status_code == 404
    assert alice_client.get("/sites/not-a-uuid/sat/").status_code == 404
    url = f"{settings_url(contoso)}entra/tokens/999999/revoke/"
    assert alice_client.post(url).status_code == 404


def test_issuing_and_revoking_are_post_only(alice_client, contoso):
    token, _ = scim_tokens.issue_token(contoso)
    base = settings_url(contoso)
    for path in ("entra/configure/", f"entra/tokens/{token.pk}/revoke/", "entra/disable/"):
        response = alice_client.get(base + path)
        assert response.status_code == 405
        assert response["Allow"] == "POST"
        assert b"<h1>Not possible this way</h1>" in response.content
        assert b"use the button" in response.content
    assert contoso.scim_tokens.count() == 1


def test_every_action_needs_the_csrf_token(alice, contoso):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    token, secret = scim_tokens.issue_token(contoso)
    base = settings_url(contoso)
    for path in ("entra/configure/", f"entra/tokens/{token.pk}/revoke/", "entra/disable/"):
        response = client.post(base + path, {"newest": token.pk})
        assert response.status_code == 403
        assert b"<h1>Form expired</h1>" in response.content
        assert b"Nothing was changed." in response.content
    assert contoso.scim_tokens.count() == 1
    assert works(secret)


def test_a_login_without_an_msp_gets_403(client, django_user_model, contoso):
    client.force_login(django_user_model.objects.create_user("mallory"))
    assert client.get(settings_url(contoso)).status_code == 403
    assert client.post(f"{settings_url(contoso)}entra/configure/").status_code == 403


def test_refusals_are_console_pages_that_say_why(bob_client, contoso, woodgrove, settings):
    settings.DEBUG = False
    denied = bob_client.post(f"{settings_url(contoso)}entra/disable/")
    assert b"Ensure your account has Admin permissions." in denied.content
    missing = bob_client.get(settings_url(woodgrove))
    assert b"There is no such page, or it belongs to another MSP." in missing.content


def test_revoking_and_disabling_ask_first_and_change_nothing_until_confirmed(alice_client, contoso):
    token, plaintext = scim_tokens.issue_token(contoso)
    page = alice_client.get(settings_url(contoso)).content.decode()
    # With script, a dialog asks (static/console.js reads these attributes).
    assert f'data-confirm="Revoke Secret Token …{token.hint}?' in page
    assert 'data-confirm-action="Disable integration"' in page
    base = settings_url(contoso)
    for path, action in (
        (f"entra/tokens/{token.pk}/revoke/", "Revoke token"),
        ("entra/disable/", "Disable integration"),
    ):
        # Without script, the first press answers with a page that asks.
        asked = alice_client.post(base + path)
        assert asked.status_code == 200
        html = asked.content.decode()
        assert "Are you sure?" in html and f">{action}</button>" in html
        assert '<input type="hidden" name="confirmed" value="yes">' in html
        assert works(plaintext)
    assert not CredentialEvent.objects.filter(action="revoked").exists()
