"""The SCIM resource shape in one table: every attribute we store, with its
characteristics (RFC 7643 §2.2, §7) and where it lives.

Discovery (/Schemas, /ResourceTypes), serialisation, POST/PUT, PATCH and filters all read
this table, so an attribute added here is advertised, stored, returned, patchable and
filterable at once. An attribute lives in the resource's `data` document under its
canonical name (an extension's under the extension's URN); `column` names the model
column that mirrors it for indexes, filters and lists.

Users carry the core User schema (RFC 7643 §4.1) that Microsoft Entra can map and the
enterprise extension (§4.3); groups the core Group schema (§4.2).
"""

from dataclasses import dataclass, field
from functools import cached_property

USER_URN = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE_URN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
GROUP_URN = "urn:ietf:params:scim:schemas:core:2.0:Group"
# Microsoft lists its own schema in a group's `schemas`; it defines nothing we store.
ENTRA_GROUP_URN = "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"

# How many values one multi-valued attribute (emails, phoneNumbers, ...) may hold.
MAX_VALUES = 20


@dataclass(frozen=True)
class Attribute:
    name: str
    type: str = "string"  # string, boolean, complex, reference, binary (RFC 7643 §2.3)
    multi_valued: bool = False
    sub_attributes: tuple["Attribute", ...] = ()
    required: bool = False
    case_exact: bool = False
    mutability: str = "readWrite"  # readOnly, readWrite, immutable, writeOnly
    returned: str = "default"  # always, never, default, request
    uniqueness: str = "none"
    canonical_values: tuple[str, ...] = ()
    reference_types: tuple[str, ...] = ()
    description: str = ""
    max_length: int = 255
    column: str | None = None
    # A plain string sent for this complex attribute means its `value` sub-attribute:
    # Entra sets the manager with "value": "<id>", not {"value": "<id>"}.
    bare_value: bool = False

    @cached_property
    def subs(self) -> dict[str, "Attribute"]:
        """Sub-attributes by lower-cased name: attribute names are case-insensitive."""
        return {sub.name.lower(): sub for sub in self.sub_attributes}

    def sub(self, name: str) -> "Attribute | None":
        return self.subs.get(name.lower())

    @property
    def writable(self) -> bool:
        return self.mutability in ("readWrite", "immutable", "writeOnly")

    @property
    def stored(self) -> bool:
        """Kept and returned: everything but write-only values (password)."""
        return self.returned != "never"


@dataclass(frozen=True)
class Schema:
    urn: str
    name: str
    description: str
    attributes: tuple[Attribute, ...]

    @cached_property
    def by_name(self) -> dict[str, Attribute]:
        return {attribute.name.lower(): attribute for attribute in self.attributes}

    def attribute(self, name: str) -> Attribute | None:
        return self.by_name.get(name.lower())


@dataclass(frozen=True)
class ResourceType:
    name: str
    endpoint: str
    description: str
    schema: Schema
    extensions: tuple[Schema, ...] = field(default=())
    # Schema URIs clients list in `schemas` that we accept although they define nothing.
    tolerated_schemas: tuple[str, ...] = ()

    @property
    def schemas(self) -> tuple[Schema, ...]:
        return (self.schema, *self.extensions)

    def schema_for(self, urn: str) -> Schema | None:
        """The core schema or an extension, by URN (compared case-insensitively)."""
        return next((s for s in self.schemas if s.urn.lower() == urn.lower()), None)

    def split_urn(self, path: str) -> tuple[Schema, str]:
        """`urn:...:enterprise:2.0:User:department` -> (the extension, "department");
        a path without a schema URN is the core schema's."""
        lowered = path.lower()
        for schema in self.schemas:
            prefix = schema.urn.lower() + ":"
            if lowered.startswith(prefix):
                return schema, path[len(prefix) :]
        return self.schema, path


def attribute(name: str, type_: str = "string", **characteristics) -> Attribute:
    return Attribute(name, type_, **characteristics)


def typed_values(
    name: str, types: tuple[str, ...], value_type: str = "string", max_length: int = 255, **extra
):
    """A multi-valued attribute of {value, type, primary} items (emails, phoneNumbers...);
    `max_length` is the longest `value`."""
    subs = [
        attribute(
            "value",
            value_type,
            max_length=max_length,
            **({"reference_types": ("external",)} if value_type == "reference" else {}),
        ),
        attribute("type", canonical_values=types),
        attribute("primary", "boolean"),
    ]
    if extra.pop("display", False):
        subs.insert(1, attribute("display"))
    return attribute(name, "complex", multi_valued=True, sub_attributes=tuple(subs), **extra)


ID = attribute(
    "id",
    case_exact=True,
    mutability="readOnly",
    returned="always",
    uniqueness="server",
    description="Issued by this service: a random UUID, unique across all sites.",
)
EXTERNAL_ID = attribute(
    "externalId",
    case_exact=True,
    column="external_id",
    description="The identifier Entra knows the resource by.",
)

USER_SCHEMA = Schema(
    USER_URN,
    "User",
    "A trainee of the site, provisioned by Microsoft Entra ID.",
    (
        ID,
        EXTERNAL_ID,
        attribute(
            "userName",
            required=True,
            uniqueness="server",
            max_length=320,
            column="user_name",
            description="Unique within the site, compared case-insensitively. Entra's matching key.",
        ),
        attribute(
            "name",
            "complex",
            sub_attributes=(
                attribute("formatted"),
                attribute("familyName", column="family_name"),
                attribute("givenName", column="given_name"),
                attribute("middleName"),
                attribute("honorificPrefix"),
                attribute("honorificSuffix"),
            ),
        ),
        attribute("displayName", column="display_name"),
        attribute("nickName"),
        attribute("profileUrl", "reference", reference_types=("external",), max_length=2048),
        attribute("title", column="title"),
        attribute("userType"),
        attribute("preferredLanguage", description="e.g. en-US: the course language."),
        attribute("locale"),
        attribute("timezone"),
        attribute("active", "boolean", column="active", description="Absent means true."),
        attribute(
            "password",
            mutability="writeOnly",
            returned="never",
            description="Accepted and discarded: never stored, never returned.",
        ),
        typed_values("emails", ("work", "home", "other"), max_length=320),
        typed_values("phoneNumbers", ("work", "home", "mobile", "fax", "pager", "other")),
        typed_values("ims", ("aim", "gtalk", "icq", "xmpp", "msn", "skype", "qq", "yahoo")),
        typed_values("photos", ("photo", "thumbnail"), "reference", max_length=2048),
        attribute(
            "addresses",
            "complex",
            multi_valued=True,
            sub_attributes=(
                attribute("formatted"),
                attribute("streetAddress"),
                attribute("locality"),
                attribute("region"),
                attribute("postalCode"),
                attribute("country"),
                attribute("type", canonical_values=("work", "home", "other")),
                attribute("primary", "boolean"),
            ),
        ),
        typed_values("entitlements", (), display=True),
        typed_values("roles", (), display=True),
        typed_values("x509Certificates", (), "binary", max_length=16384),
    ),
)

ENTERPRISE_SCHEMA = Schema(
    ENTERPRISE_URN,
    "EnterpriseUser",
    "Enterprise User: organisation data for targeting training and reporting to managers.",
    (
        attribute("employeeNumber", column="employee_number"),
        attribute("costCenter"),
        attribute("organization"),
        attribute("division"),
        attribute("department", column="department"),
        attribute(
            "manager",
            "complex",
            bare_value=True,
            sub_attributes=(
                attribute(
                    "value",
                    case_exact=True,
                    description="The manager's id, kept as sent even before that user exists.",
                ),
                attribute(
                    "$ref",
                    "reference",
                    reference_types=("User",),
                    mutability="readOnly",
                    description="Returned when the manager is a user of this site.",
                ),
                attribute("displayName", mutability="readOnly"),
            ),
        ),
    ),
)

GROUP_SCHEMA = Schema(
    GROUP_URN,
    "Group",
    "A group of the site's trainees, provisioned by Microsoft Entra ID.",
    (
        ID,
        EXTERNAL_ID,
        attribute(
            "displayName",
            required=True,
            uniqueness="server",
            column="display_name",
            description="Unique within the site, compared case-insensitively. Entra's matching key.",
        ),
        attribute(
            "members",
            "complex",
            multi_valued=True,
            description="Users of the same site; stored as membership rows, not in the document.",
            sub_attributes=(
                attribute("value", case_exact=True, mutability="immutable"),
                attribute("$ref", "reference", reference_types=("User",), mutability="immutable"),
                attribute("display", mutability="readOnly"),
                attribute("type", mutability="immutable", canonical_values=("User",)),
            ),
        ),
    ),
)

USER = ResourceType("User", "/Users", "Trainee", USER_SCHEMA, (ENTERPRISE_SCHEMA,))
GROUP = ResourceType(
    "Group", "/Groups", "Group", GROUP_SCHEMA, tolerated_schemas=(ENTRA_GROUP_URN,)
)
RESOURCE_TYPES = {resource_type.name: resource_type for resource_type in (USER, GROUP)}
