"""What of a SCIM request may be stored: secrets never, bodies capped, and only text the
database can hold."""

import json
import re
from typing import Any

from sites.credentials import REDACTED, redact_secrets

# Entra's largest requests (a PATCH adding many members) are a few KB; enough to see
# what was sent without letting the table grow.
BODY_CAP = 16 * 1024
# Deeper than any SCIM resource (a PATCH's value is four levels down); below it, a body is
# not walked further (and the SCIM endpoint refuses such a body with 400).
MAX_DEPTH = 32
SECRET_KEY_PATTERN = re.compile(r"pass(word|wd)?|secret|token|credential", re.IGNORECASE)
NOT_STORABLE = re.compile(r"[\x00\ud800-\udfff]")


def redact(data: Any, depth: int = 0) -> Any:
    """`data` (parsed JSON) with secret values replaced: password-like keys, PATCH
    operations whose `path` names a password, and our credentials anywhere."""
    if depth >= MAX_DEPTH and isinstance(data, dict | list):
        return "[nested too deeply: not stored]"
    if isinstance(data, dict):
        # {"op": "replace", "path": "password", "value": "..."} (RFC 7644 §3.5.2).
        secret_path = isinstance(data.get("path"), str) and SECRET_KEY_PATTERN.search(data["path"])
        return {
            redact_secrets(str(key)): REDACTED
            if SECRET_KEY_PATTERN.search(str(key)) or (secret_path and key == "value")
            else redact(value, depth + 1)
            for key, value in data.items()
        }
    if isinstance(data, list):
        return [redact(item, depth + 1) for item in data]
    if isinstance(data, str):
        return redact_secrets(data)
    return data


def cap(text: str, limit: int = BODY_CAP) -> str:
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n… [{len(text) - limit} more characters not stored]"


def storable(text: str, *, note: bool = False) -> str:
    """`text` as the database can hold it: NUL and lone surrogates (which PostgreSQL
    refuses) written out as \\u escapes, so the row is still written."""
    if not NOT_STORABLE.search(text):
        return text
    escaped = NOT_STORABLE.sub(lambda m: f"\\u{ord(m[0]):04x}", text)
    return (
        escaped + "\n[characters a database cannot store are written as \\u escapes]"
        if note
        else escaped
    )


def storable_body(raw: bytes) -> tuple[str, Any]:
    """The body as it may be stored (redacted, capped, storable) and, if JSON, parsed."""
    if not raw:
        return "", None
    text = raw.decode("utf-8", errors="replace")
    try:
        parsed = json.loads(text)
    except (ValueError, RecursionError):
        return storable(cap(redact_secrets(text)), note=True), None
    return storable(cap(json.dumps(redact(parsed), ensure_ascii=False)), note=True), parsed


def storable_request(raw: bytes) -> str:
    """A request body as it may be stored: `storable_body`'s text, without parsing it when
    nothing in it can name a secret. Most bodies name none, and are kept as sent: no key
    or PATCH path that looks like a password, and no backslash, so no JSON escape can
    spell one (nor one of our credentials) where the patterns would not see it."""
    text = raw.decode("utf-8", errors="replace")
    if "\\" in text or SECRET_KEY_PATTERN.search(text):
        return storable_body(raw)[0]
    return storable(cap(redact_secrets(text)), note=True)
