"""SCIM filters (RFC 7644 §3.4.2.2) -> site-scoped ORM queries, run by the database.

django-scim2's stock FilterQuery builds raw SQL over the whole table and appends the
tenant condition without parentheses, so an `or` filter leaks other sites' rows;
unmapped attributes are dropped silently. Here the filter is parsed with
scim2-filter-parser and translated node by node into a Q object that is applied to
`Model.objects.filter(site=site)`: the site condition is always ANDed outside the whole
filter, and anything we do not support is `400 invalidFilter`.

Attributes resolve through the attribute table: one mirrored in a column (attributes.py
`column`) is compared on that column, and Entra's matching keys (userName, externalId,
displayName, the work email) are indexed there; any other is compared inside the stored
document (json_queries.py).
"""

import re
from dataclasses import dataclass
from datetime import UTC

from django.db.models import Exists, OuterRef, Q, QuerySet, Value
from django.db.models.fields.json import KeyTextTransform, KeyTransform
from django.db.models.functions import Lower
from django.db.models.lookups import Contains, EndsWith, Exact, IsNull, StartsWith
from django.utils.dateparse import parse_datetime
from scim2_filter_parser import ast

from sat_portal.prepared import PreparedQuery
from scim_app.endpoint.errors import ScimError
from scim_app.models import Membership, ScimGroup
from sites.models import Site

from . import filter_syntax, users
from .attributes import GROUP, RESOURCE_TYPES, USER, Attribute, ResourceType, Schema
from .json_queries import ArrayCondition, JsonArrayAny

MAX_FILTER_LENGTH = 2000


def invalid(detail: str) -> ScimError:
    return ScimError(400, detail, "invalidFilter")


@dataclass(frozen=True)
class Path:
    """An attribute a filter compares: `attr`, `attr.sub`, or `attr[filter].sub`."""

    schema: Schema
    attribute: Attribute
    sub: Attribute | None = None
    item_filter: ast.AST | None = None

    @property
    def label(self) -> str:
        return f"{self.attribute.name}.{self.sub.name}" if self.sub else self.attribute.name


class FilterTranslator:
    """Walks scim2-filter-parser's AST and returns a Q object."""

    def __init__(self, resource_type: ResourceType):
        self.resource_type = resource_type

    def translate(self, node: ast.AST) -> Q:
        if isinstance(node, ast.Filter):
            if node.namespace is not None:
                q = self.value_path(node.namespace, node.expr)
            else:
                q = self.translate(node.expr)
            return ~q if node.negated else q
        if isinstance(node, ast.LogExpr):
            left, right = self.translate(node.expr1), self.translate(node.expr2)
            return left & right if node.op.lower() == "and" else left | right
        if isinstance(node, ast.AttrExpr):
            return self.comparison(node)
        raise invalid("Unsupported filter expression.")

    # --- which attribute ----------------------------------------------------------

    def path(self, attr_path: ast.AttrPath) -> Path:
        if isinstance(attr_path.attr_name, ast.Filter):
            # attr[filter].sub: the parser puts `attr.sub` in the filter's namespace.
            inner = attr_path.attr_name
            path = self.path(inner.namespace)
            if not path.attribute.multi_valued:
                raise invalid("A [filter] goes on a multi-valued attribute, e.g. emails[...].")
            return Path(path.schema, path.attribute, path.sub, inner.expr)
        schema = self.resource_type.schema
        if attr_path.uri:
            schema = self.resource_type.schema_for(attr_path.uri)
            if schema is None:
                raise invalid(f"Filtering on attributes of {attr_path.uri} is not supported.")
        name = attr_path.attr_name
        if name.lower() == "meta" and attr_path.sub_attr is not None:
            meta = attr_path.sub_attr.value.lower()
            if meta in ("created", "lastmodified"):
                return Path(schema, META[meta])
        attribute = schema.attribute(name)
        if attribute is None or not attribute.stored:
            supported = ", ".join(a.name for a in schema.attributes if a.stored)
            raise invalid(f"Filtering on '{name}' is not supported. Supported: {supported}.")
        return Path(schema, attribute, self.sub(attribute, attr_path.sub_attr))

    @staticmethod
    def sub(attribute: Attribute, sub_attr: ast.SubAttr | None) -> Attribute | None:
        if sub_attr is None:
            return None
        sub = attribute.sub(sub_attr.value)
        if sub is None:
            raise invalid(f"'{attribute.name}' has no sub-attribute '{sub_attr.value}'.")
        return sub

    # --- comparisons ----------------------------------------------------------------

    def value_path(self, namespace: ast.AttrPath, expr: ast.AST) -> Q:
        """`members[value eq "…"]` or `phoneNumbers[type eq "work"]` on its own: some
        value of the attribute matches."""
        path = self.path(namespace)
        if path.attribute.name == "members":
            return self.members(expr)
        if not path.attribute.multi_valued or path.sub is not None:
            raise invalid("A [filter] goes on a multi-valued attribute, e.g. emails[...].")
        return Q(JsonArrayAny(self.keys(path), self.item_conditions(path.attribute, expr)))

    def comparison(self, node: ast.AttrExpr) -> Q:
        path = self.path(node.attr_path)
        op = node.value.lower()
        value = node.comp_value.value if node.comp_value is not None else None
        if op != "pr" and value is None:
            raise invalid(f"'{op}' needs a value.")
        if value is not None and ("\x00" in value or "\n" in value):
            raise invalid("The filter value contains characters that no attribute holds.")
        if op == "ne":
            return ~self.compare(path, "eq", value)
        return self.compare(path, op, value)

    def compare(self, path: Path, op: str, value: str | None) -> Q:
        attr, sub = path.attribute, path.sub
        if attr.name == "members":
            if sub not in (None, attr.sub("value")) or op not in ("eq", "pr"):
                raise invalid('Filter members with members eq "<id>" or members[value eq "<id>"].')
            return self.members_eq(value) if op == "eq" else Q(Exists(memberships()))
        if attr in META.values() or attr.name == "id":
            return column_compare(attr, op, value)
        if attr.name == "emails" and sub is not None and sub.name == "value":
            if path.item_filter is not None and is_work_email(path.item_filter):
                # The first work address is in an indexed column; the rest, for the few
                # users with more than one, in the document.
                return string_compare(F_WORK_EMAIL, op, value, case_exact=False) | Q(
                    Q(more_work_emails=True), self.any_value(path, op, value)
                )
            if path.item_filter is None:
                return emails_compare(op, value)
        if attr.multi_valued:
            if sub is None and op == "pr":
                return Q(data_has(self.keys(path)))
            if sub is None:
                raise invalid(f"Compare a sub-attribute of {attr.name}, e.g. {attr.name}.value.")
            return self.any_value(path, op, value)
        if attr.type == "complex":
            if sub is None:
                if op == "pr":
                    return Q(data_has(self.keys(path)))
                raise invalid(f"Compare a sub-attribute of {attr.name}, e.g. {attr.name}.value.")
            if sub.column:
                return string_compare(sub.column, op, value, sub.case_exact)
            return json_compare((*self.keys(path), sub.name), sub, op, value)
        if attr.column:
            if attr.type == "boolean":
                return column_compare(attr, op, value)
            return string_compare(attr.column, op, value, attr.case_exact)
        return json_compare(self.keys(path), attr, op, value)

    def any_value(self, path: Path, op: str, value: str | None) -> Q:
        """`attr[filter].sub op value`: some value of a multi-valued attribute matches."""
        conditions = [array_condition(path.attribute, path.sub, op, value)]
        if path.item_filter is not None:
            conditions += self.item_conditions(path.attribute, path.item_filter)
        return Q(JsonArrayAny(self.keys(path), conditions))

    def keys(self, path: Path) -> tuple[str, ...]:
        """Where the attribute sits in the document."""
        if path.schema is self.resource_type.schema:
            return (path.attribute.name,)
        return (path.schema.urn, path.attribute.name)

    def item_conditions(self, attr: Attribute, node: ast.AST) -> list[ArrayCondition]:
        """The conditions of `attr[...]` on one value: comparisons of its sub-attributes
        joined by `and` (what Entra and validators send)."""
        if isinstance(node, ast.Filter) and not node.negated and node.namespace is None:
            return self.item_conditions(attr, node.expr)
        if isinstance(node, ast.LogExpr) and node.op.lower() == "and":
            return self.item_conditions(attr, node.expr1) + self.item_conditions(attr, node.expr2)
        if isinstance(node, ast.AttrExpr) and isinstance(node.attr_path.attr_name, str):
            sub = attr.sub(node.attr_path.attr_name)
            if sub is None:
                raise invalid(f"{attr.name} has no sub-attribute '{node.attr_path.attr_name}'.")
            value = node.comp_value.value if node.comp_value is not None else None
            return [array_condition(attr, sub, node.value.lower(), value)]
        raise invalid(f"Use conditions joined by 'and' in {attr.name}[...].")

    # --- group members ----------------------------------------------------------------

    def members(self, expr: ast.AST) -> Q:
        condition = equality(expr)
        if condition is None or condition[0] != "value":
            raise invalid('Filter members with members eq "<id>" or members[value eq "<id>"].')
        return self.members_eq(condition[1])

    @staticmethod
    def members_eq(value: str) -> Q:
        user_id = users.user_id(value)
        if user_id is None:
            return Q(pk__in=[])  # not an id we could have issued: matches nothing
        return Q(Exists(memberships().filter(user_id=user_id)))


def array_condition(attr: Attribute, sub: Attribute, op: str, value: str | None) -> ArrayCondition:
    """A condition on one value of a multi-valued attribute: eq, co, sw, ew or pr on
    strings, eq or pr on booleans (ne is the negation of the whole comparison)."""
    supported = ("eq", "pr") if sub.type == "boolean" else ("eq", "co", "sw", "ew", "pr")
    if op not in supported:
        raise invalid(f"The operator '{op}' is not supported for {attr.name}.{sub.name}.")
    if op != "pr" and value is None:
        raise invalid(f"'{op}' needs a value.")
    return ArrayCondition(sub.name, op, value, sub.case_exact, sub.type)


def memberships():
    """A group's members, as SCIM sees them: a deleted user is no member."""
    return Membership.objects.filter(group=OuterRef("pk"), user__deleted_at__isnull=True)


META = {
    "created": Attribute("created", "dateTime", column="created"),
    "lastmodified": Attribute("lastModified", "dateTime", column="last_modified"),
}
F_WORK_EMAIL = "work_email"


def equality(node: ast.AST) -> tuple[str, str] | None:
    """(attribute, value), lower-cased name, when `node` is just `attribute eq "value"`."""
    if isinstance(node, ast.Filter) and not node.negated and node.namespace is None:
        node = node.expr
    if (
        isinstance(node, ast.AttrExpr)
        and isinstance(node.attr_path.attr_name, str)
        and node.value.lower() == "eq"
        and node.comp_value is not None
    ):
        return node.attr_path.attr_name.lower(), node.comp_value.value
    return None


def is_work_email(item_filter: ast.AST) -> bool:
    """emails[type eq "work"]: the indexed work address, Entra's email matching key."""
    condition = equality(item_filter)
    return condition is not None and condition[0] == "type" and condition[1].lower() == "work"


def string_compare(column: str, op: str, value: str | None, case_exact: bool) -> Q:
    if op == "pr":
        return ~Q(**{column: ""})
    if case_exact:
        lookups = {"eq": "exact", "co": "contains", "sw": "startswith", "ew": "endswith"}
        if op in lookups:
            return Q(**{f"{column}__{lookups[op]}": value})
    else:
        if op == "eq":
            # Lower() on both sides, as the functional unique indexes are built.
            return Q(Exact(Lower(column), Lower(Value(value))))
        lookups = {"co": "icontains", "sw": "istartswith", "ew": "iendswith"}
        if op in lookups:
            return Q(**{f"{column}__{lookups[op]}": value})
    raise invalid(f"The operator '{op}' is not supported for this attribute.")


def emails_compare(op: str, value: str | None) -> Q:
    """emails.value: any address, in the newline-delimited `email_values` column."""
    if op == "pr":
        return ~Q(email_values="")
    needle = {"eq": f"\n{value}\n", "sw": f"\n{value}", "ew": f"{value}\n", "co": value}
    if op not in needle:
        raise invalid(f"The operator '{op}' is not supported for emails.value.")
    return Q(email_values__contains=needle[op].lower())


def column_compare(attr: Attribute, op: str, value: str | None) -> Q:
    column = attr.column or attr.name
    if op == "pr":
        return Q(**{f"{column}__isnull": False})
    if attr.type == "boolean" and op == "eq":
        if value.lower() not in ("true", "false"):
            raise invalid(f"'{value}' is not a boolean.")
        return Q(**{column: value.lower() == "true"})
    if attr.name == "id" and op == "eq":
        parsed = users.user_id(value)
        return Q(id=parsed) if parsed else Q(pk__in=[])  # ids match only as issued
    if attr.type == "dateTime":
        lookups = {"eq": "exact", "gt": "gt", "ge": "gte", "lt": "lt", "le": "lte"}
        moment = parse_moment(value)
        if op in lookups:
            return Q(**{f"{column}__{lookups[op]}": moment})
    raise invalid(f"The operator '{op}' is not supported for this attribute.")


def parse_moment(value: str):
    try:
        moment = parse_datetime(value)
        if moment is not None and moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        moment = moment and moment.astimezone(UTC)
    except (ValueError, OverflowError):
        moment = None
    if moment is None:
        raise invalid(f"'{value}' is not a date-time such as 2026-01-31T12:00:00Z.")
    return moment


def document_value(keys: tuple[str, ...]) -> KeyTextTransform:
    """The text of a value in the `data` document: data -> k1 -> ... ->> kn."""
    source = "data"
    for key in keys[:-1]:
        source = KeyTransform(key, source)
    return KeyTextTransform(keys[-1], source)


def data_has(keys: tuple[str, ...]) -> IsNull:
    """The document holds a value at `keys`."""
    return IsNull(document_value(keys), False)


def json_compare(keys: tuple[str, ...], attr: Attribute, op: str, value: str | None) -> Q:
    if op == "pr":
        return Q(data_has(keys))
    if attr.type == "boolean":
        raise invalid(f"Filtering on {attr.name} is not supported.")
    text = document_value(keys)
    if not attr.case_exact:
        text, value = Lower(text), value.lower()
    lookups = {"eq": Exact, "co": Contains, "sw": StartsWith, "ew": EndsWith}
    if op not in lookups:
        raise invalid(f"The operator '{op}' is not supported for this attribute.")
    return Q(lookups[op](text, value))


def parse(filter_text: str, resource_type: ResourceType) -> Q:
    if len(filter_text) > MAX_FILTER_LENGTH:
        raise invalid(f"The filter is longer than {MAX_FILTER_LENGTH} characters.")
    try:
        tree = filter_syntax.parse(filter_text)
    except RecursionError:
        raise invalid("The filter is nested too deeply.") from None
    except Exception as exc:  # the parser raises SCIMParserError, the lexer ValueError
        raise invalid(f"The filter could not be parsed: {exc}") from None
    if tree is None:
        raise invalid("The filter could not be parsed.")
    try:
        return FilterTranslator(resource_type).translate(tree)
    except RecursionError:
        raise invalid("The filter is nested too deeply.") from None


def search(resource_type: ResourceType, filter_text: str | None, site: Site | int) -> QuerySet:
    """The site's (or the site with this pk's) users or groups that `filter_text` selects
    (all of them without one)."""
    if resource_type is USER:
        queryset = users.of_site(site)
    else:
        queryset = ScimGroup.objects.live().filter(site=site)
    if not filter_text:
        return queryset
    return queryset.filter(parse(filter_text, resource_type))


# Entra's matching query: `userName eq "…"` for users, `displayName eq "…"` for groups
# (docs/entra-provisioning.md). A value with a quote, a backslash or a control character
# takes the general way.
MATCHING_KEYS = {USER.name: "userName", GROUP.name: "displayName"}
MATCHING_FILTER = re.compile(r'\s*([A-Za-z]+)\s+eq\s+"([^"\\\x00-\x1f]*)"\s*', re.IGNORECASE)
MATCH_EXAMPLE = "value@prepared.example"


def matching_value(resource_type: ResourceType, filter_text: str | None) -> str | None:
    """The value of `filter_text` when it is the matching query on the resource type's
    unique key (one row or none), else None."""
    if not filter_text or len(filter_text) > MAX_FILTER_LENGTH:
        return None
    found = MATCHING_FILTER.fullmatch(filter_text)
    if found is None or found[1].lower() != MATCHING_KEYS[resource_type.name].lower():
        return None
    return found[2]


def by_matching_key(resource_type: ResourceType) -> PreparedQuery:
    """`search()` for the matching query, compiled once (sat_portal.prepared): the same
    statement the general way builds, for the request Entra sends for every user and group."""
    key = MATCHING_KEYS[resource_type.name]

    def build(site_id: int, value: str) -> QuerySet:
        return search(resource_type, f'{key} eq "{value}"', site_id)

    return PreparedQuery(build, -1, MATCH_EXAMPLE)


BY_MATCHING_KEY = {name: by_matching_key(t) for name, t in RESOURCE_TYPES.items()}
