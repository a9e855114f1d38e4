"""What of a SCIM request may be stored: secrets never, bodies capped."""

import json
import re
from typing import Any

from sites.credentials import REDACTED, redact_secrets

# Entra's largest requests (a PATCH adding many members) are a few KB; enough to see
# what was sent without letting the table grow with list responses.
BODY_CAP = 16 * 1024
SECRET_KEY_PATTERN = re.compile(r"pass(word|wd)?|secret|token|credential", re.IGNORECASE)


def redact(data: Any) -> Any:
    """`data` (parsed JSON) with secret values replaced: password-like keys, PATCH
    operations whose `path` names a password, and our credentials anywhere."""
    if isinstance(data, dict):
        # {"op": "replace", "path": "password", "value": "..."} (RFC 7644 §3.5.2).
        secret_path = isinstance(data.get("path"), str) and SECRET_KEY_PATTERN.search(data["path"])
        return {
            key: REDACTED
            if SECRET_KEY_PATTERN.search(str(key)) or (secret_path and key == "value")
            else redact(value)
            for key, value in data.items()
        }
    if isinstance(data, list):
        return [redact(item) for item in data]
    if isinstance(data, str):
        return redact_secrets(data)
    return data


def cap(text: str, limit: int = BODY_CAP) -> str:
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n… [{len(text) - limit} more characters not stored]"


def storable_body(raw: bytes) -> tuple[str, Any]:
    """The body as it may be stored (redacted, capped) and, if it is JSON, parsed."""
    if not raw:
        return "", None
    text = raw.decode("utf-8", errors="replace")
    try:
        parsed = json.loads(text)
    except ValueError:
        return cap(redact_secrets(text)), None
    return cap(json.dumps(redact(parsed), ensure_ascii=False)), parsed
