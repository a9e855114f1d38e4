"""Bearer credential -> site, before any SCIM view runs.

Security invariant: every SCIM request either carries a usable credential of a site
with SAT enabled, and then `request.scim_site` is that site and every read and write is
scoped to it, or it is answered 401 here and no view runs.
"""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django_scim.middleware import SCIMAuthCheckMiddleware

from sat_portal import ratelimit
from sites.credentials import scim_bearer

from .errors import ScimError, error_response, unexpected_error_response


class SiteCredentialAuth(SCIMAuthCheckMiddleware):
    """django-scim2's AUTH_CHECK_MIDDLEWARE hook, wrapped around every SCIM view."""

    def process_request(self, request: HttpRequest) -> HttpResponse | None:
        request.scim_site = None
        try:
            # Kept for the provisioning log and the metrics, also when refused.
            request.credential_check = bearer = scim_bearer.check(
                request.META.get("HTTP_AUTHORIZATION", ""),
                generation=getattr(request, "credentials_generation", None),
            )
        except Exception as exc:
            # Raised here, an exception would escape django-scim2's error handling as HTML.
            return unexpected_error_response(exc)
        if not bearer.accepted:
            return error_response(ScimError(401, bearer.refusal))
        # Far above what Entra sends (it must sustain 25 a second per tenant), so only a
        # runaway client of one site meets it, and the other sites do not notice.
        rate = ratelimit.Rate.parse(settings.SCIM_SITE_RATE_LIMIT)
        counted = getattr(request, "site_rate_hit", None)  # by ScimRefusalLimit
        if counted is not None and counted.site == bearer.site.pk:
            retry_after = counted.retry_after
        else:
            retry_after = ratelimit.hit("scim-site", str(bearer.site.pk), rate)
        if retry_after is not None:
            response = error_response(
                ScimError(
                    429, f"More than {rate.limit} requests in {rate.seconds} s for this site."
                )
            )
            response["Retry-After"] = str(retry_after)
            return response
        request.scim_site = bearer.site
        return None

    # The library logs whole bodies at DEBUG: personal data and, in headers' place, nothing
    # we want in logs. The provisioning log records requests, redacted.
    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        return response
