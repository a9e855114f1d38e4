from django.db import IntegrityError, transaction
from rest_framework import serializers

from scim_app.models import ScimGroup, ScimUser
from sites import tokens
from sites.models import ScimToken, Site

DUPLICATE_NAME = "Your MSP already has a site with this name."


class SiteSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)

    class Meta:
        model = Site
        fields = ["id", "name", "sat_enabled", "created"]
        read_only_fields = ["created"]

    def validate_name(self, name: str) -> str:
        # The database refuses the same name twice per MSP, ignoring case
        # (sites_site_name_unique_per_msp): say so with the field's name, not a 500.
        others = Site.objects.filter(msp=self.context["msp"], name__iexact=name)
        if self.instance is not None:
            others = others.exclude(pk=self.instance.pk)
        if others.exists():
            raise serializers.ValidationError(DUPLICATE_NAME)
        return name

    def save(self, **kwargs) -> Site:
        try:
            with transaction.atomic():
                return super().save(msp=self.context["msp"], **kwargs)
        except IntegrityError:  # the same name, saved by a concurrent request
            raise serializers.ValidationError({"name": [DUPLICATE_NAME]}) from None


class ScimTokenSerializer(serializers.ModelSerializer):
    state = serializers.SerializerMethodField(
        help_text="active, expiring (a newer token was issued; this one stops at "
        "expires_at), expired or revoked."
    )
    created_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True, help_text="Null once deleted."
    )

    class Meta:
        model = ScimToken
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

    def get_state(self, token: ScimToken) -> str:
        if token.revoked_at:
            return "revoked"
        if not tokens.is_active(token):
            return "expired"
        return "expiring" if token.expires_at else "active"


class IssuedScimTokenSerializer(ScimTokenSerializer):
    """A newly issued token: the only response that ever contains its secret."""

    token = serializers.CharField(
        help_text="The Secret Token to paste into Entra. Shown only in this response."
    )
    tenant_url = serializers.URLField(help_text="The Tenant URL to paste into Entra.")

    class Meta(ScimTokenSerializer.Meta):
        fields = [*ScimTokenSerializer.Meta.fields, "token", "tenant_url"]


class LastErrorSerializer(serializers.Serializer):
    at = serializers.DateTimeField(source="created")
    method = serializers.CharField()
    path = serializers.CharField()
    status = serializers.IntegerField()
    message = serializers.CharField(source="summary")


class SiteStatusSerializer(serializers.Serializer):
    entra_status = serializers.CharField(
        help_text="Not configured, Waiting for first request, Provisioning or Token revoked."
    )
    users = serializers.IntegerField()
    active_users = serializers.IntegerField()
    groups = serializers.IntegerField()
    last_request = serializers.DateTimeField(
        allow_null=True, help_text="When Entra last called with one of the site's tokens."
    )
    last_error = LastErrorSerializer(allow_null=True)


class ScimUserSerializer(serializers.ModelSerializer):
    email = serializers.CharField(source="work_email")

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
            "created",
            "last_modified",
        ]


class ScimGroupSerializer(serializers.ModelSerializer):
    member_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = ScimGroup
        fields = ["id", "display_name", "external_id", "member_count", "created", "last_modified"]
