from django.http import HttpRequest, HttpResponse

from .errors import ScimError, error_response


def root(request: HttpRequest) -> HttpResponse:
    return error_response(ScimError(404, "Append /Users or /Groups to the Tenant URL."))
