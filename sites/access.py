"""Who is asking: the MSP and role behind a console session or an API key, resolved once
per request, and the messages both the console and the API refuse with.

Security invariant: every console page and API endpoint finds sites through
`Principal.sites()`, so another MSP's site is a 404 exactly like one that does not
exist; every change also needs `Principal.may_write`.
"""

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest

from .credentials import api_keys
from .models import MSP, ApiKey, Site, Staff

NO_MSP = "This login does not belong to an MSP."
NOT_ADMIN = "Ensure your account has Admin permissions."
READ_ONLY_KEY = (
    "This API key can only read: the staff member who created it is not an admin of your "
    "MSP (any more). An admin can create a new key."
)


@dataclass(frozen=True)
class Principal:
    msp: MSP
    may_write: bool
    # The actor recorded in audit events: the signed-in user, or the key's creator.
    user: object | None
    staff: Staff | None = None
    key: ApiKey | None = None

    @property
    def refusal_to_write(self) -> str:
        return READ_ONLY_KEY if self.key is not None else NOT_ADMIN

    def require_write(self) -> None:
        if not self.may_write:
            raise PermissionDenied(self.refusal_to_write)

    def sites(self) -> QuerySet[Site]:
        return Site.objects.filter(msp=self.msp)

    def site(self, public_id) -> Site:
        """The MSP's site with this public id; Site.DoesNotExist for any other, also for
        one of another MSP or an id that is not a UUID."""
        try:
            return self.sites().get(public_id=public_id)
        except ValidationError:
            raise Site.DoesNotExist from None


def for_user(user) -> Principal | None:
    """A signed-in login's principal; None for one that belongs to no MSP."""
    if not user.is_authenticated:
        return None
    try:
        staff = Staff.objects.select_related("msp").get(user_id=user.pk)
    except Staff.DoesNotExist:
        return None
    return Principal(staff.msp, staff.is_admin, user, staff=staff)


def for_key(key: ApiKey) -> Principal:
    """An API key's principal: its creator's role now (a demoted creator's key reads)."""
    staff = api_keys.creator_staff(key)
    return Principal(key.msp, staff is not None and staff.is_admin, key.created_by, key=key)


def of(request: HttpRequest, key: ApiKey | None = None) -> Principal | None:
    """The request's principal, resolved once and kept on the request."""
    if not hasattr(request, "_principal"):
        request._principal = for_key(key) if key is not None else for_user(request.user)
    return request._principal
