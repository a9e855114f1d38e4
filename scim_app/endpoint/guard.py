"""Guarantees for everything under /api/v2/scim, whatever view (or none) answers."""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from . import SCIM_PREFIX
from .errors import SCIM_CONTENT_TYPE, ScimError, error_response, unexpected_error_response


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
