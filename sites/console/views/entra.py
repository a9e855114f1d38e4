"""A site's Security Awareness Training settings: the Microsoft Entra integration, its
Secret Tokens (issue once, revoke, disable) and its provisioning status."""

from datetime import timedelta
from uuid import UUID

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.timesince import timeuntil
from django.views.decorators.cache import never_cache

from scim_app.endpoint.locations import tenant_url
from sites import status
from sites.access import Principal
from sites.credentials import scim_tokens
from sites.models import Site

from ..decorators import console_view, require_post, site_or_404
from ..forms import ConfigureForm


@never_cache
@console_view()
def site_sat(request: HttpRequest, principal: Principal, public_id: UUID) -> HttpResponse:
    site = site_or_404(principal, public_id)
    site_tokens = list(site.scim_tokens.select_related("created_by"))
    summary = status.provisioning_summary(site, site_tokens)
    ctx = {
        "site": site,
        "tenant_url": tenant_url(request),
        "usable_tokens": [t for t in site_tokens if t.is_usable],
        "entra": summary.entra,
        "summary": summary,
        "newest": max((t.pk for t in site_tokens), default=0),
        "grace_period": grace_period(),
    }
    return render(request, "console/site_sat.html", ctx)


def grace_period() -> str:
    """SCIM_TOKEN_GRACE_PERIOD in words, e.g. "1 day"."""
    now = timezone.now()
    return timeuntil(now + timedelta(seconds=settings.SCIM_TOKEN_GRACE_PERIOD), now)


@never_cache
@require_post
@console_view(admin=True)
def configure_entra(request: HttpRequest, principal: Principal, public_id: UUID) -> HttpResponse:
    """Issue a Secret Token and show it, in this response only.

    Rendered, not redirected to: the plaintext is never kept anywhere (session, cache,
    database) from which a later request could show it again.
    """
    site = site_or_404(principal, public_id)
    form = ConfigureForm(request.POST)
    with transaction.atomic():
        # One Configure at a time per site, so two presses cannot both pass the check.
        Site.objects.select_for_update().filter(pk=site.pk).exists()
        newest = site.scim_tokens.order_by("-pk").values_list("pk", flat=True).first() or 0
        if not form.is_valid() or form.cleaned_data["newest"] != newest:
            messages.warning(
                request,
                "That page was out of date (a token was issued since), so no token was "
                "issued. Press Configure Microsoft Entra Integration again for a new one.",
            )
            return redirect("console:sat", public_id=site.public_id)
        try:
            token, plaintext = scim_tokens.issue_token(site, by=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect("console:sat", public_id=site.public_id)
    ctx = {
        "site": site,
        "token": token,
        "secret_token": plaintext,
        "tenant_url": tenant_url(request),
        # Rotation: the tokens Entra may still be using, and until when.
        "previous_tokens": list(scim_tokens.usable_tokens(site).exclude(pk=token.pk)),
    }
    return render(request, "console/token_issued.html", ctx)


@require_post
@console_view(admin=True)
def revoke_token(
    request: HttpRequest, principal: Principal, public_id: UUID, token_id: int
) -> HttpResponse:
    site = site_or_404(principal, public_id)
    token = get_object_or_404(site.scim_tokens, pk=token_id)
    if scim_tokens.revoke_token(token, by=request.user):
        messages.success(request, f"Token …{token.hint} revoked: Entra requests with it now fail.")
    else:
        messages.info(request, f"Token …{token.hint} was already revoked.")
    return redirect("console:sat", public_id=site.public_id)


@require_post
@console_view(admin=True)
def disable_entra(request: HttpRequest, principal: Principal, public_id: UUID) -> HttpResponse:
    site = site_or_404(principal, public_id)
    count = scim_tokens.revoke_all(site, by=request.user)
    messages.success(
        request,
        f"Microsoft Entra integration disabled: {count} token(s) revoked. "
        "Entra can no longer provision this site.",
    )
    return redirect("console:sat", public_id=site.public_id)
