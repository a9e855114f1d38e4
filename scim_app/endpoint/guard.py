"""Guarantees for everything under /api/v2/scim, whatever view (or none) answers."""

import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse

from sat_portal import ratelimit
from sat_portal.addresses import client_address
from sites import remembered
from sites.credentials import scim_bearer

from . import SCIM_PREFIX
from .errors import SCIM_CONTENT_TYPE, ScimError, error_response, unexpected_error_response

logger = logging.getLogger(__name__)

# Answers that cost a caller without a valid credential nothing but count against its
# address: refusals of authentication and of the request's shape.
REFUSALS = (401, 411, 413)


@dataclass(frozen=True)
class SiteRateHit:
    """A request counted against `site`'s SCIM_SITE_RATE_LIMIT: `retry_after` is None
    within the limit, else the seconds until its window ends."""

    site: int
    retry_after: int | None


class ScimRefusalLimit:
    """An address whose SCIM requests keep being refused (no token, a wrong one, bodies
    too big) gets 429 for a while, before any database work and without a log row: a
    flood of anonymous requests cannot fill the log nor crowd out Entra's traffic.

    Outermost of the SCIM middleware. The count (SCIM_REFUSAL_RATE_LIMIT per address)
    lives in the shared cache, so it holds across workers and nodes with REDIS_URL.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(SCIM_PREFIX):
            return self.get_response(request)
        rate = ratelimit.Rate.parse(settings.SCIM_REFUSAL_RATE_LIMIT)
        address = client_address(request)
        refusals = ratelimit.cache_key("scim-refusals", address)
        shared = read_shared_state(request, refusals)
        if shared.get(refusals, 0) >= rate.limit:
            logger.warning("SCIM requests from %s refused too often: 429", address)
            response = error_response(
                ScimError(429, "Too many refused requests from this address; wait and retry.")
            )
            response["Retry-After"] = str(rate.seconds)
            return response
        response = self.get_response(request)
        if response.status_code in REFUSALS:
            ratelimit.add_failure("scim-refusals", address, window=rate.seconds)
        return response


def read_shared_state(request: HttpRequest, refusals: str) -> dict:
    """In one round trip to the shared cache: the address's refusals (the key
    `refusals`), which credentials this worker may recall from memory
    (`request.credentials_generation`, sites.remembered) and, when it remembers the
    credential sent, the request counted against its site's rate (`request.site_rate_hit`,
    which SiteCredentialAuth uses once the credential is checked)."""
    reads = [refusals, remembered.GENERATION_KEY]
    site = scim_bearer.remembered_site(request.META.get("HTTP_AUTHORIZATION", ""))
    if site is None:
        shared = cache.get_many(reads)
    else:
        site_rate = ratelimit.Rate.parse(settings.SCIM_SITE_RATE_LIMIT)
        shared, retry_after = ratelimit.read_and_hit(reads, "scim-site", str(site), site_rate)
        request.site_rate_hit = SiteRateHit(site, retry_after)
    request.credentials_generation = remembered.generation(shared.get(remembered.GENERATION_KEY))
    return shared


class ScimRequestGuard:
    """Refuse oversized bodies with 413 before they are read, and make sure no SCIM
    client ever gets Django's HTML error pages or a redirect: Entra and the SCIM
    Validator abort on anything but application/scim+json."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(SCIM_PREFIX):
            return self.get_response(request)
        if settings.SECURE_SSL_REDIRECT and not request.is_secure():
            # Not redirected (SECURE_REDIRECT_EXEMPT): a redirect would drop the body.
            return error_response(ScimError(403, "Use the https:// Tenant URL."))
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return error_response(ScimError(400, "Content-Length is not a number."))
        if not length and "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower():
            # Django reads no body without a Content-Length: say so instead of "empty body".
            return error_response(ScimError(411, "Send the body with a Content-Length."))
        if length > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
            return error_response(
                ScimError(
                    413, f"The request body is over {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes."
                )
            )
        response = self.get_response(request)
        if response.get("Content-Type", "").startswith(SCIM_CONTENT_TYPE):
            return response
        if response.status_code == 404:
            return error_response(ScimError(404, f"No SCIM resource at {request.path}."))
        if response.status_code >= 500:
            return error_response(ScimError(500, "An unexpected error occurred."))
        if response.status_code >= 300:
            return error_response(ScimError(response.status_code, "The request was refused."))
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not request.path.startswith(SCIM_PREFIX):
            return None
        return unexpected_error_response(exception)
