"""One provisioning-log row per request under /api/v2/scim, and per request to the OAuth
token endpoint (Entra fetching the access token it then calls SCIM with), committed with
the request.

The request's writes and its log row are one transaction: they commit together or not
at all, so no write is ever without its row (a row that cannot be stored as sent is
stored escaped, see redaction.storable). A read (GET, HEAD) writes nothing but its row,
so it runs without a transaction of its own and its row commits by itself, without
waiting for a disk flush (PostgreSQL), as does the row of a write that was refused: a
crash may lose the last few hundred milliseconds of those rows, never provisioned data.

What is kept: method, path and query (secrets redacted), status, scimType, the client's
address and the body's size always; the request body (redacted, capped) only for
requests a site's credential was accepted for; the answer's body only for errors (a
success's answer holds other users' data); what the request changed (the history). Of a
token request, never its body nor our answer: they hold the client's credential and the
access token.
"""

import ipaddress
import json
import logging
import re
import time
from collections.abc import Callable

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.http import HttpRequest, HttpResponse

from sat_portal import prepared
from sat_portal.addresses import client_address
from scim_app.endpoint import OAUTH_ENDPOINT, READS, SCIM_PREFIX
from scim_app.endpoint.errors import unexpected_error_response
from scim_app.models import ProvisioningLogEntry
from sites.credentials import redact_secrets, scim_bearer

from .redaction import cap, storable, storable_body, storable_request

logger = logging.getLogger(__name__)

RESOURCE_PATH = re.compile(r"^/(?P<type>Users|Groups)(?:/(?P<id>[^/]+))?/?$")
RESOURCE_TYPES = {"Users": "User", "Groups": "Group"}
# What a refused request may cost the table: a path, not a body.
REFUSED_PATH_CAP = 1000


def is_token_request(request: HttpRequest) -> bool:
    return request.path.rstrip("/") == OAUTH_ENDPOINT


def is_logged(request: HttpRequest) -> bool:
    return request.path.startswith(SCIM_PREFIX) or is_token_request(request)


class ProvisioningLogMiddleware:
    """It sits just outside `ScimRequestGuard`, so it also sees the guard's 413s and the
    500s it makes of unexpected errors.

    Views describe what they did in `request.scim_event`: {"resource_type": "User" |
    "Group" | None, "resource_id": str | None, "summary": "created user ...",
    "changes": [...]}. Without it, the resource comes from the path and the summary from
    method and status.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not is_logged(request):
            return self.get_response(request)
        started = time.monotonic()

        def elapsed_ms() -> int:
            return round((time.monotonic() - started) * 1000)

        entry = None
        try:
            if request.method in READS:
                # Nothing to commit with the row: no BEGIN and COMMIT round trips.
                response = self.get_response(request)
                if not getattr(response, "database_unavailable", False):
                    write_entry(build_entry(request, response, elapsed_ms()), relaxed=True)
                return response
            with transaction.atomic():
                response = self.get_response(request)
                if getattr(response, "database_unavailable", False):
                    return response  # the row could not be written either
                entry = build_entry(request, response, elapsed_ms())
                # An unexpected error rolls the request back (views.ScimBaseView); its row
                # is then written on its own, below.
                if not transaction.get_rollback():
                    write_entry(entry, relaxed=response.status_code >= 400)
                    entry = None
            if entry is not None:
                # Rolled back: the request changed nothing, so its row is like a read's.
                write_entry(entry, relaxed=True)
        except DatabaseError as exc:
            # The row, or the commit of the request's writes with it, failed: nothing of
            # the request is kept, and the client is told so (503, retry) rather than
            # shown a success that was not committed.
            return unexpected_error_response(exc)
        return response


# Lets the transaction's commit return before its WAL reaches the disk (PostgreSQL), for
# transactions that wrote nothing but their log row: a disk flush for each read would
# cost about 3 ms per request here. set_config(..., true) is SET LOCAL (this transaction
# only) in a form the INSERT itself can carry: one statement, which PostgreSQL prepares
# once per connection like the rest (a `SET LOCAL …; INSERT` message cannot be prepared,
# and cost PostgreSQL three times the prepared INSERT: pgbench, 0.49 ms against 0.16).
# The commit reads synchronous_commit when it happens, after the statement.
RELAX_DURABILITY = " RETURNING set_config('synchronous_commit', 'off', true)"


def write_entry(entry: dict, *, relaxed: bool = False) -> None:
    """Store `entry` (a ProvisioningLogEntry's values) in one statement built once
    (sat_portal.prepared); `relaxed`: its commit does not wait for the disk."""
    sql, params = prepared.insert_values(ProvisioningLogEntry, entry)
    if relaxed and connection.vendor == "postgresql":
        sql += RELAX_DURABILITY
    prepared.cursor().execute(sql, params)


def request_body(request: HttpRequest) -> bytes:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
        return b""
    try:
        return request.body
    except Exception:
        # Already consumed as a stream, or unreadable: the log does without it.
        return b""


def body_size(request: HttpRequest) -> int:
    try:
        return max(0, int(request.META.get("CONTENT_LENGTH") or 0))
    except ValueError:
        return 0


def address(request: HttpRequest) -> str | None:
    try:
        return str(ipaddress.ip_address(client_address(request)))
    except ValueError:
        return None


def fallback_summary(method: str, scim_path: str, status: int, scim_type: str) -> str:
    """ "POST /Users → 409 uniqueness", when the view said nothing about what it did."""
    return " ".join(
        part for part in (method, scim_path or "/", "→", str(status), scim_type) if part
    )


def build_entry(request: HttpRequest, response: HttpResponse, duration_ms: int) -> dict:
    """The request's ProvisioningLogEntry, as the values of its fields."""
    describe = token_request_fields if is_token_request(request) else scim_request_fields
    # Set by the SCIM auth hook or the token endpoint; absent when the request was refused
    # before they ran (413, a token request's bad form), or by the rate limit.
    check = getattr(request, "credential_check", None) or scim_bearer.unchecked(
        request.META.get("HTTP_AUTHORIZATION", "")
    )
    return {
        "site_id": check.site.pk if check.site is not None else None,
        "credential_kind": check.kind,
        "credential_hint": check.hint,
        "method": storable(request.method[:10]),
        "status": response.status_code,
        "duration_ms": duration_ms,
        "client_address": address(request),
        "request_size": body_size(request),
        **describe(request, response, check),
    }


def token_request_fields(
    request: HttpRequest, response: HttpResponse, check: scim_bearer.BearerCheck
) -> dict:
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
    # Why a client assertion was refused (sites.credentials.federation.Reason).
    reason = getattr(request, "token_refusal_reason", "")
    if reason and response.status_code >= 400:
        summary = f"{summary} ({reason})"
    return {
        "path": storable(cap(request.path, REFUSED_PATH_CAP)),
        "scim_type": storable(code[:40]),
        "summary": storable(summary[:300]),
        "error_detail": storable(
            cap(redact_secrets(str(error.get("error_description") or "")), 2000)
        ),
    }


def scim_request_fields(
    request: HttpRequest, response: HttpResponse, bearer: scim_bearer.BearerCheck
) -> dict:
    scim_path = request.path[len(SCIM_PREFIX) :]
    query = request.META.get("QUERY_STRING", "")
    # Bodies of requests no site's credential vouches for are not kept: anyone can send
    # them, and a flood of them must cost the table little.
    trusted = bearer.accepted and bearer.site is not None
    event = getattr(request, "scim_event", None)
    event = event if isinstance(event, dict) else {}
    # The answer is read only where it is kept or needed (an error's, or the id of a
    # resource created without the view naming it), not parsed and encoded again for
    # every success, a list of 100 users included.
    status = response.status_code
    read_answer = status >= 400 or (status == 201 and not event.get("resource_id"))
    raw_answer = (
        b"" if getattr(response, "streaming", False) or not read_answer else response.content
    )
    stored_answer, answer = storable_body(raw_answer)
    answer = answer if isinstance(answer, dict) else {}

    scim_type = error_detail = ""
    if status >= 400:
        scim_type = str(answer.get("scimType") or "")
        error_detail = redact_secrets(str(answer.get("detail") or ""))

    match = RESOURCE_PATH.match(scim_path)
    resource_type = RESOURCE_TYPES[match["type"]] if match else ""
    resource_id = (match["id"] if match else None) or ""
    if match and not resource_id and status == 201:
        resource_id = str(answer.get("id") or "")
    resource_type = event.get("resource_type") or resource_type
    resource_id = event.get("resource_id") or resource_id
    summary = event.get("summary") or ""
    changes = event.get("changes") or []
    if not summary:
        summary = fallback_summary(request.method, scim_path, status, scim_type)

    path = redact_secrets(request.path + (f"?{query}" if query else ""))
    return {
        "path": storable(path if trusted else cap(path, REFUSED_PATH_CAP)),
        "scim_type": storable(scim_type[:40]),
        "resource_type": resource_type,
        "resource_id": storable(redact_secrets(str(resource_id))[:64]),
        "summary": storable(redact_secrets(summary)[:300]),
        "request_body": storable_request(request_body(request)) if trusted else "",
        "response_body": stored_answer if trusted and status >= 400 else "",
        "error_detail": storable(cap(error_detail, 2000)),
        "changes": [
            {key: storable(redact_secrets(str(value))) for key, value in change.items()}
            for change in changes
        ],
    }
