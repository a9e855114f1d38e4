"""What a request changed, attribute by attribute: the change history of a user or group.

It is kept on the request's provisioning-log row (`changes`), so it costs no query of its
own and lives as long as the log; a user's history is her log rows that changed something.
"""

import json

from .attributes import ENTERPRISE_URN

# A value in the history is for reading ("department: Sales → Finance"), not for
# restoring: long ones are cut.
VALUE_CAP = 200


def text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        shown = value
    elif isinstance(value, bool):
        shown = "true" if value else "false"
    else:
        shown = json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    return shown if len(shown) <= VALUE_CAP else shown[: VALUE_CAP - 1] + "…"


def diff(before: dict, after: dict) -> list[dict]:
    """[{"attribute", "old", "new"}] for each attribute whose value differs; those of the
    enterprise extension by their own name (department, manager, ...)."""
    changes = []
    for key in sorted(set(before) | set(after), key=str.lower):
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        if key == ENTERPRISE_URN:
            changes += diff(old or {}, new or {})
        else:
            changes.append({"attribute": key, "old": text(old), "new": text(new)})
    return changes


def members(added: list, removed: list) -> list[dict]:
    """A group's membership change: who was added and removed (the first 20 of each)."""
    if not added and not removed:
        return []
    return [
        {
            "attribute": "members",
            "old": text([str(i) for i in removed[:20]]) if removed else "",
            "new": text([str(i) for i in added[:20]]) if added else "",
        }
    ]


def line(change: dict) -> str:
    """ "department: Sales → Finance" """
    old, new = change.get("old") or "—", change.get("new") or "—"
    return f"{change.get('attribute')}: {old} → {new}"
