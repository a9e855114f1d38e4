"""Help: the README's Microsoft Entra set-up in short, and the README itself."""

from django.conf import settings
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import cache_control, never_cache

from scim_app.endpoint.locations import tenant_url, token_endpoint
from sites.access import Principal

from ..decorators import console_view
from .entra import grace_period

README = settings.BASE_DIR / "README.md"


@never_cache
@console_view()
def help_page(request: HttpRequest, principal: Principal) -> HttpResponse:
    ctx = {
        "tenant_url": tenant_url(request),
        "token_endpoint": token_endpoint(request),
        "grace_period": grace_period(),
        "failure_percent": settings.FAILURE_ALERT_PERCENT,
        "failure_minimum": settings.FAILURE_ALERT_MINIMUM,
        "expiry_days": settings.EXPIRY_ALERT_DAYS,
    }
    return render(request, "console/help.html", ctx)


@cache_control(private=True)
@console_view()
def readme(request: HttpRequest, principal: Principal) -> HttpResponse:
    """The full README as plain text, for what the Help page leaves out: the README of
    the running code, so the two never disagree."""
    if not README.is_file():
        raise Http404("No README in this installation.")
    return FileResponse(README.open("rb"), content_type="text/plain; charset=utf-8")
