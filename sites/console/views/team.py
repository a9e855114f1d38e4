"""The Team page: every member of an MSP sees its staff; its admins invite colleagues,
change their roles and remove them (the rules are sites.team's)."""

from uuid import UUID

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache

from sites import team
from sites.access import Principal
from sites.models import MSP, Staff

from ..decorators import console_view, require_post
from ..forms import InviteForm, RoleForm


def newest_member(msp: MSP) -> int:
    return msp.staff.order_by("-pk").values_list("pk", flat=True).first() or 0


def member_or_404(principal: Principal, public_id: UUID) -> Staff:
    """A member of the principal's MSP; another MSP's is a 404 like one that never was."""
    staff = team.members(principal.msp).filter(public_id=public_id).first()
    if staff is None:
        raise Http404("No such member of your team.")
    return staff


@never_cache
@console_view()
def team_list(request: HttpRequest, principal: Principal) -> HttpResponse:
    """The team; an admin's POST invites a colleague and shows the one-time set-password
    link, in this response only (rendered, not redirected to, like a new API key)."""
    if request.method == "POST":
        principal.require_write()
    form = InviteForm(request.POST or None) if principal.may_write else None
    if form is not None and form.is_bound and form.is_valid():
        try:
            with transaction.atomic():
                # One invitation at a time per MSP, so two presses cannot both pass the check.
                MSP.objects.select_for_update().filter(pk=principal.msp.pk).exists()
                if form.cleaned_data["newest"] != newest_member(principal.msp):
                    messages.warning(
                        request,
                        "That page was out of date (someone was invited since), so nobody was "
                        "invited. Check the team, and invite again if needed.",
                    )
                    return redirect("console:team")
                staff, link = team.invite(
                    principal.msp,
                    form.cleaned_data["email"],
                    form.cleaned_data["role"],
                    by=request.user,
                )
        except ValidationError as error:
            form.add_error("email", error)
        else:
            return invitation_page(request, staff, link)
    members = list(team.members(principal.msp))
    for staff in members:
        staff.pending = team.is_pending(staff)
    admins = [staff for staff in members if team.signs_in_as_admin(staff)]
    ctx = {
        "members": members,
        # The controls for the last admin are not offered (team.py refuses them anyway).
        "last_admin": admins[0] if len(admins) == 1 else None,
        "events": team.recent_events(principal.msp),
        "form": form,
        "roles": Staff.Role.choices,
        "hours": team.INVITATION_HOURS,
        "newest": max((staff.pk for staff in members), default=0),
    }
    return render(request, "console/team.html", ctx)


def invitation_page(request: HttpRequest, staff: Staff, link: str) -> HttpResponse:
    ctx = {
        "staff": staff,
        "link": link,
        "hours": team.INVITATION_HOURS,
        "emailed": settings.EMAIL_ENABLED,
    }
    return render(request, "console/team_invited.html", ctx)


@never_cache
@require_post
@console_view(admin=True)
def team_renew(request: HttpRequest, principal: Principal, public_id: UUID) -> HttpResponse:
    staff = member_or_404(principal, public_id)
    try:
        link = team.renew_invitation(staff, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("console:team")
    return invitation_page(request, staff, link)


@require_post
@console_view(admin=True)
def team_role(request: HttpRequest, principal: Principal, public_id: UUID) -> HttpResponse:
    staff = member_or_404(principal, public_id)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose Admin or Read-only.")
        return redirect("console:team")
    try:
        changed = team.change_role(staff, form.cleaned_data["role"], by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("console:team")
    staff.role = form.cleaned_data["role"]
    who = team.email_of(staff.user)
    if changed:
        messages.success(request, f"{who} is now {staff.get_role_display()}.")
    else:
        messages.info(request, f"{who} was {staff.get_role_display()} already.")
    return redirect("console:team")


@require_post
@console_view(admin=True)
def team_remove(request: HttpRequest, principal: Principal, public_id: UUID) -> HttpResponse:
    staff = member_or_404(principal, public_id)
    try:
        team.remove(staff, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("console:team")
    messages.success(
        request,
        f"{team.email_of(staff.user)} removed from {principal.msp}: their login is "
        "deactivated and their API keys no longer work.",
    )
    return redirect("console:team")
