"""SCIM filters (RFC 7644 §3.4.2.2) -> site-scoped ORM queries.

django-scim2's stock FilterQuery builds raw SQL over the whole table and appends
the tenant condition without parentheses, so an `or` filter leaks other sites'
rows; unmapped attributes are dropped silently. Here the filter is parsed with
scim2-filter-parser and translated node by node into a Q object that is applied
to `Model.objects.filter(site=site)`: the site condition is always ANDed outside
the whole filter, and anything we do not support is `400 invalidFilter`.
"""

import uuid
from dataclasses import dataclass
from datetime import UTC

from django.db.models import Q, QuerySet, Value
from django.db.models.functions import Lower
from django.utils.dateparse import parse_datetime
from scim2_filter_parser import ast
from scim2_filter_parser.lexer import SCIMLexer
from scim2_filter_parser.parser import SCIMParser

from scim_app.endpoint.errors import ScimError
from scim_app.models import ScimGroup, ScimUser
from sites.models import Site

USER_URN = "urn:ietf:params:scim:schemas:core:2.0:user"
GROUP_URN = "urn:ietf:params:scim:schemas:core:2.0:group"


@dataclass(frozen=True)
class Column:
    field: str
    # "ci" (case-insensitive string), "exact" string, "uuid", "bool", "datetime",
    # "emails" (any address, in the newline-delimited `email_values` column), or
    # "present" (a complex attribute: only `pr`, true when any of `fields` is set).
    kind: str
    fields: tuple[str, ...] = ()


COMMON = {
    "id": Column("id", "uuid"),
    "externalid": Column("external_id", "exact"),
    "meta.created": Column("created", "datetime"),
    "meta.lastmodified": Column("last_modified", "datetime"),
}
USER_COLUMNS = {
    **COMMON,
    "username": Column("user_name", "ci"),
    "displayname": Column("display_name", "ci"),
    "name.givenname": Column("given_name", "ci"),
    "name.familyname": Column("family_name", "ci"),
    "name.formatted": Column("formatted_name", "ci"),
    "emails.value": Column("email_values", "emails"),
    "emails": Column("email_values", "present", ("email_values",)),
    "name": Column("", "present", ("given_name", "family_name", "formatted_name")),
    "active": Column("active", "bool"),
}
GROUP_COLUMNS = {**COMMON, "displayname": Column("display_name", "ci")}
# emails[type eq "work"].value: the indexed work address, Entra's email matching key.
WORK_EMAIL = Column("work_email", "ci")


def invalid(detail: str) -> ScimError:
    return ScimError(400, detail, "invalidFilter")


class FilterTranslator:
    """Walks scim2-filter-parser's AST and returns a Q object."""

    def __init__(self, columns: dict[str, Column], urn: str):
        self.columns = columns
        self.urn = urn

    def translate(self, node: ast.AST) -> Q:
        if isinstance(node, ast.Filter):
            if node.namespace is not None:
                raise invalid("Value filters such as attr[...] are only supported in PATCH paths.")
            q = self.translate(node.expr)
            return ~q if node.negated else q
        if isinstance(node, ast.LogExpr):
            left, right = self.translate(node.expr1), self.translate(node.expr2)
            return left & right if node.op.lower() == "and" else left | right
        if isinstance(node, ast.AttrExpr):
            return self.comparison(node)
        raise invalid("Unsupported filter expression.")

    def column(self, path: ast.AttrPath) -> Column:
        if isinstance(path.attr_name, ast.Filter):
            return self.value_path_column(path.attr_name)
        if path.uri and path.uri.lower() != self.urn:
            raise invalid(f"Filtering on attributes of {path.uri} is not supported.")
        name = path.attr_name.lower()
        if path.sub_attr is not None:
            name += "." + path.sub_attr.value.lower()
        if name not in self.columns:
            raise invalid(
                f"Filtering on '{name}' is not supported. Supported: {', '.join(self.columns)}."
            )
        return self.columns[name]

    def value_path_column(self, value_filter: ast.Filter) -> Column:
        # emails[type eq "work"].value: the only value path Entra filters with.
        namespace, inner = value_filter.namespace, value_filter.expr
        if isinstance(inner, ast.Filter) and not inner.negated and inner.namespace is None:
            inner = inner.expr
        if (
            isinstance(namespace, ast.AttrPath)
            and namespace.attr_name.lower() == "emails"
            and namespace.sub_attr is not None
            and namespace.sub_attr.value.lower() == "value"
            and isinstance(inner, ast.AttrExpr)
            and inner.value.lower() == "eq"
            and isinstance(inner.attr_path.attr_name, str)
            and inner.attr_path.attr_name.lower() == "type"
            and inner.comp_value is not None
            and inner.comp_value.value.lower() == "work"
            and "emails.value" in self.columns
        ):
            return WORK_EMAIL
        raise invalid('The only supported value path filter is emails[type eq "work"].value.')

    def comparison(self, node: ast.AttrExpr) -> Q:
        column = self.column(node.attr_path)
        op = node.value.lower()
        if op == "pr":
            return self.present(column)
        value = node.comp_value.value if node.comp_value is not None else None
        if value is None:
            raise invalid(f"'{op}' needs a value.")
        if op == "ne":
            return ~self.compare(column, "eq", value)
        return self.compare(column, op, value)

    @staticmethod
    def present(column: Column) -> Q:
        if column.kind == "present":
            q = Q()
            for field in column.fields:
                q |= ~Q(**{field: ""})
            return q
        if column.kind in ("ci", "exact", "emails"):
            return ~Q(**{column.field: ""})
        return Q(**{f"{column.field}__isnull": False})

    def compare(self, column: Column, op: str, value: str) -> Q:
        field, kind = column.field, column.kind
        if "\x00" in value or "\n" in value:
            raise invalid("The filter value contains characters that no attribute holds.")
        if kind == "emails":
            # email_values is "\na@x\nb@y\n": each address sits between two newlines.
            needle = {"eq": f"\n{value}\n", "sw": f"\n{value}", "ew": f"{value}\n", "co": value}
            if op in needle:
                return Q(**{f"{field}__contains": needle[op].lower()})
        elif kind == "ci":
            lookups = {"co": "icontains", "sw": "istartswith", "ew": "iendswith"}
            if op == "eq":
                # Lower() on both sides matches the functional unique indexes.
                return Q(**{f"{field}_lower": Lower(Value(value))})
            if op in lookups:
                return Q(**{f"{field}__{lookups[op]}": value})
        elif kind == "exact":
            lookups = {"eq": "exact", "co": "contains", "sw": "startswith", "ew": "endswith"}
            if op in lookups:
                return Q(**{f"{field}__{lookups[op]}": value})
        elif kind == "uuid" and op == "eq":
            try:
                return Q(**{field: uuid.UUID(value)})
            except ValueError:
                return Q(pk__in=[])  # not an id we could have issued: matches nothing
        elif kind == "bool" and op == "eq":
            if value.lower() not in ("true", "false"):
                raise invalid(f"'{value}' is not a boolean.")
            return Q(**{field: value.lower() == "true"})
        elif kind == "datetime":
            lookups = {"eq": "exact", "gt": "gt", "ge": "gte", "lt": "lt", "le": "lte"}
            try:
                moment = parse_datetime(value)
                if moment is not None and moment.tzinfo is None:
                    moment = moment.replace(tzinfo=UTC)
                moment = moment and moment.astimezone(UTC)
            except (ValueError, OverflowError):
                moment = None
            if moment is None:
                raise invalid(f"'{value}' is not a date-time such as 2026-01-31T12:00:00Z.")
            if op in lookups:
                return Q(**{f"{field}__{lookups[op]}": moment})
        raise invalid(f"The operator '{op}' is not supported for this attribute.")


MAX_FILTER_LENGTH = 2000


def parse(filter_text: str, columns: dict[str, Column], urn: str) -> Q:
    if len(filter_text) > MAX_FILTER_LENGTH:
        raise invalid(f"The filter is longer than {MAX_FILTER_LENGTH} characters.")
    try:
        tree = SCIMParser().parse(SCIMLexer().tokenize(filter_text))
    except RecursionError:
        raise invalid("The filter is nested too deeply.") from None
    except Exception as exc:  # the parser raises SCIMParserError, the lexer ValueError
        raise invalid(f"The filter could not be parsed: {exc}") from None
    if tree is None:
        raise invalid("The filter could not be parsed.")
    try:
        return FilterTranslator(columns, urn).translate(tree)
    except RecursionError:
        raise invalid("The filter is nested too deeply.") from None


def with_lower_aliases(qs: QuerySet, columns: dict[str, Column]) -> QuerySet:
    extra = [WORK_EMAIL] if "emails.value" in columns else []
    ci_fields = {c.field for c in [*columns.values(), *extra] if c.kind == "ci"}
    return qs.alias(**{f"{field}_lower": Lower(field) for field in ci_fields})


class SiteFilter:
    """django-scim2's FILTER_PARSER hook, scoped to the calling site."""

    model: type[ScimUser] | type[ScimGroup]
    columns: dict[str, Column]
    urn: str

    @classmethod
    def search(cls, filter_text: str | None, site: Site) -> QuerySet:
        qs = cls.model.objects.filter(site=site)
        if not filter_text:
            return qs
        return with_lower_aliases(qs, cls.columns).filter(parse(filter_text, cls.columns, cls.urn))


class UserFilter(SiteFilter):
    model = ScimUser
    columns = USER_COLUMNS
    urn = USER_URN
    attr_map: dict = {}  # read by django-scim2's stock adapters at import; unused here


class GroupFilter(SiteFilter):
    model = ScimGroup
    columns = GROUP_COLUMNS
    urn = GROUP_URN
    attr_map: dict = {}
