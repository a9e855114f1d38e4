"""A resource's document (its SCIM attributes, as stored in `data`): built from a POST or
PUT body, and changed by PATCH operations (RFC 7644 §3.5.2) in both of Entra's dialects.

Entra's default dialect sends `Replace` with string booleans and one operation per path;
the `aadOptscim062020` dialect sends lower-case ops, real booleans and path-less
operations whose value maps dotted paths or extension URNs to values. Op and attribute
names are case-insensitive in both. Everything here works on the attribute table
(attributes.py), so every attribute in it can be set, changed and cleared the same way.
"""

import re
from dataclasses import dataclass
from typing import Any

from scim2_filter_parser import ast

from scim_app.endpoint.errors import ScimError, bad_request

from . import filter_syntax, values
from .attributes import Attribute, ResourceType, Schema

OPS = ("add", "replace", "remove")
# Request members that are not attributes: the resource's schema list and read-only meta.
ENVELOPE = {"schemas", "meta"}

PATH_RE = re.compile(
    r"^(?P<attr>[A-Za-z$][\w$-]*)(?:\[(?P<filter>.*)\])?(?:\.(?P<sub>[A-Za-z$][\w$-]*))?$",
    re.DOTALL,
)


# --- building a document from a whole resource (POST, PUT) ---------------------------


def from_resource(resource_type: ResourceType, body: dict, *, skip: tuple[str, ...] = ()) -> dict:
    """The document for a POST or PUT body: every attribute it sets, canonically named.

    Read-only attributes a client sends (id, meta, a manager's displayName) are ignored
    and write-only ones (password) are not kept (RFC 7643 §2.2); an attribute we do not
    store is refused unless it holds nothing. `skip` names attributes stored elsewhere
    (a group's members).
    """
    document: dict = {}
    for key, value in body.items():
        key = str(key)
        if key.lower() in ENVELOPE or key.lower() in skip:
            continue
        extension = resource_type.schema_for(key)
        if extension is not None and extension is not resource_type.schema:
            if values.is_empty(value):
                continue
            if not isinstance(value, dict):
                raise bad_request(f"{key} must be an object.", "invalidValue")
            for sub_key, sub_value in value.items():
                set_from_resource(document, extension, resource_type, str(sub_key), sub_value)
            continue
        set_from_resource(document, resource_type.schema, resource_type, key, value)
    for attr in resource_type.schema.attributes:
        if attr.required and attr.name not in document:
            raise bad_request(
                f"{attr.name} is required and must be a non-empty string.", "invalidValue"
            )
    return document


def set_from_resource(
    document: dict, schema: Schema, resource_type: ResourceType, key: str, value: Any
) -> None:
    attr = schema.attribute(key)
    if attr is None:
        if values.is_empty(value):
            return  # nothing would be lost
        raise not_stored(resource_type, schema, key)
    if attr.mutability == "readOnly" or not attr.stored:
        return
    cleaned = values.clean(attr, value)
    if cleaned is not None:
        here = container(document, schema, resource_type, create=True)
        if attr.name in here:
            # "userName" and "USERNAME" (or an extension sent twice): which one is meant?
            raise bad_request(
                f"{attr.name} is given twice (attribute names ignore case).", "invalidSyntax"
            )
        here[attr.name] = cleaned


def not_stored(resource_type: ResourceType, schema: Schema, name: str) -> ScimError:
    if ":" in name:
        return bad_request(f"{name} is not a schema this service stores.", "invalidPath")
    stored = ", ".join(a.name for a in schema.attributes if a.stored)
    return bad_request(
        f"'{name}' is not an attribute of {resource_type.name} here. This service stores: "
        f"{stored}.",
        "invalidPath",
    )


def container(document: dict, schema: Schema, resource_type: ResourceType, *, create: bool):
    """Where `schema`'s attributes live in the document: the top level for the core
    schema, the object under an extension's URN (created on demand) for an extension."""
    if schema is resource_type.schema:
        return document
    if create:
        return document.setdefault(schema.urn, {})
    return document.get(schema.urn, {})


def prune(document: dict, resource_type: ResourceType) -> None:
    """Drop extension objects left empty by a change."""
    for schema in resource_type.extensions:
        if schema.urn in document and not document[schema.urn]:
            del document[schema.urn]


def copy(document: Any) -> Any:
    """A copy of a document (JSON: dicts, lists and immutable scalars) that a PATCH can
    change without touching the original, which history.diff compares it with. What
    copy.deepcopy does for JSON, without its memo and dispatch on every value."""
    if isinstance(document, dict):
        return {key: copy(value) for key, value in document.items()}
    if isinstance(document, list):
        return [copy(value) for value in document]
    return document


# --- PATCH -------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """What an operation's path names: `attr`, `attr.sub`, `attr[filter]` or
    `attr[filter].sub`, in the core schema or an extension."""

    schema: Schema
    attribute: Attribute
    value_filter: "ValueFilter | None" = None
    sub: Attribute | None = None


# One PATCH operation on one attribute: (op, target, value), op in lower case.
Operation = tuple[str, Target, Any]


def parse_path(resource_type: ResourceType, raw: Any) -> Target:
    if not isinstance(raw, str):
        raise bad_request("'path' must be a string.", "invalidPath")
    schema, rest = resource_type.split_urn(raw.strip())
    match = PATH_RE.match(rest)
    if not match:
        if ":" in rest:
            raise bad_request(f"{raw} is not a schema this service stores.", "invalidPath")
        raise bad_request(
            f"The path '{raw}' is not a path this service understands.", "invalidPath"
        )
    attr = schema.attribute(match["attr"])
    if attr is None:
        raise not_stored(resource_type, schema, match["attr"])
    sub = None
    if match["sub"]:
        sub = attr.sub(match["sub"])
        if sub is None:
            raise bad_request(
                f"'{attr.name}' has no sub-attribute '{match['sub']}'.", "invalidPath"
            )
    value_filter = None
    if match["filter"] is not None:
        if not attr.multi_valued:
            raise bad_request(
                f"A [filter] is only supported on multi-valued attributes, not '{attr.name}'.",
                "invalidPath",
            )
        value_filter = ValueFilter.parse(attr, match["filter"])
    return Target(schema, attr, value_filter, sub)


def operations(resource_type: ResourceType, body: dict) -> list[Operation]:
    """(op, target, value) for each attribute the PATCH body touches, in order."""
    # RFC 7644 §3.5.2; attribute names are case-insensitive, so is "Operations".
    raw_operations = next((v for k, v in body.items() if str(k).lower() == "operations"), None)
    if not isinstance(raw_operations, list):
        raise bad_request("A PATCH body needs an 'Operations' list.", "invalidSyntax")
    expanded = []
    for operation in raw_operations:  # an empty list (seen from Microsoft's validator) is a no-op
        if not isinstance(operation, dict):
            raise bad_request("Each item of 'Operations' must be an object.", "invalidSyntax")
        operation = {str(key).lower(): value for key, value in operation.items()}
        op = operation.get("op")
        if not isinstance(op, str) or op.lower() not in OPS:
            raise bad_request(f"Unknown op {op!r}: use add, replace or remove.", "invalidSyntax")
        op = op.lower()
        for target, value in expand(
            resource_type, op, operation.get("path"), operation.get("value")
        ):
            expanded.append((op, target, value))
    return expanded


def expand(resource_type: ResourceType, op: str, raw_path: Any, value: Any):
    """One (target, value) pair per attribute an operation touches."""
    if raw_path not in (None, ""):
        schema = resource_type.schema_for(str(raw_path).strip())
        if schema is None:
            target = parse_path(resource_type, raw_path)
            if target.attribute.name.lower() in ENVELOPE:
                return []
            return [(target, value)]
        # The path is a whole schema: like a path-less operation on its attributes.
        return pairs_for(resource_type, schema, op, None if op == "remove" else value)
    if op == "remove":
        raise bad_request("A remove operation needs a 'path'.", "noTarget")
    return pairs_for(resource_type, None, op, value)


def pairs_for(resource_type: ResourceType, schema: Schema | None, op: str, value: Any):
    if schema not in (None, resource_type.schema) and values.is_empty(value):
        # An extension removed, or set to null or {}: each of its attributes is cleared.
        return [(Target(schema, attr), None) for attr in schema.attributes if attr.writable]
    if not isinstance(value, dict):
        raise bad_request("An operation without 'path' needs an object 'value'.", "invalidValue")
    pairs = []
    for key, item in value.items():
        key = str(key)
        if key.lower() in ENVELOPE:
            continue
        nested = resource_type.schema_for(key)
        if nested is not None and (isinstance(item, dict) or values.is_empty(item)):
            pairs.extend(pairs_for(resource_type, nested, op, item))
        elif schema is not None and schema is not resource_type.schema:
            pairs.append((parse_path(resource_type, f"{schema.urn}:{key}"), item))
        else:
            pairs.append((parse_path(resource_type, key), item))
    return pairs


def apply(
    document: dict, resource_type: ResourceType, op: str, target: Target, value: Any, own_id: str
) -> None:
    """Apply one operation to `document` (of the resource `own_id`) in memory. RFC 7644
    §3.5.2, with Entra's readings: an add or replace of `attr[type eq "x"].sub` that
    matches nothing creates that value, and "" or null clears (Microsoft's validator
    checks both)."""
    attr = target.attribute
    if attr.name == "id" and op != "remove" and value == own_id and not target.sub:
        return  # its own id, sent along with what a replace sets: nothing to change
    if attr.mutability == "readOnly" or (target.sub and target.sub.mutability == "readOnly"):
        raise bad_request(f"{attr.name} is read-only.", "mutability")
    if not attr.stored:
        return  # write-only (password): accepted, never kept
    here = container(document, target.schema, resource_type, create=True)
    if attr.multi_valued:
        apply_multi(here, op, target, value)
    elif attr.type == "complex":
        apply_complex(here, op, target, value)
    else:
        apply_simple(here, op, target, value)
    prune(document, resource_type)


def apply_simple(here: dict, op: str, target: Target, value: Any) -> None:
    attr = target.attribute
    if target.sub or target.value_filter:
        raise bad_request(f"'{attr.name}' has no sub-attributes.", "invalidPath")
    cleaned = None if op == "remove" else values.clean(attr, value)
    if cleaned is None:
        if attr.required:
            raise bad_request(f"{attr.name} cannot be removed.", "invalidValue")
        if attr.name == "active":
            cleaned = True  # absent means active (the schema's description says so)
        else:
            here.pop(attr.name, None)
            return
    here[attr.name] = cleaned


def apply_complex(here: dict, op: str, target: Target, value: Any) -> None:
    attr = target.attribute
    current = dict(here.get(attr.name, {}))
    if target.sub is not None:
        sub_value = (
            None
            if op == "remove"
            else values.clean(target.sub, value, f"{attr.name}.{target.sub.name}")
        )
        if sub_value is None:
            current.pop(target.sub.name, None)
        else:
            current[target.sub.name] = sub_value
    elif op == "remove" or values.is_empty(value):
        current = {}
    elif attr.bare_value:
        # A manager is replaced as a whole: {"value": ""} and "" remove it.
        current = values.clean(attr, value) or {}
    else:
        # RFC 7644 §3.5.2.1/.3: the given sub-attributes replace, the others stay, and
        # one given as "" or null is removed ({"givenName": ""} keeps familyName).
        cleaned = values.complex_value(attr, value, attr.name)
        current.update(cleaned)
        for name in values.cleared(attr, value, cleaned):
            current.pop(name, None)
    if current:
        here[attr.name] = current
    else:
        here.pop(attr.name, None)


def apply_multi(here: dict, op: str, target: Target, value: Any) -> None:
    attr, sub, value_filter = target.attribute, target.sub, target.value_filter
    entries = [dict(entry) for entry in here.get(attr.name, [])]
    touched: list[dict] = []  # the values this operation wrote
    if value_filter is None and sub is None:
        given = (
            [] if values.is_empty(value) or op == "remove" else values.items(attr, value, attr.name)
        )
        if op == "add":
            # RFC 7644 §3.5.2.1: a value already there is not added again; one that
            # differs only in its other sub-attributes (primary, display) is merged.
            for entry in given:
                existing = next((e for e in entries if same_value(attr, e, entry)), None)
                if existing is None:
                    entries.append(entry)
                else:
                    existing.update(entry)
                touched.append(existing or entry)
        elif op == "replace":
            entries = touched = given
        elif value is None:
            entries = []
        else:
            # Entra's "Remove members [list]" shape: only the values listed go.
            entries = [entry for entry in entries if not matches_any(attr, entry, value)]
    else:
        matched = (
            entries if value_filter is None else [e for e in entries if value_filter.matches(e)]
        )
        unmatched = [entry for entry in entries if not any(entry is m for m in matched)]
        if op == "remove" and sub is None:
            entries = unmatched
        elif sub is not None:
            if sub.name == "value" and (op == "remove" or values.is_empty(value)):
                # `emails[type eq "work"].value` removed, or set to "" or null: that address
                # is gone (a value without its `value` is none).
                entries = unmatched
            elif op == "remove" or values.is_empty(value):
                for entry in matched:
                    entry.pop(sub.name, None)
            elif matched:
                for entry in matched:
                    set_sub(entry, attr, sub, value)
                touched = matched
            else:
                # RFC 7644 §3.5.2.1: add creates the value when absent (and so does
                # replace, for Entra, when our GET showed no work email); `emails.value`
                # with no filter and no emails yet, as the one value.
                new = {sub.name: value}
                touched = [
                    value_filter.new_entry(new)
                    if value_filter is not None
                    else values.item(attr, new, attr.name)
                ]
                entries.append(touched[0])
        else:
            single = value[0] if isinstance(value, list) and len(value) == 1 else value
            if values.is_empty(single):
                # `phoneNumbers[type eq "mobile"]` set to "" or null: that value is gone.
                entries = unmatched
            else:
                new = values.complex_value(attr, single, attr.name)
                gone = values.cleared(attr, single, new)
                if matched:
                    # Add merges into the matched values ("" or null removes a
                    # sub-attribute); replace replaces them, keeping what the filter
                    # selects them by (their type, say). Their places stay.
                    for position, entry in enumerate(entries):
                        if any(entry is m for m in matched):
                            merged = {}  # a value without its `value` is none
                            if "value" not in gone:
                                keep = entry if op == "add" else value_filter.keep(entry)
                                merged = {k: v for k, v in (keep | new).items() if k not in gone}
                            if merged:
                                merged = values.item(attr, merged, attr.name)
                            entries[position] = merged
                            touched.append(merged)
                else:
                    touched = [value_filter.new_entry(new)]
                    entries.append(touched[0])
    entries = [entry for entry in entries if entry]
    if any(entry.get("primary") is True for entry in touched):
        # RFC 7644 §3.5.2: making a value primary makes every other one not primary.
        for entry in entries:
            if entry.get("primary") is True and not any(entry is t for t in touched):
                entry["primary"] = False
    values.check_items(attr, entries, attr.name)
    if entries:
        here[attr.name] = entries
    else:
        here.pop(attr.name, None)


def set_sub(entry: dict, attr: Attribute, sub: Attribute, value: Any) -> None:
    cleaned = values.clean(sub, value, f"{attr.name}.{sub.name}")
    if cleaned is None:
        entry.pop(sub.name, None)
    else:
        entry[sub.name] = cleaned


def matches_any(attr: Attribute, entry: dict, value: Any) -> bool:
    """Whether `entry` is one of the values a remove names: [{"value": ...}] or plain
    values, compared on `value` (or as a whole, for attributes without one)."""
    wanted = value if isinstance(value, list) else [value]
    value_sub = attr.sub("value")
    for item in wanted:
        if value_sub is None:
            if isinstance(item, dict) and values.complex_value(attr, item, attr.name) == entry:
                return True
            continue
        raw = item.get("value") if isinstance(item, dict) else item
        if isinstance(raw, str) and same(value_sub, entry.get("value"), raw):
            return True
    return False


def same_value(attr: Attribute, stored: dict, given: dict) -> bool:
    """Whether two values of a multi-valued attribute are one: the same `value` of the
    same type (an address in any case is one address), or equal whole for attributes
    without a `value` (addresses)."""
    value_sub = attr.sub("value")
    if value_sub is None:
        return stored == given
    same_type = str(stored.get("type", "")).lower() == str(given.get("type", "")).lower()
    return same_type and same(value_sub, stored.get("value"), given.get("value"))


def same(attr: Attribute, stored: Any, given: Any) -> bool:
    if attr.type == "boolean":
        try:
            return stored is values.boolean(given, attr.name)
        except ScimError:
            return False
    if not isinstance(stored, str) or not isinstance(given, str):
        return False
    return stored == given if attr.case_exact else stored.lower() == given.lower()


# --- value filters in paths: emails[type eq "work"] ----------------------------------


class ValueFilter:
    """The filter in `attr[...]`, evaluated on each value of the attribute. Any filter
    over the attribute's sub-attributes works for matching; one made only of `eq`
    comparisons joined by `and` also tells what a value created by add looks like."""

    def __init__(self, attr: Attribute, tree: ast.AST):
        self.attr = attr
        self.tree = tree

    @classmethod
    def parse(cls, attr: Attribute, text: str) -> "ValueFilter":
        try:
            tree = filter_syntax.parse(text)
        except Exception as exc:  # the parser raises SCIMParserError, the lexer ValueError
            raise bad_request(
                f"The filter [{text}] could not be parsed: {exc}", "invalidFilter"
            ) from None
        if tree is None:
            raise bad_request(f"The filter [{text}] could not be parsed.", "invalidFilter")
        value_filter = cls(attr, tree)
        value_filter.check(tree)
        return value_filter

    def check(self, node: ast.AST) -> None:
        if isinstance(node, ast.Filter):
            if node.namespace is not None:
                raise bad_request("A [filter] cannot contain another one.", "invalidFilter")
            return self.check(node.expr)
        if isinstance(node, ast.LogExpr):
            self.check(node.expr1)
            return self.check(node.expr2)
        if isinstance(node, ast.AttrExpr) and isinstance(node.attr_path.attr_name, str):
            if self.sub_of(node) is None:
                raise bad_request(
                    f"{self.attr.name} has no sub-attribute '{node.attr_path.attr_name}'.",
                    "invalidFilter",
                )
            return None
        raise bad_request("Unsupported [filter] in a path.", "invalidFilter")

    def sub_of(self, node: ast.AttrExpr) -> Attribute | None:
        return self.attr.sub(node.attr_path.attr_name)

    def matches(self, entry: dict, node: ast.AST | None = None) -> bool:
        node = self.tree if node is None else node
        if isinstance(node, ast.Filter):
            result = self.matches(entry, node.expr)
            return not result if node.negated else result
        if isinstance(node, ast.LogExpr):
            left = self.matches(entry, node.expr1)
            if node.op.lower() == "and":
                return left and self.matches(entry, node.expr2)
            return left or self.matches(entry, node.expr2)
        return self.compare(entry, node)

    def compare(self, entry: dict, node: ast.AttrExpr) -> bool:
        sub = self.sub_of(node)
        stored = entry.get(sub.name)
        op = node.value.lower()
        if op == "pr":
            return not values.is_empty(stored)
        given = node.comp_value.value if node.comp_value is not None else None
        if op == "eq":
            return same(sub, stored, given)
        if op == "ne":
            return not same(sub, stored, given)
        if not isinstance(stored, str) or not isinstance(given, str):
            return False
        if not sub.case_exact:
            stored, given = stored.lower(), given.lower()
        return {
            "co": given in stored,
            "sw": stored.startswith(given),
            "ew": stored.endswith(given),
            "gt": stored > given,
            "ge": stored >= given,
            "lt": stored < given,
            "le": stored <= given,
        }.get(op, False)

    def template(self, node: ast.AST | None = None) -> dict | None:
        """{sub: value} when the filter is eq comparisons joined by and, else None."""
        node = self.tree if node is None else node
        if isinstance(node, ast.Filter) and not node.negated:
            return self.template(node.expr)
        if isinstance(node, ast.LogExpr) and node.op.lower() == "and":
            left, right = self.template(node.expr1), self.template(node.expr2)
            return None if left is None or right is None else {**left, **right}
        if isinstance(node, ast.AttrExpr) and node.value.lower() == "eq" and node.comp_value:
            sub = self.sub_of(node)
            return {
                sub.name: values.clean(sub, node.comp_value.value, f"{self.attr.name}.{sub.name}")
            }
        return None

    def new_entry(self, fields: dict) -> dict:
        """The value an add (or Entra's replace) creates when the filter matched none."""
        template = self.template()
        if template is None:
            raise bad_request(f"No value of {self.attr.name} matches the filter.", "noTarget")
        return values.item(self.attr, {**template, **fields}, self.attr.name)

    def keep(self, entry: dict) -> dict:
        """What a replace of a matched value keeps: the sub-attributes the filter names
        (its type, say), so that `emails[type eq "work"]` replaced stays the work one."""
        template = self.template() or {}
        return {key: value for key, value in entry.items() if key in template}
