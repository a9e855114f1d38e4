"""The provisioning log: every request to the SCIM endpoint and what we answered.

Support reads it in the admin ("what did Entra send for Dana, and what did we say?"),
and the console shows a site's last request and last error from it.

Two rules: logging never changes the SCIM answer (a failed insert goes to the server
log, the response goes out unchanged), and secrets are never stored (no Authorization
header, no token plaintext, no password values).
"""

import json
import logging
import re
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse

from sites.models import Site
from sites.tokens import PREFIX as TOKEN_PREFIX

from .auth import bearer_credentials
from .middleware import SCIM_PREFIX
from .models import ProvisioningLogEntry

logger = logging.getLogger(__name__)

# Entra's largest requests (a PATCH adding many members) are a few KB; enough to see
# what was sent without letting the table grow with list responses.
BODY_CAP = 16 * 1024
REDACTED = "[redacted]"
TOKEN_PATTERN = re.compile(TOKEN_PREFIX + r"[A-Za-z0-9_-]+")
SECRET_KEY_PATTERN = re.compile(r"pass(word|wd)?|secret|token|credential", re.IGNORECASE)
RESOURCE_PATH = re.compile(r"^/(?P<type>Users|Groups)(?:/(?P<id>[^/]+))?/?$")
RESOURCE_TYPES = {"Users": "User", "Groups": "Group"}


def redact(data: Any) -> Any:
    """`data` (parsed JSON) with secret values replaced: password-like keys, PATCH
    operations whose `path` names a password, and token-shaped strings anywhere."""
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
        return redact_text(data)
    return data


def redact_text(text: str) -> str:
    return TOKEN_PATTERN.sub(TOKEN_PREFIX + REDACTED, text)


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
        return cap(redact_text(text)), None
    return cap(json.dumps(redact(parsed), ensure_ascii=False)), parsed


def request_body(request: HttpRequest) -> bytes:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
        return f"[{length} bytes: over the limit, not read]".encode()
    try:
        return request.body
    except Exception:
        # Already consumed as a stream, or unreadable: the log does without it.
        return b""


def token_hint(request: HttpRequest) -> str:
    """`…abcd` for the site's token. For any other (unknown, or not checked because the
    request was refused first) only its visible prefix: never a secret's characters."""
    token = getattr(request, "scim_token", None) or getattr(request, "scim_refused_token", None)
    if token is not None:
        return f"…{token.hint}"
    credentials = bearer_credentials(request)
    if credentials is None:
        return ""
    if credentials.startswith(TOKEN_PREFIX):
        return f"{TOKEN_PREFIX}…"
    return "(not a SAT token)"


def fallback_summary(method: str, scim_path: str, status: int, scim_type: str) -> str:
    """ "POST /Users → 409 uniqueness", when the view said nothing about what it did."""
    return " ".join(
        part for part in (method, scim_path or "/", "→", str(status), scim_type) if part
    )


class ProvisioningLogMiddleware:
    """Records each request under /api/v2/scim after it has been answered.

    It sits just outside `ScimRequestGuard`, so it also sees the guard's 413s and the
    500s it makes of unexpected errors. It writes after the view returns, outside the
    view's transaction, so a write that was rolled back is still logged.

    Views describe what they did in `request.scim_event`: {"resource_type": "User" |
    "Group" | None, "resource_id": str | None, "summary": "created user ..."}. Without
    it, the resource comes from the path and the summary from method and status.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(SCIM_PREFIX):
            return self.get_response(request)
        started = time.monotonic()
        response = self.get_response(request)
        duration_ms = round((time.monotonic() - started) * 1000)
        try:
            entry = build_entry(request, response, duration_ms)
            with transaction.atomic():
                relax_durability()
                entry.save()
        except Exception:
            logger.exception("Could not write the provisioning log for %s", request.path)
        return response


def relax_durability() -> None:
    """Let the log row's commit return before its WAL reaches the disk (PostgreSQL).

    Every SCIM request, reads included, writes a log row; waiting for a disk flush
    for each would cost about 3 ms per request here. A crash may lose the last few
    hundred milliseconds of log rows, never provisioned data: the SET LOCAL applies
    to this transaction only.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def log_site(request: HttpRequest) -> Site | None:
    """The calling site, also when its known token was refused (revoked, expired, SAT off)."""
    token = getattr(request, "scim_token", None) or getattr(request, "scim_refused_token", None)
    return token.site if token is not None else None


def build_entry(
    request: HttpRequest, response: HttpResponse, duration_ms: int
) -> ProvisioningLogEntry:
    scim_path = request.path[len(SCIM_PREFIX) :]
    query = request.META.get("QUERY_STRING", "")
    stored_request, _ = storable_body(request_body(request))
    raw_answer = b"" if getattr(response, "streaming", False) else response.content
    stored_answer, answer = storable_body(raw_answer)
    answer = answer if isinstance(answer, dict) else {}

    scim_type = error_detail = ""
    if response.status_code >= 400:
        scim_type = str(answer.get("scimType") or "")
        error_detail = redact_text(str(answer.get("detail") or ""))

    match = RESOURCE_PATH.match(scim_path)
    resource_type = RESOURCE_TYPES[match["type"]] if match else ""
    resource_id = (match["id"] if match else None) or ""
    if match and not resource_id and response.status_code == 201:
        resource_id = str(answer.get("id") or "")
    summary = ""
    event = getattr(request, "scim_event", None)
    if isinstance(event, dict):
        resource_type = event.get("resource_type") or resource_type
        resource_id = event.get("resource_id") or resource_id
        summary = event.get("summary") or ""
    if not summary:
        summary = fallback_summary(request.method, scim_path, response.status_code, scim_type)

    return ProvisioningLogEntry(
        site=log_site(request),
        token_hint=token_hint(request),
        method=request.method[:10],
        path=redact_text(request.path + (f"?{query}" if query else "")),
        status=response.status_code,
        scim_type=scim_type[:40],
        duration_ms=duration_ms,
        resource_type=resource_type,
        resource_id=str(resource_id)[:64],
        summary=redact_text(summary)[:300],
        request_body=stored_request,
        response_body=stored_answer,
        error_detail=cap(error_detail, 2000),
    )


def last_request(site: Site) -> ProvisioningLogEntry | None:
    """The site's most recent SCIM request (the console's provisioning status)."""
    return site.provisioning_log.order_by("-created").first()


def last_error(site: Site) -> ProvisioningLogEntry | None:
    """The site's most recent request that we answered with an error."""
    return site.provisioning_log.filter(status__gte=400).order_by("-created").first()
