"""SCIM endpoints: thin views that translate HTTP to the resource functions in
scim_app/resources (users, groups, filters, projection, schemas).

Built on django-scim2's SCIMView (its auth-check hook, CSRF exemption and exception
classes), with the request handling replaced where the stock views are single-tenant or
count by iterating (see ../shared/docs/django-scim2-notes.md). `request.scim_site` is
set by scim_app.endpoint.auth before any of this runs; every query here starts from it.
"""

import json
import uuid

from django.conf import settings
from django.db import connection, transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.generic import View
from django_scim.constants import SchemaURI
from django_scim.exceptions import SCIMException
from django_scim.settings import scim_settings
from django_scim.views import SCIMView

from sat_portal.prepared import PreparedQuery
from scim_app.models import ScimGroup, ScimUser
from scim_app.provisioning_log.redaction import MAX_DEPTH
from scim_app.resources import (
    filters,
    groups,
    history,
    lifecycle,
    projection,
    safety,
    schemas,
    users,
)
from scim_app.resources.attributes import GROUP, RESOURCE_TYPES, USER, ResourceType

from . import READS
from .errors import (
    SCIM_CONTENT_TYPE,
    ScimError,
    bad_request,
    error_response,
    not_found,
    unexpected_error_response,
)

DEFAULT_PAGE_SIZE = 100
MAX_BODY_DEPTH = MAX_DEPTH
# Past any site's size, and within what an SQL OFFSET accepts.
MAX_START_INDEX = 2**31


def scim_response(doc: dict | None, status: int = 200, location: str | None = None):
    response = HttpResponse(
        json.dumps(doc) if doc is not None else b"", content_type=SCIM_CONTENT_TYPE, status=status
    )
    if location:
        response["Location"] = location
    return response


def record(
    request: HttpRequest,
    resource_type: str | None,
    resource_id,
    summary: str,
    changes: list[dict] | None = None,
) -> None:
    """What the request did, for the provisioning log (`changes`: the history)."""
    request.scim_event = {
        "resource_type": resource_type,
        "resource_id": str(resource_id) if resource_id else None,
        "summary": summary,
        "changes": changes or [],
    }


def depth(value) -> int:
    """How deeply `value` nests objects and lists (walked without recursion)."""
    deepest, pending = 0, [(value, 1)]
    while pending:
        item, level = pending.pop()
        children = (
            item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        )
        for child in children:
            if isinstance(child, dict | list):
                deepest = max(deepest, level + 1)
                pending.append((child, level + 1))
    return max(deepest, 1 if isinstance(value, dict | list) else 0)


def page_params(request: HttpRequest) -> tuple[int, int]:
    try:
        start = int(request.GET.get("startIndex", 1))
        count = int(request.GET.get("count", DEFAULT_PAGE_SIZE))
    except ValueError:
        raise bad_request("startIndex and count must be whole numbers.", "invalidValue") from None
    # RFC 7644 §3.4.2.4: startIndex < 1 is 1, a negative count is 0.
    return max(start, 1), min(max(count, 0), settings.SCIM_MAX_PAGE_SIZE)


def rollback(request: HttpRequest) -> None:
    """A write that fails changes nothing: it runs in one transaction (opened by the
    provisioning log's middleware), which an error rolls back whole, so no write needs
    a savepoint of its own; the log row is then written on its own. A read has no
    transaction of its own, and nothing to undo."""
    if request.method not in READS and connection.in_atomic_block:
        transaction.set_rollback(True)


# django-scim2's hook (scim_app.endpoint.auth): the credential's site, or 401 or 429.
AUTH_CHECK = scim_settings.AUTH_CHECK_MIDDLEWARE()


class ScimBaseView(SCIMView):
    @classmethod
    def as_view(cls, **initkwargs):
        return csrf_exempt(super().as_view(**initkwargs))

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        # Like django-scim2's dispatch, but errors carry `status` as a string
        # (RFC 7644 §3.12) and 501s carry a SCIM error body. The auth hook is called here,
        # not through method_decorator, which built the decorated method anew for every
        # request.
        refused = AUTH_CHECK.process_request(request)
        if refused is not None:
            return refused
        if not self.implemented:
            return error_response(ScimError(501, "This service does not implement this endpoint."))
        try:
            return View.dispatch(self, request, *args, **kwargs)
        except SCIMException as exc:
            rollback(request)
            return error_response(exc)
        except Exception as exc:
            rollback(request)
            return unexpected_error_response(exc)

    def http_method_not_allowed(self, request, *args, **kwargs):
        response = error_response(ScimError(405, f"{request.method} is not supported here."))
        response["Allow"] = ", ".join(m.upper() for m in self._allowed_methods())
        return response

    def load_body(self) -> dict:
        # ScimRequestGuard has already refused bodies over the size limit.
        try:
            text = self.request.body.decode("utf-8-sig")
            data = json.loads(text or "null")
        except (ValueError, RecursionError) as exc:  # bad UTF-8, bad JSON, absurd numbers
            raise bad_request(f"The body is not valid JSON: {exc}", "invalidSyntax") from None
        if not isinstance(data, dict):
            raise bad_request("The body must be a JSON object.", "invalidSyntax")
        # Each level of nesting opens a bracket, so a body with no more brackets than the
        # levels allowed (every Entra body) cannot be too deep: nothing to walk.
        brackets = text.count("{") + text.count("[")
        if brackets > MAX_BODY_DEPTH and depth(data) > MAX_BODY_DEPTH:
            raise bad_request(
                f"The body is nested more than {MAX_BODY_DEPTH} levels deep.", "invalidSyntax"
            )
        return data


def by_id(resource_type: ResourceType, for_update: bool) -> PreparedQuery:
    """A site's user or group by id (locked for a write): every request to /Users/<id> and
    /Groups/<id> starts with it, so it is compiled once."""

    def build(site_id: int, id_: uuid.UUID) -> QuerySet:
        queryset = filters.search(resource_type, None, site_id).filter(id=id_)
        return queryset.select_for_update(of=("self",)) if for_update else queryset

    return PreparedQuery(build, -1, uuid.UUID(int=0))


BY_ID = {(t.name, lock): by_id(t, lock) for t in RESOURCE_TYPES.values() for lock in (False, True)}


class ResourceView(ScimBaseView):
    http_method_names = ["get", "head", "post", "put", "patch", "delete"]
    resource_type: ResourceType

    def get_object(self, *, for_update: bool = False):
        raw_id = self.kwargs.get("resource_id")
        if raw_id is None:
            raise ScimError(405, f"{self.request.method} needs {self.resource_type.endpoint}/<id>.")
        try:
            id_ = uuid.UUID(raw_id)
        except ValueError:
            id_ = None
        found = []
        if id_ is not None and str(id_) == raw_id:  # only the id exactly as we issued it
            found = BY_ID[self.resource_type.name, for_update](self.request.scim_site.pk, id_)
        if not found:
            # Another site's id is answered exactly like one that never existed.
            raise not_found(self.resource_type.name, raw_id)
        return found[0]

    def projection(self) -> tuple[projection.Paths, projection.Paths]:
        """`attributes` and `excludedAttributes` (RFC 7644 §3.9), for reads and writes."""
        return (
            projection.requested(self.request, "attributes", self.resource_type),
            projection.requested(self.request, "excludedAttributes", self.resource_type),
        )

    def respond(self, obj, status: int = 200) -> HttpResponse:
        include, exclude = self.projection()
        full = self.represent([obj], include, exclude)[0]
        resource = projection.project(full, include, exclude)
        return scim_response(resource, status, full["meta"]["location"])

    def get(self, request, resource_id=None):
        if resource_id is None:
            return self.list_resources(request)
        obj = self.get_object()
        record(request, self.resource_type.name, obj.id, f"read {self.describe(obj)}")
        return self.respond(obj)

    def list_resources(self, request) -> HttpResponse:
        start, count = page_params(request)
        filter_text = request.GET.get("filter")
        key = filters.matching_value(self.resource_type, filter_text)
        if key is not None and start == 1:
            # Entra's matching query: one row or none, by a statement compiled once.
            found = filters.BY_MATCHING_KEY[self.resource_type.name](request.scim_site.pk, key)
            total, page = len(found), sorted(found, key=lambda resource: resource.id)[:count]
        else:
            total, page = self.page(filter_text, start, count)
        include, exclude = self.projection()
        resources = [
            projection.project(resource, include, exclude)
            for resource in self.represent(page, include, exclude)
        ]
        subject = f"filter {filter_text}" if filter_text else f"list {self.resource_type.name}s"
        record(request, self.resource_type.name, None, f"{subject} → {total} results")
        return scim_response(
            {
                "schemas": [SchemaURI.LIST_RESPONSE],
                "totalResults": total,
                "startIndex": start,
                "itemsPerPage": len(resources),
                "Resources": resources,
            }
        )

    def page(self, filter_text: str | None, start: int, count: int) -> tuple[int, list]:
        """The total and the page of resources `filter_text` selects, in a stable order."""
        queryset = filters.search(self.resource_type, filter_text, self.request.scim_site)
        queryset = queryset.order_by("id")
        if count == 0 or start > MAX_START_INDEX:
            return queryset.count(), []
        page = list(queryset[start - 1 : start - 1 + count])
        # A short page tells the total without a COUNT.
        if len(page) < count and (page or start == 1):
            return start - 1 + len(page), page
        return queryset.count(), page

    def represent(self, objs: list, include, exclude) -> list[dict]:
        raise NotImplementedError

    def describe(self, obj) -> str:
        raise NotImplementedError


class UsersView(ResourceView):
    resource_type = USER

    def represent(self, objs, include, exclude):
        return [users.to_scim(user, self.request) for user in objs]

    def describe(self, user: ScimUser) -> str:
        return users.describe(user)

    def post(self, request, resource_id=None):
        if resource_id:
            return self.http_method_not_allowed(request)
        new = ScimUser(site=request.scim_site)
        users.from_resource(new, self.load_body())
        user = lifecycle.revive_user(request.scim_site, new)
        users.save(user)
        revived = user is not new
        changes = history.diff(user.revived_from if revived else {}, user.data)
        verb = "revived" if revived else "created"
        record(request, "User", user.id, f"{verb} {self.describe(user)}", changes)
        return self.respond(user, 201)

    def put(self, request, resource_id=None):
        body = self.load_body()
        user = self.get_object(for_update=True)
        was_active, before = user.active, user.data
        users.from_resource(user, body)
        users.save(user)
        changes = history.diff(before, user.data)
        record(request, "User", user.id, f"replaced {self.describe(user)}", changes)
        self.watch(was_active, user)
        return self.respond(user)

    def patch(self, request, resource_id=None):
        body = self.load_body()
        user = self.get_object(for_update=True)
        was_active = user.active
        changes = users.apply_operations(user, body)
        if changes:
            users.save(user)
        changed = [change["attribute"] for change in changes]
        if changed == ["active"]:
            summary = f"{'enabled' if user.active else 'disabled'} {self.describe(user)}"
        elif changed:
            summary = f"updated {self.describe(user)}: {', '.join(changed)}"
        else:
            summary = f"no change to {self.describe(user)}"
        record(request, "User", user.id, summary, changes)
        self.watch(was_active, user)
        return self.respond(user)

    def delete(self, request, resource_id=None):
        user = self.get_object(for_update=True)
        was_active = user.active
        if not request.scim_site.hold_deletes:
            lifecycle.soft_delete(request.scim_site, user)
            record(request, "User", user.id, f"deleted {self.describe(user)}")
        elif users.hold_delete(user):
            # Hold mode: still 204 for Entra, but the user is only deactivated and waits
            # for an MSP admin to apply (or drop) the delete: lifecycle.apply_held_deletes.
            summary = f"held the delete of {self.describe(user)}: deactivated until an MSP admin applies it"
            changes = [{"attribute": "active", "old": "true", "new": "false"}] if was_active else []
            record(request, "User", user.id, summary, changes)
        else:
            record(request, "User", user.id, f"delete of {self.describe(user)} already held")
        self.watch(was_active, user, deleted=True)
        return scim_response(None, 204)

    def watch(self, was_active: bool, user: ScimUser, *, deleted: bool = False) -> None:
        """The mass-deprovisioning guard counts each active user Entra takes away."""
        if was_active and (deleted or not user.active):
            safety.note_deprovisioned(self.request.scim_site)


class GroupsView(ResourceView):
    resource_type = GROUP

    def represent(self, objs, include, exclude):
        # With excludedAttributes=members (every Entra read) members are never loaded.
        wanted = objs and projection.wants(groups.MEMBERS, include, exclude)
        members = groups.members_by_group((g.id for g in objs), self.request) if wanted else {}
        return [groups.to_scim(g, self.request, members.get(g.id)) for g in objs]

    def describe(self, group: ScimGroup) -> str:
        return groups.describe(group)

    def post(self, request, resource_id=None):
        if resource_id:
            return self.http_method_not_allowed(request)
        new = ScimGroup(site=request.scim_site)
        body = self.load_body()
        member_ids = groups.from_resource(new, body)
        group = lifecycle.revive_group(request.scim_site, new)
        groups.save(group)
        if member_ids:
            groups.add_members(group, member_ids)
        revived = group is not new
        verb = "revived" if revived else "created"
        changes = history.diff(group.revived_from if revived else {}, group.data)
        changes += history.members(member_ids or [], [])
        record(request, "Group", group.id, f"{verb} {self.describe(group)}", changes)
        return self.respond(group, 201)

    def put(self, request, resource_id=None):
        body = self.load_body()
        group = self.get_object(for_update=True)
        before = group.data
        member_ids = groups.from_resource(group, body)
        groups.save(group)
        # PUT replaces the resource (RFC 7644 §3.5.1): absent members means none.
        added, removed = groups.replace_members(group, member_ids or [])
        changes = history.diff(before, group.data)
        if added or removed:
            changes += [
                {"attribute": "members", "old": f"{removed} removed", "new": f"{added} added"}
            ]
        record(request, "Group", group.id, f"replaced {self.describe(group)}", changes)
        return self.respond(group)

    def patch(self, request, resource_id=None):
        operations = groups.patch_operations(self.load_body())
        group = self.get_object(for_update=groups.rewrites_group(operations))
        changes = groups.apply_operations(group, operations)
        record(request, "Group", group.id, changes.summary(group), changes.changes)
        # 204: never a body listing every member of a large group.
        return scim_response(None, 204)

    def delete(self, request, resource_id=None):
        group = self.get_object(for_update=True)
        # Its memberships are kept with it, its users stay (lifecycle.py).
        lifecycle.soft_delete(request.scim_site, group)
        record(request, "Group", resource_id, f"deleted {self.describe(group)}")
        return scim_response(None, 204)


class ServiceProviderConfigView(ScimBaseView):
    http_method_names = ["get", "head"]

    def get(self, request):
        return scim_response(schemas.service_provider_config(request))


def list_response(resources: list[dict]) -> dict:
    return {
        "schemas": [SchemaURI.LIST_RESPONSE],
        "totalResults": len(resources),
        "startIndex": 1,
        "itemsPerPage": len(resources),
        "Resources": resources,
    }


class ResourceTypesView(ScimBaseView):
    http_method_names = ["get", "head"]

    def get(self, request, resource_id=None):
        if resource_id is None:
            return scim_response(
                list_response(
                    [schemas.resource_type_document(request, t) for t in RESOURCE_TYPES.values()]
                )
            )
        if resource_id not in RESOURCE_TYPES:
            raise not_found("ResourceType", resource_id)
        return scim_response(schemas.resource_type_document(request, RESOURCE_TYPES[resource_id]))


class SchemasView(ScimBaseView):
    http_method_names = ["get", "head"]

    def get(self, request, resource_id=None):
        known = schemas.all_schemas()
        if resource_id is None:
            return scim_response(
                list_response([schemas.schema_document(request, s) for s in known.values()])
            )
        if resource_id not in known:
            raise not_found("Schema", resource_id)
        return scim_response(schemas.schema_document(request, known[resource_id]))


class NotFoundView(ScimBaseView):
    """Unknown paths under the Tenant URL, once the token is known to be good."""

    def get(self, request, *args, **kwargs):
        raise not_found("Path", request.path)

    post = put = patch = delete = options = get


root = NotFoundView.as_view()
