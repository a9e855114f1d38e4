"""Staff rules: an MSP with its first admin, the team its admins manage (invite, change
roles, remove), and the one-time link with which a new login chooses its own password
(no password is ever printed, mailed or stored by us).

Every change to a team locks its MSP's row first, so two admins acting at once are
decided one after the other: an MSP always keeps an admin who can sign in, and every
change is in its audit trail (StaffEvent).
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from . import notifications
from .models import MSP, Staff, StaffEvent

Role = Staff.Role
Action = StaffEvent.Action
# A login's username is its email address; Django's username column holds this many.
EMAIL_MAX_LENGTH = get_user_model()._meta.get_field("username").max_length
INVITATION_HOURS = settings.PASSWORD_RESET_TIMEOUT // 3600


def check_new_login(email: str) -> None:
    """ValidationError unless `email` is an address that no login uses yet, neither as
    its username nor as its email."""
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError(f"{email!r} is not an email address.") from None
    if len(email) > EMAIL_MAX_LENGTH:
        raise ValidationError(f"An email address may have at most {EMAIL_MAX_LENGTH} characters.")
    users = get_user_model().objects
    if users.filter(username__iexact=email).exists():
        raise ValidationError(f"A login named {email!r} already exists.")
    if users.filter(email__iexact=email).exists():
        raise ValidationError(f"A login with the email address {email!r} already exists.")


@transaction.atomic
def create_msp(name: str, admin_email: str):
    """A new MSP and its first admin login, which has no password until it uses
    `set_password_url`. ValidationError if the MSP or the login exists already."""
    name = name.strip()
    if not name:
        raise ValidationError("The MSP needs a name.")
    if MSP.objects.filter(name__iexact=name).exists():
        raise ValidationError(f"An MSP named {name!r} already exists.")
    check_new_login(admin_email)
    msp = MSP.objects.create(name=name)
    user = get_user_model().objects.create_user(username=admin_email, email=admin_email)
    Staff.objects.create(user=user, msp=msp, role=Role.ADMIN)
    return msp, user


def set_password_url(user) -> str:
    """A link that lets `user` choose a password once, valid for PASSWORD_RESET_TIMEOUT.

    Django's password-reset token: it is bound to the login's current password, so it
    stops working as soon as a password is set, and it is never stored.
    """
    path = reverse(
        "set_password",
        args=[
            urlsafe_base64_encode(force_bytes(user.pk)),
            default_token_generator.make_token(user),
        ],
    )
    return settings.PUBLIC_URL + path


# --- the team page's rules ----------------------------------------------------------------


def members(msp: MSP) -> QuerySet[Staff]:
    """The MSP's staff with their logins, by email address."""
    return msp.staff.select_related("user").order_by("user__username")


def recent_events(msp: MSP, limit: int = 10) -> list[StaffEvent]:
    return list(msp.staff_events.select_related("actor")[:limit])


def is_pending(staff: Staff) -> bool:
    """Invited, and the set-password link not used yet."""
    return not staff.user.has_usable_password()


def signs_in_as_admin(staff: Staff) -> bool:
    """An admin who can sign in: active, with a password (an invited admin counts once they
    have chosen theirs, or an MSP could be left with an expired link as its only admin)."""
    return staff.is_admin and staff.user.is_active and not is_pending(staff)


def _lock(staff: Staff) -> Staff:
    """Lock the staff member's MSP; their row as it is now. ValidationError if they left."""
    MSP.objects.select_for_update().filter(pk=staff.msp_id).exists()
    current = Staff.objects.select_related("user", "msp").filter(pk=staff.pk).first()
    if current is None:
        raise ValidationError(f"{email_of(staff.user)} is no longer on the team.")
    return current


def _check_not_last_admin(staff: Staff, doing: str) -> None:
    others = (
        Staff.objects.filter(msp_id=staff.msp_id, role=Role.ADMIN, user__is_active=True)
        .exclude(pk=staff.pk)
        .exclude(user__password__startswith=UNUSABLE_PASSWORD_PREFIX)
    )
    if not others.exists():
        raise ValidationError(
            f"{email_of(staff.user)} is the last admin of {staff.msp} and cannot be {doing}: "
            "make a colleague an admin first (an invited admin counts once they have chosen "
            "their password)."
        )


def email_of(user) -> str:
    return user.email or user.get_username()


def _record(staff: Staff, action: str, *, by, old_role: str = "", new_role: str = "") -> None:
    StaffEvent.objects.create(
        msp_id=staff.msp_id,
        action=action,
        subject=staff.user,
        email=email_of(staff.user),
        old_role=old_role,
        new_role=new_role,
        actor=by,
    )


def _mail_invitation(staff: Staff, link: str, *, by) -> None:
    inviter = f"{email_of(by)} invited you" if by is not None else "You are invited"
    notifications.notify(
        email_of(staff.user),
        subject=f"SAT Portal: your invitation to {staff.msp}",
        body=(
            f"{inviter} to {staff.msp}'s team on SAT Portal ({staff.get_role_display()}).\n\n"
            f"Choose your password with this link; it works once, within {INVITATION_HOURS} "
            f"hours:\n{link}\n\nYou sign in with your email address, {email_of(staff.user)}.\n"
        ),
    )


@transaction.atomic
def invite(msp: MSP, email: str, role: str, *, by) -> tuple[Staff, str]:
    """A new login for `email` (without a password) on `msp`'s team, and the one-time link
    with which they choose one; the link is also e-mailed to them when e-mail is
    configured. ValidationError if any login already uses the address."""
    email = email.strip()
    if role not in Role.values:
        raise ValidationError(f"{role!r} is not a role.")
    MSP.objects.select_for_update().filter(pk=msp.pk).exists()
    check_new_login(email)
    try:
        with transaction.atomic():
            user = get_user_model().objects.create_user(username=email, email=email)
    except IntegrityError:
        # Invited by someone else a moment ago: the username is unique.
        raise ValidationError(f"A login named {email!r} already exists.") from None
    staff = Staff.objects.create(user=user, msp=msp, role=role)
    _record(staff, Action.INVITED, by=by, new_role=role)
    link = set_password_url(user)
    _mail_invitation(staff, link, by=by)
    return staff, link


@transaction.atomic
def renew_invitation(staff: Staff, *, by) -> str:
    """A new one-time link for a colleague who has not chosen a password yet (theirs
    expired, or got lost); earlier links keep working until they expire or one is used."""
    staff = _lock(staff)
    if not is_pending(staff):
        raise ValidationError(f"{email_of(staff.user)} has already chosen a password.")
    if not staff.user.is_active:
        raise ValidationError(f"{email_of(staff.user)}'s login is deactivated.")
    _record(staff, Action.REINVITED, by=by, new_role=staff.role)
    link = set_password_url(staff.user)
    _mail_invitation(staff, link, by=by)
    return link


@transaction.atomic
def change_role(staff: Staff, role: str, *, by) -> bool:
    """Give `staff` the role; False if they had it already. ValidationError for the last
    admin (also demoting themself)."""
    if role not in Role.values:
        raise ValidationError(f"{role!r} is not a role.")
    staff = _lock(staff)
    if staff.role == role:
        return False
    if staff.is_admin:
        _check_not_last_admin(staff, "demoted")
    old_role, staff.role = staff.role, role
    staff.save(update_fields=["role"])
    _record(staff, Action.ROLE_CHANGED, by=by, old_role=old_role, new_role=role)
    return True


@transaction.atomic
def remove(staff: Staff, *, by) -> None:
    """Take `staff` off the team: their membership goes and their login is deactivated,
    so their sessions and API keys stop working at once (sites.credentials.api_keys).
    ValidationError for the last admin (also removing themself)."""
    staff = _lock(staff)
    if staff.is_admin:
        _check_not_last_admin(staff, "removed")
    user = staff.user
    _record(staff, Action.REMOVED, by=by, old_role=staff.role)
    staff.delete()
    user.is_active = False
    # A new unusable password changes the hash that set-password links are bound to:
    # an invitation not used yet dies with the membership.
    user.set_unusable_password()
    user.save(update_fields=["is_active", "password"])
