"""Users and groups that Entra provisions into a site.

These are customer identities, not Django logins. Every row belongs to one site,
and every query the SCIM endpoint makes starts from that site.
"""

import uuid

from django.db import models
from django.db.models import F
from django.db.models.functions import Lower

from sites.models import Site

USER_NAME_MAX = 320
EMAIL_MAX = 320
TEXT_MAX = 255


class ScimUser(models.Model):
    # The SCIM `id`: random, so ids cannot be guessed or enumerated across sites.
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="scim_users")
    user_name = models.CharField("userName", max_length=USER_NAME_MAX)
    external_id = models.CharField("externalId", max_length=TEXT_MAX, blank=True)
    given_name = models.CharField("name.givenName", max_length=TEXT_MAX, blank=True)
    family_name = models.CharField("name.familyName", max_length=TEXT_MAX, blank=True)
    formatted_name = models.CharField("name.formatted", max_length=TEXT_MAX, blank=True)
    display_name = models.CharField("displayName", max_length=TEXT_MAX, blank=True)
    # `emails` exactly as Entra sent it (it diffs our GET against its own data) ...
    emails = models.JSONField(default=list, blank=True)
    # ... and the work address from it, kept in a column so it can be indexed.
    work_email = models.CharField("work email", max_length=EMAIL_MAX, blank=True)
    active = models.BooleanField(default=True)
    created = models.DateTimeField(auto_now_add=True)
    last_modified = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "provisioned user"
        constraints = [
            # Also serves `filter=userName eq "..."`, Entra's matching query.
            models.UniqueConstraint(
                F("site"), Lower("user_name"), name="scim_user_username_unique_per_site"
            ),
        ]
        indexes = [
            # `filter=externalId eq "..."` (externalId as the matching key).
            models.Index(fields=["site", "external_id"], name="scim_user_site_external_id"),
            # `filter=emails[type eq "work"].value eq "..."` (email as the matching key).
            models.Index(F("site"), Lower("work_email"), name="scim_user_site_work_email"),
            # `GET /Users?startIndex=..&count=..`: a page in stable order without a sort.
            models.Index(fields=["site", "id"], name="scim_user_site_id"),
        ]

    def __str__(self) -> str:
        return self.user_name


class ScimGroup(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="scim_groups")
    display_name = models.CharField("displayName", max_length=TEXT_MAX)
    external_id = models.CharField("externalId", max_length=TEXT_MAX, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    last_modified = models.DateTimeField(auto_now=True)
    members = models.ManyToManyField(
        ScimUser, through="Membership", related_name="scim_groups", blank=True
    )

    class Meta:
        verbose_name = "provisioned group"
        constraints = [
            # Also serves `filter=displayName eq "..."`, Entra's group matching query.
            models.UniqueConstraint(
                F("site"), Lower("display_name"), name="scim_group_display_name_unique_per_site"
            ),
        ]
        indexes = [
            # `filter=externalId eq "..."` on groups.
            models.Index(fields=["site", "external_id"], name="scim_group_site_external_id"),
            # `GET /Groups?startIndex=..&count=..` in stable order.
            models.Index(fields=["site", "id"], name="scim_group_site_id"),
        ]

    def __str__(self) -> str:
        return self.display_name


class Membership(models.Model):
    """One user in one group: adds and removes are single-row inserts and deletes."""

    group = models.ForeignKey(ScimGroup, on_delete=models.CASCADE, related_name="memberships")
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


def get_user_model() -> type[ScimUser]:
    """django-scim2's USER_MODEL_GETTER: provisioned users are not Django logins."""
    return ScimUser
