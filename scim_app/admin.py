"""The admin as a support tool: provisioned users, groups, memberships and the
provisioning log, across every MSP and site.

Provisioned data is owned by Entra: a change made here would be undone, or fought
over, by the next provisioning cycle. So nobody adds or edits it; superusers may
delete, after a confirmation that says so. Every page runs a bounded number of
queries however large the site, the group (50,000 members) or the log.
"""

import json
import uuid

from django.contrib import admin, messages
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join

from sat_portal.admin import (
    AutocompleteFilterMedia,
    CappedCountPaginator,
    UuidSearchMixin,
    ViewOnlyAdmin,
    admin_link,
    changelist_link,
)
from sat_portal.queries import subquery_count
from sites.admin import MspFilter, SiteFilter

from .models import Membership, ProvisioningLogEntry, ScimGroup, ScimUser
from .provisioning_log import records
from .resources import history, lifecycle, users
from .resources.attributes import ENTERPRISE_URN

RECENT_LOG_ENTRIES = 20
GROUPS_SHOWN = 100
MEMBERS_PER_PAGE = 50


class EntraOwnedAdmin(ViewOnlyAdmin):
    """View-only for everyone; delete for superusers, with a warning that Entra will
    re-create what is still assigned to the app."""

    superusers_may_delete = True
    delete_confirmation_template = "admin/scim_app/entra_owned_delete_confirmation.html"
    delete_selected_confirmation_template = (
        "admin/scim_app/entra_owned_delete_selected_confirmation.html"
    )
    show_full_result_count = False
    Media = AutocompleteFilterMedia

    def cascade_counts(self, objs) -> dict[str, int]:
        return {}

    def get_deleted_objects(self, objs, request):
        # Django's own summary lists every cascaded row: 50,000 memberships for a big
        # group. Show the objects themselves (the first 100) and counts instead.
        total = objs.count() if isinstance(objs, QuerySet) else len(objs)
        shown = list(objs[:GROUPS_SHOWN])
        listed = [admin_link(obj) for obj in shown]
        if total > len(shown):
            listed.append(f"… and {total - len(shown)} more")
        counts = {self.model._meta.verbose_name_plural: total, **self.cascade_counts(objs)}
        return listed, counts, set(), []


class LifecycleFilter(admin.SimpleListFilter):
    """Live (what SCIM sees), deleted (kept for the retention period) or, for users, a
    delete held by the site's hold mode."""

    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        states = [("live", "Live"), ("deleted", "Deleted (restorable)")]
        if model_admin.model is ScimUser:
            states.append(("held", "Delete held"))
        return states

    def queryset(self, request, queryset):
        if self.value() == "live":
            return queryset.live()
        if self.value() == "deleted":
            return queryset.deleted()
        if self.value() == "held":
            return queryset.live().filter(delete_held_at__isnull=False)
        return queryset


class ProvisionedResourceAdmin(UuidSearchMixin, EntraOwnedAdmin):
    """Users and groups: both belong to a site, have memberships and a log history.

    Deleting here purges for good (superusers, after a warning); a user or group Entra
    deleted is restorable within the retention period (the "Restore" action)."""

    membership_field: str  # Membership's foreign key to this model
    list_select_related = ("site__msp",)
    ordering = ("-last_modified",)
    actions = ("restore",)

    def has_restore_permission(self, request) -> bool:
        return request.user.is_superuser

    @admin.action(
        description="Restore the selected (deleted) %(verbose_name_plural)s",
        permissions=["restore"],
    )
    def restore(self, request: HttpRequest, queryset):
        restored, conflicts = 0, []
        for resource in queryset.deleted().select_related("site"):
            try:
                lifecycle.restore(resource)
            except lifecycle.RestoreConflict:
                conflicts.append(str(resource))
                continue
            restored += 1
            records.record_action(
                resource.site,
                method="ADMIN",
                summary=f"restored {self.model._meta.verbose_name} {resource}",
                actor=request.user,
                resource_type=self.resource_type,
                resource_id=resource.pk,
            )
        self.message_user(request, f"Restored {restored}.", messages.SUCCESS)
        if conflicts:
            self.message_user(
                request,
                f"Not restored, their name is in use by a live one now: {', '.join(conflicts)}.",
                messages.WARNING,
            )

    def delete_queryset(self, request, queryset):
        # Through the purge's locking, so a request racing it gets a SCIM status.
        for resource in queryset.select_related("site"):
            self.delete_model(request, resource)

    def delete_model(self, request, obj):
        lifecycle.purge(type(obj).objects.filter(pk=obj.pk))
        records.record_action(
            obj.site,
            method="ADMIN",
            summary=f"purged {self.model._meta.verbose_name} {obj}",
            actor=request.user,
            resource_type=self.resource_type,
            resource_id=obj.pk,
        )

    @admin.display(description="deleted", ordering="deleted_at")
    def deleted(self, obj):
        return obj.deleted_at or "—"

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("site__msp")
            .annotate(
                membership_count=subquery_count(Membership.objects.all(), self.membership_field)
            )
        )

    def cascade_counts(self, objs) -> dict[str, int]:
        memberships = Membership.objects.filter(**{f"{self.membership_field}__in": objs})
        return {"memberships": memberships.count()}

    @admin.display(description="MSP", ordering="site__msp__name")
    def msp(self, obj):
        return obj.site.msp

    @admin.display(description="history (recent requests and what they changed)")
    def history(self, obj):
        entries = ProvisioningLogEntry.objects.filter(resource_id=str(obj.pk))
        lines = log_lines(entries.select_related("actor")[:RECENT_LOG_ENTRIES])
        more = changelist_link(ProvisioningLogEntry, "all requests", q=obj.pk)
        return format_html("{}<div>{}</div>", lines, more) if lines else "—"


class MembershipSiteFilter(SiteFilter):
    field_path = "group__site"


class MembershipMspFilter(MspFilter):
    field_path = "group__site__msp"


def pretty_json(value) -> str:
    return format_html("<pre>{}</pre>", json.dumps(value, indent=2, ensure_ascii=False))


def log_lines(entries) -> str:
    """A request a line, then what it changed: "department: Sales → Finance"."""
    return format_html_join(
        "",
        '<div>{} <span class="by">by {}</span>{}</div>',
        (
            (
                admin_link(
                    entry, f"{entry.created:%Y-%m-%d %H:%M:%S} · {entry.status} · {entry.summary}"
                ),
                entry.actor or "Entra",
                history_lines(entry.changes, nested=True),
            )
            for entry in entries
        ),
    )


ADDRESS_PARTS = ("streetAddress", "locality", "region", "postalCode", "country")


def typed_values(values: list[dict], key: str, parts: tuple[str, ...] = ()) -> str:
    """Phone numbers or addresses, one a line, each with its type: "mobile: +49 170 …"."""
    lines = []
    for value in values:
        text = value.get(key) or ", ".join(value[p] for p in parts if value.get(p))
        label = value.get("type") or "other"
        lines.append((f"{label}{' (primary)' if value.get('primary') else ''}", text))
    return format_html_join("", "<div>{}: {}</div>", lines) or "—"


class DepartmentFilter(admin.SimpleListFilter):
    """?department=Finance (any case): typed, not a list of every department, which
    would scan every user to build."""

    title = "department"
    parameter_name = "department"
    template = "admin/text_filter.html"

    def lookups(self, request, model_admin):
        return [(self.value(), self.value())] if self.value() else []

    def has_output(self) -> bool:
        return True

    def queryset(self, request, queryset):
        value = (self.value() or "").strip()
        return queryset.filter(department__iexact=value) if value else queryset

    def choices(self, changelist):
        self.base_query = changelist.get_query_string(remove=[self.parameter_name])
        # The form's hidden fields keep the other filters and the search.
        self.base_query_params = [
            (key, value)
            for key, values in changelist.params.items()
            if key != self.parameter_name
            for value in (values if isinstance(values, list) else [values])
        ]
        yield from super().choices(changelist)


@admin.register(ScimUser)
class ScimUserAdmin(ProvisionedResourceAdmin):
    membership_field = "user"
    resource_type = "User"
    list_display = (
        "user_name",
        "display_name",
        "work_email",
        "active",
        "site",
        "msp",
        "group_count",
        "last_modified",
        "deleted",
    )
    list_filter = (
        LifecycleFilter,
        "active",
        MspFilter,
        SiteFilter,
        DepartmentFilter,
        ("last_modified", admin.DateFieldListFilter),
    )
    search_fields = (
        "user_name",
        "work_email",
        "given_name",
        "family_name",
        "display_name",
        "external_id",
        "title",
        "department",
        "employee_number",
    )
    fieldsets = (
        (
            None,
            {"fields": ("id", "site", "msp", "user_name", "external_id", "active", "deleted")},
        ),
        ("Name", {"fields": ("display_name", "given_name", "family_name")}),
        (
            "Work",
            {"fields": ("title", "department", "employee_number", "manager_link", "language")},
        ),
        ("Contact", {"fields": ("work_email", "phones", "addresses")}),
        ("As Entra sent it", {"fields": ("document",)}),
        ("Groups and history", {"fields": ("groups", "history")}),
        ("Dates", {"fields": ("created", "last_modified")}),
    )
    readonly_fields = [field for _, options in fieldsets for field in options["fields"]]

    @admin.display(description="manager")
    def manager_link(self, obj: ScimUser):
        manager = users.manager_of(obj)
        if manager is not None:
            return admin_link(manager, f"{manager.display_name or manager.user_name}")
        value = obj.data.get(ENTERPRISE_URN, {}).get("manager", {}).get("value")
        return f"{value} (not a user of this site)" if value else "—"

    @admin.display(description="preferred language")
    def language(self, obj: ScimUser):
        return obj.data.get("preferredLanguage") or "—"

    @admin.display(description="phone numbers")
    def phones(self, obj: ScimUser):
        return typed_values(obj.data.get("phoneNumbers", []), "value")

    @admin.display(description="addresses")
    def addresses(self, obj: ScimUser):
        return typed_values(obj.data.get("addresses", []), "formatted", ADDRESS_PARTS)

    @admin.display(description="groups", ordering="membership_count")
    def group_count(self, obj: ScimUser):
        return obj.membership_count

    @admin.display(description="SCIM attributes")
    def document(self, obj: ScimUser):
        return pretty_json(obj.data)

    @admin.display(description="groups")
    def groups(self, obj: ScimUser):
        groups = list(obj.scim_groups.order_by("display_name")[: GROUPS_SHOWN + 1])
        links = format_html_join(", ", "{}", ((admin_link(g),) for g in groups[:GROUPS_SHOWN]))
        if len(groups) > GROUPS_SHOWN:
            more = changelist_link(Membership, "all groups", user=obj.pk)
            return format_html("{} … {}", links, more)
        return links or "—"


@admin.register(ScimGroup)
class ScimGroupAdmin(ProvisionedResourceAdmin):
    membership_field = "group"
    resource_type = "Group"
    list_display = ("display_name", "site", "msp", "member_count", "last_modified", "deleted")
    list_filter = (
        LifecycleFilter,
        MspFilter,
        SiteFilter,
        ("last_modified", admin.DateFieldListFilter),
    )
    search_fields = ("display_name", "external_id")
    # Never `members`: a form widget would load every member (a group can have 50,000).
    # The members are a paginated list below the form (scimgroup/change_form.html).
    fields = (
        "id",
        "site",
        "msp",
        "display_name",
        "external_id",
        "member_count",
        "history",
        "created",
        "last_modified",
        "deleted",
    )
    readonly_fields = fields

    def change_view(self, request, object_id, form_url="", extra_context=None):
        context = {**(extra_context or {}), **self.members_context(request, object_id)}
        return super().change_view(request, object_id, form_url, extra_context=context)

    def members_context(self, request: HttpRequest, object_id: str) -> dict:
        try:
            group_id = uuid.UUID(object_id)
        except ValueError:
            return {}
        members = ScimUser.objects.filter(memberships__group_id=group_id)
        query = request.GET.get("members_q", "").strip()
        if query:
            members = members.filter(
                Q(user_name__icontains=query)
                | Q(display_name__icontains=query)
                | Q(work_email__icontains=query)
            )
        members = members.order_by("user_name", "id").only(
            "id", "user_name", "display_name", "work_email", "active"
        )
        page = Paginator(members, MEMBERS_PER_PAGE).get_page(request.GET.get("members_page"))
        return {"members_page": page, "members_q": query}

    @admin.display(description="members", ordering="membership_count")
    def member_count(self, obj: ScimGroup):
        return obj.membership_count


@admin.register(Membership)
class MembershipAdmin(EntraOwnedAdmin):
    list_display = ("user", "group", "site", "created")
    list_filter = (MembershipMspFilter, MembershipSiteFilter)
    list_select_related = ("user", "group__site")
    search_fields = ("user__user_name", "group__display_name")
    fields = ("user", "group", "site", "created")
    readonly_fields = fields
    paginator = CappedCountPaginator

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user", "group__site")

    @admin.display(description="site")
    def site(self, obj: Membership):
        return obj.group.site


class StatusClassFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status_class"

    def lookups(self, request, model_admin):
        return [("2xx", "2xx success"), ("4xx", "4xx refused"), ("5xx", "5xx server error")]

    def queryset(self, request, queryset):
        if self.value() in ("2xx", "4xx", "5xx"):
            low = int(self.value()[0]) * 100
            return queryset.filter(status__gte=low, status__lt=low + 100)
        return queryset


class MethodFilter(admin.SimpleListFilter):
    """A fixed list: listing the distinct methods would scan the whole log."""

    title = "method"
    parameter_name = "method"

    def lookups(self, request, model_admin):
        return [(method, method) for method in ("GET", "POST", "PUT", "PATCH", "DELETE")]

    def queryset(self, request, queryset):
        return queryset.filter(method=self.value()) if self.value() else queryset


@admin.register(ProvisioningLogEntry)
class ProvisioningLogEntryAdmin(ViewOnlyAdmin):
    superusers_may_delete = True

    # Status and summary first: they are what support reads, and fit at 1366 px.
    list_display = (
        "created",
        "site",
        "status",
        "summary",
        "method",
        "short_path",
        "scim_type",
        "duration_ms",
    )
    list_filter = (
        SiteFilter,
        StatusClassFilter,
        MethodFilter,
        "resource_type",
        ("created", admin.DateFieldListFilter),
    )
    list_select_related = ("site",)
    search_fields = ("path", "summary")
    search_help_text = "A SCIM id, a userName or group name, or part of the path."
    show_full_result_count = False
    paginator = CappedCountPaginator
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "created",
                    "site",
                    "credential_kind",
                    "credential_hint",
                    "actor",
                    "client_address",
                    "method",
                    "path",
                    "status",
                    "scim_type",
                    "duration_ms",
                    "resource",
                    "summary",
                )
            },
        ),
        ("What changed", {"fields": ("changes_display",)}),
        ("Request", {"fields": ("request_size", "request_pretty")}),
        ("Answer", {"fields": ("error_detail", "response_pretty")}),
    )
    readonly_fields = [field for _, options in fieldsets for field in options["fields"]]
    Media = AutocompleteFilterMedia

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("site")

    def get_search_results(self, request, queryset, search_term):
        try:
            resource_id = uuid.UUID(search_term.strip())
        except ValueError:
            return super().get_search_results(request, queryset, search_term)
        # A SCIM id: one indexed lookup, not a scan of a million paths and summaries.
        return queryset.filter(resource_id=str(resource_id)), False

    @admin.display(description="path", ordering="path")
    def short_path(self, obj: ProvisioningLogEntry):
        return obj.path if len(obj.path) <= 80 else obj.path[:79] + "…"

    @admin.display(description="resource")
    def resource(self, obj: ProvisioningLogEntry):
        model = {"User": ScimUser, "Group": ScimGroup}.get(obj.resource_type)
        try:
            pk = uuid.UUID(obj.resource_id)
        except ValueError:
            return f"{obj.resource_type} {obj.resource_id}".strip() or "—"
        if model is None:
            return obj.resource_id
        return admin_link(model(pk=pk), f"{obj.resource_type} {pk}")

    @admin.display(description="request body")
    def request_pretty(self, obj: ProvisioningLogEntry):
        if not obj.request_body and obj.request_size and obj.status in (401, 411, 413, 429):
            return "Not kept: the request was refused before a site's credential vouched for it."
        return pretty_body(obj.request_body)

    @admin.display(description="response body")
    def response_pretty(self, obj: ProvisioningLogEntry):
        if obj.status < 400:
            return "Not kept for successes (they hold what is stored, and lists other users)."
        return pretty_body(obj.response_body)

    @admin.display(description="changes")
    def changes_display(self, obj: ProvisioningLogEntry):
        return history_lines(obj.changes)


def history_lines(changes: list[dict], *, nested: bool = False) -> str:
    """ "department: Sales → Finance", one change a line."""
    lines = format_html_join(
        "", '<div class="change">{}</div>', ((history.line(c),) for c in changes)
    )
    return lines or ("" if nested else "—")


def pretty_body(text: str) -> str:
    if not text:
        return "—"
    try:
        return pretty_json(json.loads(text))
    except ValueError:
        # Capped bodies are cut mid-JSON; show them as stored.
        return format_html("<pre>{}</pre>", text)
