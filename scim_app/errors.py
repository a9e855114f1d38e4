"""SCIM error responses (RFC 7644 §3.12), built on django-scim2's exception classes."""

import json

from django.http import HttpResponse
from django_scim import constants
from django_scim.exceptions import SCIMException

SCIM_CONTENT_TYPE = constants.SCIM_CONTENT_TYPE


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
        response["WWW-Authenticate"] = 'Bearer realm="SAT Portal SCIM"'
    return response
