"""A site's Security Awareness Training settings: the Microsoft Entra integration, with
either of its two ways in (OAuth 2.0 client credentials: a client id and secrets; or a
Secret Token), each issued once and revocable, disabling it, and its provisioning
status."""

from collections.abc import Callable
from datetime import timedelta
from typing import TypeVar
from uuid import UUID

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.timesince import timeuntil
from django.views.decorators.cache import never_cache

from scim_app.endpoint.locations import tenant_url, token_endpoint
from sites import status
from sites.access import Principal
from sites.credentials import entra, oauth, scim_tokens
from sites.models import HashedSecret, Site

from ..decorators import console_view, require_post, site_or_404
from ..forms import ClientSecretForm, ConfigureForm

T = TypeVar("T")


@never_cache
@console_view()
def site_sat(request: HttpRequest, principal: Principal, public_id: UUID) -> HttpResponse:
    site = site_or_404(principal, public_id)
    site_tokens = list(site.scim_tokens.select_related("created_by"))
    site_secrets = list(oauth.secrets_of(site))
    summary = status.provisioning_summary(site, [*site_tokens, *site_secrets])
    ctx = {
        "site": site,
        "tenant_url": tenant_url(request),
        "token_endpoint": token_endpoint(request),
        "client": oauth.live_client(site),
        "usable_secrets": [s for s in site_secrets if s.is_usable],
        "newest_secret": newest_pk(site_secrets),
        "lifetimes": secret_lifetimes(),
        "usable_tokens": [t for t in site_tokens if t.is_usable],
        "entra": summary.entra,
        "summary": summary,
        "newest": newest_pk(site_tokens),
        "grace_period": grace_period(),
    }
    return render(request, "console/site_sat.html", ctx)


def newest_pk(credentials: list[HashedSecret]) -> int:
    return max((c.pk for c in credentials), default=0)


def grace_period() -> str:
    """SCIM_TOKEN_GRACE_PERIOD in words, e.g. "1 day"."""
    now = timezone.now()
    return timeuntil(now + timedelta(seconds=settings.SCIM_TOKEN_GRACE_PERIOD), now)


def secret_lifetimes() -> list[tuple[int, str, bool]]:
    """The choices for a new client secret's lifetime, (days, label, chosen): one, two or
    three years, and OAUTH_SECRET_LIFETIME_DAYS (the one chosen) if it is none of those."""
    default = settings.OAUTH_SECRET_LIFETIME_DAYS
    years = {365: "1 year", 730: "2 years", 1095: "3 years"}
    years.setdefault(default, f"{default} days")
    return [(days, years[days], days == default) for days in sorted(years)]


def issue_once(
    request: HttpRequest,
    site: Site,
    issue: Callable[[], T],
    *,
    seen: int | None,
    issued: QuerySet,
    stale: str,
) -> T | None:
    """`issue()`, unless the page the press came from is out of date: the newest pk of
    `issued` it showed (`seen`, None for a bad form) must still be the newest, or the
    press would issue a second secret (a reload of the page that shows one re-sends the
    form it came from). On a refusal, a message says why (`stale`, or the rule's) and
    None is returned."""
    with transaction.atomic():
        # One at a time per site, so two presses cannot both pass the check.
        Site.objects.select_for_update().filter(pk=site.pk).exists()
        newest = issued.order_by("-pk").values_list("pk", flat=True).first() or 0
        if seen != newest:
            messages.warning(request, stale)
            return None
        try:
            return issue()
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return None


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
    issued = issue_once(
        request,
        site,
        lambda: scim_tokens.issue_token(site, by=request.user),
        seen=form.cleaned_data["newest"] if form.is_valid() else None,
        issued=site.scim_tokens.all(),
        stale="That page was out of date (a token was issued since), so no token was "
        "issued. Press Configure Microsoft Entra Integration again for a new one.",
    )
    if issued is None:
        return redirect("console:sat", public_id=site.public_id)
    token, plaintext = issued
    ctx = {
        "site": site,
        "token": token,
        "secret_token": plaintext,
        "tenant_url": tenant_url(request),
        # Rotation: the tokens Entra may still be using, and until when.
        "previous_tokens": list(scim_tokens.usable_tokens(site).exclude(pk=token.pk)),
    }
    return render(request, "console/token_issued.html", ctx)


@never_cache
@require_post
@console_view(admin=True)
def issue_client_secret(
    request: HttpRequest, principal: Principal, public_id: UUID
) -> HttpResponse:
    """Create the site's OAuth client if it has none, and a new secret of it; show the
    four values Entra needs, in this response only (as `configure_entra`)."""
    site = site_or_404(principal, public_id)
    form = ClientSecretForm(request.POST)
    issued = issue_once(
        request,
        site,
        lambda: oauth.issue_secret(
            site, lifetime_days=form.cleaned_data["lifetime_days"], by=request.user
        ),
        seen=form.cleaned_data["newest_secret"] if form.is_valid() else None,
        issued=site.client_secrets.all(),
        stale="That page was out of date (a client secret was issued since), so no secret "
        "was issued. Press Add secret again for a new one.",
    )
    if issued is None:
        return redirect("console:sat", public_id=site.public_id)
    secret, plaintext = issued
    ctx = {
        "site": site,
        "secret": secret,
        "client_secret": plaintext,
        "tenant_url": tenant_url(request),
        "token_endpoint": token_endpoint(request),
        # Rotation: the secrets Entra may still be using.
        "other_secrets": site.client_secrets.usable().exclude(pk=secret.pk).exists(),
    }
    return render(request, "console/client_secret_issued.html", ctx)


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
def revoke_client_secret(
    request: HttpRequest, principal: Principal, public_id: UUID, secret_id: int
) -> HttpResponse:
    site = site_or_404(principal, public_id)
    secret = get_object_or_404(site.client_secrets, pk=secret_id)
    if oauth.revoke_secret(secret, by=request.user):
        messages.success(
            request,
            f"Client secret …{secret.hint} revoked: Entra gets no access token with it, "
            "and those it got no longer work.",
        )
    else:
        messages.info(request, f"Client secret …{secret.hint} was already revoked.")
    return redirect("console:sat", public_id=site.public_id)


@require_post
@console_view(admin=True)
def disable_entra(request: HttpRequest, principal: Principal, public_id: UUID) -> HttpResponse:
    site = site_or_404(principal, public_id)
    disabled = entra.disable(site, by=request.user)
    revoked = [f"{disabled.scim_tokens} token(s) revoked"]
    if disabled.client_secrets:
        revoked.append(f"{disabled.client_secrets} client secret(s) revoked")
    if disabled.federation_trusts:
        revoked.append(f"{disabled.federation_trusts} federation trust(s) revoked")
    messages.success(
        request,
        f"Microsoft Entra integration disabled: {', '.join(revoked)}. "
        "Entra can no longer provision this site.",
    )
    return redirect("console:sat", public_id=site.public_id)
