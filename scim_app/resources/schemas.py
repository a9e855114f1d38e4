"""Discovery documents (RFC 7643 §5-7), generated from the attribute table, so they list
exactly what we store and return.

The SCIM Validator and Entra's Test Schema read /Schemas and reject attributes they
cannot map, so only what we keep is listed, in RFC 7643 §8.7.1's representation:
`caseExact` on strings and references only, `canonicalValues` and `referenceTypes` only
where they apply, never a null.
"""

from django.conf import settings
from django.http import HttpRequest
from django_scim.constants import SchemaURI

from scim_app.endpoint.locations import tenant_url

from .attributes import RESOURCE_TYPES, Attribute, ResourceType, Schema

SCHEMA_URI = "urn:ietf:params:scim:schemas:core:2.0:Schema"
TEXT_TYPES = ("string", "reference", "binary")


def attribute_document(attr: Attribute) -> dict:
    doc = {
        "name": attr.name,
        "type": attr.type,
        "multiValued": attr.multi_valued,
        "description": attr.description,
        "required": attr.required,
    }
    if attr.type in TEXT_TYPES:
        doc["caseExact"] = attr.case_exact
    if attr.canonical_values:
        doc["canonicalValues"] = list(attr.canonical_values)
    if attr.reference_types:
        doc["referenceTypes"] = list(attr.reference_types)
    doc.update(mutability=attr.mutability, returned=attr.returned, uniqueness=attr.uniqueness)
    if attr.sub_attributes:
        doc["subAttributes"] = [attribute_document(sub) for sub in attr.sub_attributes]
    return doc


def all_schemas() -> dict[str, Schema]:
    return {s.urn: s for resource_type in RESOURCE_TYPES.values() for s in resource_type.schemas}


def schema_document(request: HttpRequest, schema: Schema) -> dict:
    return {
        "schemas": [SCHEMA_URI],
        "id": schema.urn,
        "name": schema.name,
        "description": schema.description,
        "attributes": [attribute_document(attr) for attr in schema.attributes],
        "meta": {
            "resourceType": "Schema",
            "location": f"{tenant_url(request)}/Schemas/{schema.urn}",
        },
    }


def resource_type_document(request: HttpRequest, resource_type: ResourceType) -> dict:
    return {
        "schemas": [SchemaURI.RESOURCE_TYPE],
        "id": resource_type.name,
        "name": resource_type.name,
        "endpoint": resource_type.endpoint,
        "description": resource_type.description,
        "schema": resource_type.schema.urn,
        "schemaExtensions": [
            {"schema": extension.urn, "required": False} for extension in resource_type.extensions
        ],
        "meta": {
            "resourceType": "ResourceType",
            "location": f"{tenant_url(request)}/ResourceTypes/{resource_type.name}",
        },
    }


def service_provider_config(request: HttpRequest) -> dict:
    """What we built: PATCH and filters, no bulk, sort, ETags or password changes."""
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
            "location": f"{tenant_url(request)}/ServiceProviderConfig",
        },
    }
