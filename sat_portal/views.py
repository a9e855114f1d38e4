"""Error pages that depend on what was asked: SCIM and the REST API always get JSON."""

import sys

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.templatetags.static import static

from scim_app.endpoint import SCIM_PREFIX
from scim_app.endpoint.errors import ScimError, error_response

from .health import OUTAGES, RETRY_AFTER_SECONDS
from .middleware import API_PREFIX


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: an unexpected error, or (503) the database or Redis is unreachable.

    Django calls it for an exception raised anywhere in the request, middleware included,
    so an outage of either is a 503 with Retry-After wherever it is noticed: Entra and
    scripts retry, and a load balancer's /readyz takes the node out meanwhile.
    """
    outage = isinstance(sys.exc_info()[1], OUTAGES)
    status = 503 if outage else 500
    if request.path.startswith(SCIM_PREFIX):
        response = error_response(
            ScimError(503, "The service is briefly unavailable; retry shortly.")
            if outage
            else ScimError(500, "An unexpected error occurred.")
        )
    elif request.path.startswith(API_PREFIX):
        detail = (
            "The service is briefly unavailable; retry shortly."
            if outage
            else "An unexpected error occurred."
        )
        response = JsonResponse({"detail": detail}, status=status)
    else:
        # Rendered without the request: its user and session may need the database.
        response = HttpResponse(render_to_string(f"{status}.html"), status=status)
    if outage:
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico whatever the pages say."""
    return redirect(static("favicon.svg"), permanent=True)
