"""The SCIM endpoint's own way through the middleware stack."""

from collections.abc import Callable

from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, get_resolver

from . import SCIM_PREFIX
from .errors import ScimError, error_response, unexpected_error_response

# The SCIM routes below the Tenant URL, resolved on their own rather than through the
# project's URLconf and its include(), which built two matches for every request.
ROUTES = get_resolver("scim_app.endpoint.urls")


class ScimEndpoint:
    """Serves requests under /api/v2/scim by calling their view itself, so that they skip
    the middleware below it in settings.MIDDLEWARE: sessions, CSRF, sign-in, messages and
    the clickjacking and CSP headers of HTML pages, which a SCIM request (a bearer token in,
    JSON out, views exempt from CSRF) never uses and paid for on every request (issue 16).

    Last of the SCIM middleware: the refusal limit, the provisioning log and the request
    guard (with its process_exception) have run, and see its answers, as before.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(SCIM_PREFIX):
            return self.get_response(request)
        below = request.path_info.removeprefix(SCIM_PREFIX)
        if below and not below.startswith("/"):
            return self.get_response(request)  # e.g. /api/v2/scimfoo: not ours
        try:
            match = ROUTES.resolve(below or "/")
        except Resolver404:
            return self.get_response(request)
        request.resolver_match = match
        try:
            # ALLOWED_HOSTS, as CommonMiddleware checks it for every other page, before the
            # view changes anything: answers carry URLs built from the Host header.
            request.get_host()
        except DisallowedHost:
            return error_response(
                ScimError(400, "This service does not answer for the host in the Host header.")
            )
        try:
            response = match.func(request, *match.args, **match.kwargs)
        except Exception as exc:
            # What ScimRequestGuard.process_exception does when the handler calls a view.
            return unexpected_error_response(exc)
        # CommonMiddleware's part that SCIM clients see: a Content-Length, not chunks.
        if not response.streaming and not response.has_header("Content-Length"):
            response["Content-Length"] = str(len(response.content))
        return response
