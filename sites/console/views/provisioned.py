"""A site's provisioned users and groups, as Entra sent them: lists with search, filters
and sorting, a page each with its attributes, memberships and history. Read-only: Entra
owns this data. MSP admins may restore what Entra deleted, or purge it now.

Every page runs a bounded number of queries, and a list never counts past 10,000 rows.
"""

import json
from uuid import UUID

from django import forms
from django.conf import settings
from django.contrib import messages
from django.db.models import Q
from django.db.models.functions import Lower
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache

from sat_portal.queries import CappedPaginator, subquery_count
from scim_app.models import Membership, ProvisioningLogEntry, ScimGroup, ScimUser
from scim_app.provisioning_log import records
from scim_app.resources import history, lifecycle, users
from scim_app.resources.attributes import ENTERPRISE_URN
from sites.access import Principal
from sites.models import Site

from ..decorators import console_view, require_post, site_or_404

PER_PAGE = 50
RECENT_REQUESTS = 20
GROUPS_SHOWN = 100


class ListForm(forms.Form):
    # A CharField refuses NUL characters, which PostgreSQL cannot compare against.
    q = forms.CharField(required=False, max_length=200)
    state = forms.ChoiceField(
        required=False,
        choices=[
            ("", "Current"),
            ("active", "Active"),
            ("inactive", "Inactive"),
            ("held", "Delete held"),
            ("deleted", "Deleted"),
        ],
    )
    sort = forms.ChoiceField(required=False, choices=[("name", "Name"), ("changed", "Last change")])


def listing(request: HttpRequest, queryset, form: ListForm, search: tuple[str, ...], name: str):
    """The page of `queryset` the form asks for: state, search, order, 50 to a page."""
    data = form.cleaned_data if form.is_valid() else {}
    state = data.get("state") or ""
    if state == "deleted":
        queryset = queryset.deleted()
    else:
        queryset = queryset.live()
        users_only = queryset.model is ScimUser  # groups are neither active nor held
        if state in ("active", "inactive") and users_only:
            queryset = queryset.filter(active=state == "active")
        elif state == "held" and users_only:
            queryset = queryset.filter(delete_held_at__isnull=False)
    if query := data.get("q"):
        match = Q()
        for field in search:
            match |= Q(**{f"{field}__icontains": query})
        queryset = queryset.filter(match)
    if data.get("sort") == "changed":
        queryset = queryset.order_by("-last_modified", "id")
    else:
        queryset = queryset.order_by(Lower(name), "id")
    return CappedPaginator(queryset, PER_PAGE).get_page(request.GET.get("page"))


def pager(request: HttpRequest, page) -> dict:
    """The page and the query strings of its neighbours, keeping search and filters."""

    def query(number: int) -> str:
        params = request.GET.copy()
        params["page"] = str(number)
        return params.urlencode()

    return {
        "page": page,
        "previous_query": query(page.previous_page_number()) if page.has_previous() else "",
        "next_query": query(page.next_page_number()) if page.has_next() else "",
    }


@never_cache
@console_view()
def user_list(request: HttpRequest, principal: Principal, public_id: UUID) -> HttpResponse:
    site = site_or_404(principal, public_id)
    form = ListForm(request.GET)
    queryset = ScimUser.objects.filter(site=site).only(
        "id", "user_name", "display_name", "work_email", "title", "department", "active",
        "last_modified", "deleted_at", "delete_held_at",
    )  # fmt: skip
    page = listing(
        request, queryset, form, ("user_name", "display_name", "work_email"), "user_name"
    )
    ctx = {"site": site, "form": form, "tab": "users", **pager(request, page)}
    return render(request, "console/site_users.html", ctx, status=200 if form.is_valid() else 400)


@never_cache
@console_view()
def user_detail(
    request: HttpRequest, principal: Principal, public_id: UUID, user_id: UUID
) -> HttpResponse:
    site = site_or_404(principal, public_id)
    user = get_object_or_404(
        ScimUser.objects.filter(site=site).select_related("manager"), pk=user_id
    )
    groups = list(user.scim_groups.live().order_by(Lower("display_name"))[: GROUPS_SHOWN + 1])
    ctx = {
        "site": site,
        "user": user,
        "data": user.data,
        "enterprise": user.data.get(ENTERPRISE_URN, {}),
        "manager": users.manager_of(user),
        "groups": groups[:GROUPS_SHOWN],
        "more_groups": len(groups) > GROUPS_SHOWN,
        "requests": history_of(site, user.pk),
        "document": json.dumps(user.data, indent=2, ensure_ascii=False),
        "retention": settings.SCIM_DELETED_RETENTION_DAYS,
        "tab": "users",
    }
    return render(request, "console/site_user.html", ctx)


def history_of(site: Site, resource_id) -> list[ProvisioningLogEntry]:
    """Its recent requests, each with what it changed ("department: Sales → Finance")."""
    entries = list(
        ProvisioningLogEntry.objects.filter(site=site, resource_id=str(resource_id))
        .select_related("actor")
        .order_by("-created", "-id")[:RECENT_REQUESTS]
    )
    for entry in entries:
        entry.change_lines = [history.line(change) for change in entry.changes]
    return entries


@never_cache
@console_view()
def group_list(request: HttpRequest, principal: Principal, public_id: UUID) -> HttpResponse:
    site = site_or_404(principal, public_id)
    form = ListForm(request.GET)
    members = Membership.objects.filter(user__deleted_at__isnull=True)
    queryset = ScimGroup.objects.filter(site=site).annotate(
        member_count=subquery_count(members, "group")
    )
    page = listing(request, queryset, form, ("display_name", "external_id"), "display_name")
    ctx = {"site": site, "form": form, "tab": "groups", **pager(request, page)}
    return render(request, "console/site_groups.html", ctx, status=200 if form.is_valid() else 400)


@never_cache
@console_view()
def group_detail(
    request: HttpRequest, principal: Principal, public_id: UUID, group_id: UUID
) -> HttpResponse:
    site = site_or_404(principal, public_id)
    group = get_object_or_404(ScimGroup.objects.filter(site=site), pk=group_id)
    form = ListForm(request.GET)
    members = ScimUser.objects.filter(memberships__group=group)
    page = listing(request, members, form, ("user_name", "display_name", "work_email"), "user_name")
    ctx = {
        "site": site,
        "group": group,
        "form": form,
        "requests": history_of(site, group.pk),
        "retention": settings.SCIM_DELETED_RETENTION_DAYS,
        "tab": "groups",
        **pager(request, page),
    }
    return render(request, "console/site_group.html", ctx)


# --- restore and purge (MSP admins) ---------------------------------------------------

KINDS = {"users": (ScimUser, "user", "User"), "groups": (ScimGroup, "group", "Group")}


class PurgeForm(forms.Form):
    typed = forms.CharField(max_length=400)


@require_post
@console_view(admin=True)
def restore(
    request: HttpRequest, principal: Principal, public_id: UUID, kind: str, resource_id: UUID
) -> HttpResponse:
    site = site_or_404(principal, public_id)
    model, noun, resource_type = KINDS[kind]
    resource = get_object_or_404(model.objects.deleted().filter(site=site), pk=resource_id)
    try:
        lifecycle.restore(resource)
    except lifecycle.RestoreConflict as conflict:
        messages.error(
            request,
            f"Not restored: a current {noun} is named “{conflict}” now. "
            "Entra provisions that one; delete it there first if it is a mistake.",
        )
    else:
        records.record_action(
            site,
            method="CONSOLE",
            summary=f"restored {noun} {resource}",
            actor=request.user,
            resource_type=resource_type,
            resource_id=resource.pk,
        )
        messages.success(
            request,
            f"Restored {noun} “{resource}”. Entra's next cycle updates it, or disables or "
            "deletes it again if it is no longer assigned.",
        )
    return redirect(f"console:site_{noun}", public_id=site.public_id, **{f"{noun}_id": resource.pk})


@require_post
@console_view(admin=True)
def purge(
    request: HttpRequest, principal: Principal, public_id: UUID, kind: str, resource_id: UUID
) -> HttpResponse:
    site = site_or_404(principal, public_id)
    model, noun, resource_type = KINDS[kind]
    resource = get_object_or_404(model.objects.deleted().filter(site=site), pk=resource_id)
    form = PurgeForm(request.POST)
    if (
        not form.is_valid()
        or form.cleaned_data["typed"].strip().casefold() != str(resource).casefold()
    ):
        messages.error(request, f"Nothing purged: type “{resource}” exactly to purge it.")
        return redirect(
            f"console:site_{noun}", public_id=site.public_id, **{f"{noun}_id": resource.pk}
        )
    lifecycle.purge(model.objects.filter(pk=resource.pk))
    records.record_action(
        site,
        method="CONSOLE",
        summary=f"purged {noun} {resource}",
        actor=request.user,
        resource_type=resource_type,
        resource_id=resource.pk,
    )
    messages.success(request, f"Purged {noun} “{resource}” for good.")
    return redirect(reverse(f"console:site_{kind}", args=[site.public_id]) + "?state=deleted")
