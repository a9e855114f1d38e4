"""The OAuth 2.0 token endpoint (RFC 6749 §4.4 and §5), as Entra's provisioning service
calls it: POST /api/v2/oauth/token with Contoso's client id and secret, by HTTP Basic.

Contoso's Entra holds Contoso's client id and secret (`contoso_client`); Fabrikam's holds
Fabrikam's. Strangers guess.
"""

import base64
import json
import re
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.db import OperationalError
from django.test import Client
from django.utils import timezone

from scim_app.endpoint import oauth as endpoint
from scim_app.models import ProvisioningLogEntry
from sites import services
from sites.credentials import base, entra, oauth
from sites.models import AccessToken, ClientSecret, OAuthClient
from tests.conftest import ScimClient
from tests.support.oauth import (
    FORM,
    TOKEN_URL,
    ClientCredentials,
    basic,
    issue_client_secret,
    request_token,
)
from tests.support.storage import columns_containing

# RFC 6749 §5.2: error_description is printable ASCII without '"' and '\'.
DESCRIPTION = re.compile(r"[\x20\x21\x23-\x5B\x5D-\x7E]+")


@pytest.fixture(autouse=True)
def counters(fresh_counters):
    """Every test starts with no token request counted against its address."""


def post(body: str | bytes, *, content_type: str = FORM, headers=None, **extra):
    return Client().post(TOKEN_URL, body, content_type=content_type, headers=headers, **extra)


def assert_error(response, status: int, error: str) -> str:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "no-store"
    assert response["Pragma"] == "no-cache"
    body = response.json()
    assert set(body) == {"error", "error_description"}
    assert body["error"] == error
    assert DESCRIPTION.fullmatch(body["error_description"]), body["error_description"]
    return body["error_description"]


def assert_invalid_client(response) -> str:
    """401 names the scheme to use again, whichever way the client authenticated (RFC 7235
    §3.1; RFC 6749 §5.2 for HTTP Basic)."""
    description = assert_error(response, 401, "invalid_client")
    assert response["WWW-Authenticate"].startswith('Basic realm="')
    return description


def scim_works(access_token: str) -> bool:
    return ScimClient(access_token).get("Users").status_code == 200


# A token, as Entra fetches it


def test_basic_credentials_get_a_bearer_token_for_the_scim_endpoint(contoso, contoso_client):
    response = request_token(contoso_client)

    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "no-store"
    assert response["Pragma"] == "no-cache"
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "scope"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert body["scope"] == "scim"
    assert re.fullmatch(r"satat_[A-Za-z0-9_-]{43}", body["access_token"])
    assert scim_works(body["access_token"])
    token = AccessToken.objects.get()
    assert token.site == contoso and token.secret.client.client_id == contoso_client.client_id


def test_basic_credentials_are_form_urlencoded_before_they_are_joined(contoso_client):
    def every_character_encoded(text: str) -> str:
        return "".join(f"%{byte:02X}" for byte in text.encode())

    header = basic(
        contoso_client.client_id, contoso_client.client_secret, encode=every_character_encoded
    )
    response = post("grant_type=client_credentials", headers={"Authorization": header})
    assert response.status_code == 200, response.content
    assert scim_works(response.json()["access_token"])


@pytest.mark.parametrize(
    ("client_id", "secret"),
    [("Contoso Entra:1", "pa:ss+word/€"), ("satcli_%ZZ", "%"), ("", "")],
)
def test_special_characters_in_basic_credentials_are_decoded_not_split_or_crashed_on(
    contoso_client, client_id, secret
):
    """An id with a colon, a plus or a space, and a secret with any of them, each
    url-encoded (and "%ZZ", which is no escape at all): an unknown client, not a 400."""
    response = post(
        "grant_type=client_credentials", headers={"Authorization": basic(client_id, secret)}
    )
    assert_invalid_client(response)


def test_basic_credentials_are_url_decoded_after_base64(rf):
    """RFC 6749 §2.3.1: a colon, a plus and a space inside the id or the secret survive."""
    header = basic("id:with+plus and space", "se:cr%et/€ pass")
    request = rf.post(TOKEN_URL, headers={"Authorization": header})
    assert endpoint.basic_credentials(request, {}) == ("id:with+plus and space", "se:cr%et/€ pass")


def test_credentials_in_the_body_work_too(contoso_client):
    body = urlencode(
        {
            "grant_type": "client_credentials",
            "client_id": contoso_client.client_id,
            "client_secret": contoso_client.client_secret,
        }
    )
    response = post(body)
    assert response.status_code == 200, response.content
    assert scim_works(response.json()["access_token"])


def test_a_client_id_in_the_body_beside_basic_must_be_the_same_client(
    contoso_client, fabrikam_client
):
    same = request_token(contoso_client, client_id=contoso_client.client_id)
    assert same.status_code == 200
    other = request_token(contoso_client, client_id=fabrikam_client.client_id)
    assert "not the client that authenticated" in assert_error(other, 400, "invalid_request")


def test_basic_and_body_credentials_at_once_are_refused(contoso_client):
    response = request_token(
        contoso_client,
        client_id=contoso_client.client_id,
        client_secret=contoso_client.client_secret,
    )
    assert "one way only" in assert_error(response, 400, "invalid_request")
    assert not AccessToken.objects.exists()


def test_several_secrets_of_one_client_all_work(contoso, contoso_client):
    second = issue_client_secret(contoso)
    assert second.client_id == contoso_client.client_id
    assert request_token(contoso_client).status_code == 200
    assert request_token(second).status_code == 200


def test_access_tokens_last_the_configured_lifetime(contoso_client, settings):
    settings.OAUTH_ACCESS_TOKEN_LIFETIME = 21600
    before = timezone.now()
    body = request_token(contoso_client).json()
    assert body["expires_in"] == 21600
    token = AccessToken.objects.get()
    assert before + timedelta(hours=6) <= token.expires_at <= timezone.now() + timedelta(hours=6)


def test_an_access_token_never_outlives_its_secret(contoso, contoso_client):
    ClientSecret.objects.update(expires_at=timezone.now() + timedelta(minutes=10))
    body = request_token(contoso_client).json()
    assert 590 <= body["expires_in"] <= 600
    assert AccessToken.objects.get().expires_at == ClientSecret.objects.get().expires_at


def test_fetching_a_token_marks_the_secret_used(contoso_client, django_capture_on_commit_callbacks):
    assert ClientSecret.objects.get().last_used_at is None
    # Written once the request's transaction commits, not before.
    with django_capture_on_commit_callbacks(execute=True):
        request_token(contoso_client)
    assert ClientSecret.objects.get().last_used_at is not None


def test_expired_access_tokens_are_deleted_as_new_ones_are_minted(contoso, contoso_client):
    request_token(contoso_client)
    AccessToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    issue_client_secret(contoso)  # the other site's and other secrets' stay out of it
    request_token(contoso_client)
    assert AccessToken.objects.filter(expires_at__lte=timezone.now()).count() == 0
    assert AccessToken.objects.count() == 1


# Refused clients


def test_a_wrong_secret_is_invalid_client(contoso_client):
    wrong = ClientCredentials(contoso_client.client_id, "satsec_" + "A" * 43)
    assert "Unknown client" in assert_invalid_client(request_token(wrong))
    assert not AccessToken.objects.exists()


def test_a_near_miss_secret_is_refused(contoso_client):
    """The right prefix and the same last four characters, one other character changed."""
    secret = contoso_client.client_secret
    position = 10
    changed = "B" if secret[position] != "B" else "C"
    near_miss = secret[:position] + changed + secret[position + 1 :]
    assert near_miss[:7] == "satsec_" and near_miss[-4:] == secret[-4:] and near_miss != secret
    response = request_token(ClientCredentials(contoso_client.client_id, near_miss))
    assert_invalid_client(response)


def test_an_unknown_client_is_invalid_client(contoso_client):
    stranger = ClientCredentials("satcli_" + "x" * 22, contoso_client.client_secret)
    assert_invalid_client(request_token(stranger))


def test_another_sites_secret_does_not_open_this_client(contoso_client, fabrikam_client):
    crossed = ClientCredentials(contoso_client.client_id, fabrikam_client.client_secret)
    assert_invalid_client(request_token(crossed))


def test_wrong_body_credentials_are_invalid_client(contoso_client):
    body = urlencode(
        {
            "grant_type": "client_credentials",
            "client_id": contoso_client.client_id,
            "client_secret": "satsec_" + "A" * 43,
        }
    )
    assert_invalid_client(post(body))


def test_no_client_authentication_is_invalid_client(contoso_client):
    response = post("grant_type=client_credentials")
    assert "client id and secret" in assert_invalid_client(response)


@pytest.mark.parametrize(
    "header",
    [
        "Bearer satsec_abc",
        "Basic not-base64!",
        "Basic " + base64.b64encode(b"no-colon").decode(),
        "Basic ééé",
    ],
)
def test_another_scheme_or_malformed_basic_is_invalid_client_with_a_challenge(
    contoso_client, header
):
    assert_invalid_client(post("grant_type=client_credentials", headers={"Authorization": header}))


def test_an_expired_secret_is_invalid_client_and_says_so(contoso_client):
    ClientSecret.objects.update(expires_at=timezone.now() - timedelta(days=1))
    assert "expired on" in assert_invalid_client(request_token(contoso_client))


def test_a_revoked_secret_is_invalid_client(contoso_client):
    oauth.revoke_secret(ClientSecret.objects.get(), via="command")
    assert "revoked" in assert_invalid_client(request_token(contoso_client))


def test_a_revoked_client_is_invalid_client(contoso_client):
    oauth.revoke_client(OAuthClient.objects.get(), via="command")
    assert "revoked" in assert_invalid_client(request_token(contoso_client))


def test_a_disabled_integration_is_invalid_client(contoso, contoso_client):
    entra.disable(contoso, via="command")
    assert_invalid_client(request_token(contoso_client))


def test_training_turned_off_is_invalid_client(contoso, contoso_client):
    services.set_sat_enabled(contoso, False)
    assert "disabled" in assert_invalid_client(request_token(contoso_client))
    assert not AccessToken.objects.exists()


# Malformed requests


def test_a_wrong_grant_type_is_unsupported(contoso_client):
    response = request_token(contoso_client, grant_type="password")
    assert_error(response, 400, "unsupported_grant_type")


@pytest.mark.parametrize("body", ["scope=scim", ""])
def test_a_missing_grant_type_is_an_invalid_request(contoso_client, body):
    authorization = basic(contoso_client.client_id, contoso_client.client_secret)
    response = post(body, headers={"Authorization": authorization})
    assert "grant_type is missing" in assert_error(response, 400, "invalid_request")


def test_get_is_refused_with_json_not_a_page(contoso_client):
    response = Client().get(TOKEN_URL)
    assert_error(response, 405, "invalid_request")
    assert response["Allow"] == "POST"


def test_a_json_body_is_refused_with_a_clear_error(contoso_client):
    body = json.dumps(
        {
            "grant_type": "client_credentials",
            "client_id": contoso_client.client_id,
            "client_secret": contoso_client.client_secret,
        }
    )
    description = assert_error(post(body, content_type="application/json"), 400, "invalid_request")
    assert "form-encoded" in description and "not JSON" in description
    assert not AccessToken.objects.exists()


def test_a_multipart_body_is_refused_too(contoso_client):
    response = Client().post(
        TOKEN_URL,
        {"grant_type": "client_credentials"},
        headers={"Authorization": basic(contoso_client.client_id, contoso_client.client_secret)},
    )
    assert "must be form-encoded" in assert_error(response, 400, "invalid_request")


def test_parameters_in_the_url_are_refused(contoso_client):
    query = urlencode({"client_secret": contoso_client.client_secret})
    response = Client().post(
        f"{TOKEN_URL}?{query}", "grant_type=client_credentials", content_type=FORM
    )
    assert "not in the URL" in assert_error(response, 400, "invalid_request")
    assert columns_containing(contoso_client.client_secret) == []


def test_a_repeated_parameter_is_refused(contoso_client):
    response = post(
        "grant_type=client_credentials&grant_type=client_credentials",
        headers={"Authorization": basic(contoso_client.client_id, contoso_client.client_secret)},
    )
    assert "repeated: grant_type" in assert_error(response, 400, "invalid_request")


def test_a_body_over_the_size_limit_is_refused_unread(contoso_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = "grant_type=client_credentials&padding=" + "x" * 1000
    authorization = basic(contoso_client.client_id, contoso_client.client_secret)
    response = post(body, headers={"Authorization": authorization})
    assert "too large" in assert_error(response, 413, "invalid_request")


def test_a_database_outage_is_a_503_to_retry_and_is_not_logged(contoso_client, monkeypatch):
    def unreachable(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(base, "find", unreachable)
    response = request_token(contoso_client)
    assert "briefly unavailable" in assert_error(response, 503, "temporarily_unavailable")
    assert response["Retry-After"] == "30"
    assert not ProvisioningLogEntry.objects.exists()


def test_a_redis_outage_is_a_503_to_retry_and_is_logged(contoso_client, unreachable_redis):
    response = request_token(contoso_client)
    assert "briefly unavailable" in assert_error(response, 503, "temporarily_unavailable")
    assert response["Retry-After"] == "30"
    assert not AccessToken.objects.exists()
    # The database is there: the request has its row, as every token request does.
    entry = ProvisioningLogEntry.objects.get()
    assert (entry.method, entry.path, entry.status) == ("POST", TOKEN_URL, 503)


def test_a_trailing_slash_is_the_same_endpoint(contoso_client):
    response = Client().post(
        TOKEN_URL + "/",
        "grant_type=client_credentials",
        content_type=FORM,
        headers={"Authorization": basic(contoso_client.client_id, contoso_client.client_secret)},
    )
    assert response.status_code == 200


def test_over_http_with_ssl_redirect_the_request_is_refused_not_redirected(
    contoso_client, settings
):
    settings.SECURE_SSL_REDIRECT = True
    assert "https" in assert_error(request_token(contoso_client), 400, "invalid_request")
    authorization = basic(contoso_client.client_id, contoso_client.client_secret)
    response = post(
        "grant_type=client_credentials", headers={"Authorization": authorization}, secure=True
    )
    assert response.status_code == 200


# scope and resource


@pytest.mark.parametrize("scope", ["scim", "", " scim  "])
def test_the_scim_scope_or_none_is_granted(contoso_client, scope):
    response = request_token(contoso_client, scope=scope)
    assert response.status_code == 200, response.content
    assert response.json()["scope"] == "scim"


@pytest.mark.parametrize("scope", ["openid", "scim admin", "https://graph.microsoft.com/.default"])
def test_any_other_scope_is_invalid_scope(contoso_client, scope):
    response = request_token(contoso_client, scope=scope)
    assert "'scim'" in assert_error(response, 400, "invalid_scope")
    assert not AccessToken.objects.exists()


def test_a_resource_is_accepted_and_ignored(contoso_client):
    response = request_token(contoso_client, resource="https://sat.example.com/api/v2/scim")
    assert response.status_code == 200
    assert scim_works(response.json()["access_token"])


# Rate limits


def test_each_client_id_has_a_rate_limit(contoso_client, fabrikam_client, settings):
    settings.OAUTH_TOKEN_RATE_LIMIT = "2/min"
    assert [request_token(contoso_client).status_code for _ in range(2)] == [200, 200]
    limited = request_token(contoso_client)
    assert "Too many token requests" in assert_error(limited, 429, "temporarily_unavailable")
    assert 0 < int(limited["Retry-After"]) <= 60
    assert request_token(fabrikam_client).status_code == 200


def test_guesses_at_a_client_id_count_whatever_the_secret(contoso_client, settings):
    settings.OAUTH_TOKEN_RATE_LIMIT = "3/min"
    guesser = ClientCredentials(contoso_client.client_id, "satsec_" + "G" * 43)
    assert [request_token(guesser).status_code for _ in range(3)] == [401, 401, 401]
    assert request_token(guesser).status_code == 429
    # The real secret from the same address waits for the window too.
    assert request_token(contoso_client).status_code == 429


def test_nobody_elsewhere_can_use_up_entras_allowance(contoso_client, settings):
    """The client id is public: wrong secrets sent with it from one address must not lock
    the site's Entra, calling from another, out of its tokens."""
    settings.OAUTH_TOKEN_RATE_LIMIT = "3/min"
    attacker = Client(REMOTE_ADDR="203.0.113.9")
    guesser = ClientCredentials(contoso_client.client_id, "satsec_" + "G" * 43)
    assert [request_token(guesser, client=attacker).status_code for _ in range(4)] == [
        401,
        401,
        401,
        429,
    ]
    entra = Client(REMOTE_ADDR="198.51.100.1")
    assert request_token(contoso_client, client=entra).status_code == 200


def test_each_client_address_has_a_rate_limit(contoso_client, fabrikam_client, settings):
    settings.OAUTH_TOKEN_ADDRESS_RATE_LIMIT = "3/min"
    here = {"REMOTE_ADDR": "203.0.113.7"}
    elsewhere = {"REMOTE_ADDR": "198.51.100.9"}
    for credentials in (contoso_client, fabrikam_client, contoso_client):
        assert request_token(credentials, client=Client(**here)).status_code == 200
    limited = request_token(fabrikam_client, client=Client(**here))
    assert_error(limited, 429, "temporarily_unavailable")
    assert int(limited["Retry-After"]) > 0
    assert request_token(fabrikam_client, client=Client(**elsewhere)).status_code == 200


# The provisioning log


def test_token_requests_are_logged_with_site_and_hint_but_no_body(contoso, contoso_client):
    request_token(contoso_client)
    secret = ClientSecret.objects.get()

    entry = ProvisioningLogEntry.objects.get()
    assert entry.site == contoso
    assert (entry.method, entry.path, entry.status) == ("POST", TOKEN_URL, 200)
    assert entry.credential_kind == "client_secret"
    client_id = contoso_client.client_id
    assert entry.credential_hint == f"satcli_…{client_id[-4:]} / …{secret.hint}"
    assert entry.summary == "issued an access token"
    assert entry.request_body == entry.response_body == entry.scim_type == ""


def test_refused_token_requests_are_logged_with_their_error(contoso, contoso_client):
    oauth.revoke_secret(ClientSecret.objects.get(), via="command")
    request_token(contoso_client)
    request_token(contoso_client, grant_type="password")
    request_token(ClientCredentials("satcli_" + "u" * 22, contoso_client.client_secret))
    post("{}", content_type="application/json")

    rows = list(
        ProvisioningLogEntry.objects.order_by("created", "id").values(
            "site", "status", "scim_type", "credential_hint", "summary", "error_detail"
        )
    )
    assert [(r["site"], r["status"], r["scim_type"]) for r in rows] == [
        (contoso.pk, 401, "invalid_client"),
        (contoso.pk, 401, "invalid_client"),
        (None, 401, "invalid_client"),
        (None, 400, "invalid_request"),
    ]
    assert rows[0]["summary"] == "POST token request → 401 invalid_client"
    assert "revoked" in rows[0]["error_detail"]
    assert rows[2]["credential_hint"] == "satcli_…"
    # The site's status shows Entra failing to get a token.
    assert contoso.provisioning_log.filter(status=401).count() == 2


def test_no_secret_or_access_token_is_stored_anywhere(contoso, contoso_client, caplog):
    with caplog.at_level("DEBUG"):
        access_token = request_token(contoso_client).json()["access_token"]
        body = urlencode(
            {
                "grant_type": "client_credentials",
                "client_id": contoso_client.client_id,
                "client_secret": contoso_client.client_secret,
            }
        )
        post(body)  # body credentials
        post(body + "&scope=nope")  # refused, after authenticating
        ScimClient(access_token).get("Users")
        ScimClient(contoso_client.client_secret).get("Users")  # a secret sent as a bearer
    assert ProvisioningLogEntry.objects.count() == 5
    for plaintext in (contoso_client.client_secret, access_token):
        assert columns_containing(plaintext) == []
        assert columns_containing(plaintext[7:20]) == []
        assert plaintext not in caplog.text
    # The search does look everywhere: the last characters are kept, as the hints.
    assert "sites.ClientSecret.hint" in columns_containing(contoso_client.client_secret[-4:])
    assert "sites.AccessToken.hint" in columns_containing(access_token[-4:])
