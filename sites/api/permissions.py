"""Who is calling, for which MSP, and whether they may change things.

Security invariant: every API view finds sites through `principal.sites()`, so another
MSP's site is a 404 exactly like one that does not exist (as in the console), and any
method but GET/HEAD/OPTIONS needs `principal.can_write`.
"""

from dataclasses import dataclass

from django.db.models import QuerySet
from rest_framework import exceptions, permissions

from sites import api_keys
from sites.models import MSP, ApiKey, Site, Staff


@dataclass(frozen=True)
class Principal:
    msp: MSP
    can_write: bool
    # Recorded as the actor of audit events: the signed-in user, or the key's creator.
    user: object | None
    key: ApiKey | None = None

    def sites(self) -> QuerySet[Site]:
        return Site.objects.filter(msp=self.msp)


def principal_of(request) -> Principal | None:
    """The MSP and role behind an authenticated request; None for a login without an MSP."""
    cached = getattr(request, "_sat_principal", None)
    if cached is not None:
        return cached
    if isinstance(request.auth, ApiKey):
        key = request.auth
        principal = Principal(key.msp, api_keys.can_write(key), key.created_by, key)
    else:
        try:
            staff = Staff.objects.select_related("msp").get(user_id=request.user.pk)
        except Staff.DoesNotExist:
            return None
        principal = Principal(staff.msp, staff.is_admin, request.user)
    request._sat_principal = principal
    return principal


class IsMspStaff(permissions.BasePermission):
    """Anonymous: 401. A login without an MSP: 403. Read-only staff or key writing: 403."""

    def has_permission(self, request, view) -> bool:
        if request.auth is None and not request.user.is_authenticated:
            return False  # DRF answers 401 with the API key's WWW-Authenticate challenge
        principal = principal_of(request)
        if principal is None:
            raise exceptions.PermissionDenied("This login does not belong to an MSP.")
        if request.method in permissions.SAFE_METHODS or principal.can_write:
            return True
        if principal.key is not None:
            raise exceptions.PermissionDenied(
                "This API key can only read: the staff member who created it is not an "
                "admin of your MSP (any more). An admin can create a new key."
            )
        raise exceptions.PermissionDenied("Ensure your account has Admin permissions.")
