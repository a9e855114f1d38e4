"""PATCH operations (RFC 7644 §3.5.2) in both of Entra's dialects.

Entra's default dialect sends `Replace` with string booleans and one op per path;
the `aadOptscim062020` dialect sends lower-case ops, real booleans and path-less
ops whose value maps dotted paths or extension URNs to values. Op and attribute
names are case-insensitive. Users are changed in memory and saved once by the
caller; group memberships are single-row inserts and deletes, never a
read-modify-write of the member list, so concurrent PATCHes lose nothing.
"""

import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from scim_app.endpoint.errors import ScimError, bad_request
from scim_app.models import EMAIL_MAX, TEXT_MAX, USER_NAME_MAX, Membership, ScimGroup, ScimUser

from .filters import GROUP_URN, USER_URN

OPS = ("add", "replace", "remove")
# Core User attributes we neither store nor advertise. Entra's default mappings may
# still send them; refusing would block the whole user, so they are accepted and ignored.
IGNORED_USER_ATTRIBUTES = {
    "nickname", "profileurl", "title", "usertype", "preferredlanguage", "locale",
    "timezone", "password", "phonenumbers", "ims", "photos", "addresses", "groups",
    "entitlements", "roles", "x509certificates", "schemas", "meta", "id",
}  # fmt: skip
IGNORED_GROUP_ATTRIBUTES = {"schemas", "meta", "id"}
MAX_EMAILS = 20

PATH_RE = re.compile(
    r"""^(?:(?P<urn>(?:urn|https?):.+):)?
    (?P<attr>[A-Za-z$][\w$-]*)
    (?:\[\s*(?P<filter_attr>[A-Za-z][\w.]*)\s+eq\s+"(?P<filter_value>[^"]*)"\s*\])?
    (?:\.(?P<sub>[A-Za-z$][\w$-]*))?$""",
    re.IGNORECASE | re.VERBOSE,
)


@dataclass(frozen=True)
class Path:
    attr: str
    sub: str | None = None
    filter_attr: str | None = None
    filter_value: str | None = None
    urn: str | None = None


def parse_path(raw: Any) -> Path:
    if not isinstance(raw, str):
        raise bad_request("'path' must be a string.", "invalidPath")
    match = PATH_RE.match(raw.strip())
    if not match:
        raise bad_request(
            f"The path '{raw}' is not a path this service understands.", "invalidPath"
        )
    lower = {k: v.lower() if v and k != "filter_value" else v for k, v in match.groupdict().items()}
    return Path(**lower)


def normalise(operation: Any) -> dict:
    """The operation with its member names lower-cased (RFC 7643 §2.1)."""
    if not isinstance(operation, dict):
        raise bad_request("Each item of 'Operations' must be an object.", "invalidSyntax")
    return {str(key).lower(): value for key, value in operation.items()}


def operation_name(operation: dict) -> str:
    name = operation.get("op")
    if not isinstance(name, str) or name.lower() not in OPS:
        raise bad_request(f"Unknown op {name!r}: use add, replace or remove.", "invalidSyntax")
    return name.lower()


def expand(operation: dict, op: str) -> list[tuple[Path, Any]]:
    """One (path, value) pair per attribute the operation touches."""
    raw_path, value = operation.get("path"), operation.get("value")
    if isinstance(raw_path, str) and raw_path.lower() in (USER_URN, GROUP_URN):
        raw_path = None  # the whole core schema: like a path-less operation
    if raw_path not in (None, ""):
        return [(parse_path(raw_path), value)]
    if op == "remove":
        raise bad_request("A remove operation needs a 'path'.", "noTarget")
    if not isinstance(value, dict):
        raise bad_request("An operation without 'path' needs an object 'value'.", "invalidValue")
    pairs = []
    for key, item in value.items():
        if key.lower() in (USER_URN, GROUP_URN) and isinstance(item, dict):
            pairs.extend((parse_path(k), v) for k, v in item.items())
        else:
            pairs.append((parse_path(key), item))
    return pairs


def is_extension(path: Path, core_urn: str) -> bool:
    return bool(path.urn) and path.urn != core_urn


def text(value: Any, label: str, max_length: int = TEXT_MAX) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise bad_request(f"{label} must be a string.", "invalidValue")
    if len(value) > max_length:
        raise bad_request(f"{label} is longer than {max_length} characters.", "invalidValue")
    if "\x00" in value or not is_utf8(value):
        raise bad_request(f"{label} contains characters that cannot be stored.", "invalidValue")
    return value


def is_utf8(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate such as "\ud800"
        return False
    return True


def boolean(value: Any, label: str) -> bool:
    # Entra's default dialect sends "True"/"False" as strings, even in POST.
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise bad_request(f"{label} must be true or false.", "invalidValue")


# --- users ------------------------------------------------------------------------


def clean_email(entry: Any) -> dict:
    """Keep only what we advertise (value, type, primary), exactly as sent."""
    if not isinstance(entry, dict) or not isinstance(entry.get("value"), str):
        raise bad_request(
            "Each of 'emails' must be an object with a string 'value'.", "invalidValue"
        )
    cleaned = {"value": text(entry["value"], "emails.value", EMAIL_MAX)}
    if entry.get("type") is not None:
        cleaned["type"] = text(entry["type"], "emails.type", 50)
    if entry.get("primary") is not None:
        cleaned["primary"] = boolean(entry["primary"], "emails.primary")
    return cleaned


def clean_emails(value: Any) -> list[dict]:
    if value is None:
        return []
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list):
        raise bad_request("'emails' must be a list of objects.", "invalidValue")
    if len(value) > MAX_EMAILS:
        raise bad_request(f"A user has at most {MAX_EMAILS} emails.", "invalidValue")
    return [clean_email(entry) for entry in value]


def set_emails(user: ScimUser, emails: list[dict]) -> None:
    """Store `emails` and keep the columns that filters use in step with it."""
    if len(emails) > MAX_EMAILS:
        raise bad_request(f"A user has at most {MAX_EMAILS} emails.", "invalidValue")
    user.emails = emails
    user.work_email = next(
        (e["value"] for e in emails if str(e.get("type", "")).lower() == "work"), ""
    )
    user.email_values = "\n" + "".join(e["value"].lower() + "\n" for e in emails) if emails else ""


def set_name_part(user: ScimUser, sub: str, value: Any) -> None:
    fields = {"givenname": "given_name", "familyname": "family_name", "formatted": "formatted_name"}
    if sub in fields:
        setattr(user, fields[sub], text(value, f"name.{sub}"))
    # middleName, honorificPrefix, ...: not stored (not advertised), ignored.


def apply_user_path(user: ScimUser, op: str, path: Path, value: Any) -> None:
    if is_extension(path, USER_URN) or path.attr in IGNORED_USER_ATTRIBUTES:
        return
    attr = path.attr
    if attr == "emails":
        return apply_emails(user, op, path, value)
    if op == "remove":
        value = None
    if attr in ("username", "active") and value is None:
        raise bad_request(f"{attr} cannot be removed.", "invalidValue")
    if path.filter_attr:
        raise bad_request(f"A [filter] is not supported on '{attr}'.", "invalidPath")
    if attr == "username":
        user.user_name = text(value, "userName", USER_NAME_MAX)
        if not user.user_name.strip():
            raise bad_request("userName cannot be empty.", "invalidValue")
    elif attr == "externalid":
        user.external_id = text(value, "externalId")
    elif attr == "displayname":
        user.display_name = text(value, "displayName")
    elif attr == "active":
        user.active = boolean(value, "active")
    elif attr == "name" and path.sub:
        set_name_part(user, path.sub, value)
    elif attr == "name":
        if value is None:
            for sub in ("givenname", "familyname", "formatted"):
                set_name_part(user, sub, None)
        elif isinstance(value, dict):
            for key, item in value.items():
                set_name_part(user, key.lower(), item)
        else:
            raise bad_request("'name' must be an object.", "invalidValue")
    else:
        raise bad_request(f"'{attr}' is not an attribute of User here.", "invalidPath")


def apply_emails(user: ScimUser, op: str, path: Path, value: Any) -> None:
    emails = [dict(e) for e in user.emails]
    if not path.filter_attr:
        if path.sub:
            raise bad_request(
                'Use emails[type eq "work"].value to change one address.', "invalidPath"
            )
        if op == "add":
            emails += [e for e in clean_emails(value) if e not in emails]
        elif op == "remove" and value is not None:
            dropped = {e["value"].lower() for e in clean_emails(value)}
            emails = [e for e in emails if e["value"].lower() not in dropped]
        else:
            emails = clean_emails(None if op == "remove" else value)
        set_emails(user, emails)
        return None
    if path.filter_attr != "type":
        raise bad_request('Email paths filter on type, e.g. emails[type eq "work"].', "invalidPath")
    kind = path.filter_value or ""
    matches = [e for e in emails if str(e.get("type", "")).lower() == kind.lower()]
    if op == "remove" or (path.sub == "value" and value in (None, "")):
        set_emails(user, [e for e in emails if e not in matches])
        return None
    if path.sub == "value":
        new = {"value": text(value, "emails.value", EMAIL_MAX)}
    elif path.sub == "primary":
        new = {"primary": boolean(value, "emails.primary")}
    elif path.sub is None:
        new = clean_email(value[0] if isinstance(value, list) and len(value) == 1 else value)
    else:
        raise bad_request(f"emails.{path.sub} is not supported.", "invalidPath")
    if matches:
        matches[0].update(new)
    elif "value" in new:
        # RFC 7644 §3.5.2.1: add (and replace, for Entra) creates the entry when absent.
        emails.append({"type": kind, **new})
    else:
        raise bad_request(f"There is no email of type {kind!r} to change.", "noTarget")
    set_emails(user, emails)
    return None


def apply_user_operations(user: ScimUser, operations: list) -> list[str]:
    """Apply PATCH operations to `user` in memory; the caller saves. Returns what changed."""
    before = {f: getattr(user, f) for f in USER_DIFF_FIELDS}
    for operation in map(normalise, operations):
        op = operation_name(operation)
        for path, value in expand(operation, op):
            apply_user_path(user, op, path, value)
    return [label for f, label in USER_DIFF_FIELDS.items() if getattr(user, f) != before[f]]


USER_DIFF_FIELDS = {
    "user_name": "userName",
    "external_id": "externalId",
    "given_name": "name.givenName",
    "family_name": "name.familyName",
    "formatted_name": "name.formatted",
    "display_name": "displayName",
    "emails": "emails",
    "active": "active",
}


def user_from_resource(user: ScimUser, data: dict) -> ScimUser:
    """Set every attribute from a full User resource (POST and PUT)."""
    if not isinstance(data.get("userName"), str) or not data["userName"].strip():
        raise bad_request("userName is required and must be a non-empty string.", "invalidValue")
    name = data.get("name") or {}
    if not isinstance(name, dict):
        raise bad_request("'name' must be an object.", "invalidValue")
    user.user_name = text(data["userName"], "userName", USER_NAME_MAX)
    user.external_id = text(data.get("externalId"), "externalId")
    user.display_name = text(data.get("displayName"), "displayName")
    for sub in ("givenname", "familyname", "formatted"):
        set_name_part(user, sub, None)
    for key, value in name.items():
        set_name_part(user, key.lower(), value)
    set_emails(user, clean_emails(data.get("emails")))
    user.active = boolean(data["active"], "active") if data.get("active") is not None else True
    return user


# --- groups -----------------------------------------------------------------------


def member_ids(value: Any) -> list[uuid.UUID]:
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list):
        raise bad_request('\'members\' must be a list of {"value": "<user id>"}.', "invalidValue")
    ids = []
    for member in value:
        raw = member.get("value") if isinstance(member, dict) else None
        try:
            ids.append(uuid.UUID(raw))
        except (TypeError, ValueError, AttributeError):
            raise bad_request(
                f"Member {raw!r} is not a user id of this site.", "invalidValue"
            ) from None
    return ids


def users_of_site(group: ScimGroup, ids: list[uuid.UUID]) -> set[uuid.UUID]:
    """Check in one query that every id is a user of the group's own site."""
    found = set(
        ScimUser.objects.filter(site_id=group.site_id, id__in=ids).values_list("id", flat=True)
    )
    unknown = [str(i) for i in dict.fromkeys(ids) if i not in found]
    if unknown:
        raise bad_request(
            f"These members are not users of this site: {', '.join(unknown[:10])}.",
            "invalidValue",
        )
    return found


def add_members(group: ScimGroup, ids: list[uuid.UUID]) -> int:
    users = users_of_site(group, ids)
    Membership.objects.bulk_create(
        [Membership(group=group, user_id=user_id) for user_id in users], ignore_conflicts=True
    )
    return len(users)


def remove_members(group: ScimGroup, ids: list[uuid.UUID] | None) -> int:
    memberships = Membership.objects.filter(group=group)
    if ids is not None:
        memberships = memberships.filter(user_id__in=ids)
    return memberships.delete()[0]


def replace_members(group: ScimGroup, ids: list[uuid.UUID]) -> tuple[int, int]:
    users = users_of_site(group, ids)
    removed = Membership.objects.filter(group=group).exclude(user_id__in=users).delete()[0]
    added = len(
        Membership.objects.bulk_create(
            [Membership(group=group, user_id=user_id) for user_id in users], ignore_conflicts=True
        )
    )
    return added, removed


def group_from_resource(group: ScimGroup, data: dict) -> list[uuid.UUID] | None:
    """Set a group's attributes from a full Group resource (POST and PUT).

    Returns the member ids it lists (None when `members` is absent), for the
    caller to apply once the group is saved.
    """
    name = data.get("displayName")
    if not isinstance(name, str) or not name.strip():
        raise bad_request("displayName is required and must be a non-empty string.", "invalidValue")
    group.display_name = text(name, "displayName")
    group.external_id = text(data.get("externalId"), "externalId")
    members = data.get("members")
    return None if members is None else member_ids(members)


@dataclass
class GroupChanges:
    added: int = 0
    removed: int = 0
    attributes: list[str] = field(default_factory=list)
    old_name: str = ""

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


def apply_group_path(group: ScimGroup, op: str, path: Path, value: Any, changes: GroupChanges):
    if is_extension(path, GROUP_URN) or path.attr in IGNORED_GROUP_ATTRIBUTES:
        return
    if path.attr == "members":
        if path.filter_attr:
            if path.filter_attr != "value" or path.sub or op != "remove":
                raise bad_request(
                    'Only remove is supported on members[value eq "<id>"].', "invalidPath"
                )
            changes.removed += remove_members(group, member_ids([{"value": path.filter_value}]))
        elif op == "add":
            changes.added += add_members(group, member_ids(value))
        elif op == "remove":
            # Entra's "Remove members [list]" removes only those; no value removes all.
            ids = None if value is None else member_ids(value)
            changes.removed += remove_members(group, ids)
        else:
            added, removed = replace_members(group, member_ids(value or []))
            changes.added += added
            changes.removed += removed
        return
    if path.sub or path.filter_attr:
        raise bad_request(f"'{path.attr}' has no sub-attributes.", "invalidPath")
    if path.attr == "displayname":
        if op == "remove":
            raise bad_request("displayName cannot be removed.", "invalidValue")
        name = text(value, "displayName")
        if not name.strip():
            raise bad_request("displayName cannot be empty.", "invalidValue")
        group.display_name = name
        changes.attributes.append("displayName")
    elif path.attr == "externalid":
        group.external_id = text(None if op == "remove" else value, "externalId")
        changes.attributes.append("externalId")
    else:
        raise bad_request(f"'{path.attr}' is not an attribute of Group here.", "invalidPath")


def apply_group_operations(group: ScimGroup, operations: list) -> GroupChanges:
    """Apply PATCH operations to `group` and its memberships, all or nothing."""
    changes = GroupChanges(old_name=group.display_name)
    try:
        with transaction.atomic():
            for operation in map(normalise, operations):
                op = operation_name(operation)
                for path, value in expand(operation, op):
                    apply_group_path(group, op, path, value, changes)
            if changes.attributes:
                fields = {GROUP_FIELDS[a] for a in changes.attributes}
                save_group(group, [*fields, "last_modified"])
            elif changes.added or changes.removed:
                ScimGroup.objects.filter(pk=group.pk).update(last_modified=timezone.now())
    except IntegrityError:
        # A member or the group itself was deleted by a request running at the same time.
        raise ScimError(
            409, "The group or one of its members changed while this request ran; retry it."
        ) from None
    return changes


GROUP_FIELDS = {"displayName": "display_name", "externalId": "external_id"}


def save_group(group: ScimGroup, fields: list[str] | None = None) -> None:
    """Save (only `fields`, if given), turning a displayName clash into 409 uniqueness."""
    try:
        with transaction.atomic():
            group.save(update_fields=fields)
    except IntegrityError:
        raise ScimError(
            409, f"A group named {group.display_name!r} already exists in this site.", "uniqueness"
        ) from None


def save_user(user: ScimUser) -> None:
    """Save, turning a userName clash into 409 uniqueness."""
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:
        raise ScimError(
            409,
            f"A user with userName {user.user_name!r} already exists in this site.",
            "uniqueness",
        ) from None
