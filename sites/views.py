"""The MSP console: sign in, Sites, and each site's Security Awareness Training settings.

Views translate HTTP only: who may do what is in `console.py`, token rules in `tokens.py`.
"""

from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from uuid import UUID

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse_lazy
from django.utils import timezone
from django.utils.timesince import timeuntil
from django.views.decorators.cache import never_cache

from scim_app.locations import tenant_url

from . import console, tokens
from . import sites as site_rules
from .forms import (
    ConfigureForm,
    SatEnabledForm,
    SiteForm,
    SiteSearchForm,
    ThrottledAuthenticationForm,
)
from .models import Site

SITES_PER_PAGE = 50

sign_in = auth_views.LoginView.as_view(
    authentication_form=ThrottledAuthenticationForm, redirect_authenticated_user=True
)


class SetPassword(auth_views.PasswordResetConfirmView):
    """A new login's one-time link (sites.team.set_password_url): choose a password, and
    be signed in."""

    template_name = "registration/set_password.html"
    post_reset_login = True
    success_url = reverse_lazy("sites:list")

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, "Your password is set. Welcome to SAT Portal.")
        return response


set_password = SetPassword.as_view()


def post_only_page(request: HttpRequest) -> HttpResponse:
    """The 405 for a URL that only a form's button posts to, as a console page rather
    than an empty body: someone who followed or bookmarked it sees what happened."""
    response = render(request, "405.html", {"method": request.method}, status=405)
    response["Allow"] = "POST"
    return response


def require_post(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Like Django's require_POST, answering with `post_only_page`."""

    @wraps(view)
    def post_only(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.method != "POST":
            return post_only_page(request)
        return view(request, *args, **kwargs)

    return post_only


class SignOut(auth_views.LogoutView):
    def http_method_not_allowed(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        return post_only_page(request)


sign_out = SignOut.as_view()


@login_required
@never_cache
def site_list(request: HttpRequest) -> HttpResponse:
    staff = console.staff_of(request.user)
    search = SiteSearchForm(request.GET)
    if not search.is_valid():
        ctx = {"staff": staff, "page": None, "query": "", "search": search}
        return render(request, "sites/site_list.html", ctx, status=400)
    query = search.cleaned_data["q"]
    sites = console.with_counts(console.search(console.sites_of(staff), query))
    page = Paginator(sites, SITES_PER_PAGE).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    console.attach_statuses(page.object_list)
    ctx = {"staff": staff, "page": page, "query": query, "search": search}
    return render(request, "sites/site_list.html", ctx)


@login_required
@never_cache
def site_add(request: HttpRequest) -> HttpResponse:
    staff = console.staff_of(request.user)
    console.require_admin(staff)
    form = SiteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            site = site_rules.create_site(staff.msp, form.cleaned_data["name"])
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"Site “{site.name}” added.")
            return redirect("sites:list")
    return render(request, "sites/site_add.html", {"staff": staff, "form": form})


@login_required
@require_post
def set_sat_enabled(request: HttpRequest, public_id: UUID) -> HttpResponse:
    staff = console.staff_of(request.user)
    console.require_admin(staff)
    site = console.get_site(staff, public_id)
    form = SatEnabledForm(request.POST)
    if form.is_valid():
        site_rules.set_sat_enabled(site, form.cleaned_data["enabled"])
        state = "enabled" if site.sat_enabled else "disabled"
        messages.success(request, f"Security Awareness Training {state} for “{site.name}”.")
    else:
        messages.error(request, "Choose whether to enable or disable training.")
    return redirect("sites:list")


@login_required
@never_cache
def site_sat(request: HttpRequest, public_id: UUID) -> HttpResponse:
    staff = console.staff_of(request.user)
    site = console.get_site(staff, public_id)
    site_tokens = list(site.scim_tokens.select_related("created_by"))
    summary = console.provisioning_summary(site, site_tokens)
    ctx = {
        "staff": staff,
        "site": site,
        "tenant_url": tenant_url(request),
        "active_tokens": [t for t in site_tokens if tokens.is_active(t)],
        "entra": summary.entra,
        "summary": summary,
        "newest": max((t.pk for t in site_tokens), default=0),
        "grace_period": grace_period(),
    }
    return render(request, "sites/site_sat.html", ctx)


def grace_period() -> str:
    """SCIM_TOKEN_GRACE_PERIOD in words, e.g. "1 day"."""
    now = timezone.now()
    return timeuntil(now + timedelta(seconds=settings.SCIM_TOKEN_GRACE_PERIOD), now)


@login_required
@require_post
@never_cache
def configure_entra(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """Issue a Secret Token and show it, in this response only.

    Rendered, not redirected to: the plaintext is never kept anywhere (session, cache,
    database) from which a later request could show it again.
    """
    staff = console.staff_of(request.user)
    console.require_admin(staff)
    site = console.get_site(staff, public_id)
    if not site.sat_enabled:
        messages.error(request, "Enable Security Awareness Training for this site first.")
        return redirect("sites:sat", public_id=site.public_id)
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
            return redirect("sites:sat", public_id=site.public_id)
        token, plaintext = tokens.issue_token(site, by=request.user, via="console")
    ctx = {
        "staff": staff,
        "site": site,
        "token": token,
        "secret_token": plaintext,
        "tenant_url": tenant_url(request),
        # Rotation: the tokens Entra may still be using, and until when.
        "previous_tokens": list(tokens.active_tokens(site).exclude(pk=token.pk)),
    }
    return render(request, "sites/token_issued.html", ctx)


@login_required
@require_post
def revoke_token(request: HttpRequest, public_id: UUID, token_id: int) -> HttpResponse:
    staff = console.staff_of(request.user)
    console.require_admin(staff)
    site = console.get_site(staff, public_id)
    token = get_object_or_404(site.scim_tokens, pk=token_id)
    if tokens.revoke_token(token, by=request.user, via="console"):
        messages.success(request, f"Token …{token.hint} revoked: Entra requests with it now fail.")
    else:
        messages.info(request, f"Token …{token.hint} was already revoked.")
    return redirect("sites:sat", public_id=site.public_id)


@login_required
@require_post
def disable_entra(request: HttpRequest, public_id: UUID) -> HttpResponse:
    staff = console.staff_of(request.user)
    console.require_admin(staff)
    site = console.get_site(staff, public_id)
    count = tokens.revoke_all(site, by=request.user, via="console")
    messages.success(
        request,
        f"Microsoft Entra integration disabled: {count} token(s) revoked. "
        "Entra can no longer provision this site.",
    )
    return redirect("sites:sat", public_id=site.public_id)
