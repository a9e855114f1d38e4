"""Provisioned groups: the Group resource to and from our rows.

displayName and externalId live in the document like a user's attributes; members are
Membership rows. Adding and removing members are single-row inserts and deletes, never a
read-modify-write of a member list, so concurrent PATCHes (Entra fires hundreds at one
group) lose nothing.
"""

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, connection, models, transaction
from django.db.models import F, Value
from django.db.models.functions import Greatest
from django.http import HttpRequest
from django.utils import timezone

from sat_portal import prepared
from scim_app.endpoint.errors import ScimError, bad_request
from scim_app.endpoint.locations import tenant_url
from scim_app.models import Membership, ScimGroup, ScimUser

from . import documents, history, users
from .attributes import GROUP, GROUP_URN

MEMBERS = "members"


# --- members -----------------------------------------------------------------------


def member_ids(value: Any) -> list[uuid.UUID]:
    """The user ids of a `members` value: [{"value": "<id>"}, ...] ($ref and type, when
    sent, are ours to derive and are not needed)."""
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list):
        raise bad_request('\'members\' must be a list of {"value": "<user id>"}.', "invalidValue")
    ids = []
    for member in value:
        raw = member.get("value") if isinstance(member, dict) else None
        parsed = users.user_id(raw)
        if parsed is None:
            raise bad_request(f"Member {raw!r} is not a user id of this site.", "invalidValue")
        ids.append(parsed)
    return ids


def users_of_site(group: ScimGroup, ids: list[uuid.UUID]) -> set[uuid.UUID]:
    """Check that every id is a user of the group's own site (a query per BATCH ids)."""
    unique = list(dict.fromkeys(ids))
    found = set()
    for batch in batched(unique):
        found.update(live_users_among(group.site_id, batch))
    unknown = [str(i) for i in unique if i not in found]
    if unknown:
        raise bad_request(
            f"These members are not users of this site: {', '.join(unknown[:10])}.",
            "invalidValue",
        )
    return found


def add_members(group: ScimGroup, ids: list[uuid.UUID]) -> list[uuid.UUID]:
    """Make `ids` (users of the group's site, else 400) members; they are returned once
    each, in the order sent, those that were members already included."""
    users_of_site(group, ids)
    unique = list(dict.fromkeys(ids))
    insert_memberships(group, unique)
    return unique


# Entra adds members in batches, a PATCH per few dozen, hundreds of them at once. The ORM
# built a batch's two statements (its users among the ids, then bulk_create) anew every
# time: 1.4 ms of the 3.7 ms of CPU such a PATCH cost (issue 16). Written here from the
# models' table and column names, they are plain SQL for either database.
BATCH = 500


def table(model: type[models.Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def column(model: type[models.Model], name: str) -> str:
    return connection.ops.quote_name(model._meta.get_field(name).column)


def uuid_params(values: list[uuid.UUID]) -> list:
    """UUIDs as the database takes them (a UUID for PostgreSQL, its hex for SQLite)."""
    return [ScimUser._meta.pk.get_db_prep_value(value, connection) for value in values]


def live_users_among(site_id: int, ids: list[uuid.UUID]) -> list[uuid.UUID]:
    """Which of `ids` are users of the site, not deleted."""
    user_id = column(ScimUser, "id")
    cursor = prepared.cursor()
    cursor.execute(
        f"SELECT {user_id} FROM {table(ScimUser)} "  # noqa: S608 (names from the model)
        f"WHERE {column(ScimUser, 'site')} = %s AND {column(ScimUser, 'deleted_at')} IS NULL "
        f"AND {user_id} IN ({', '.join(['%s'] * len(ids))})",
        [site_id, *uuid_params(ids)],
    )
    return [as_uuid(value) for (value,) in cursor]


def insert_memberships(group: ScimGroup, user_ids: list[uuid.UUID]) -> None:
    """Make `user_ids` members of `group`; those that are already stay as they are."""
    group_column, user_column = column(Membership, "group"), column(Membership, "user")
    columns = f"{group_column}, {user_column}, {column(Membership, 'created')}"
    [group_id] = uuid_params([group.pk])
    created = Membership._meta.get_field("created").get_db_prep_value(timezone.now(), connection)
    cursor = prepared.cursor()
    for batch in batched(user_ids):
        cursor.execute(
            f"INSERT INTO {table(Membership)} ({columns}) "  # noqa: S608
            f"VALUES {', '.join(['(%s, %s, %s)'] * len(batch))} "
            f"ON CONFLICT ({group_column}, {user_column}) DO NOTHING",
            [param for user in uuid_params(batch) for param in (group_id, user, created)],
        )


def remove_members(group: ScimGroup, ids: list[uuid.UUID] | None) -> list[uuid.UUID]:
    """End the memberships of `ids` (None: of every member); the ids of the members
    removed, for the group's history (one DELETE ... RETURNING per BATCH ids)."""
    group_column, user_column = column(Membership, "group"), column(Membership, "user")
    [group_id] = uuid_params([group.pk])
    delete = f"DELETE FROM {table(Membership)} WHERE {group_column} = %s"  # noqa: S608
    returning = f" RETURNING {user_column}"
    cursor = prepared.cursor()
    if ids is None:
        cursor.execute(delete + returning, [group_id])
        return [as_uuid(value) for (value,) in cursor.fetchall()]
    removed = []
    for batch in batched(list(dict.fromkeys(ids))):
        among = f" AND {user_column} IN ({', '.join(['%s'] * len(batch))})"
        cursor.execute(delete + among + returning, [group_id, *uuid_params(batch)])
        removed += [as_uuid(value) for (value,) in cursor.fetchall()]
    return removed


def batched(ids: list[uuid.UUID]) -> list[list[uuid.UUID]]:
    return [ids[start : start + BATCH] for start in range(0, len(ids), BATCH)]


def as_uuid(value) -> uuid.UUID:
    """A UUID column's value as read (a UUID from PostgreSQL, its hex from SQLite)."""
    return value if isinstance(value, uuid.UUID) else uuid.UUID(value)


def replace_members(group: ScimGroup, ids: list[uuid.UUID]) -> tuple[int, int]:
    found = users_of_site(group, ids)
    removed = Membership.objects.filter(group=group).exclude(user_id__in=found).delete()[0]
    insert_memberships(group, list(found))
    return len(found), removed


def members_by_group(
    group_ids: Iterable[uuid.UUID], request: HttpRequest
) -> dict[uuid.UUID, list[dict]]:
    """The members of several groups in one query, for groups whose members are wanted."""
    members: dict[uuid.UUID, list[dict]] = {group_id: [] for group_id in group_ids}
    rows = (
        # A deleted user's memberships are kept (for a restore), but are not members.
        Membership.objects.filter(group_id__in=list(members), user__deleted_at__isnull=True)
        .order_by("group_id", "user_id")
        .values_list("group_id", "user_id", "user__display_name", "user__user_name")
    )
    for group_id, user_id, display_name, user_name in rows:
        members[group_id].append(
            {
                "value": str(user_id),
                "$ref": users.location(request, user_id),
                "display": display_name or user_name,
                "type": "User",
            }
        )
    return members


# --- the group itself -----------------------------------------------------------------


def from_resource(group: ScimGroup, body: dict) -> list[uuid.UUID] | None:
    """Set a group's attributes from a whole Group resource (POST and PUT). Returns the
    member ids it lists (None when `members` is absent), for the caller to apply once
    the group is saved."""
    group.data = documents.from_resource(GROUP, body, skip=(MEMBERS,))
    members = next((v for k, v in body.items() if str(k).lower() == MEMBERS), None)
    return None if members is None else member_ids(members)


def mirror(group: ScimGroup) -> None:
    group.display_name = group.data.get("displayName", "")
    group.external_id = group.data.get("externalId", "")


def save(group: ScimGroup, fields: list[str] | None = None) -> None:
    """Mirror and save (only `fields`, if given), a displayName clash being 409
    uniqueness."""
    mirror(group)
    try:
        group.save(update_fields=fields)
    except IntegrityError:
        raise ScimError(
            409, f"A group named {group.display_name!r} already exists in this site.", "uniqueness"
        ) from None


@dataclass
class GroupChanges:
    added: int = 0
    removed: int = 0
    attributes: list[str] = field(default_factory=list)
    old_name: str = ""
    # For the history: the document's changes, and who was added and removed.
    changes: list[dict] = field(default_factory=list)
    added_ids: list[uuid.UUID] = field(default_factory=list)
    removed_ids: list[uuid.UUID] = field(default_factory=list)

    def added_some(self, ids: list[uuid.UUID]) -> None:
        self.added += len(ids)
        self.added_ids += ids

    def removed_some(self, ids: list[uuid.UUID]) -> None:
        self.removed += len(ids)
        self.removed_ids += ids

    def summary(self, group: ScimGroup) -> str:
        parts = []
        if "displayName" in self.attributes and self.old_name != group.display_name:
            parts.append(f"renamed group {self.old_name} to {group.display_name}")
        if "externalId" in self.attributes:
            parts.append(f"changed externalId of {group.display_name}")
        if self.added:
            parts.append(f"added {plural(self.added, 'member')} to {group.display_name}")
        if self.removed:
            parts.append(f"removed {plural(self.removed, 'member')} from {group.display_name}")
        return "; ".join(parts) or f"no change to group {group.display_name}"


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def apply_members(
    group: ScimGroup, op: str, target: documents.Target, value: Any, changes: GroupChanges
) -> None:
    if target.value_filter is not None:
        template = target.value_filter.template() or {}
        if target.sub or op != "remove" or set(template) != {"value"}:
            raise bad_request(
                'Only remove is supported on members[value eq "<id>"].', "invalidPath"
            )
        changes.removed_some(remove_members(group, member_ids([template])))
    elif target.sub is not None:
        raise bad_request("Change members as a whole or by value.", "invalidPath")
    elif op == "add":
        changes.added_some(add_members(group, member_ids(value)))
    elif op == "remove":
        # Entra's "Remove members [list]" removes only those; no value removes all.
        changes.removed_some(remove_members(group, None if value is None else member_ids(value)))
    else:
        added, removed = replace_members(group, member_ids(value or []))
        changes.added += added
        changes.removed += removed


def touch(group: ScimGroup) -> None:
    """Set the group's lastModified for a change of its members. Entra sends many
    membership PATCHes of one group at once, and waiting for the group's row lock until
    the other request commits made them run one after the other (issue 16). So when
    another request holds the row, this one does not wait: it sets lastModified just
    after its own commit instead (never moving it back), since that other request may
    roll back, or have set an earlier time than this change."""
    if set_last_modified_unless_locked(group):
        return
    pk = group.pk

    def after_commit() -> None:
        ScimGroup.objects.filter(pk=pk).update(
            last_modified=Greatest(F("last_modified"), Value(timezone.now()))
        )

    # robust: the change is committed and answered; a failure here is logged, not a 500.
    transaction.on_commit(after_commit, robust=True)


def set_last_modified_unless_locked(group: ScimGroup) -> bool:
    """Set lastModified to now, unless another request holds the group's row: what
    `.filter(pk__in=<the row, select_for_update(skip_locked=True, no_key=True)>).update()`
    does, without building it anew for every membership PATCH (0.5 ms of CPU). SQLite,
    which has no row locks, runs one write at a time."""
    groups, key = table(ScimGroup), column(ScimGroup, "id")
    features = connection.features
    locking = (
        " FOR NO KEY UPDATE SKIP LOCKED"
        if features.has_select_for_no_key_update and features.has_select_for_update_skip_locked
        else ""
    )
    now = ScimGroup._meta.get_field("last_modified").get_db_prep_value(timezone.now(), connection)
    cursor = prepared.cursor()
    cursor.execute(
        f"UPDATE {groups} SET {column(ScimGroup, 'last_modified')} = %s "  # noqa: S608 (names from the model)
        f"WHERE {key} IN (SELECT {key} FROM {groups} WHERE {key} = %s{locking})",
        [now, *uuid_params([group.pk])],
    )
    return cursor.rowcount == 1


def patch_operations(body: dict) -> list[documents.Operation]:
    """(op, target, value) for each attribute a PATCH body touches, in order."""
    return documents.operations(GROUP, body)


def rewrites_group(operations: list[documents.Operation]) -> bool:
    """Whether the operations rewrite the group's row (an attribute) or its whole member
    list (a replace): requests doing that must hold the row, one at a time, or one would
    overwrite another's change. Adding and removing members write rows of their own, and
    Entra sends many at once for one group: those run side by side."""
    return any(target.attribute.name != MEMBERS or op == "replace" for op, target, _ in operations)


def apply_operations(group: ScimGroup, operations: list[documents.Operation]) -> GroupChanges:
    """Apply a PATCH's operations to `group` and its memberships. All or nothing: a
    failing operation fails the request, whose transaction is rolled back whole."""
    changes = GroupChanges(old_name=group.display_name)
    document = documents.copy(group.data)
    try:
        for op, target, value in operations:
            if target.attribute.name == MEMBERS:
                apply_members(group, op, target, value, changes)
            else:
                documents.apply(document, GROUP, op, target, value, str(group.id))
        changes.changes = history.diff(group.data, document) + history.members(
            changes.added_ids, changes.removed_ids
        )
        changes.attributes = [
            key for key in ("displayName", "externalId") if document.get(key) != group.data.get(key)
        ]
        if changes.attributes:
            group.data = document
            save(group, ["data", "display_name", "external_id", "last_modified"])
        elif changes.added or changes.removed:
            touch(group)
    except IntegrityError:
        # A member or the group itself was purged by a request running at the same time.
        raise ScimError(
            409, "The group or one of its members changed while this request ran; retry it."
        ) from None
    return changes


def location(request: HttpRequest, group_id: uuid.UUID | str) -> str:
    return f"{tenant_url(request)}/Groups/{group_id}"


def to_scim(group: ScimGroup, request: HttpRequest, members: list[dict] | None = None) -> dict:
    """The Group resource; `members` only when they were loaded (never with
    excludedAttributes=members, Entra's every read)."""
    resource = {"schemas": [GROUP_URN], "id": str(group.id), **group.data}
    if members is not None:
        resource[MEMBERS] = members
    resource["meta"] = {
        "resourceType": "Group",
        "created": users.iso(group.created),
        "lastModified": users.iso(group.last_modified),
        "location": location(request, group.id),
    }
    return resource


def describe(group: ScimGroup) -> str:
    return f"group {group.display_name}"
