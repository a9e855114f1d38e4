"""`attributes` and `excludedAttributes` (RFC 7644 §3.9): which attributes a GET (or a
write's answer) returns. Names are case-insensitive and may be URN-qualified
(`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department`)."""

from django.http import HttpRequest

from .attributes import ResourceType

ALWAYS_RETURNED = {"id", "schemas"}

Paths = set[tuple[str, ...]]


def requested(request: HttpRequest, param: str, resource_type: ResourceType) -> Paths:
    """The query parameter's names as lower-cased key paths into a resource, e.g.
    ("name", "givenname") or ("urn:…:enterprise:2.0:user", "manager", "value")."""
    paths = set()
    for name in request.GET.get(param, "").split(","):
        name = name.strip()
        if not name:
            continue
        schema, rest = resource_type.split_urn(name)
        keys = tuple(part.lower() for part in rest.split(".") if part)
        if schema is not resource_type.schema:
            keys = (schema.urn.lower(), *keys)
        if keys:
            paths.add(keys)
    return paths


def wants(attribute: str, include: Paths, exclude: Paths) -> bool:
    """Whether a top-level attribute (a group's members, say) is to be returned at all."""
    attribute = attribute.lower()
    if include:
        return any(path[0] == attribute for path in include)
    return (attribute,) not in exclude


def project(resource: dict, include: Paths, exclude: Paths) -> dict:
    if include:
        return pick(resource, include, top=True)
    if exclude:
        return drop(resource, exclude, top=True)
    return resource


def pick(value, paths: Paths, top: bool = False):
    if isinstance(value, list):
        return [picked for item in value if (picked := pick(item, paths))]
    if not isinstance(value, dict):
        return value
    out = {}
    for key, item in value.items():
        lower = key.lower()
        if (top and lower in ALWAYS_RETURNED) or (lower,) in paths:
            out[key] = item
            continue
        deeper = {path[1:] for path in paths if len(path) > 1 and path[0] == lower}
        if deeper and (picked := pick(item, deeper)):
            out[key] = picked
    return out


def drop(value, paths: Paths, top: bool = False):
    if isinstance(value, list):
        return [drop(item, paths) for item in value]
    if not isinstance(value, dict):
        return value
    out = {}
    for key, item in value.items():
        lower = key.lower()
        if (lower,) in paths and not (top and lower in ALWAYS_RETURNED):
            continue
        deeper = {path[1:] for path in paths if len(path) > 1 and path[0] == lower}
        out[key] = drop(item, deeper) if deeper else item
    return out
