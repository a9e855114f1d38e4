"""The admin for MSPs, sites, staff and credentials (by hint: a hash is never shown
nor searchable). Base classes and the site are in sat_portal.admin."""

from django.contrib import admin, messages
from django.db.models import OuterRef, Subquery
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join

from sat_portal.admin import (
    AutocompleteFilter,
    AutocompleteFilterMedia,
    SupportAdmin,
    UuidSearchMixin,
    ViewOnlyAdmin,
    admin_link,
    changelist_link,
)
from sat_portal.queries import subquery_count
from scim_app.models import ProvisioningLogEntry, ScimGroup, ScimUser
from scim_app.provisioning_log.queries import last_error, last_request

from .credentials import KINDS, api_keys, federation, oauth, scim_tokens
from .credentials.base import Via
from .models import (
    MSP,
    AccessToken,
    ApiKey,
    ClientSecret,
    CredentialEvent,
    CredentialState,
    FederationTrust,
    OAuthClient,
    ScimToken,
    Site,
    SiteAlert,
    Staff,
    StaffEvent,
)
from .models.credentials import state_filter


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
        "usable_token_count",
        "usable_secret_count",
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
        latest = ProvisioningLogEntry.objects.filter(site=OuterRef("pk")).order_by("-created")
        return (
            super()
            .get_queryset(request)
            .select_related("msp")
            .annotate(
                user_count=subquery_count(ScimUser.objects.live(), "site"),
                group_count=subquery_count(ScimGroup.objects.live(), "site"),
                usable_token_count=subquery_count(ScimToken.objects.usable(), "site"),
                usable_secret_count=subquery_count(ClientSecret.objects.usable(), "site"),
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

    @admin.display(description="active tokens", ordering="usable_token_count")
    def usable_token_count(self, obj: Site):
        return changelist_link(ScimToken, str(obj.usable_token_count), site=obj.pk, state="usable")

    @admin.display(description="active client secrets", ordering="usable_secret_count")
    def usable_secret_count(self, obj: Site):
        return changelist_link(
            ClientSecret, str(obj.usable_secret_count), site=obj.pk, state="usable"
        )

    @admin.display(description="last SCIM request", ordering="last_request_at")
    def last_request_at(self, obj: Site):
        return obj.last_request_at

    @admin.display(description="last status")
    def last_request_status(self, obj: Site):
        return obj.last_request_status

    @admin.display(description="Entra integration")
    def integration(self, obj: Site):
        lines = [
            ("active tokens", str(obj.usable_token_count)),
            ("active client secrets", str(obj.usable_secret_count)),
        ]
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


@admin.register(StaffEvent)
class StaffEventAdmin(ViewOnlyAdmin):
    """The teams' audit trail: MSP admins invite, change roles and remove on the console's
    Team page (sites.team), and every change is here."""

    list_display = ("at", "msp", "action", "email", "old_role", "new_role", "actor")
    list_filter = ("action",)
    list_select_related = ("msp", "actor")
    search_fields = ("email", "msp__name", "actor__username")
    fields = list_display
    readonly_fields = fields


@admin.register(SiteAlert)
class SiteAlertAdmin(ViewOnlyAdmin):
    """The last e-mail alert of each kind that a site's MSP admins got (sites.alerts)."""

    list_display = ("site", "msp", "kind", "sent_at")
    list_filter = ("kind",)
    list_select_related = ("site__msp",)
    search_fields = ("site__name", "site__msp__name")
    fields = list_display
    readonly_fields = fields

    @admin.display(description="MSP", ordering="site__msp__name")
    def msp(self, obj: SiteAlert):
        return obj.site.msp


class CredentialStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("usable", "Usable (active or expiring)"), *CredentialState.choices]

    def queryset(self, request, queryset):
        if self.value() == "usable":
            return queryset.usable()
        if self.value() in CredentialState.values:
            return queryset.filter(state_filter(self.value(), queryset.model.EXPIRING_WITHIN))
        return queryset


class RevocableAdmin(ViewOnlyAdmin):
    """Records that may only be revoked here, by superusers, with the rule the console
    calls (`revoke_one`), which also writes the audit trail."""

    actions = ("revoke",)
    noun = "credential"

    def has_revoke_permission(self, request) -> bool:
        opts = self.model._meta
        return request.user.has_perm(f"{opts.app_label}.change_{opts.model_name}")

    def revoke_one(self, credential, request: HttpRequest) -> bool:
        raise NotImplementedError

    @admin.action(description="Revoke the selected %(verbose_name_plural)s", permissions=["revoke"])
    def revoke(self, request: HttpRequest, queryset):
        revoked = sum(self.revoke_one(credential, request) for credential in queryset)
        self.message_user(request, f"Revoked {revoked} {self.noun}(s).", messages.SUCCESS)


class CredentialAdmin(RevocableAdmin):
    """Credentials, shown by hint. `fields` lists what is shown, so the hash column is
    never on a page; nor may a URL filter on it. They are issued where the plaintext
    can be shown once (the console, the API, a command); here they can only be revoked."""

    hash_field = "secret_hash"

    def lookup_allowed(self, lookup, value, request=None):
        # Filtering on the hash in the URL would let anyone who can list credentials test
        # whether a given secret is valid.
        if lookup.split("__")[0] == self.hash_field:
            return False
        return super().lookup_allowed(lookup, value, request)

    @admin.display(description="secret", ordering="hint")
    def hint_display(self, obj):
        return f"{obj.PREFIX}…{obj.hint}"

    @admin.display(description="state")
    def state(self, obj):
        return obj.state.label

    @admin.display(description="audit trail")
    def events(self, obj):
        trail = CredentialEvent.objects.filter(kind=obj.KIND, credential_id=obj.pk)
        return format_html_join(
            "",
            "<div>{} {} by {} via {}</div>",
            (
                (
                    f"{event.at:%Y-%m-%d %H:%M:%S}",
                    event.get_action_display(),
                    event.actor or "—",
                    event.get_via_display(),
                )
                for event in trail.select_related("actor")
            ),
        )


class SiteCredentialAdmin(CredentialAdmin):
    """A site's credentials, filtered by site (type to search) and state."""

    list_filter = (SiteFilter, CredentialStateFilter)
    list_select_related = ("site__msp", "created_by")
    search_fields = ("site__name", "site__msp__name", "hint")
    Media = AutocompleteFilterMedia

    def get_queryset(self, request):
        return super().get_queryset(request).select_related(*self.list_select_related)

    @admin.display(description="MSP", ordering="site__msp__name")
    def msp(self, obj):
        return obj.site.msp


@admin.register(ScimToken)
class ScimTokenAdmin(SiteCredentialAdmin):
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
    noun = "token"
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

    def revoke_one(self, credential: ScimToken, request: HttpRequest) -> bool:
        return scim_tokens.revoke_token(credential, by=request.user, via=Via.ADMIN)


@admin.register(OAuthClient)
class OAuthClientAdmin(RevocableAdmin):
    """Sites' OAuth clients. Revoking one revokes its secrets (each in the audit trail)
    and so its access tokens; the site's next secret comes with a new client id."""

    list_display = ("client_id", "site", "msp", "created_at", "created_by", "revoked_at")
    list_filter = (SiteFilter,)
    list_select_related = ("site__msp", "created_by")
    search_fields = ("client_id", "site__name", "site__msp__name")
    noun = "client"
    fields = (*list_display, "secrets")
    readonly_fields = fields
    Media = AutocompleteFilterMedia

    def revoke_one(self, credential: OAuthClient, request: HttpRequest) -> bool:
        return oauth.revoke_client(credential, by=request.user, via=Via.ADMIN)

    @admin.display(description="MSP", ordering="site__msp__name")
    def msp(self, obj: OAuthClient):
        return obj.site.msp

    @admin.display(description="client secrets")
    def secrets(self, obj: OAuthClient):
        return format_html_join(
            "",
            "<div>{} {}</div>",
            ((admin_link(secret), secret.state.label) for secret in obj.secrets.all()),
        )


@admin.register(ClientSecret)
class ClientSecretAdmin(SiteCredentialAdmin):
    """OAuth client secrets. MSP admins issue and revoke them in the console or the API;
    their plaintext is shown there once."""

    list_display = (
        "hint_display",
        "client",
        "site",
        "msp",
        "created_at",
        "created_by",
        "last_used_at",
        "expires_at",
        "revoked_at",
        "state",
    )
    noun = "client secret"
    list_select_related = ("site__msp", "client", "created_by")
    search_fields = ("site__name", "site__msp__name", "hint", "client__client_id")
    fields = (*list_display, "events")
    readonly_fields = fields

    def revoke_one(self, credential: ClientSecret, request: HttpRequest) -> bool:
        return oauth.revoke_secret(credential, by=request.user, via=Via.ADMIN)


@admin.register(FederationTrust)
class FederationTrustAdmin(SiteCredentialAdmin):
    """Workload identity federation: the Entra apps whose signed assertions a site's
    client accepts. Nothing here is secret. MSP admins add them in the console, the API
    or with `add_federation_trust`; superusers may revoke them here."""

    list_display = (
        "subject",
        "issuer",
        "audience",
        "site",
        "msp",
        "client",
        "created_at",
        "created_by",
        "last_used_at",
        "revoked_at",
        "state",
    )
    noun = "federation trust"
    list_select_related = ("site__msp", "client", "created_by")
    search_fields = ("site__name", "site__msp__name", "subject", "issuer", "client__client_id")
    fields = (*list_display, "jwks_url", "tenant_id", "events")
    readonly_fields = fields

    def revoke_one(self, credential: FederationTrust, request: HttpRequest) -> bool:
        return federation.revoke_trust(credential, by=request.user, via=Via.ADMIN)


@admin.register(AccessToken)
class AccessTokenAdmin(SiteCredentialAdmin):
    """Access tokens minted at the token endpoint, an hour or a few each, with a client
    secret or through a federation trust. Not revoked one by one: revoking what they
    were minted with stops them all."""

    actions = ()
    list_display = (
        "hint_display",
        "secret",
        "trust",
        "site",
        "msp",
        "created_at",
        "last_used_at",
        "expires_at",
        "state",
    )
    list_select_related = ("site__msp", "secret", "trust")
    search_fields = ("site__name", "site__msp__name", "hint", "secret__hint")
    fields = list_display
    readonly_fields = fields


@admin.register(ApiKey)
class ApiKeyAdmin(CredentialAdmin):
    """MSP API keys for the REST API. MSP admins create and revoke them on the console's
    API keys page."""

    list_display = (
        "name",
        "hint_display",
        "msp",
        "created_at",
        "created_by",
        "last_used_at",
        "revoked_at",
        "state",
    )
    list_filter = (CredentialStateFilter,)
    noun = "key"
    list_select_related = ("msp", "created_by")
    search_fields = ("name", "hint", "msp__name", "created_by__username")
    fields = (*list_display, "events")
    readonly_fields = fields

    def revoke_one(self, credential: ApiKey, request: HttpRequest) -> bool:
        return api_keys.revoke_key(credential, by=request.user, via=Via.ADMIN)


@admin.register(CredentialEvent)
class CredentialEventAdmin(ViewOnlyAdmin):
    list_display = ("at", "action", "kind", "credential_display", "msp", "site", "actor", "via")
    list_filter = ("action", "kind", "via", SiteFilter)
    list_select_related = ("msp", "site", "actor")
    search_fields = ("site__name", "msp__name", "hint", "actor__username")
    fields = ("at", "action", "kind", "credential_display", "msp", "site", "actor", "via")
    readonly_fields = fields
    Media = AutocompleteFilterMedia

    @admin.display(description="credential", ordering="hint")
    def credential_display(self, obj: CredentialEvent):
        if obj.kind == FederationTrust.KIND:  # no secret, so no prefix: its subject's end
            return admin_link(FederationTrust(pk=obj.credential_id), obj.hint)
        model = KINDS[obj.kind]
        return admin_link(model(pk=obj.credential_id), f"{model.PREFIX}…{obj.hint}")
