from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from scim_app.models import ScimGroup, ScimUser
from scim_app.resources import users
from scim_app.resources.attributes import ENTERPRISE_URN
from sites import services
from sites.models import ClientSecret, CredentialState, FederationTrust, ScimToken, Site


class SiteSerializer(serializers.ModelSerializer):
    """A site; creating, renaming and the SAT flag go through `sites.services`, the
    functions the console calls, so the API refuses exactly what the console refuses."""

    id = serializers.UUIDField(source="public_id", read_only=True)

    class Meta:
        model = Site
        fields = ["id", "name", "sat_enabled", "created"]
        read_only_fields = ["created"]
        # The one-name-per-MSP rule is services' (with its message), not a validator here.
        validators = []

    def save(self, **kwargs) -> Site:
        try:
            return super().save(**kwargs)
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.message_dict) from None

    def create(self, validated_data: dict) -> Site:
        return services.create_site(
            self.context["msp"],
            validated_data["name"],
            sat_enabled=validated_data.get("sat_enabled", True),
        )

    def update(self, site: Site, validated_data: dict) -> Site:
        if "name" in validated_data:
            services.rename_site(site, validated_data["name"])
        if "sat_enabled" in validated_data:
            services.set_sat_enabled(site, validated_data["sat_enabled"])
        return site


def state_field(help_text: str) -> serializers.ChoiceField:
    return serializers.ChoiceField(
        choices=CredentialState.choices, read_only=True, help_text=help_text
    )


class CredentialSerializer(serializers.ModelSerializer):
    """What the API shows of a credential of any kind: never its secret nor its hash."""

    created_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True, help_text="Null once deleted."
    )

    class Meta:
        fields = [
            "id",
            "hint",
            "state",
            "created_at",
            "created_by",
            "last_used_at",
            "expires_at",
            "revoked_at",
        ]


class ScimTokenSerializer(CredentialSerializer):
    state = state_field(
        "active, expiring (a newer token was issued; this one stops at expires_at), "
        "expired or revoked."
    )

    class Meta(CredentialSerializer.Meta):
        model = ScimToken


class IssuedScimTokenSerializer(ScimTokenSerializer):
    """A newly issued token: the only response that ever contains its secret."""

    token = serializers.CharField(
        help_text="The Secret Token to paste into Entra. Shown only in this response."
    )
    tenant_url = serializers.URLField(help_text="The Tenant URL to paste into Entra.")

    class Meta(ScimTokenSerializer.Meta):
        fields = [*ScimTokenSerializer.Meta.fields, "token", "tenant_url"]


class ClientSecretSerializer(CredentialSerializer):
    client_id = serializers.CharField(
        source="client.client_id", read_only=True, help_text="The OAuth client it belongs to."
    )
    state = state_field(
        "active, expiring (usable, and expires within 30 days), expired or revoked."
    )

    class Meta(CredentialSerializer.Meta):
        model = ClientSecret
        fields = ["id", "client_id", *CredentialSerializer.Meta.fields[1:]]
        extra_kwargs = {
            "last_used_at": {"help_text": "When an access token was last fetched with it."}
        }


class NewClientSecretSerializer(serializers.Serializer):
    # Whether it is 1 to 3 years is the rule's to say (oauth.issue_secret), with its message.
    lifetime_days = serializers.IntegerField(
        required=False,
        help_text="Days until the secret expires, 365 to 1095 (1 to 3 years). Default: "
        "OAUTH_SECRET_LIFETIME_DAYS (365 unless configured).",
    )


class IssuedClientSecretSerializer(ClientSecretSerializer):
    """A newly issued client secret: the only response that ever contains it."""

    client_secret = serializers.CharField(
        help_text="The Client Secret to paste into Entra. Shown only in this response."
    )
    tenant_url = serializers.URLField(help_text="The Tenant URL to paste into Entra.")
    token_endpoint = serializers.URLField(help_text="The Token Endpoint to paste into Entra.")

    class Meta(ClientSecretSerializer.Meta):
        fields = [
            *ClientSecretSerializer.Meta.fields,
            "client_secret",
            "tenant_url",
            "token_endpoint",
        ]


class FederationTrustSerializer(serializers.ModelSerializer):
    """A site's trust in an Entra app (workload identity federation): nothing secret."""

    client_id = serializers.CharField(
        source="client.client_id",
        read_only=True,
        help_text="The Client ID Entra sends with its assertions.",
    )
    created_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True, help_text="Null once deleted."
    )
    state = state_field("active or revoked.")

    class Meta:
        model = FederationTrust
        fields = [
            "id",
            "client_id",
            "issuer",
            "jwks_url",
            "subject",
            "audience",
            "tenant_id",
            "state",
            "created_at",
            "created_by",
            "last_used_at",
            "revoked_at",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "last_used_at": {"help_text": "When an access token was last fetched through it."}
        }


class NewFederationTrustSerializer(serializers.Serializer):
    """The four values Entra shows (and optionally the tenant id). Whether they are
    acceptable is federation.validate's to say, with its messages."""

    issuer = serializers.CharField(help_text="https://login.microsoftonline.com/<tenant ID>/v2.0")
    jwks_url = serializers.CharField(
        help_text="https://login.microsoftonline.com/<tenant ID>/discovery/v2.0/keys"
    )
    subject = serializers.CharField(help_text="The app's object id, as Entra shows it.")
    audience = serializers.CharField(help_text="api://<app id>, or the bare app id.")
    tenant_id = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="Optional: assertions must then carry it as their tid.",
    )


class AddedFederationTrustSerializer(FederationTrustSerializer):
    """A new trust, with what to paste back into Entra."""

    token_endpoint = serializers.URLField(help_text="The Token URL to paste into Entra.")
    tenant_url = serializers.URLField(help_text="The Tenant URL to paste into Entra.")

    class Meta(FederationTrustSerializer.Meta):
        fields = [*FederationTrustSerializer.Meta.fields, "token_endpoint", "tenant_url"]


class DisabledSerializer(serializers.Serializer):
    scim_tokens = serializers.IntegerField(help_text="Secret Tokens revoked.")
    client_secrets = serializers.IntegerField(help_text="OAuth client secrets revoked.")
    federation_trusts = serializers.IntegerField(help_text="Federation trusts revoked.")


class LastErrorSerializer(serializers.Serializer):
    at = serializers.DateTimeField(source="created")
    method = serializers.CharField()
    path = serializers.CharField()
    status = serializers.IntegerField()
    message = serializers.CharField(source="summary")


class SiteStatusSerializer(serializers.Serializer):
    """`status.provisioning_summary()`, the status the console's settings page shows."""

    entra_status = serializers.CharField(
        source="entra.label",
        help_text="Training disabled, Not configured, Waiting for first request, "
        "Provisioning, Token expired, Token revoked, Client secret expired or Client secret "
        "revoked.",
    )
    users = serializers.IntegerField()
    active_users = serializers.IntegerField()
    groups = serializers.IntegerField()
    last_request = serializers.DateTimeField(
        source="entra.last_request",
        allow_null=True,
        help_text="When Entra last called for the site (from the provisioning log).",
    )
    last_error = LastErrorSerializer(allow_null=True)
    nearest_secret_expiry = serializers.DateTimeField(
        source="entra.secret_expires_at",
        allow_null=True,
        help_text="When the first of the site's usable OAuth client secrets expires (Entra "
        "stops then, unless it has a newer one); null without one.",
    )


class ManagerSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="The manager's id as Entra sent it.")
    user_name = serializers.CharField(allow_null=True, help_text="Null: not a user of this site.")
    display_name = serializers.CharField(allow_null=True)


class ScimUserSerializer(serializers.ModelSerializer):
    """A provisioned user: the attributes MSPs work with, and `scim`, every attribute
    exactly as Entra sent it."""

    email = serializers.CharField(source="work_email")
    preferred_language = serializers.SerializerMethodField()
    manager = serializers.SerializerMethodField()
    phone_numbers = serializers.SerializerMethodField()
    addresses = serializers.SerializerMethodField()
    scim = serializers.JSONField(source="data", help_text="The SCIM attributes as stored.")

    class Meta:
        model = ScimUser
        fields = [
            "id",
            "user_name",
            "display_name",
            "given_name",
            "family_name",
            "email",
            "external_id",
            "active",
            "title",
            "department",
            "employee_number",
            "preferred_language",
            "manager",
            "phone_numbers",
            "addresses",
            "scim",
            "created",
            "last_modified",
        ]

    def get_preferred_language(self, user: ScimUser) -> str:
        return user.data.get("preferredLanguage", "")

    @extend_schema_field(ManagerSerializer(allow_null=True))
    def get_manager(self, user: ScimUser) -> dict | None:
        value = user.data.get(ENTERPRISE_URN, {}).get("manager", {}).get("value")
        if value is None:
            return None
        manager = users.manager_of(user)
        return {
            "id": value,
            "user_name": manager.user_name if manager else None,
            "display_name": manager.display_name if manager else None,
        }

    def get_phone_numbers(self, user: ScimUser) -> list[dict]:
        return user.data.get("phoneNumbers", [])

    def get_addresses(self, user: ScimUser) -> list[dict]:
        return user.data.get("addresses", [])


class ScimGroupSerializer(serializers.ModelSerializer):
    member_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = ScimGroup
        fields = ["id", "display_name", "external_id", "member_count", "created", "last_modified"]
