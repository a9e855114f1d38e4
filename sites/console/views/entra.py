"""A site's Security Awareness Training settings: the Microsoft Entra integration, with
its three ways in (OAuth 2.0 client credentials: a client id and secrets; workload
identity federation: a client id and trusts in the customer's Entra tenant, no secret;
or a Secret Token), each revocable, secrets shown once; disabling it; and its
provisioning status. Revoking and disabling ask first."""

from collections.abc import Callable
from dataclasses import dataclass
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
from django.urls import reverse
from django.utils import timezone
from django.utils.timesince import timeuntil
from django.views.decorators.cache import never_cache

from scim_app.endpoint.locations import tenant_url, token_endpoint
from sites import status
from sites.access import Principal
from sites.credentials import entra, federation, oauth, scim_tokens
from sites.models import Credential, Site

from ..decorators import confirmation_page, console_view, require_post, site_or_404
from ..forms import ClientSecretForm, ConfigureForm, FederationTrustForm

T = TypeVar("T")


@never_cache
@console_view()
def site_sat(request: HttpRequest, principal: Principal, public_id: UUID) -> HttpResponse:
    return sat_page(request, site_or_404(principal, public_id))


def sat_page(
    request: HttpRequest, site: Site, trust_form: FederationTrustForm | None = None
) -> HttpResponse:
    """The settings page; with `trust_form`, a federation trust refused (its errors)."""
    site_tokens = list(site.scim_tokens.select_related("created_by"))
    site_secrets = list(oauth.secrets_of(site))
    site_trusts = list(federation.trusts_of(site))
    summary = status.provisioning_summary(site, [*site_tokens, *site_secrets, *site_trusts])
    ctx = {
        "site": site,
        "tab": "sat",
        "tenant_url": tenant_url(request),
        "token_endpoint": token_endpoint(request),
        "client": oauth.live_client(site),
        "usable_secrets": asking("secret", [s for s in site_secrets if s.is_usable]),
        "usable_trusts": asking("trust", [t for t in site_trusts if t.is_usable]),
        "disable_question": DISABLE_QUESTION.format(site.name),
        "trust_form": trust_form or FederationTrustForm(),
        "newest_secret": newest_pk(site_secrets),
        "lifetimes": secret_lifetimes(),
        "usable_tokens": asking("token", [t for t in site_tokens if t.is_usable]),
        "entra": summary.entra,
        "summary": summary,
        "newest": newest_pk(site_tokens),
        "grace_period": grace_period(),
    }
    return render(
        request, "console/site_sat.html", ctx, status=400 if trust_form is not None else 200
    )


def newest_pk(credentials: list[Credential]) -> int:
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
def disable_entra(request: HttpRequest, principal: Principal, public_id: UUID) -> HttpResponse:
    site = site_or_404(principal, public_id)
    asked = ask(request, site, DISABLE_QUESTION.format(site.name), "Disable integration")
    if asked is not None:
        return asked
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


@require_post
@console_view(admin=True)
def add_federation_trust(
    request: HttpRequest, principal: Principal, public_id: UUID
) -> HttpResponse:
    """Trust the Entra app whose four values were pasted; then the page shows the Client
    ID, Token URL and Tenant URL to paste back into Entra. Nothing here is secret, so the
    answer is a redirect (a reload adds nothing twice). A refusal re-renders the page
    with the form's errors."""
    site = site_or_404(principal, public_id)
    form = FederationTrustForm(request.POST)
    if form.is_valid():
        try:
            trust = federation.add_trust(site, form.values, by=request.user)
        except ValidationError as error:
            for field, errors in error.message_dict.items():
                for message in errors:
                    form.add_error(field if field in form.fields else None, message)
        else:
            messages.success(
                request,
                f"{site.name} now trusts the Entra app {trust.subject}. In Entra, enter the "
                "Client ID, Token URL and Tenant URL below, then Test Connection.",
            )
            return redirect(reverse("console:sat", args=[site.public_id]) + "#federation")
    return never_cache(sat_page)(request, site, trust_form=form)


@dataclass(frozen=True)
class Revocable:
    """A kind of credential this page revokes: which of the site's, the rule that
    revokes it, how the page names one, what it asks first and says after."""

    of_site: Callable[[Site], QuerySet]
    revoke: Callable[..., bool]
    name: Callable[[Credential], str]
    question: str
    action: str
    revoked: str


REVOCABLE = {
    "token": Revocable(
        lambda site: site.scim_tokens,
        scim_tokens.revoke_token,
        lambda token: f"Token …{token.hint}",
        "Revoke Secret Token …{hint}? Entra's requests with it fail at once.",
        "Revoke token",
        "Entra requests with it now fail.",
    ),
    "secret": Revocable(
        lambda site: site.client_secrets,
        oauth.revoke_secret,
        lambda secret: f"Client secret …{secret.hint}",
        "Revoke client secret …{hint}? Entra gets no access token with it, and those it "
        "got stop working at once.",
        "Revoke client secret",
        "Entra gets no access token with it, and those it got no longer work.",
    ),
    "trust": Revocable(
        lambda site: site.federation_trusts,
        federation.revoke_trust,
        lambda trust: f"Federation trust of {trust.subject}",
        "Revoke the federation trust of {subject}? Entra gets no access token through it, "
        "and those it got stop working at once.",
        "Revoke trust",
        "Entra gets no access token through it, and those it got no longer work.",
    ),
}
DISABLE_QUESTION = (
    "Disable the Microsoft Entra integration of {}? Every Secret Token, client secret and "
    "federation trust is revoked, and Entra can no longer provision the site."
)


@require_post
@console_view(admin=True)
def revoke(
    request: HttpRequest, principal: Principal, public_id: UUID, kind: str, pk: int
) -> HttpResponse:
    """Revoke one of the site's credentials of `kind` (REVOCABLE), after asking."""
    site = site_or_404(principal, public_id)
    revocable = REVOCABLE[kind]
    credential = get_object_or_404(revocable.of_site(site), pk=pk)
    asked = ask(request, site, question(kind, credential), revocable.action)
    if asked is not None:
        return asked
    name = revocable.name(credential)
    if revocable.revoke(credential, by=request.user):
        messages.success(request, f"{name} revoked: {revocable.revoked}")
    else:
        messages.info(request, f"{name} was already revoked.")
    return redirect("console:sat", public_id=site.public_id)


def question(kind: str, credential: Credential) -> str:
    return REVOCABLE[kind].question.format(
        hint=getattr(credential, "hint", ""), subject=getattr(credential, "subject", "")
    )


def asking(kind: str, credentials: list[Credential]) -> list[Credential]:
    """`credentials`, each with the `question` its Revoke button asks."""
    for credential in credentials:
        credential.question = question(kind, credential)
    return credentials


def ask(request: HttpRequest, site: Site, question: str, action: str) -> HttpResponse | None:
    """The destructive actions of this page ask first (decorators.confirmation_page)."""
    return confirmation_page(
        request, question, action=action, cancel_url=reverse("console:sat", args=[site.public_id])
    )
