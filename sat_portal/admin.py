"""The admin as a support tool: its site (branding, the throttled sign-in) and the base
classes every app's admin builds on.

Support staff (the "Support" group, see createsupportuser) may view; only superusers
change anything. Every list and page runs a bounded number of queries however large the
tables (a million log rows, 50,000-member groups).
"""

import uuid
from functools import cached_property

from django.contrib import admin
from django.http import HttpRequest, QueryDict
from django.urls import reverse
from django.utils.html import format_html

from sat_portal.queries import CappedPaginator
from sites.models import Staff
from sites.signin import ThrottledAdminAuthenticationForm


class SupportAdminSite(admin.AdminSite):
    site_header = site_title = "SAT Portal support"
    index_title = "Provisioned data, sites and credentials"
    # Locked against password guessing exactly like the console's sign-in.
    login_form = ThrottledAdminAuthenticationForm

    def each_context(self, request: HttpRequest) -> dict:
        # "View site" leads to the console, which only MSP staff may use: support staff
        # would land on a 403 page pointing back here.
        context = super().each_context(request)
        if not Staff.objects.filter(user_id=request.user.pk).exists():
            context["site_url"] = None
        return context


def admin_link(obj, label: str | None = None) -> str:
    opts = obj._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
    return format_html('<a href="{}">{}</a>', url, label if label is not None else obj)


def changelist_link(model, label: str, **params) -> str:
    opts = model._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    query = "&".join(f"{key}={value}" for key, value in params.items())
    return format_html('<a href="{}?{}">{}</a>', url, query, label)


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
    """For records the admin shows but never creates or edits (credentials, audit trails,
    what Entra provisions); superusers may delete where `superusers_may_delete`."""

    superusers_may_delete = False
    # "Show counts" would COUNT every filter choice over the whole table (a million log rows).
    show_facets = admin.ShowFacets.NEVER

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return self.superusers_may_delete and request.user.is_superuser


# The admin's lists of big tables count at most 10,000 rows (the log has millions).
CappedCountPaginator = CappedPaginator


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


class AutocompleteFilterMedia:
    js = (
        "admin/js/vendor/jquery/jquery.js",
        "admin/js/vendor/select2/select2.full.js",
        "admin/js/jquery.init.js",
        "admin/js/autocomplete.js",
        "sites/autocomplete_filter.js",
    )
    css = {"screen": ("admin/css/vendor/select2/select2.css", "admin/css/autocomplete.css")}
