"""Values a client sends, checked against the attribute table and brought to the form we
store: canonical attribute names (names are case-insensitive, RFC 7643 §2.1), values
exactly as sent. Anything we would have to drop is refused with a 400 instead: a 200
that discards data is recorded by Entra as a success and never found.
"""

from typing import Any

from scim_app.endpoint.errors import bad_request

from .attributes import MAX_VALUES, Attribute


def is_empty(value: Any) -> bool:
    """None, "", [] and {} hold nothing: sending one clears an attribute (Microsoft's
    validator sends "" and null to optional attributes and expects them gone)."""
    return value is None or (isinstance(value, str | list | dict) and not value)


def storable_text(value: str) -> bool:
    """No database stores NUL, and PostgreSQL refuses lone surrogates such as "\\ud800"."""
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def text(value: Any, label: str, max_length: int) -> str:
    if not isinstance(value, str):
        raise bad_request(f"{label} must be a string.", "invalidValue")
    if len(value) > max_length:
        raise bad_request(f"{label} is longer than {max_length} characters.", "invalidValue")
    if not storable_text(value):
        raise bad_request(f"{label} contains characters that cannot be stored.", "invalidValue")
    return value


def boolean(value: Any, label: str) -> bool:
    # Entra's default dialect sends "True"/"False" as strings, even in POST.
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise bad_request(f"{label} must be true or false.", "invalidValue")


def simple(attr: Attribute, value: Any, label: str) -> str | bool:
    if attr.type == "boolean":
        return boolean(value, label)
    value = text(value, label, attr.max_length)
    if attr.required and not value.strip():
        raise bad_request(f"{label} cannot be empty.", "invalidValue")
    return value


def complex_value(attr: Attribute, value: Any, label: str) -> dict:
    """A complex value with canonical sub-attribute names. Null sub-attributes are left
    out, read-only ones (computed by us) ignored, unknown ones refused."""
    if attr.bare_value and isinstance(value, str):
        value = {"value": value}
    if not isinstance(value, dict):
        raise bad_request(f"{label} must be an object.", "invalidValue")
    cleaned = {}
    for key, item in value.items():
        sub = attr.sub(str(key))
        if sub is None:
            if is_empty(item):
                continue
            known = ", ".join(s.name for s in attr.sub_attributes)
            raise bad_request(
                f"{label}.{key} is not stored by this service ({label} has {known}).",
                "invalidValue",
            )
        if sub.mutability == "readOnly" or is_empty(item):
            continue
        if sub.name in cleaned:
            # "givenName" and "GIVENNAME" in one name: which one is meant?
            raise bad_request(
                f"{label}.{sub.name} is given twice (attribute names ignore case).",
                "invalidSyntax",
            )
        cleaned[sub.name] = simple(sub, item, f"{label}.{sub.name}")
    return cleaned


def cleared(attr: Attribute, value: dict, cleaned: dict) -> set[str]:
    """The sub-attributes a complex `value` gives as "" or null (and no other way):
    a merge of it into a stored value removes them."""
    names = {
        sub.name for key, item in value.items() if is_empty(item) and (sub := attr.sub(str(key)))
    }
    return names - cleaned.keys()


def clean(attr: Attribute, value: Any, label: str | None = None):
    """`value` for `attr` as we store it; None when it holds nothing (clears the
    attribute). 400 invalidValue for anything of the wrong type or shape."""
    label = label or attr.name
    if is_empty(value):
        return None
    if attr.multi_valued:
        return items(attr, value, label) or None
    if attr.type == "complex":
        return complex_value(attr, value, label) or None
    return simple(attr, value, label)


def items(attr: Attribute, value: Any, label: str) -> list[dict]:
    """A whole multi-valued attribute: a list of complex values (one object alone is
    taken as a list of one). At most MAX_VALUES, at most one of them primary."""
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list):
        raise bad_request(f"{label} must be a list of objects.", "invalidValue")
    cleaned = [item(attr, entry, label) for entry in value if not is_empty(entry)]
    check_items(attr, cleaned, label)
    return cleaned


def item(attr: Attribute, value: Any, label: str) -> dict:
    entry = complex_value(attr, value, label)
    if attr.sub("value") is not None and "value" not in entry:
        raise bad_request(f"Each of {label} needs a value.", "invalidValue")
    return entry


def check_items(attr: Attribute, entries: list[dict], label: str) -> None:
    if len(entries) > MAX_VALUES:
        raise bad_request(f"{label} holds at most {MAX_VALUES} values.", "invalidValue")
    if sum(entry.get("primary") is True for entry in entries) > 1:
        # RFC 7643 §2.4: "primary" is true for at most one value.
        raise bad_request(f"Only one of {label} may be primary.", "invalidValue")
