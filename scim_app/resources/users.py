"""Provisioned users: the User resource (core schema and enterprise extension) to and
from our rows.

The document (`ScimUser.data`) is returned exactly as stored; the manager's `$ref` and
`displayName` are added on the way out, from a user of the same site only.
"""

import uuid

from django.db import IntegrityError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from sat_portal.prepared import save_row
from scim_app.endpoint.errors import ScimError
from scim_app.endpoint.locations import tenant_url
from scim_app.models import ScimUser
from sites.models import Site

from . import documents, history
from .attributes import ENTERPRISE_URN, USER, USER_URN


def of_site(site: Site | int) -> QuerySet[ScimUser]:
    """The site's users as SCIM sees them (not deleted), each with its manager (one LEFT
    JOIN, no extra query)."""
    return ScimUser.objects.live().filter(site=site).select_related("manager")


def from_resource(user: ScimUser, body: dict) -> None:
    """Set every attribute from a whole User resource (POST and PUT): what the body
    leaves out is cleared, as a replace should (RFC 7644 §3.5.1)."""
    # `groups` is read-only (RFC 7643 §4.1.2: set through the groups' members), and a
    # client that PUTs back what another service returned may send it: ignored, like id.
    document = documents.from_resource(USER, body, skip=("groups",))
    document.setdefault("active", True)
    user.data = document


def apply_operations(user: ScimUser, body: dict) -> list[dict]:
    """Apply a PATCH body to `user` in memory (the caller saves); what changed, attribute
    by attribute (history.diff), for the provisioning log."""
    document = documents.copy(user.data)
    for op, target, value in documents.operations(USER, body):
        documents.apply(document, USER, op, target, value, str(user.id))
    changes = history.diff(user.data, document)
    user.data = document
    return changes


def mirror(user: ScimUser) -> None:
    """Write the columns that mirror the document (attributes.py names them)."""
    data = user.data
    enterprise = data.get(ENTERPRISE_URN, {})
    name = data.get("name", {})
    user.user_name = data.get("userName", "")
    user.external_id = data.get("externalId", "")
    user.display_name = data.get("displayName", "")
    user.given_name = name.get("givenName", "")
    user.family_name = name.get("familyName", "")
    user.title = data.get("title", "")
    user.active = data.get("active", True)
    user.employee_number = enterprise.get("employeeNumber", "")
    user.department = enterprise.get("department", "")
    emails = data.get("emails", [])
    work = [e["value"] for e in emails if str(e.get("type", "")).lower() == "work"]
    user.work_email = work[0] if work else ""
    user.more_work_emails = len(work) > 1
    # Each address between newlines, so `emails.value sw "x"` is `contains "\nx"`.
    user.email_values = "".join(f"\n{e['value'].lower()}" for e in emails) + "\n" if emails else ""
    user.manager_id = user_id(enterprise.get("manager", {}).get("value"))


def user_id(value) -> uuid.UUID | None:
    """The id, if `value` is one exactly as we issue them."""
    try:
        parsed = uuid.UUID(value)
    except (TypeError, ValueError, AttributeError):
        return None
    return parsed if str(parsed) == value else None


def save(user: ScimUser) -> None:
    """Mirror the document and save (in one statement built once: every POST, PUT and
    PATCH of a user does this), turning a userName clash into 409 uniqueness (the
    request's transaction is then rolled back whole: endpoint.views.rollback)."""
    mirror(user)
    try:
        save_row(user)
    except IntegrityError:
        raise ScimError(
            409,
            f"A user with userName {user.user_name!r} already exists in this site.",
            "uniqueness",
        ) from None


def manager_of(user: ScimUser) -> ScimUser | None:
    """The user's manager if that is a user of the same site. Another site's user is
    never named, so an id from elsewhere reveals nothing."""
    if user.manager_id is None:
        return None
    try:
        manager = user.manager  # loaded by of_site(); else one query
    except ScimUser.DoesNotExist:
        return None
    if manager is None or manager.site_id != user.site_id or manager.deleted_at is not None:
        return None
    return manager


def location(request: HttpRequest, user_id: uuid.UUID | str) -> str:
    return f"{tenant_url(request)}/Users/{user_id}"


def iso(moment) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def to_scim(user: ScimUser, request: HttpRequest) -> dict:
    """The User resource: the document as stored, with id, schemas and meta."""
    data = user.data
    schemas = [USER_URN]
    enterprise = data.get(ENTERPRISE_URN)
    if enterprise:
        schemas.append(ENTERPRISE_URN)
        if "manager" in enterprise:
            enterprise = {
                **enterprise,
                "manager": manager_value(user, enterprise["manager"], request),
            }
    resource = {"schemas": schemas, "id": str(user.id), **data}
    if enterprise:
        resource[ENTERPRISE_URN] = enterprise
    resource["meta"] = {
        "resourceType": "User",
        "created": iso(user.created),
        "lastModified": iso(user.last_modified),
        "location": location(request, user.id),
    }
    return resource


def manager_value(user: ScimUser, stored: dict, request: HttpRequest) -> dict:
    manager = manager_of(user)
    if manager is None:
        return stored
    value = {**stored, "$ref": location(request, manager.id)}
    if manager.display_name:
        value["displayName"] = manager.display_name
    return value


def describe(user: ScimUser) -> str:
    return f"user {user.user_name}"


def hold_delete(user: ScimUser) -> bool:
    """Hold mode's answer to a DELETE: deactivate and mark the user as waiting for an MSP
    admin. False when the delete was held already."""
    if user.delete_held_at is not None:
        return False
    user.data = {**user.data, "active": False}
    user.delete_held_at = timezone.now()
    save(user)
    return True
