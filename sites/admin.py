"""The admin as a support tool for MSPs, sites, staff and Secret Tokens.

Support staff (the "Support" group, see createsupportuser) may view everything here;
only superusers change anything. A token's hash is never shown nor searchable.
"""

import uuid
from functools import cached_property

from django.contrib import admin, messages
from django.db.models import OuterRef, Q, Subquery
from django.db.models.functions import Now
from django.http import HttpRequest, QueryDict
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from scim_app.models import ProvisioningLogEntry, ScimGroup, ScimUser
from scim_app.provisioning_log import last_error, last_request

from . import tokens
from .console import subquery_count
from .forms import ThrottledAdminAuthenticationForm
from .models import MSP, ApiKey, ScimToken, Site, Staff, TokenEvent


def admin_link(obj, label: str | None = None) -> str:
    opts = obj._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
    return format_html('<a href="{}">{}</a>', url, label if label is not None else obj)


def changelist_link(model, label: str, **params) -> str:
    opts = model._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    query = "&".join(f"{key}={value}" for key, value in params.items())
    return format_html('<a href="{}?{}">{}</a>', url, query, label)


# The admin's sign-in is locked against password guessing exactly like the console's.
admin.site.login_form = ThrottledAdminAuthenticationForm
admin.site.site_header = admin.site.site_title = "SAT Portal support"
admin.site.index_title = "Provisioned data, sites and credentials"


def without_nul(text: str) -> str:
    # PostgreSQL text cannot hold NUL, so a lookup with one is a server error there;
    # no stored value has one, so dropping it changes no answer.
    return text.replace("\x00", "")


class SupportAdmin(admin.ModelAdmin):
    """The base of every admin here: hand-edited URLs never make a server error."""

    def changelist_view(self, request: HttpRequest, extra_context=None):
        if any("\x00" in key + value for key, value in request.GET.items()):
            cleaned = QueryDict(mutable=True)
            for key, values in request.GET.lists():
                cleaned.setlist(without_nul(key), [without_nul(v) for v in values])
            request.GET = cleaned
        return super().changelist_view(request, extra_context)

    def get_search_results(self, request, queryset, search_term):
        # Also the autocomplete view's search, which is not a changelist.
        return super().get_search_results(request, queryset, without_nul(search_term))


class UuidSearchMixin:
    """Search also finds the row whose `uuid_search_field` is the search term, so one
    box finds names and ids alike (`=field` in search_fields would fail on non-UUIDs)."""

    uuid_search_field = "pk"

    def get_search_results(self, request, queryset, search_term):
        found, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        try:
            value = uuid.UUID(search_term.strip())
        except ValueError:
            return found, may_have_duplicates
        return found | queryset.filter(**{self.uuid_search_field: value}), may_have_duplicates


class ViewOnlyAdmin(SupportAdmin):
    """For records the admin shows but never creates or edits (tokens, audit trails, what
    Entra provisions); superusers may delete where `superusers_may_delete`."""

    superusers_may_delete = False
    # "Show counts" would COUNT every filter choice over the whole table (a million log rows).
    show_facets = admin.ShowFacets.NEVER

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return self.superusers_may_delete and request.user.is_superuser


class AutocompleteFilter(admin.SimpleListFilter):
    """A list filter on a site or an MSP that searches as you type (the admin's own
    Select2 autocomplete) instead of listing every one: there are thousands of sites.

    `field_path` is the lookup from the listed model; `source` names a foreign key to
    the filtered model that the admin's autocomplete view accepts.
    """

    template = "admin/autocomplete_filter.html"
    field_path: str
    source: tuple[str, str, str]
    related_model: type
    base_query = "?"

    @cached_property
    def selected(self):
        # Not str.isdigit(): "²" is a digit to it, but not a number to int().
        try:
            pk = int(self.value() or "")
        except ValueError:
            return None
        return self.related_model.objects.filter(pk=pk).first()

    def has_output(self) -> bool:
        return True

    def lookups(self, request, model_admin):
        return [(str(self.selected.pk), str(self.selected))] if self.selected else []

    def queryset(self, request, queryset):
        if self.value() is None:
            return queryset
        if self.selected is None:
            return queryset.none()
        return queryset.filter(**{self.field_path: self.selected.pk})

    def choices(self, changelist):
        self.base_query = changelist.get_query_string(remove=[self.parameter_name])
        yield from super().choices(changelist)

    @property
    def autocomplete(self) -> dict[str, str]:
        app_label, model_name, field_name = self.source
        return {"app_label": app_label, "model_name": model_name, "field_name": field_name}


class SiteFilter(AutocompleteFilter):
    title = "site"
    parameter_name = "site"
    field_path = "site"
    source = ("sites", "scimtoken", "site")
    related_model = Site


class MspFilter(AutocompleteFilter):
    title = "MSP"
    parameter_name = "msp"
    field_path = "site__msp"
    source = ("sites", "site", "msp")
    related_model = MSP


class AutocompleteFilterMedia:
    js = (
        "admin/js/vendor/jquery/jquery.js",
        "admin/js/vendor/select2/select2.full.js",
        "admin/js/jquery.init.js",
        "admin/js/autocomplete.js",
        "sites/autocomplete_filter.js",
    )
    css = {"screen": ("admin/css/vendor/select2/select2.css", "admin/css/autocomplete.css")}


@admin.register(MSP)
class MSPAdmin(SupportAdmin):
    list_display = ("name", "site_count", "staff_count", "created")
    search_fields = ("name",)
    readonly_fields = ("created",)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                site_count=subquery_count(Site.objects.all(), "msp"),
                staff_count=subquery_count(Staff.objects.all(), "msp"),
            )
        )

    @admin.display(description="sites", ordering="site_count")
    def site_count(self, obj: MSP):
        return changelist_link(Site, str(obj.site_count), msp=obj.pk)

    @admin.display(description="staff", ordering="staff_count")
    def staff_count(self, obj: MSP):
        return obj.staff_count


@admin.register(Site)
class SiteAdmin(UuidSearchMixin, SupportAdmin):
    list_display = (
        "name",
        "msp",
        "sat_enabled",
        "user_count",
        "group_count",
        "active_token_count",
        "last_request_at",
        "last_request_status",
    )
    list_filter = (MspFilter, "sat_enabled")
    list_select_related = ("msp",)
    search_fields = ("name", "msp__name")
    uuid_search_field = "public_id"
    autocomplete_fields = ("msp",)
    readonly_fields = ("public_id", "created", "integration", "provisioned")
    fields = ("msp", "name", "sat_enabled", *readonly_fields)
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    Media = AutocompleteFilterMedia

    def get_queryset(self, request):
        active = ScimToken.objects.filter(revoked_at__isnull=True).filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=Now())
        )
        latest = ProvisioningLogEntry.objects.filter(site=OuterRef("pk")).order_by("-created")
        return (
            super()
            .get_queryset(request)
            .select_related("msp")
            .annotate(
                user_count=subquery_count(ScimUser.objects.all(), "site"),
                group_count=subquery_count(ScimGroup.objects.all(), "site"),
                active_token_count=subquery_count(active, "site"),
                last_request_at=Subquery(latest.values("created")[:1]),
                last_request_status=Subquery(latest.values("status")[:1]),
            )
        )

    @admin.display(description="users", ordering="user_count")
    def user_count(self, obj: Site):
        return changelist_link(ScimUser, str(obj.user_count), site=obj.pk)

    @admin.display(description="groups", ordering="group_count")
    def group_count(self, obj: Site):
        return changelist_link(ScimGroup, str(obj.group_count), site=obj.pk)

    @admin.display(description="active tokens", ordering="active_token_count")
    def active_token_count(self, obj: Site):
        return changelist_link(ScimToken, str(obj.active_token_count), site=obj.pk, state="active")

    @admin.display(description="last SCIM request", ordering="last_request_at")
    def last_request_at(self, obj: Site):
        return obj.last_request_at

    @admin.display(description="last status")
    def last_request_status(self, obj: Site):
        return obj.last_request_status

    @admin.display(description="Entra integration")
    def integration(self, obj: Site):
        lines = [("active tokens", str(obj.active_token_count))]
        for label, entry in (("last request", last_request(obj)), ("last error", last_error(obj))):
            lines.append(
                (label, admin_link(entry, f"{entry.created:%Y-%m-%d %H:%M:%S} {entry}"))
                if entry
                else (label, "—")
            )
        lines.append(("log", changelist_link(ProvisioningLogEntry, "all requests", site=obj.pk)))
        return format_html_join("", "<div>{}: {}</div>", lines)

    @admin.display(description="provisioned")
    def provisioned(self, obj: Site):
        return format_html(
            "{} · {}",
            changelist_link(ScimUser, f"{obj.user_count} users", site=obj.pk),
            changelist_link(ScimGroup, f"{obj.group_count} groups", site=obj.pk),
        )


@admin.register(Staff)
class StaffAdmin(SupportAdmin):
    list_display = ("user", "msp", "role")
    list_filter = ("role",)
    list_select_related = ("user", "msp")
    search_fields = ("user__username", "user__email", "msp__name")
    autocomplete_fields = ("user", "msp")


class TokenStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("active", "Active"), ("expired", "Expired"), ("revoked", "Revoked")]

    def queryset(self, request, queryset):
        not_expired = Q(expires_at__isnull=True) | Q(expires_at__gt=Now())
        if self.value() == "active":
            return queryset.filter(not_expired, revoked_at__isnull=True)
        if self.value() == "expired":
            return queryset.exclude(not_expired).filter(revoked_at__isnull=True)
        if self.value() == "revoked":
            return queryset.filter(revoked_at__isnull=False)
        return queryset


class HashedSecretAdmin(ViewOnlyAdmin):
    """Tokens and keys: shown by hint. `fields` lists what is shown, so the hash
    column is never on a page; nor may a URL filter on it."""

    hash_field: str

    def lookup_allowed(self, lookup, value, request=None):
        # Filtering on the hash in the URL would let anyone who can list tokens test
        # whether a given secret is valid.
        if lookup.split("__")[0] == self.hash_field:
            return False
        return super().lookup_allowed(lookup, value, request)

    @admin.display(description="secret", ordering="hint")
    def hint_display(self, obj):
        return f"…{obj.hint}"


@admin.register(ScimToken)
class ScimTokenAdmin(HashedSecretAdmin):
    """Tokens by hint only. Issuing happens in the console or with issue_scim_token,
    where the plaintext can be shown once; here they can only be revoked."""

    list_display = (
        "hint_display",
        "site",
        "msp",
        "created_at",
        "created_by",
        "last_used_at",
        "expires_at",
        "revoked_at",
        "state",
    )
    list_filter = (SiteFilter, TokenStateFilter)
    list_select_related = ("site__msp", "created_by")
    search_fields = ("site__name", "site__msp__name", "hint")
    fields = (
        "hint_display",
        "site",
        "created_at",
        "created_by",
        "last_used_at",
        "expires_at",
        "revoked_at",
        "state",
        "events",
    )
    readonly_fields = fields
    actions = ("revoke",)
    hash_field = "token_hash"
    Media = AutocompleteFilterMedia

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("site__msp", "created_by")

    def has_revoke_permission(self, request) -> bool:
        return request.user.has_perm("sites.change_scimtoken")

    @admin.action(description="Revoke the selected tokens", permissions=["revoke"])
    def revoke(self, request: HttpRequest, queryset):
        revoked = sum(
            tokens.revoke_token(token, by=request.user, via="admin")
            for token in queryset.select_related("site")
        )
        self.message_user(request, f"Revoked {revoked} token(s).", messages.SUCCESS)

    @admin.display(description="MSP", ordering="site__msp__name")
    def msp(self, obj: ScimToken):
        return obj.site.msp

    @admin.display(description="state")
    def state(self, obj: ScimToken):
        if obj.revoked_at:
            return "revoked"
        return "active" if tokens.is_active(obj) else "expired"

    @admin.display(description="audit trail")
    def events(self, obj: ScimToken):
        return format_html_join(
            "",
            "<div>{} {} by {} via {}</div>",
            (
                (
                    f"{event.at:%Y-%m-%d %H:%M:%S}",
                    event.get_action_display(),
                    event.actor or "—",
                    event.via,
                )
                for event in obj.events.select_related("actor")
            ),
        )


@admin.register(TokenEvent)
class TokenEventAdmin(ViewOnlyAdmin):
    list_display = ("at", "action", "token_display", "site", "actor", "via")
    list_filter = ("action", "via", SiteFilter)
    list_select_related = ("site", "actor", "token")
    search_fields = ("site__name", "hint", "actor__username")
    fields = ("at", "action", "token_display", "site", "actor", "via")
    readonly_fields = fields
    Media = AutocompleteFilterMedia

    @admin.display(description="token", ordering="hint")
    def token_display(self, obj: TokenEvent):
        return admin_link(obj.token, f"…{obj.hint}")


@admin.register(ApiKey)
class ApiKeyAdmin(HashedSecretAdmin):
    """MSP API keys for the REST API, by hint. They are created and revoked by MSP
    admins on the console's API keys page, where the plaintext can be shown once."""

    list_display = (
        "name",
        "hint_display",
        "msp",
        "created_at",
        "created_by",
        "last_used_at",
        "revoked_at",
    )
    list_filter = (("revoked_at", admin.EmptyFieldListFilter),)
    list_select_related = ("msp", "created_by")
    search_fields = ("name", "hint", "msp__name", "created_by__username")
    fields = list_display
    readonly_fields = fields
    hash_field = "key_hash"
