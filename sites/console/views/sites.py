"""Sites: the list (each site's Entra status, health and counts, filtered by state),
adding a site, and turning its training on or off."""

from uuid import UUID

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache

from sites import services, status
from sites.access import Principal

from ..decorators import confirmation_page, console_view, require_post, site_or_404
from ..forms import SatEnabledForm, SiteForm, SiteSearchForm
from .provisioned import pager

SITES_PER_PAGE = 50


@never_cache
@console_view()
def site_list(request: HttpRequest, principal: Principal) -> HttpResponse:
    """The MSP's sites as a dashboard: searched by name, filtered by state, 50 to a page,
    each with its status, health and counts, in the same few queries for any page."""
    search = SiteSearchForm(request.GET)
    if not search.is_valid():
        ctx = {"page": None, "query": "", "search": search}
        return render(request, "console/site_list.html", ctx, status=400)
    query, state = search.cleaned_data["q"], search.cleaned_data["state"]
    sites = principal.sites()
    if query:
        sites = sites.filter(name__icontains=query)
    sites = status.with_counts(sites)
    if state:
        sites = status.in_state(sites, state)
    page = Paginator(sites, SITES_PER_PAGE).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    status.attach_statuses(page.object_list)
    ctx = {
        "query": query,
        "state": state,
        "state_label": status.STATES.get(state, ""),
        "search": search,
        **pager(request, page),
    }
    return render(request, "console/site_list.html", ctx)


@never_cache
@console_view(admin=True)
def site_add(request: HttpRequest, principal: Principal) -> HttpResponse:
    form = SiteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            site = services.create_site(principal.msp, form.cleaned_data["name"])
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"Site “{site.name}” added.")
            return redirect("console:list")
    return render(request, "console/site_add.html", {"form": form})


@require_post
@console_view(admin=True)
def set_sat_enabled(request: HttpRequest, principal: Principal, public_id: UUID) -> HttpResponse:
    """From the Sites list or the site's own page (`next`, a path of ours)."""
    site = site_or_404(principal, public_id)
    form = SatEnabledForm(request.POST)
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts=None):
        next_url = reverse("console:list")
    if not form.is_valid():
        messages.error(request, "Choose whether to enable or disable training.")
        return redirect(next_url)
    if not form.cleaned_data["enabled"]:
        question = (
            f"Disable Security Awareness Training for “{site.name}”? Entra's requests for "
            "it are refused until training is enabled again."
        )
        page = confirmation_page(request, question, action="Disable training", cancel_url=next_url)
        if page:
            return page
    services.set_sat_enabled(site, form.cleaned_data["enabled"])
    state = "enabled" if site.sat_enabled else "disabled"
    messages.success(request, f"Security Awareness Training {state} for “{site.name}”.")
    return redirect(next_url)
