"""MSPs, their staff and their sites: who the tenants are."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower

from sat_portal.loading import LoadedAsIs
from sites.remembered import ForgettingQuerySet


class MSP(models.Model):
    """A managed service provider: the console's customer account."""

    name = models.CharField(max_length=200, unique=True)
    created = models.DateTimeField(auto_now_add=True)

    # Sites' credentials are remembered with their site (sites.remembered).
    objects = ForgettingQuerySet.as_manager()

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
    # Used in console URLs (the Team page) instead of the sequential pk.
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)

    class Meta:
        verbose_name_plural = "staff"

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()} at {self.msp})"

    @property
    def is_admin(self) -> bool:
        return self.role == self.Role.ADMIN


class Site(LoadedAsIs):
    """One customer of an MSP; its trainees and groups are provisioned by Entra."""

    msp = models.ForeignKey(MSP, on_delete=models.CASCADE, related_name="sites")
    name = models.CharField(max_length=200)
    sat_enabled = models.BooleanField("security awareness training enabled", default=True)
    # Hold mode: Entra's DELETEs deactivate users instead (still 204), until an MSP admin
    # applies them (scim_app.resources.safety).
    hold_deletes = models.BooleanField("hold Entra's deletes", default=False)
    # When a mass deprovisioning was last noticed (an unusual share of users disabled or
    # deleted within the hour); cleared when an MSP admin acknowledges it.
    deprovisioning_alert_at = models.DateTimeField(null=True, blank=True)
    # Set by the site's first delete of a user or group (scim_app.resources.lifecycle),
    # never cleared: until then a POST has no deleted twin to revive and does not look.
    has_deleted_resources = models.BooleanField(default=False, editable=False)
    # Used in console URLs and API paths instead of the sequential pk.
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created = models.DateTimeField(auto_now_add=True)

    objects = ForgettingQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint("msp", Lower("name"), name="sites_site_name_unique_per_msp"),
        ]

    def __str__(self) -> str:
        return self.name


class StaffEvent(models.Model):
    """Audit trail of an MSP's team: who invited whom, changed whose role or removed whom,
    and when. Kept when the logins involved are gone (the email is copied)."""

    class Action(models.TextChoices):
        INVITED = "invited", "Invited"
        REINVITED = "reinvited", "New invitation link"
        ROLE_CHANGED = "role_changed", "Role changed"
        REMOVED = "removed", "Removed"

    msp = models.ForeignKey(MSP, on_delete=models.CASCADE, related_name="staff_events")
    action = models.CharField(max_length=20, choices=Action.choices)
    subject = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    email = models.CharField(max_length=254)
    old_role = models.CharField(max_length=20, choices=Staff.Role.choices, blank=True)
    new_role = models.CharField(max_length=20, choices=Staff.Role.choices, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            # The Team page's recent changes, newest first.
            models.Index(fields=["msp", "-at"], name="sites_staffevent_msp_at"),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.email}"

    @property
    def description(self) -> str:
        """What the actor did, e.g. "changed bob@… from Admin to Read-only"."""
        return {
            self.Action.INVITED: f"invited {self.email} as {self.get_new_role_display()}",
            self.Action.REINVITED: f"sent {self.email} a new invitation link",
            self.Action.ROLE_CHANGED: (
                f"changed {self.email} from {self.get_old_role_display()} to "
                f"{self.get_new_role_display()}"
            ),
            self.Action.REMOVED: f"removed {self.email}",
        }[self.action]
