"""The API's access check: `sites.access`, as for the console, with the same messages."""

from rest_framework import exceptions, permissions

from sites import access
from sites.models import ApiKey


def principal_of(request) -> access.Principal | None:
    return access.of(request, request.auth if isinstance(request.auth, ApiKey) else None)


class IsMspStaff(permissions.BasePermission):
    """Anonymous: 401. A login without an MSP: 403. Read-only staff or key writing: 403."""

    def has_permission(self, request, view) -> bool:
        if request.auth is None and not request.user.is_authenticated:
            return False  # DRF answers 401 with the API key's WWW-Authenticate challenge
        principal = principal_of(request)
        if principal is None:
            raise exceptions.PermissionDenied(access.NO_MSP)
        if request.method in permissions.SAFE_METHODS or principal.may_write:
            return True
        raise exceptions.PermissionDenied(principal.refusal_to_write)
