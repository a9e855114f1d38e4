"""SCIM error responses (RFC 7644 §3.12), built on django-scim2's exception classes."""

import json
import logging

from django.http import HttpResponse
from django_scim import constants
from django_scim.exceptions import SCIMException

from sat_portal.health import RETRY_AFTER_SECONDS, unavailable

SCIM_CONTENT_TYPE = constants.SCIM_CONTENT_TYPE
REALM = "SAT Portal SCIM"

logger = logging.getLogger(__name__)


class ScimError(SCIMException):
    """A SCIM error with any status; `status` is sent as a string as RFC 7644 shows."""

    def __init__(self, status: int, detail: str, scim_type: str | None = None):
        super().__init__(detail, status=status, scim_type=scim_type)


def bad_request(detail: str, scim_type: str | None = None) -> ScimError:
    return ScimError(400, detail, scim_type)


def not_found(resource: str, id_: str) -> ScimError:
    return ScimError(404, f"{resource} {id_} not found")


def error_response(exc: SCIMException) -> HttpResponse:
    body = exc.to_dict()
    body["status"] = str(exc.status)
    response = HttpResponse(json.dumps(body), content_type=SCIM_CONTENT_TYPE, status=exc.status)
    if exc.status == 401:
        response["WWW-Authenticate"] = f'Bearer realm="{REALM}"'
    return response


def unexpected_error_response(exc: Exception) -> HttpResponse:
    """The answer to an exception no SCIM rule expected, logged with its traceback.

    A database that cannot be reached (or a deadlock, or a statement cancelled), or a
    Redis that cannot, is a 503 with Retry-After: Entra retries it later instead of
    counting a failure. Anything else is a 500 whose body says nothing of the cause.
    """
    service = unavailable(exc)
    if service is not None:
        logger.error("%s unavailable during a SCIM request: %s", service, exc)
        response = error_response(
            ScimError(503, "The service is briefly unavailable; retry shortly.")
        )
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        # Read by the provisioning log, which does not wait on the database a second time
        # (with Redis away, the database takes the request's row as usual).
        response.database_unavailable = service == "Database"
        return response
    logger.error("Unexpected error in a SCIM request", exc_info=exc)
    return error_response(ScimError(500, "An unexpected error occurred."))
