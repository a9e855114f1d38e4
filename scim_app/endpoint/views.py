"""SCIM endpoints: thin views that translate HTTP to the functions in patch.py,
filters.py and adapters.py.

Built on django-scim2's SCIMView (its auth-check hook, CSRF exemption and
exception classes), with the request handling replaced where the stock views are
single-tenant or count by iterating (see ../shared/docs/django-scim2-notes.md).
`request.scim_site` is set by scim_app.auth before any of this runs; every query
here starts from it.
"""

import json
import uuid

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt
from django.views.generic import View
from django_scim.constants import SchemaURI
from django_scim.exceptions import SCIMException
from django_scim.settings import scim_settings
from django_scim.views import SCIMView

from scim_app.models import ScimGroup, ScimUser
from scim_app.resources import adapters, filters, patch, schemas

from .errors import (
    SCIM_CONTENT_TYPE,
    ScimError,
    bad_request,
    error_response,
    not_found,
    unexpected_error_response,
)

DEFAULT_PAGE_SIZE = 100
# Past any site's size, and within what an SQL OFFSET accepts.
MAX_START_INDEX = 2**31


def scim_response(doc: dict | None, status: int = 200, location: str | None = None):
    response = HttpResponse(
        json.dumps(doc) if doc is not None else b"", content_type=SCIM_CONTENT_TYPE, status=status
    )
    if location:
        response["Location"] = location
    return response


def record(request: HttpRequest, resource_type: str | None, resource_id, summary: str) -> None:
    """What the request did, for the provisioning log."""
    request.scim_event = {
        "resource_type": resource_type,
        "resource_id": str(resource_id) if resource_id else None,
        "summary": summary,
    }


def name_list(request: HttpRequest, param: str) -> set[str]:
    names = set()
    for name in request.GET.get(param, "").split(","):
        name = name.strip().lower()
        for urn in (filters.USER_URN, filters.GROUP_URN):
            name = name.removeprefix(urn + ":")
        if name:
            names.add(name)
    return names


def page_params(request: HttpRequest) -> tuple[int, int]:
    try:
        start = int(request.GET.get("startIndex", 1))
        count = int(request.GET.get("count", DEFAULT_PAGE_SIZE))
    except ValueError:
        raise bad_request("startIndex and count must be whole numbers.", "invalidValue") from None
    # RFC 7644 §3.4.2.4: startIndex < 1 is 1, a negative count is 0.
    return max(start, 1), min(max(count, 0), settings.SCIM_MAX_PAGE_SIZE)


class ScimBaseView(SCIMView):
    @method_decorator(csrf_exempt)
    @method_decorator(scim_settings.AUTH_CHECK_MIDDLEWARE)
    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        # Like django-scim2's dispatch, but errors carry `status` as a string
        # (RFC 7644 §3.12) and 501s carry a SCIM error body.
        if not self.implemented:
            return error_response(ScimError(501, "This service does not implement this endpoint."))
        try:
            return View.dispatch(self, request, *args, **kwargs)
        except SCIMException as exc:
            return error_response(exc)
        except Exception as exc:
            return unexpected_error_response(exc)

    def http_method_not_allowed(self, request, *args, **kwargs):
        response = error_response(ScimError(405, f"{request.method} is not supported here."))
        response["Allow"] = ", ".join(m.upper() for m in self._allowed_methods())
        return response

    def load_body(self) -> dict:
        # ScimRequestGuard has already refused bodies over the size limit.
        try:
            data = json.loads(self.request.body.decode("utf-8-sig") or "null")
        except (ValueError, RecursionError) as exc:  # bad UTF-8, bad JSON, absurd numbers
            raise bad_request(f"The body is not valid JSON: {exc}", "invalidSyntax") from None
        if not isinstance(data, dict):
            raise bad_request("The body must be a JSON object.", "invalidSyntax")
        return data


class ResourceView(ScimBaseView):
    http_method_names = ["get", "head", "post", "put", "patch", "delete"]
    model: type[ScimUser] | type[ScimGroup]
    filter_class: type[filters.SiteFilter]
    resource_type: str

    def get_object(self, *, for_update: bool = False):
        raw_id = self.kwargs.get("resource_id")
        if raw_id is None:
            raise ScimError(405, f"{self.request.method} needs /{self.resource_type}s/<id>.")
        qs = self.model.objects.filter(site=self.request.scim_site)
        if for_update:
            qs = qs.select_for_update()
        try:
            id_ = uuid.UUID(raw_id)
            if str(id_) != raw_id:
                raise ValueError("only the id exactly as we issued it")
            return qs.get(id=id_)
        except (ValueError, self.model.DoesNotExist):
            # Another site's id is answered exactly like one that never existed.
            raise not_found(self.resource_type, raw_id) from None

    def projection(self) -> tuple[set[str], set[str]]:
        """`attributes` and `excludedAttributes` (RFC 7644 §3.9), for reads and writes."""
        return name_list(self.request, "attributes"), name_list(self.request, "excludedAttributes")

    def get(self, request, resource_id=None):
        attributes, excluded = self.projection()
        if resource_id:
            obj = self.get_object()
            doc = adapters.project(
                self.represent([obj], attributes, excluded)[0], attributes, excluded
            )
            record(request, self.resource_type, obj.id, f"read {self.describe(obj)}")
            return scim_response(doc)
        return self.list_resources(request, attributes, excluded)

    def list_resources(self, request, attributes: set[str], excluded: set[str]) -> HttpResponse:
        start, count = page_params(request)
        filter_text = request.GET.get("filter")
        qs = self.filter_class.search(filter_text, request.scim_site).order_by("id")
        if count == 0 or start > MAX_START_INDEX:
            total, page = qs.count(), []
        else:
            page = list(qs[start - 1 : start - 1 + count])
            # A short page tells the total without a COUNT (Entra's filters: 0 or 1 rows).
            if len(page) < count and (page or start == 1):
                total = start - 1 + len(page)
            else:
                total = qs.count()
        resources = [
            adapters.project(d, attributes, excluded)
            for d in self.represent(page, attributes, excluded)
        ]
        subject = f"filter {filter_text}" if filter_text else f"list {self.resource_type}s"
        record(request, self.resource_type, None, f"{subject} → {total} results")
        return scim_response(
            {
                "schemas": [SchemaURI.LIST_RESPONSE],
                "totalResults": total,
                "startIndex": start,
                "itemsPerPage": len(resources),
                "Resources": resources,
            }
        )

    def represent(self, objs: list, attributes: set[str], excluded: set[str]) -> list[dict]:
        raise NotImplementedError

    def describe(self, obj) -> str:
        raise NotImplementedError


class UsersView(ResourceView):
    model = ScimUser
    filter_class = filters.UserFilter
    resource_type = "User"

    def represent(self, objs, attributes, excluded):
        return [adapters.UserAdapter(user, self.request).to_dict() for user in objs]

    def describe(self, user: ScimUser) -> str:
        return f"user {user.user_name}"

    def respond(self, user: ScimUser, status: int = 200) -> HttpResponse:
        adapter = adapters.UserAdapter(user, self.request)
        doc = adapters.project(adapter.to_dict(), *self.projection())
        return scim_response(doc, status, adapter.location)

    def post(self, request, resource_id=None):
        if resource_id:
            return self.http_method_not_allowed(request)
        user = ScimUser(site=request.scim_site)
        adapter = adapters.UserAdapter(user, request)
        adapter.from_dict(self.load_body())
        adapter.save()
        record(request, "User", user.id, f"created {self.describe(user)}")
        return self.respond(user, 201)

    def put(self, request, resource_id=None):
        body = self.load_body()
        with transaction.atomic():
            user = self.get_object(for_update=True)
            adapter = adapters.UserAdapter(user, request)
            adapter.from_dict(body)
            adapter.save()
        record(request, "User", user.id, f"replaced {self.describe(user)}")
        return self.respond(user)

    def patch(self, request, resource_id=None):
        operations = patch_operations(self.load_body())
        with transaction.atomic():
            user = self.get_object(for_update=True)
            changed = patch.apply_user_operations(user, operations)
            if changed:
                patch.save_user(user)
        if changed == ["active"]:
            summary = f"{'enabled' if user.active else 'disabled'} {self.describe(user)}"
        elif changed:
            summary = f"updated {self.describe(user)}: {', '.join(changed)}"
        else:
            summary = f"no change to {self.describe(user)}"
        record(request, "User", user.id, summary)
        return self.respond(user)

    def delete(self, request, resource_id=None):
        with transaction.atomic():
            user = self.get_object()
            adapters.UserAdapter(user, request).delete()
        record(request, "User", resource_id, f"deleted {self.describe(user)}")
        return scim_response(None, 204)


class GroupsView(ResourceView):
    model = ScimGroup
    filter_class = filters.GroupFilter
    resource_type = "Group"

    def represent(self, objs, attributes, excluded):
        # With excludedAttributes=members (every Entra read) members are never loaded.
        wanted = (
            "members" in attributes or any(a.startswith("members.") for a in attributes)
            if attributes
            else "members" not in excluded
        )
        members = adapters.members_by_group(g.id for g in objs) if wanted and objs else {}
        return [adapters.GroupAdapter(g, self.request, members.get(g.id)).to_dict() for g in objs]

    def describe(self, group: ScimGroup) -> str:
        return f"group {group.display_name}"

    def respond(self, group: ScimGroup, status: int = 200) -> HttpResponse:
        attributes, excluded = self.projection()
        doc = adapters.project(
            self.represent([group], attributes, excluded)[0], attributes, excluded
        )
        return scim_response(doc, status, adapters.GroupAdapter(group, self.request).location)

    def post(self, request, resource_id=None):
        if resource_id:
            return self.http_method_not_allowed(request)
        group = ScimGroup(site=request.scim_site)
        body = self.load_body()
        with transaction.atomic():
            member_ids = patch.group_from_resource(group, body)
            patch.save_group(group)
            if member_ids:
                patch.add_members(group, member_ids)
        record(request, "Group", group.id, f"created {self.describe(group)}")
        return self.respond(group, 201)

    def put(self, request, resource_id=None):
        body = self.load_body()
        with transaction.atomic():
            group = self.get_object(for_update=True)
            member_ids = patch.group_from_resource(group, body)
            patch.save_group(group)
            # PUT replaces the resource (RFC 7644 §3.5.1): absent members means none.
            patch.replace_members(group, member_ids or [])
        record(request, "Group", group.id, f"replaced {self.describe(group)}")
        return self.respond(group)

    def patch(self, request, resource_id=None):
        operations = patch_operations(self.load_body())
        group = self.get_object()
        changes = patch.apply_group_operations(group, operations)
        record(request, "Group", group.id, changes.summary(group))
        # 204: never a body listing every member of a large group.
        return scim_response(None, 204)

    def delete(self, request, resource_id=None):
        group = self.get_object()
        group.delete()  # its memberships go with it; its users stay
        record(request, "Group", resource_id, f"deleted {self.describe(group)}")
        return scim_response(None, 204)


def patch_operations(body: dict) -> list:
    # RFC 7644 §3.5.2; attribute names are case-insensitive, so is "Operations".
    operations = next((v for k, v in body.items() if k.lower() == "operations"), None)
    if not isinstance(operations, list):
        raise bad_request("A PATCH body needs an 'Operations' list.", "invalidSyntax")
    return operations  # an empty list (seen from Microsoft's validator) is a no-op


class ServiceProviderConfigView(ScimBaseView):
    http_method_names = ["get", "head"]

    def get(self, request):
        return scim_response(schemas.ServiceProviderConfig(request).to_dict())


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
                    [schemas.resource_type_document(request, n) for n in schemas.RESOURCE_TYPES]
                )
            )
        if resource_id not in schemas.RESOURCE_TYPES:
            raise not_found("ResourceType", resource_id)
        return scim_response(schemas.resource_type_document(request, resource_id))


class SchemasView(ScimBaseView):
    http_method_names = ["get", "head"]

    def get(self, request, resource_id=None):
        if resource_id is None:
            return scim_response(
                list_response([schemas.schema_document(request, u) for u in schemas.SCHEMAS])
            )
        if resource_id not in schemas.SCHEMAS:
            raise not_found("Schema", resource_id)
        return scim_response(schemas.schema_document(request, resource_id))


class NotFoundView(ScimBaseView):
    """Unknown paths under the Tenant URL, once the token is known to be good."""

    def get(self, request, *args, **kwargs):
        raise not_found("Path", request.path)

    post = put = patch = delete = get


root = NotFoundView.as_view()
