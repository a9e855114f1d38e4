"""The OAuth 2.0 token endpoint, POST /api/v2/oauth/token: the client credentials grant
(RFC 6749 §4.4) with which Entra's provisioning service gets an access token for a site's
SCIM endpoint. One URL serves every site: the client id selects it.

A token request is checked in this order:
- POST over HTTPS (when SECURE_SSL_REDIRECT is on), form-encoded (§4.4.2), every
  parameter at most once (§3.2), none in the URL (it would carry the secret into logs);
- at most OAUTH_TOKEN_ADDRESS_RATE_LIMIT requests per client address, and
  OAUTH_TOKEN_RATE_LIMIT per client id from one address, so that no secret is guessed
  online and nobody elsewhere can use up Entra's allowance;
- exactly one client authentication (§2.3): HTTP Basic, with the id and secret each
  form-urlencoded (§2.3.1; how Entra sends them), `client_id` and `client_secret` in
  the body, or `client_id` with a `client_assertion` signed by the site's Entra tenant
  (RFC 7523 §2.2, workload identity federation: sites.credentials.federation). Each way
  is one ClientAuthMethod in CLIENT_AUTH_METHODS;
- `grant_type=client_credentials`; `scope` absent or `scim`, the one scope there is (a
  token reaches its site's SCIM endpoint and nothing else), which the answer names;
  `resource` (RFC 8707) is accepted and ignored, for the same reason.

Every answer carries Cache-Control: no-store and Pragma: no-cache (§5.1); errors are §5.2
JSON, whose error_description holds ASCII only, as §5.2 requires. The provisioning log
records each request (scim_app.provisioning_log), never its body nor our answer: they
hold the client secret and the access token.
"""

import base64
import logging
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import unquote_plus

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_post_parameters

from sat_portal import ratelimit
from sat_portal.addresses import client_address
from sat_portal.health import OUTAGES, RETRY_AFTER_SECONDS, unavailable
from sites.credentials import federation, oauth
from sites.credentials.scim_bearer import BearerCheck
from sites.models import CredentialKind

from .views import rollback

logger = logging.getLogger(__name__)

FORM = "application/x-www-form-urlencoded"
GRANT_TYPE = "client_credentials"
REALM = "SAT Portal token endpoint"
# The parameters this endpoint reads; others are ignored (§3.2), and never repeated back.
PARAMETERS = (
    "grant_type",
    "scope",
    "resource",
    "client_id",
    "client_secret",
    "client_assertion",
    "client_assertion_type",
)


class OAuthError(Exception):
    """An error answer (RFC 6749 §5.2)."""

    def __init__(
        self,
        error: str,
        description: str,
        status: int = 400,
        *,
        retry_after: int | None = None,
    ):
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status
        self.retry_after = retry_after


def invalid_request(description: str) -> OAuthError:
    return OAuthError("invalid_request", description)


def token_response(body: dict, status: int = 200) -> JsonResponse:
    response = JsonResponse(body, status=status)
    # §5.1: the answer holds a token (or says why not): nobody may keep a copy.
    response["Cache-Control"] = "no-store"
    response["Pragma"] = "no-cache"
    return response


def error_response(error: OAuthError) -> JsonResponse:
    response = token_response(
        {"error": error.error, "error_description": error.description}, error.status
    )
    if error.status == 401:
        # Every 401 names the scheme to use (RFC 7235 §3.1; §5.2 for HTTP Basic).
        response["WWW-Authenticate"] = f'Basic realm="{REALM}", charset="UTF-8"'
    if error.retry_after is not None:
        response["Retry-After"] = str(error.retry_after)
    if error.status == 405:
        response["Allow"] = "POST"
    return response


@dataclass(frozen=True)
class ClientAuthMethod:
    """One way a client may prove who it is at this endpoint.

    `presented` finds the client id and credential in a request that uses this way, or
    returns None; `verify` checks them (never raising for a wrong credential: it answers
    with a refusal). `name` is RFC 7591's token_endpoint_auth_method.
    """

    name: str
    kind: str
    presented: Callable[[HttpRequest, dict[str, str]], tuple[str, str] | None]
    verify: Callable[[str, str], oauth.ClientAuthentication]


def basic_credentials(request: HttpRequest, form: dict[str, str]) -> tuple[str, str] | None:
    """RFC 6749 §2.3.1: Authorization: Basic base64(urlencode(id) ":" urlencode(secret))."""
    scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
    if not scheme:
        return None
    if scheme.lower() != "basic":
        raise OAuthError(
            "invalid_client",
            "Authenticate the client with HTTP Basic, or with client_id and client_secret "
            "in the body.",
            401,
        )
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except ValueError:  # not base64 (binascii.Error), not ASCII, or not UTF-8 once decoded
        decoded = ""
    client_id, colon, secret = decoded.partition(":")
    if not colon:
        raise OAuthError(
            "invalid_client",
            "The Basic credentials must be base64 of client_id:client_secret.",
            401,
        )
    # Each was form-urlencoded before they were joined: "%3A" is a colon inside one.
    return unquote_plus(client_id), unquote_plus(secret)


def body_credentials(request: HttpRequest, form: dict[str, str]) -> tuple[str, str] | None:
    """RFC 6749 §2.3.1: client_id and client_secret as form parameters."""
    if "client_secret" not in form:
        return None
    return form.get("client_id", ""), form["client_secret"]


def assertion_credentials(request: HttpRequest, form: dict[str, str]) -> tuple[str, str] | None:
    """RFC 7523 §2.2: client_assertion_type=…jwt-bearer and a client_assertion, with the
    client_id (optional in the RFC; here it selects the site, as it does for a secret)."""
    if "client_assertion" not in form and "client_assertion_type" not in form:
        return None
    if form.get("client_assertion_type") != federation.ASSERTION_TYPE:
        raise invalid_request(f"client_assertion_type must be {federation.ASSERTION_TYPE}.")
    if not form.get("client_assertion"):
        raise invalid_request("client_assertion is missing: send the JWT Entra signed.")
    if not form.get("client_id"):
        raise invalid_request(
            "client_id is missing: send the Client ID shown on the site's Entra page."
        )
    return form["client_id"], form["client_assertion"]


def assertion_authentication(client_id: str, assertion: str) -> oauth.ClientAuthentication:
    site, hint, outcome = federation.authenticate(client_id, assertion)
    if isinstance(outcome, federation.Refusal):
        return oauth.ClientAuthentication(
            site, hint, outcome.description, reason=outcome.reason, retry=outcome.retry
        )
    return oauth.ClientAuthentication(site, hint, trust=outcome.trust, not_after=outcome.expires_at)


CLIENT_AUTH_METHODS = [
    ClientAuthMethod(
        "client_secret_basic",
        CredentialKind.CLIENT_SECRET,
        basic_credentials,
        oauth.authenticate,
    ),
    ClientAuthMethod(
        "client_secret_post", CredentialKind.CLIENT_SECRET, body_credentials, oauth.authenticate
    ),
    ClientAuthMethod(
        "private_key_jwt",
        CredentialKind.FEDERATION_TRUST,
        assertion_credentials,
        assertion_authentication,
    ),
]


def form_of(request: HttpRequest) -> dict[str, str]:
    """The request's parameters: form-encoded, each at most once, none in the URL."""
    if request.GET:
        raise invalid_request(
            "Send the parameters in the request body, form-encoded, not in the URL."
        )
    # A request without a body is an empty form: say which parameter it lacks.
    has_body = request.META.get("CONTENT_LENGTH") not in (None, "", "0")
    if has_body and request.content_type != FORM:
        not_json = ", not JSON" if "json" in request.content_type else ""
        raise invalid_request(
            "The token request must be form-encoded (Content-Type: "
            f"application/x-www-form-urlencoded){not_json}: "
            "grant_type=client_credentials&client_id=...&client_secret=... "
            "(RFC 6749 section 4.4.2)."
        )
    try:
        form = request.POST
    except RequestDataTooBig:
        raise OAuthError("invalid_request", "The request body is too large.", 413) from None
    except TooManyFieldsSent:
        raise invalid_request("The request has too many parameters.") from None
    repeated = [name for name in PARAMETERS if len(form.getlist(name)) > 1]
    if repeated:
        raise invalid_request(
            f"Send each parameter once; repeated: {', '.join(repeated)} (RFC 6749 section 3.2)."
        )
    return form.dict()


def presented_client(
    request: HttpRequest, form: dict[str, str]
) -> tuple[ClientAuthMethod, str, str]:
    """The one way the client authenticated, with its client id and credential."""
    found = [
        (method, credentials)
        for method in CLIENT_AUTH_METHODS
        if (credentials := method.presented(request, form)) is not None
    ]
    if len(found) > 1:
        raise invalid_request(
            "Authenticate the client one way only: HTTP Basic, client_id and client_secret "
            "in the body, or a client_assertion (RFC 6749 section 2.3)."
        )
    if not found:
        raise OAuthError(
            "invalid_client",
            "Send the client id and secret, with HTTP Basic or as client_id and "
            "client_secret in the body.",
            401,
        )
    method, (client_id, credential) = found[0]
    if form.get("client_id", client_id) != client_id:
        raise invalid_request("The client_id in the body is not the client that authenticated.")
    return method, client_id, credential


def rate_limit(kind: str, ident: str, rate: str) -> None:
    retry_after = ratelimit.hit(kind, ident, ratelimit.Rate.parse(rate))
    if retry_after is not None:
        raise OAuthError(
            "temporarily_unavailable",
            f"Too many token requests; retry in {retry_after} seconds.",
            429,
            retry_after=retry_after,
        )


def issue_token(request: HttpRequest) -> JsonResponse:
    if settings.SECURE_SSL_REDIRECT and not request.is_secure():
        # Not redirected: a redirect would drop the body, and the secret went in clear.
        raise invalid_request("Use the https:// token endpoint.")
    if request.method != "POST":
        raise OAuthError("invalid_request", "The token endpoint takes POST only.", 405)
    # Before anything is looked up: a guesser costs us a cache increment.
    address = client_address(request)
    rate_limit("oauth-address", address, settings.OAUTH_TOKEN_ADDRESS_RATE_LIMIT)
    form = form_of(request)
    method, client_id, credential = presented_client(request, form)
    # Per client id *and* address: the client id is public, so a limit on it alone would let
    # anyone lock a site's Entra out by sending wrong secrets with it.
    rate_limit("oauth-client", f"{client_id} {address}", settings.OAUTH_TOKEN_RATE_LIMIT)

    authentication = method.verify(client_id, credential)
    # For the provisioning log and the metrics: the site, also when refused.
    request.credential_check = BearerCheck(
        authentication.site, method.kind, authentication.hint, authentication.refusal
    )
    # The provisioning log's reason code for a refused assertion (never the assertion).
    request.token_refusal_reason = authentication.reason
    if authentication.retry:
        raise OAuthError(
            "temporarily_unavailable", authentication.refusal, 503, retry_after=RETRY_AFTER_SECONDS
        )
    if authentication.refusal is not None:
        raise OAuthError("invalid_client", authentication.refusal, 401)

    grant_type = form.get("grant_type")
    if not grant_type:
        raise invalid_request("grant_type is missing: send grant_type=client_credentials.")
    if grant_type != GRANT_TYPE:
        raise OAuthError(
            "unsupported_grant_type", "The only grant type here is client_credentials."
        )
    if any(scope != oauth.SCOPE for scope in form.get("scope", "").split()):
        raise OAuthError(
            "invalid_scope",
            f"The only scope is '{oauth.SCOPE}' (the site's SCIM endpoint): send it, or no scope.",
        )

    issued = oauth.mint_access_token(authentication)
    return token_response(
        {
            "access_token": issued.plaintext,
            "token_type": "Bearer",
            "expires_in": issued.expires_in,
            "scope": oauth.SCOPE,
        }
    )


@csrf_exempt
@sensitive_post_parameters("client_secret", "client_assertion")
def token(request: HttpRequest) -> JsonResponse:
    """POST /api/v2/oauth/token (RFC 6749 §4.4)."""
    try:
        return issue_token(request)
    except OAuthError as error:
        rollback(request)  # a refused request changes nothing; its log row is written apart
        return error_response(error)
    except OUTAGES as exc:
        rollback(request)
        service = unavailable(exc)
        logger.error("%s unavailable during a token request: %s", service, exc)
        response = error_response(
            OAuthError(
                "temporarily_unavailable",
                "The service is briefly unavailable; retry shortly.",
                503,
                retry_after=RETRY_AFTER_SECONDS,
            )
        )
        # Read by the provisioning log, which does not wait on the database a second time
        # (with Redis away, the database takes the request's row as usual).
        response.database_unavailable = service == "Database"
        return response
