"""Credentials: secrets we issue, of which only a SHA-256 is stored.

Every kind shares one life (HashedSecret): issued with a recognisable prefix and shown
once, found by the hash of what a caller sends, last use noted, optionally ending at
`expires_at`, revoked at once, and each issue and revoke recorded as a CredentialEvent.
The rules live in `sites.credentials`; these are the rows.
"""

import uuid
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from .tenancy import MSP, Site


class CredentialKind(models.TextChoices):
    SCIM_TOKEN = "scim_token", "Secret Token"
    API_KEY = "api_key", "API key"


class CredentialState(models.TextChoices):
    ACTIVE = "active", "Active"
    # Still accepted, until `expires_at` (a newer Secret Token was issued, for instance).
    EXPIRING = "expiring", "Expiring"
    EXPIRED = "expired", "Expired"
    REVOKED = "revoked", "Revoked"


def state_filter(state: str) -> Q:
    """The rows in `state`, as a query: the one definition lists and counts use."""
    now = timezone.now()
    not_revoked = Q(revoked_at__isnull=True)
    return {
        CredentialState.ACTIVE: not_revoked & Q(expires_at__isnull=True),
        CredentialState.EXPIRING: not_revoked & Q(expires_at__gt=now),
        CredentialState.EXPIRED: not_revoked & Q(expires_at__lte=now),
        CredentialState.REVOKED: ~not_revoked,
    }[state]


class CredentialQuerySet(models.QuerySet):
    def usable(self) -> "CredentialQuerySet":
        """Accepted now: neither revoked nor past its expiry (active or expiring)."""
        return self.filter(
            state_filter(CredentialState.ACTIVE) | state_filter(CredentialState.EXPIRING)
        )


class HashedSecret(models.Model):
    """A secret we issued: `PREFIX` + 43 URL-safe characters, of which we keep the SHA-256
    and the last characters (`hint`) for people to tell them apart."""

    PREFIX: ClassVar[str]
    KIND: ClassVar[str]
    # Whether a site's MSP admins are e-mailed before one expires (sites.alerts). False
    # for kinds that are minted and replaced without a person (short-lived access tokens).
    EXPIRY_ALERT: ClassVar[bool] = True

    # Hex SHA-256 of the whole secret; unique, so checking one is a single indexed lookup.
    secret_hash = models.CharField(max_length=64, unique=True, editable=False)
    hint = models.CharField(max_length=8, help_text="The secret's last characters, for display.")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = CredentialQuerySet.as_manager()

    class Meta:
        abstract = True
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.PREFIX}…{self.hint}"

    @property
    def state(self) -> CredentialState:
        if self.revoked_at is not None:
            return CredentialState.REVOKED
        if self.expires_at is None:
            return CredentialState.ACTIVE
        if self.expires_at > timezone.now():
            return CredentialState.EXPIRING
        return CredentialState.EXPIRED

    @property
    def is_usable(self) -> bool:
        return self.state in (CredentialState.ACTIVE, CredentialState.EXPIRING)


class ScimToken(HashedSecret):
    """A site's Secret Token: Entra's long-lived bearer credential for the SCIM endpoint."""

    PREFIX = "satscim_"
    KIND = CredentialKind.SCIM_TOKEN

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="scim_tokens")

    class Meta(HashedSecret.Meta):
        verbose_name = "SCIM token"


class ApiKey(HashedSecret):
    """An MSP's key for the REST API (/api/v1/).

    A key reaches the sites of its MSP only, and acts with its creator's role at the time
    of each request: a key whose creator is no longer an admin of that MSP can only read.
    """

    PREFIX = "satapi_"
    KIND = CredentialKind.API_KEY

    msp = models.ForeignKey(MSP, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100, help_text="What the key is for, e.g. 'Onboarding'.")
    # Used in console URLs instead of the sequential pk, and as the rate-limit bucket.
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)

    class Meta(HashedSecret.Meta):
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name} {super().__str__()}"


class CredentialEvent(models.Model):
    """Audit trail: who issued or revoked which credential, for which MSP and site, when
    and through what (the console, the API, the admin or a command)."""

    class Action(models.TextChoices):
        ISSUED = "issued", "Issued"
        REVOKED = "revoked", "Revoked"

    class Via(models.TextChoices):
        CONSOLE = "console", "console"
        API = "api", "REST API"
        ADMIN = "admin", "admin"
        COMMAND = "command", "command"

    kind = models.CharField(max_length=20, choices=CredentialKind.choices)
    # The credential's pk in its kind's table (credentials of every kind share this trail).
    credential_id = models.PositiveBigIntegerField()
    msp = models.ForeignKey(MSP, on_delete=models.CASCADE, related_name="credential_events")
    # Empty for credentials of a whole MSP (API keys).
    site = models.ForeignKey(
        Site, null=True, blank=True, on_delete=models.CASCADE, related_name="credential_events"
    )
    action = models.CharField(max_length=10, choices=Action.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    via = models.CharField(max_length=20, choices=Via.choices)
    hint = models.CharField(max_length=8)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            # A credential's own history (the admin's token page).
            models.Index(fields=["kind", "credential_id"], name="sites_credevent_credential"),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.get_kind_display()} …{self.hint}"
