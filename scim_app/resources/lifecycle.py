"""Nothing Entra does destroys data at once: deletes, revivals, restores and purges.

A SCIM DELETE sets `deleted_at`: from then on SCIM sees nothing of the user or group
(404, absent from filters and lists, its userName or displayName free, its memberships
hidden), but the row and its memberships, where a trainee's history hangs, are kept for
SCIM_DELETED_RETENTION_DAYS. Within that time:

- Entra creating the user again revives her: same row, same id, history kept. The match
  is the deleted user with the same externalId, or, when the new one has no externalId,
  the same userName (ignoring case); the most recently deleted wins. The new attributes
  replace the old ones, and her old memberships go (Entra sends the current ones next).
- A site that has never deleted a user or group has nothing to revive: its POSTs do not
  look (`Site.has_deleted_resources`, set by the site's first delete, never cleared). A
  create racing the site's very first delete may miss it, as it would miss any delete
  not yet committed when it looks.
- People restore (memberships included) or purge: MSP admins in the console, superusers in
  the admin. Entra is not told; its next cycle reconciles (README, "Nothing lost").

Purging deletes for good: first locks the rows, then their memberships, then the rows, so
a request racing it waits and then finds nothing (a SCIM status, never a 500).
"""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q, QuerySet, Value
from django.db.models.functions import Lower
from django.db.models.lookups import Exact
from django.utils import timezone

from sat_portal.prepared import PreparedQuery
from scim_app.models import Membership, ScimGroup, ScimUser
from sites.models import Site

# Rows deleted per statement by the retention purge: short transactions, no long locks.
PURGE_BATCH = 500


def retention_start():
    return timezone.now() - timedelta(days=settings.SCIM_DELETED_RETENTION_DAYS)


def revival_lookup(model, match: Callable[[str], Q]) -> PreparedQuery:
    """Deleted rows of a site since a moment that `match` a value, newest first, locked.
    Every POST runs one of these, so each is compiled once (sat_portal.prepared)."""

    def build(site_id: int, since, value: str) -> QuerySet:
        deleted = model.objects.deleted().filter(match(value), site=site_id, deleted_at__gte=since)
        return deleted.select_for_update().order_by("-deleted_at")[:1]

    return PreparedQuery(build, -1, datetime(2000, 1, 1, tzinfo=UTC), "value@prepared.example")


def same_name(field: str) -> Callable[[str], Q]:
    # Lower() on both sides, as the index on deleted rows' names is built.
    return lambda name: Q(Exact(Lower(field), Lower(Value(name))))


REVIVAL_LOOKUPS = {
    (model, by_external_id): revival_lookup(
        model,
        (lambda external_id: Q(external_id=external_id)) if by_external_id else same_name(field),
    )
    for model, field in ((ScimUser, "user_name"), (ScimGroup, "display_name"))
    for by_external_id in (True, False)
}


def revival_candidate(model, site, *, external_id: str, name: str):
    """The deleted user (or group) of `site`, deleted within the retention, that a new
    one with this externalId (or, without one, this userName/displayName, ignoring case)
    brings back. Locked, so a purge or a second revival racing this one waits."""
    if not site.has_deleted_resources:
        return None  # never deleted anything: no query (most of an initial cycle's POSTs)
    lookup = REVIVAL_LOOKUPS[model, bool(external_id)]
    found = lookup(site.pk, retention_start(), external_id or name)
    return found[0] if found else None


def revive_user(site, user: ScimUser) -> ScimUser:
    """The user to save for a POST: `user` itself, or a deleted twin brought back with
    the new attributes (its old ones in `revived_from`, for the history)."""
    twin = revival_candidate(
        ScimUser,
        site,
        external_id=user.data.get("externalId", ""),
        name=user.data.get("userName", ""),
    )
    if twin is None:
        return user
    Membership.objects.filter(user=twin).delete()
    twin.revived_from = twin.data
    twin.data, twin.deleted_at, twin.delete_held_at = user.data, None, None
    return twin


def revive_group(site, group: ScimGroup) -> ScimGroup:
    twin = revival_candidate(
        ScimGroup,
        site,
        external_id=group.data.get("externalId", ""),
        name=group.data.get("displayName", ""),
    )
    if twin is None:
        return group
    Membership.objects.filter(group=twin).delete()
    twin.revived_from = twin.data
    twin.data, twin.deleted_at = group.data, None
    return twin


def soft_delete(site: Site, resource: ScimUser | ScimGroup) -> None:
    now = timezone.now()
    type(resource).objects.filter(pk=resource.pk).update(deleted_at=now, last_modified=now)
    resource.deleted_at = resource.last_modified = now
    note_deletes(site)


def note_deletes(site: Site) -> None:
    """From the site's first delete on, its POSTs look for deleted twins to revive: one
    UPDATE in the site's life, inside the deleting transaction."""
    if not site.has_deleted_resources:
        Site.objects.filter(pk=site.pk, has_deleted_resources=False).update(
            has_deleted_resources=True
        )
        site.has_deleted_resources = True


class RestoreConflict(Exception):
    """A live user (or group) has taken the name since: restoring would make two."""


def restore(resource: ScimUser | ScimGroup) -> None:
    """Bring a deleted user or group back, memberships included (an undo)."""
    model = type(resource)
    name_field = "user_name" if model is ScimUser else "display_name"
    name = getattr(resource, name_field)
    with transaction.atomic():
        taken = model.objects.live().filter(
            site_id=resource.site_id, **{f"{name_field}__iexact": name}
        )
        if taken.exists():
            raise RestoreConflict(name)
        fields = {"deleted_at": None, "last_modified": timezone.now()}
        if model is ScimUser:
            fields["delete_held_at"] = None
        model.objects.filter(pk=resource.pk, deleted_at__isnull=False).update(**fields)
    resource.deleted_at = None


def purge(queryset: QuerySet) -> int:
    """Delete these users or groups for good, with their memberships. Returns how many."""
    model = queryset.model
    member_field = "user" if model is ScimUser else "group"
    with transaction.atomic():
        ids = list(queryset.select_for_update().values_list("pk", flat=True))
        if not ids:
            return 0
        Membership.objects.filter(**{f"{member_field}__in": ids}).delete()
        return model.objects.filter(pk__in=ids).delete()[1].get(model._meta.label, 0)


def purge_expired() -> bool:
    """One batch of the retention purge, users then groups. True if there may be more."""
    more = False
    cutoff = retention_start()
    for model in (ScimUser, ScimGroup):
        expired = model.objects.filter(deleted_at__lt=cutoff).order_by("deleted_at")
        batch = expired.values_list("pk", flat=True)[:PURGE_BATCH]
        purged = purge(model.objects.filter(pk__in=list(batch), deleted_at__lt=cutoff))
        more = more or purged == PURGE_BATCH
    return more


def held_deletes(site) -> QuerySet[ScimUser]:
    return ScimUser.objects.live().filter(site=site, delete_held_at__isnull=False)


def apply_held_deletes(site) -> int:
    """Delete (softly, as Entra asked) the users whose DELETE hold mode kept."""
    now = timezone.now()
    with transaction.atomic():
        applied = held_deletes(site).update(deleted_at=now, last_modified=now)
        if applied:
            note_deletes(site)
    return applied


def keep_held(site) -> int:
    """Drop the held deletes: those users stay, inactive, as they are."""
    return held_deletes(site).update(delete_held_at=None)


def delete_site_data(site) -> None:
    """Everything Entra provisioned into `site` and its log, for the site's deletion: one
    DELETE per table, not a row-by-row cascade collected in memory (a site may hold
    100,000 users and a million log rows). Inside the caller's transaction."""
    from scim_app.models import ActivityHour, ProvisioningLogEntry

    for queryset in (
        ProvisioningLogEntry.objects.filter(site=site),
        ActivityHour.objects.filter(site=site),
        Membership.objects.filter(group__site=site),
        Membership.objects.filter(user__site=site),
    ):
        queryset.delete()  # no dependants: one DELETE statement each
    with connection.cursor() as cursor:
        for model in (ScimUser, ScimGroup):
            # Their memberships are gone: nothing else refers to them but the self
            # reference of a manager, which has no constraint.
            cursor.execute(f"DELETE FROM {model._meta.db_table} WHERE site_id = %s", [site.pk])  # noqa: S608
