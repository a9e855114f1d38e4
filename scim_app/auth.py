"""Bearer token -> site, before any SCIM view runs.

Security invariant: every SCIM request either carries an active token of a site
with SAT enabled, and then `request.scim_site` is that site and every read and
write is scoped to it, or it is answered 401 here and no view runs.
"""

from django.http import HttpRequest, HttpResponse
from django_scim.middleware import SCIMAuthCheckMiddleware

from sites import tokens

from .errors import ScimError, error_response, unexpected_error_response


def bearer_credentials(request: HttpRequest) -> str | None:
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        return None
    return credentials.strip()


class SiteTokenAuth(SCIMAuthCheckMiddleware):
    """django-scim2's AUTH_CHECK_MIDDLEWARE hook, wrapped around every SCIM view."""

    def process_request(self, request: HttpRequest) -> HttpResponse | None:
        request.scim_site = request.scim_token = request.scim_refused_token = None
        request.scim_log_site = None
        try:
            credentials = bearer_credentials(request)
            if credentials is None:
                raise ScimError(401, "Send the site's Secret Token as 'Authorization: Bearer …'.")
            token = tokens.find_token(credentials)
            request.scim_log_site = token.site if token is not None else None
            # Known but refused tokens are kept for the provisioning log only: support
            # can then see a site's requests failing after a revoke or SAT was disabled.
            request.scim_refused_token = token
            if token is None or not tokens.is_active(token):
                raise ScimError(
                    401,
                    "The Secret Token is not valid: it is unknown, revoked or expired. "
                    "Copy a current token from the site's SAT settings.",
                )
            if not token.site.sat_enabled:
                raise ScimError(401, "Security awareness training is disabled for this site.")
            tokens.record_use(token)
        except ScimError as exc:
            return error_response(exc)
        except Exception as exc:
            # Raised here, an exception would escape django-scim2's error handling as HTML.
            return unexpected_error_response(exc)
        request.scim_refused_token = None
        request.scim_token = token
        request.scim_site = token.site
        return None

    # The library logs whole bodies at DEBUG: personal data and, in headers' place, nothing
    # we want in logs. The provisioning log records requests, redacted.
    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        return response
