"""Discovery documents (RFC 7643 §5-7) that describe exactly what we implement.

The SCIM Validator reads /Schemas and rejects attributes it cannot map, so only
what we store and return is listed.
"""

from django.conf import settings
from django.http import HttpRequest
from django_scim.constants import SchemaURI

from scim_app.endpoint.locations import tenant_url

SCHEMA_URI = "urn:ietf:params:scim:schemas:core:2.0:Schema"


def attribute(name: str, type_: str = "string", **extra) -> dict:
    doc = {
        "name": name,
        "type": type_,
        "multiValued": False,
        "description": extra.pop("description", ""),
        "required": False,
        "caseExact": False,
        "mutability": "readWrite",
        "returned": "default",
        "uniqueness": "none",
    }
    doc.update(extra)
    if type_ == "complex":
        doc.pop("caseExact")
    return doc


USER_SCHEMA = {
    "id": SchemaURI.USER,
    "name": "User",
    "description": "A trainee of the site, provisioned by Microsoft Entra ID.",
    "attributes": [
        attribute(
            "userName",
            required=True,
            uniqueness="server",
            description="Unique within the site, compared case-insensitively. Entra's matching key.",
        ),
        attribute(
            "name",
            "complex",
            subAttributes=[
                attribute("givenName"),
                attribute("familyName"),
                attribute("formatted"),
            ],
        ),
        attribute("displayName"),
        attribute(
            "emails",
            "complex",
            multiValued=True,
            subAttributes=[
                attribute("value"),
                attribute("type", canonicalValues=["work", "home", "other"]),
                attribute("primary", "boolean"),
            ],
        ),
        attribute("active", "boolean"),
    ],
}

GROUP_SCHEMA = {
    "id": SchemaURI.GROUP,
    "name": "Group",
    "description": "A group of the site's trainees, provisioned by Microsoft Entra ID.",
    "attributes": [
        attribute(
            "displayName",
            required=True,
            uniqueness="server",
            description="Unique within the site, compared case-insensitively. Entra's matching key.",
        ),
        attribute(
            "members",
            "complex",
            multiValued=True,
            subAttributes=[
                attribute("value", caseExact=True, mutability="immutable"),
                attribute("display", mutability="readOnly"),
            ],
        ),
    ],
}

COMMON_ATTRIBUTES = [
    attribute(
        "id",
        caseExact=True,
        mutability="readOnly",
        returned="always",
        uniqueness="server",
    ),
    attribute("externalId", caseExact=True),
]

SCHEMAS = {
    schema["id"]: {**schema, "attributes": COMMON_ATTRIBUTES + schema["attributes"]}
    for schema in (USER_SCHEMA, GROUP_SCHEMA)
}

RESOURCE_TYPES = {
    "User": {"endpoint": "/Users", "schema": SchemaURI.USER, "description": "Trainee"},
    "Group": {"endpoint": "/Groups", "schema": SchemaURI.GROUP, "description": "Group"},
}


def schema_document(request: HttpRequest, urn: str) -> dict:
    return {
        **SCHEMAS[urn],
        "schemas": [SCHEMA_URI],
        "meta": {"resourceType": "Schema", "location": f"{tenant_url(request)}/Schemas/{urn}"},
    }


def resource_type_document(request: HttpRequest, name: str) -> dict:
    return {
        "schemas": [SchemaURI.RESOURCE_TYPE],
        "id": name,
        "name": name,
        **RESOURCE_TYPES[name],
        "schemaExtensions": [],
        "meta": {
            "resourceType": "ResourceType",
            "location": f"{tenant_url(request)}/ResourceTypes/{name}",
        },
    }


class ServiceProviderConfig:
    """django-scim2's SERVICE_PROVIDER_CONFIG_MODEL, describing what we built."""

    def __init__(self, request: HttpRequest):
        self.request = request

    def to_dict(self) -> dict:
        return {
            "schemas": [SchemaURI.SERVICE_PROVIDER_CONFIG],
            "documentationUri": "https://learn.microsoft.com/entra/identity/app-provisioning/use-scim-to-provision-users-and-groups",
            "patch": {"supported": True},
            "bulk": {"supported": False, "maxOperations": 0, "maxPayloadSize": 0},
            "filter": {"supported": True, "maxResults": settings.SCIM_MAX_PAGE_SIZE},
            "changePassword": {"supported": False},
            "sort": {"supported": False},
            "etag": {"supported": False},
            "authenticationSchemes": settings.SCIM_SERVICE_PROVIDER["AUTHENTICATION_SCHEMES"],
            "meta": {
                "resourceType": "ServiceProviderConfig",
                "location": f"{tenant_url(self.request)}/ServiceProviderConfig",
            },
        }
