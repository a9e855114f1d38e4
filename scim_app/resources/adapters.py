"""Our django-scim2 adapters: provisioned users and groups to and from SCIM JSON.

The stock adapters write into Django's auth.User and look members up by primary
key across all tenants; these work on our per-site models only. Values are
returned exactly as Entra sent them, and absent values are omitted, not null:
Entra diffs our GET against its own data.
"""

import uuid
from collections.abc import Iterable

from django_scim.adapters import SCIMMixin
from django_scim.constants import SchemaURI

from scim_app.endpoint.locations import tenant_url
from scim_app.models import Membership, ScimGroup, ScimUser

from . import patch

ALWAYS_RETURNED = {"id", "schemas"}


def iso(moment) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def without_empty(d: dict) -> dict:
    return {k: v for k, v in d.items() if v not in ("", None, [], {})}


class ResourceAdapter(SCIMMixin):
    id_field = "id"
    endpoint = ""

    @property
    def location(self) -> str:
        return f"{tenant_url(self.request)}/{self.endpoint}/{self.id}"

    def meta(self) -> dict:
        return {
            "resourceType": self.resource_type,
            "created": iso(self.obj.created),
            "lastModified": iso(self.obj.last_modified),
            "location": self.location,
        }


class UserAdapter(ResourceAdapter):
    url_name = "scim:users"
    resource_type = "User"
    endpoint = "Users"

    def to_dict(self) -> dict:
        user: ScimUser = self.obj
        name = without_empty(
            {
                "givenName": user.given_name,
                "familyName": user.family_name,
                "formatted": user.formatted_name,
            }
        )
        return without_empty(
            {
                "schemas": [SchemaURI.USER],
                "id": self.id,
                "externalId": user.external_id,
                "userName": user.user_name,
                "name": name,
                "displayName": user.display_name,
                "emails": user.emails,
                "active": user.active,
                "meta": self.meta(),
            }
        )

    def from_dict(self, d: dict) -> None:
        patch.user_from_resource(self.obj, d)

    def save(self) -> None:
        patch.save_user(self.obj)

    def delete(self) -> None:
        self.obj.delete()  # memberships go with it (ON DELETE CASCADE in the ORM)


class GroupAdapter(ResourceAdapter):
    url_name = "scim:groups"
    resource_type = "Group"
    endpoint = "Groups"

    def __init__(self, obj: ScimGroup, request=None, members: list[dict] | None = None):
        super().__init__(obj, request)
        self.members = members

    def to_dict(self) -> dict:
        group: ScimGroup = self.obj
        doc = {
            "schemas": [SchemaURI.GROUP],
            "id": self.id,
            "externalId": group.external_id,
            "displayName": group.display_name,
        }
        doc = without_empty(doc)
        if self.members is not None:
            doc["members"] = self.members
        doc["meta"] = self.meta()
        return doc


def members_by_group(group_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, list[dict]]:
    """The members of several groups in one query, for groups whose members are wanted."""
    members: dict[uuid.UUID, list[dict]] = {group_id: [] for group_id in group_ids}
    rows = (
        Membership.objects.filter(group_id__in=list(members))
        .order_by("group_id", "user_id")
        .values_list("group_id", "user_id", "user__display_name", "user__user_name")
    )
    for group_id, user_id, display_name, user_name in rows:
        members[group_id].append({"value": str(user_id), "display": display_name or user_name})
    return members


def project(doc: dict, attributes: set[str], excluded: set[str]) -> dict:
    """Apply `attributes` / `excludedAttributes` (RFC 7644 §3.9), names lower-cased."""
    if attributes:
        out = {}
        for key, value in doc.items():
            lower = key.lower()
            if lower in ALWAYS_RETURNED or lower in attributes:
                out[key] = value
            elif subs := {a.split(".", 1)[1] for a in attributes if a.startswith(lower + ".")}:
                picked = pick(value, subs)
                if picked:
                    out[key] = picked
        return out
    out = {}
    for key, value in doc.items():
        lower = key.lower()
        if lower in ALWAYS_RETURNED:
            out[key] = value
        elif lower not in excluded:
            subs = {a.split(".", 1)[1] for a in excluded if a.startswith(lower + ".")}
            out[key] = drop(value, subs) if subs else value
    return out


def drop(value, subs: set[str]):
    if isinstance(value, dict):
        return {k: v for k, v in value.items() if k.lower() not in subs}
    if isinstance(value, list):
        return [drop(item, subs) if isinstance(item, dict) else item for item in value]
    return value


def pick(value, subs: set[str]):
    if isinstance(value, dict):
        return {k: v for k, v in value.items() if k.lower() in subs}
    if isinstance(value, list):
        return [pick(item, subs) for item in value if isinstance(item, dict)]
    return None
