"""Absolute URLs of the SCIM endpoint: the Tenant URL and each resource's meta.location."""

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse


def tenant_url(request: HttpRequest) -> str:
    """The URL to paste into Entra's Tenant URL field, e.g. https://host/api/v2/scim."""
    if settings.SCIM_BASE_URL:
        return settings.SCIM_BASE_URL
    # Every resource's meta.location starts with it: build it once per request.
    if not hasattr(request, "_tenant_url"):
        request._tenant_url = request.build_absolute_uri(reverse("scim:root")).rstrip("/")
    return request._tenant_url
