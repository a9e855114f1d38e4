"""Staff rules: an MSP with its first admin, and the one-time link with which a new
login chooses its own password (no password is ever printed, mailed or stored by us)."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from .models import MSP, Staff


def check_new_login(email: str) -> None:
    """ValidationError unless `email` is an address that no login uses yet."""
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError(f"{email!r} is not an email address.") from None
    if get_user_model().objects.filter(username__iexact=email).exists():
        raise ValidationError(f"A login named {email!r} already exists.")


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
    Staff.objects.create(user=user, msp=msp, role=Staff.Role.ADMIN)
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
