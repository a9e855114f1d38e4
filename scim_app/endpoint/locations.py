"""Absolute URLs of the SCIM endpoint and its token endpoint: the Tenant URL and Token
Endpoint that Entra is given, and each resource's meta.location."""

import functools

from django.conf import settings
from django.http import HttpRequest
from django.urls import get_script_prefix, reverse


def tenant_url(request: HttpRequest | None = None) -> str:
    """The URL to paste into Entra's Tenant URL field, e.g. https://host/api/v2/scim:
    SCIM_BASE_URL when set, else built from the request (without one, from PUBLIC_URL)."""
    if settings.SCIM_BASE_URL:
        return settings.SCIM_BASE_URL
    if request is None:
        return settings.PUBLIC_URL + scim_root_path()
    # Every resource's meta.location starts with it: build it once per request.
    if not hasattr(request, "_tenant_url"):
        request._tenant_url = request.build_absolute_uri(scim_root_path())
    return request._tenant_url


def scim_root_path() -> str:
    """e.g. /api/v2/scim, under the prefix the app is served at (SCRIPT_NAME)."""
    return root_path_under(get_script_prefix())


@functools.lru_cache(maxsize=16)
def root_path_under(script_prefix: str) -> str:
    # reverse() walks the URL patterns: once per prefix, not for every SCIM response.
    return reverse("scim:root").rstrip("/")


def token_endpoint(request: HttpRequest | None = None) -> str:
    """The URL to paste into Entra's Token Endpoint field, beside the Tenant URL:
    https://host/api/v2/scim -> https://host/api/v2/oauth/token (the `oauth_token` URL),
    so that it follows SCIM_BASE_URL's host and path."""
    return tenant_url(request).rsplit("/", 1)[0] + "/oauth/token"
