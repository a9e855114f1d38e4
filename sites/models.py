import uuid

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower


class MSP(models.Model):
    """A managed service provider: the console's customer account."""

    name = models.CharField(max_length=200, unique=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "MSP"
        verbose_name_plural = "MSPs"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Staff(models.Model):
    """A console login's membership of exactly one MSP, with its role there."""

    class Role(models.TextChoices):
        ADMIN = "admin", "Admin"
        READ_ONLY = "read_only", "Read-only"

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff"
    )
    msp = models.ForeignKey(MSP, on_delete=models.CASCADE, related_name="staff")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.READ_ONLY)

    class Meta:
        verbose_name_plural = "staff"

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()} at {self.msp})"

    @property
    def is_admin(self) -> bool:
        return self.role == self.Role.ADMIN


class Site(models.Model):
    """One customer of an MSP; its trainees and groups are provisioned by Entra."""

    msp = models.ForeignKey(MSP, on_delete=models.CASCADE, related_name="sites")
    name = models.CharField(max_length=200)
    sat_enabled = models.BooleanField("security awareness training enabled", default=True)
    # Used in console URLs and API paths instead of the sequential pk.
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint("msp", Lower("name"), name="sites_site_name_unique_per_msp"),
        ]

    def __str__(self) -> str:
        return self.name


class ScimToken(models.Model):
    """A site's Secret Token for Entra. Only the SHA-256 of the secret is kept."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="scim_tokens")
    # Hex SHA-256 of the whole secret; unique, so verifying is one indexed lookup.
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    hint = models.CharField(max_length=8, help_text="The secret's last characters, for display.")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_used_at = models.DateTimeField(null=True, blank=True)
    # Set when a newer token is issued: the old one keeps working for the grace period.
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "SCIM token"

    def __str__(self) -> str:
        return f"…{self.hint} ({self.site})"


class TokenEvent(models.Model):
    """Audit trail: who issued or revoked which token of which site, and when."""

    class Action(models.TextChoices):
        ISSUED = "issued", "Issued"
        REVOKED = "revoked", "Revoked"

    token = models.ForeignKey(ScimToken, on_delete=models.CASCADE, related_name="events")
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="token_events")
    action = models.CharField(max_length=10, choices=Action.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    via = models.CharField(max_length=20, help_text="console, api, admin or command")
    hint = models.CharField(max_length=8)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.get_action_display()} …{self.hint} for {self.site}"


class ApiKey(models.Model):
    """An MSP's key for the REST API (/api/v1/). Only the SHA-256 of the secret is kept.

    A key reaches the sites of its MSP only, and acts with its creator's role at the time
    of each request: a key whose creator is no longer an admin of that MSP can only read.
    """

    msp = models.ForeignKey(MSP, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100, help_text="What the key is for, e.g. 'Onboarding'.")
    # Used in console URLs instead of the sequential pk, and as the rate-limit bucket.
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # Hex SHA-256 of the whole secret; unique, so verifying is one indexed lookup.
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    hint = models.CharField(max_length=8, help_text="The secret's last characters, for display.")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name} …{self.hint} ({self.msp})"
