"""Users and groups that Entra provisions into a site.

These are customer identities, not Django logins. Every row belongs to one site,
and every query the SCIM endpoint makes starts from that site.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils import timezone

from sat_portal.loading import LoadedAsIs
from sites.models import CredentialKind, Site

USER_NAME_MAX = 320
EMAIL_MAX = 320
TEXT_MAX = 255

# Uniqueness and Entra's matching queries concern the resources SCIM can see: a deleted
# user's userName is free for a new one (the deleted row is kept, see deleted_at).
LIVE = Q(deleted_at__isnull=True)


class ProvisionedQuerySet(models.QuerySet):
    def live(self):
        """What SCIM, the console counts and the API see: not deleted."""
        return self.filter(LIVE)

    def deleted(self):
        return self.filter(deleted_at__isnull=False)


class ScimUser(LoadedAsIs):
    """A trainee, as Entra provisioned it.

    `data` holds the SCIM attributes exactly as stored and returned (scim_app.resources:
    canonical attribute names, values as sent, the enterprise extension under its URN).
    The other columns mirror what filters, uniqueness and lists need from it; they are
    written from `data` on every save (resources.users.mirror) and never on their own.
    """

    # The SCIM `id`: random, so ids cannot be guessed or enumerated across sites.
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Indexed by each of the indexes below, which all start with it: no index of its own
    # to keep up on every write.
    site = models.ForeignKey(
        Site, on_delete=models.CASCADE, related_name="scim_users", db_index=False
    )
    data = models.JSONField(default=dict, blank=True)
    user_name = models.CharField("user name", max_length=USER_NAME_MAX)
    external_id = models.CharField("external id", max_length=TEXT_MAX, blank=True)
    display_name = models.CharField("display name", max_length=TEXT_MAX, blank=True)
    given_name = models.CharField("given name", max_length=TEXT_MAX, blank=True)
    family_name = models.CharField("family name", max_length=TEXT_MAX, blank=True)
    title = models.CharField("title", max_length=TEXT_MAX, blank=True)
    department = models.CharField("department", max_length=TEXT_MAX, blank=True)
    employee_number = models.CharField("employee number", max_length=TEXT_MAX, blank=True)
    # The work address from `emails`, kept in a column so it can be indexed.
    work_email = models.CharField("work email", max_length=EMAIL_MAX, blank=True)
    # True when `emails` holds more than one work address (Entra sends one; other
    # clients may send more): a filter on the work address then also looks at the rest.
    # A database default too, so that rows written without it (by the code before it,
    # during a rolling deploy, or by a bulk load) are valid.
    more_work_emails = models.BooleanField(default=False, db_default=False, editable=False)
    # Every address, lower-cased, one per line between newlines ("\na@x\nb@y\n"), so
    # that `emails.value eq/sw/ew/co` can match any of them on any database.
    email_values = models.TextField(blank=True, default="", editable=False)
    active = models.BooleanField(default=True)
    # The enterprise extension's manager.value, when it is the id of a user we could have
    # issued. No database constraint: Entra may name a manager before (or without)
    # provisioning them, and the value is kept as sent. Only a user of the same site is
    # ever shown as the manager (resources.users.manager_of).
    manager = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="reports",
    )
    created = models.DateTimeField(auto_now_add=True)
    last_modified = models.DateTimeField(auto_now=True)
    # A SCIM DELETE only sets this: to SCIM the user is gone (404, not in filters, its
    # userName free), but the row and its memberships (the trainee's history) are kept
    # for SCIM_DELETED_RETENTION_DAYS, can be restored, and are purged after that.
    deleted_at = models.DateTimeField(null=True, blank=True)
    # A DELETE the site's hold mode turned into a deactivation, waiting for an MSP admin.
    delete_held_at = models.DateTimeField(null=True, blank=True)

    objects = ProvisionedQuerySet.as_manager()

    class Meta:
        verbose_name = "provisioned user"
        constraints = [
            # Also serves `filter=userName eq "..."`, Entra's matching query.
            models.UniqueConstraint(
                F("site"),
                Lower("user_name"),
                condition=LIVE,
                name="scim_user_username_unique_per_site",
            ),
        ]
        indexes = [
            # Reviving a deleted user whose userName Entra creates again.
            models.Index(
                F("site"),
                Lower("user_name"),
                condition=Q(deleted_at__isnull=False),
                name="scim_user_deleted_user_name",
            ),
            # The retention purge: deleted rows older than the retention period.
            models.Index(
                fields=["deleted_at"],
                condition=Q(deleted_at__isnull=False),
                name="scim_user_deleted_at",
            ),
            # The console's Users page sorted by last change.
            models.Index(fields=["site", "-last_modified"], name="scim_user_site_modified"),
            # `filter=externalId eq "..."` (externalId as the matching key).
            models.Index(fields=["site", "external_id"], name="scim_user_site_external_id"),
            # `filter=emails[type eq "work"].value eq "..."` (email as the matching key).
            models.Index(F("site"), Lower("work_email"), name="scim_user_site_work_email"),
            # ... and the few users with more than one work address.
            models.Index(
                fields=["site"],
                condition=Q(more_work_emails=True),
                name="scim_user_more_work_emails",
            ),
            # `GET /Users?startIndex=..&count=..`: a page in stable order without a sort.
            models.Index(fields=["site", "id"], name="scim_user_site_id"),
        ]

    def __str__(self) -> str:
        return self.user_name


class ScimGroup(LoadedAsIs):
    """A group of a site's trainees. `data` holds its SCIM attributes as for users;
    members are rows of Membership, never part of `data`."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Indexed by the indexes below, which start with it.
    site = models.ForeignKey(
        Site, on_delete=models.CASCADE, related_name="scim_groups", db_index=False
    )
    data = models.JSONField(default=dict, blank=True)
    display_name = models.CharField("display name", max_length=TEXT_MAX)
    external_id = models.CharField("external id", max_length=TEXT_MAX, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    last_modified = models.DateTimeField(auto_now=True)
    members = models.ManyToManyField(
        ScimUser, through="Membership", related_name="scim_groups", blank=True
    )
    # As for users: a SCIM DELETE keeps the group and its memberships for the retention.
    deleted_at = models.DateTimeField(null=True, blank=True)

    objects = ProvisionedQuerySet.as_manager()

    class Meta:
        verbose_name = "provisioned group"
        constraints = [
            # Also serves `filter=displayName eq "..."`, Entra's group matching query.
            models.UniqueConstraint(
                F("site"),
                Lower("display_name"),
                condition=LIVE,
                name="scim_group_display_name_unique_per_site",
            ),
        ]
        indexes = [
            models.Index(
                F("site"),
                Lower("display_name"),
                condition=Q(deleted_at__isnull=False),
                name="scim_group_deleted_name",
            ),
            models.Index(
                fields=["deleted_at"],
                condition=Q(deleted_at__isnull=False),
                name="scim_group_deleted_at",
            ),
            # `filter=externalId eq "..."` on groups.
            models.Index(fields=["site", "external_id"], name="scim_group_site_external_id"),
            # `GET /Groups?startIndex=..&count=..` in stable order.
            models.Index(fields=["site", "id"], name="scim_group_site_id"),
        ]

    def __str__(self) -> str:
        return self.display_name


class Membership(models.Model):
    """One user in one group: adds and removes are single-row inserts and deletes."""

    # Indexed by the unique pair, which starts with it.
    group = models.ForeignKey(
        ScimGroup, on_delete=models.CASCADE, related_name="memberships", db_index=False
    )
    user = models.ForeignKey(ScimUser, on_delete=models.CASCADE, related_name="memberships")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            # Also serves a group's member list and `members[value eq "..."]` removes.
            models.UniqueConstraint(fields=["group", "user"], name="scim_membership_unique_pair"),
        ]
        # The user FK index serves "groups of this user" and the cascade on user delete.

    def __str__(self) -> str:
        return f"{self.user} in {self.group}"


class ProvisioningLogEntry(models.Model):
    """One request to the SCIM endpoint (or one thing a person did to provisioned data in
    the console or the admin) and our answer, written by
    `scim_app.provisioning_log`. Bodies are capped and redacted before they get here;
    the Authorization header is never stored."""

    class ResourceType(models.TextChoices):
        USER = "User", "User"
        GROUP = "Group", "Group"

    created = models.DateTimeField(default=timezone.now)
    # Empty when the token was missing or unknown: the request belongs to no site.
    # Indexed by scim_log_site_created, which starts with it (one index fewer for each
    # request's row to keep up).
    site = models.ForeignKey(
        Site,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="provisioning_log",
        db_index=False,
    )
    # Which credential made the request: its kind and "…abcd" for a known one; only the
    # visible prefix ("satscim_…") for an unknown one (sites.credentials.scim_bearer).
    credential_kind = models.CharField(max_length=20, choices=CredentialKind.choices, blank=True)
    credential_hint = models.CharField(max_length=40, blank=True)
    method = models.CharField(max_length=10)
    path = models.TextField(help_text="Path and query string.")
    status = models.PositiveSmallIntegerField()
    scim_type = models.CharField("SCIM error type", max_length=40, blank=True)
    duration_ms = models.PositiveIntegerField("duration (ms)")
    resource_type = models.CharField(max_length=10, choices=ResourceType.choices, blank=True)
    resource_id = models.CharField(max_length=64, blank=True)
    summary = models.CharField(max_length=300)
    # Who sent it: the client's address (behind TRUSTED_PROXY_COUNT proxies, the one they
    # saw) and how big the body was, kept also when the body itself is not.
    client_address = models.GenericIPAddressField(null=True, blank=True)
    request_size = models.PositiveIntegerField(default=0)
    # Redacted and capped; empty for requests refused before authentication.
    request_body = models.TextField(blank=True)
    # Only for errors: a success's answer holds other users' data and is not kept.
    response_body = models.TextField(blank=True)
    error_detail = models.TextField(blank=True)
    # What the request changed, attribute by attribute: [{"attribute", "old", "new"}],
    # the user's or group's change history (kept as long as the log).
    changes = models.JSONField(default=list, blank=True)
    # The person, for what staff did in the console or the admin (method CONSOLE/ADMIN).
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = "provisioning log entry"
        verbose_name_plural = "provisioning log"
        ordering = ["-created", "-id"]
        indexes = [
            # The admin's list, newest first, its date filter, and the prune command.
            models.Index(fields=["-created", "-id"], name="scim_log_created"),
            # A site's last request and last error (console status), the admin's site filter.
            models.Index(fields=["site", "-created"], name="scim_log_site_created"),
            # A user's or group's history on its admin page; search by SCIM id.
            models.Index(fields=["resource_id"], name="scim_log_resource_id"),
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.path} → {self.status}"


class ActivityHour(models.Model):
    """A site's SCIM requests in one hour, rolled up from the provisioning log (by
    housekeeping), so the console's activity chart over 30 days reads at most 720 rows
    per site however busy the site is."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="activity")
    hour = models.DateTimeField()
    requests = models.PositiveIntegerField(default=0)
    errors = models.PositiveIntegerField(default=0)
    # {"409 uniqueness": 12, "401": 3}: the errors by status and scimType.
    error_kinds = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            # Also serves a site's chart: its hours in a window.
            models.UniqueConstraint(fields=["site", "hour"], name="scim_activity_site_hour"),
        ]

    def __str__(self) -> str:
        return f"{self.site} {self.hour:%Y-%m-%d %H:00}: {self.requests} ({self.errors} errors)"


class ActivityRollup(models.Model):
    """Where the rollup stands: every hour before `rolled_up_to` is in ActivityHour. One
    row."""

    rolled_up_to = models.DateTimeField()

    def __str__(self) -> str:
        return f"rolled up to {self.rolled_up_to:%Y-%m-%d %H:00}"
