"""A site's overview: what Entra did lately (activity over a day, a week, a month; the
latest requests; errors by kind), the mass-deprovisioning guard and hold mode, and the
site itself (rename, training on or off, delete)."""

from uuid import UUID

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache

from scim_app.provisioning_log import activity, records
from scim_app.resources import lifecycle, safety
from sites import services, status
from sites.access import Principal
from sites.models import Site

from ..decorators import confirmation_page, console_view, require_post, site_or_404
from ..forms import SiteForm


class WindowForm(forms.Form):
    window = forms.ChoiceField(required=False, choices=[(w, w) for w in activity.WINDOWS])


@never_cache
@console_view()
def overview(request: HttpRequest, principal: Principal, public_id: UUID) -> HttpResponse:
    site = site_or_404(principal, public_id)
    form = WindowForm(request.GET)
    window = (form.cleaned_data.get("window") if form.is_valid() else "") or "24h"
    seen = activity.activity(site, window)
    ctx = {
        "site": site,
        "tab": "overview",
        "activity": seen,
        "chart": chart(seen),
        "windows": list(activity.WINDOWS),
        "summary": status.provisioning_summary(site),
        "held": lifecycle.held_deletes(site).count(),
        "alert": safety.recently_flagged(site),
        "rename_form": SiteForm(initial={"name": site.name}),
        "retention": settings.SCIM_DELETED_RETENTION_DAYS,
    }
    return render(request, "console/site_overview.html", ctx)


CHART_WIDTH, CHART_HEIGHT, LABELS = 720, 160, 6


def chart(seen: activity.Activity) -> dict:
    """Bar positions for the activity chart (an SVG the template draws): requests, with
    the errors among them in red, one bar per bucket, and a few time labels."""
    count = max(1, len(seen.buckets))
    step = CHART_WIDTH / count
    scale = CHART_HEIGHT / max(1, seen.peak)
    bars = []
    for index, (start, requests, errors) in enumerate(seen.buckets):
        height, error_height = requests * scale, errors * scale
        bars.append(
            {
                "x": round(index * step + 1, 1),
                "width": round(max(1.0, step - 2), 1),
                "y": round(CHART_HEIGHT - height, 1),
                "height": round(height, 1),
                "error_y": round(CHART_HEIGHT - error_height, 1),
                "error_height": round(error_height, 1),
                "title": f"{start:%Y-%m-%d %H:%M} UTC: {requests} requests, {errors} errors",
            }
        )
    every = max(1, count // LABELS)
    fmt = "%H:%M" if seen.window == "24h" else "%m-%d"
    labels = [
        {"x": round(index * step, 1), "text": f"{start:{fmt}}"}
        for index, (start, _, _) in enumerate(seen.buckets)
        if index % every == 0
    ]
    return {"width": CHART_WIDTH, "height": CHART_HEIGHT, "bars": bars, "labels": labels}


def back(site: Site) -> HttpResponse:
    return redirect("console:site", public_id=site.public_id)


@require_post
@console_view(admin=True)
def rename(request: HttpRequest, principal: Principal, public_id: UUID) -> HttpResponse:
    site = site_or_404(principal, public_id)
    form = SiteForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give the site a name of at most 200 characters.")
        return back(site)
    try:
        services.rename_site(site, form.cleaned_data["name"])
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"Site renamed “{site.name}”.")
    return back(site)


class DeleteSiteForm(forms.Form):
    typed = forms.CharField(max_length=400)


@require_post
@console_view(admin=True)
def delete_site(request: HttpRequest, principal: Principal, public_id: UUID) -> HttpResponse:
    site = site_or_404(principal, public_id)
    form = DeleteSiteForm(request.POST)
    try:
        services.delete_site(site, form.data.get("typed", ""))
    except ValidationError:
        messages.error(request, f"Nothing deleted: type “{site.name}” exactly to delete the site.")
        return back(site)
    messages.success(
        request, f"Site “{site.name}” deleted, with its users, groups, credentials and log."
    )
    return redirect("console:list")


@require_post
@console_view(admin=True)
def set_hold(request: HttpRequest, principal: Principal, public_id: UUID) -> HttpResponse:
    site = site_or_404(principal, public_id)
    hold = request.POST.get("hold") == "on"
    if not hold:
        held = lifecycle.held_deletes(site).count()
        question = (
            f"Turn hold mode off for “{site.name}”? The {held} delete(s) it holds are applied "
            "now, and Entra's next deletes are applied at once."
        )
        if held and (
            page := confirmation_page(
                request, question, action="Turn off and apply", cancel_url=site_url(site)
            )
        ):
            return page
        applied = lifecycle.apply_held_deletes(site)
    site.hold_deletes = hold
    site.save(update_fields=["hold_deletes"])
    summary = "hold mode on" if hold else f"hold mode off; {applied} held delete(s) applied"
    records.record_action(site, method="CONSOLE", summary=summary, actor=request.user)
    messages.success(request, f"Hold mode {'on' if hold else 'off'} for “{site.name}”.")
    return back(site)


@require_post
@console_view(admin=True)
def held_deletes(request: HttpRequest, principal: Principal, public_id: UUID) -> HttpResponse:
    """Apply the held deletes, or drop them (the users stay, inactive)."""
    site = site_or_404(principal, public_id)
    if request.POST.get("do") == "apply":
        count = lifecycle.held_deletes(site).count()
        question = f"Delete the {count} user(s) whose delete Entra sent while on hold?"
        if page := confirmation_page(
            request, question, action="Apply deletes", cancel_url=site_url(site)
        ):
            return page
        done, summary = lifecycle.apply_held_deletes(site), "applied {} held delete(s)"
    else:
        done, summary = (
            lifecycle.keep_held(site),
            "dropped {} held delete(s): the users stay, inactive",
        )
    records.record_action(site, method="CONSOLE", summary=summary.format(done), actor=request.user)
    messages.success(request, summary.format(done).capitalize() + ".")
    return back(site)


@require_post
@console_view(admin=True)
def acknowledge_alert(request: HttpRequest, principal: Principal, public_id: UUID) -> HttpResponse:
    site = site_or_404(principal, public_id)
    safety.acknowledge(site)
    records.record_action(
        site, method="CONSOLE", summary="mass-deprovisioning alert acknowledged", actor=request.user
    )
    messages.success(request, "Alert acknowledged: the guard watches again.")
    return back(site)


def site_url(site: Site) -> str:
    return reverse("console:site", args=[site.public_id])
