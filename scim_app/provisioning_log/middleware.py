"""Writes one provisioning-log row per request under /api/v2/scim, and per request to the
OAuth token endpoint (Entra fetching the access token it then calls SCIM with).

Two rules: logging never changes the answer (a failed insert goes to the server log, the
response goes out unchanged), and secrets are never stored (no Authorization header, no
credential plaintext, no password values, and nothing of a token request's body or
answer, which hold the client secret and the access token).
"""

import json
import logging
import re
import time
from collections.abc import Callable

from django.conf import settings
from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse

from scim_app.endpoint import OAUTH_ENDPOINT, SCIM_PREFIX
from scim_app.models import ProvisioningLogEntry
from sites.credentials import redact_secrets, scim_bearer

from .redaction import cap, storable_body

logger = logging.getLogger(__name__)

RESOURCE_PATH = re.compile(r"^/(?P<type>Users|Groups)(?:/(?P<id>[^/]+))?/?$")
RESOURCE_TYPES = {"Users": "User", "Groups": "Group"}


def is_token_request(request: HttpRequest) -> bool:
    return request.path.rstrip("/") == OAUTH_ENDPOINT


def is_logged(request: HttpRequest) -> bool:
    return request.path.startswith(SCIM_PREFIX) or is_token_request(request)


class ProvisioningLogMiddleware:
    """Records each request under /api/v2/scim, and each token request, after it has
    been answered.

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
        if not is_logged(request):
            return self.get_response(request)
        started = time.monotonic()
        response = self.get_response(request)
        duration_ms = round((time.monotonic() - started) * 1000)
        if getattr(response, "database_unavailable", False):
            # The answer is a 503 because the database is unreachable: the row could not
            # be written either, and trying would keep Entra waiting a second time.
            logger.warning("Provisioning log not written (database unavailable): %s", request.path)
            return response
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


def fallback_summary(method: str, scim_path: str, status: int, scim_type: str) -> str:
    """ "POST /Users → 409 uniqueness", when the view said nothing about what it did."""
    return " ".join(
        part for part in (method, scim_path or "/", "→", str(status), scim_type) if part
    )


def build_entry(
    request: HttpRequest, response: HttpResponse, duration_ms: int
) -> ProvisioningLogEntry:
    describe = token_request_fields if is_token_request(request) else scim_request_fields
    # Set by the SCIM auth hook or the token endpoint; absent when the request was refused
    # before they ran (413, a token request's bad form), or by the rate limit.
    check = getattr(request, "credential_check", None) or scim_bearer.unchecked(
        request.headers.get("Authorization", "")
    )
    return ProvisioningLogEntry(
        site=check.site,
        credential_kind=check.kind,
        credential_hint=check.hint,
        method=request.method[:10],
        status=response.status_code,
        duration_ms=duration_ms,
        **describe(request, response),
    )


def token_request_fields(request: HttpRequest, response: HttpResponse) -> dict:
    """A token request: its path (no query string) and the error we answered, if any;
    never a body. Only an error answer is read: a 200 holds the access token."""
    error = {}
    if response.status_code >= 400:
        try:
            error = json.loads(response.content)
        except ValueError:
            error = {}
    code = str(error.get("error") or "")
    summary = (
        "issued an access token"
        if response.status_code == 200
        else fallback_summary(request.method, "token request", response.status_code, code)
    )
    return {
        "path": request.path,
        "scim_type": code[:40],
        "summary": summary,
        "error_detail": cap(redact_secrets(str(error.get("error_description") or "")), 2000),
    }


def scim_request_fields(request: HttpRequest, response: HttpResponse) -> dict:
    scim_path = request.path[len(SCIM_PREFIX) :]
    query = request.META.get("QUERY_STRING", "")
    stored_request, _ = storable_body(request_body(request))
    raw_answer = b"" if getattr(response, "streaming", False) else response.content
    stored_answer, answer = storable_body(raw_answer)
    answer = answer if isinstance(answer, dict) else {}

    scim_type = error_detail = ""
    if response.status_code >= 400:
        scim_type = str(answer.get("scimType") or "")
        error_detail = redact_secrets(str(answer.get("detail") or ""))

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

    return {
        "path": redact_secrets(request.path + (f"?{query}" if query else "")),
        "scim_type": scim_type[:40],
        "resource_type": resource_type,
        "resource_id": str(resource_id)[:64],
        "summary": redact_secrets(summary)[:300],
        "request_body": stored_request,
        "response_body": stored_answer,
        "error_detail": cap(error_detail, 2000),
    }
