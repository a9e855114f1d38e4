import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.validators import validate_email
from django.db import transaction

# Created by the migration scim_app 0003_support_group: view-only admin access.
SUPPORT_GROUP = "Support"


class Command(BaseCommand):
    help = (
        "Create a support login for the admin (/admin/): staff, not superuser, in the "
        "Support group (view-only). The generated password is printed once, as the last line."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email", help="The login's email address, also its username.")

    @transaction.atomic
    def handle(self, *args, email: str, **options) -> None:
        try:
            validate_email(email)
        except ValidationError:
            raise CommandError(f"{email!r} is not an email address.") from None
        User = get_user_model()
        if User.objects.filter(username__iexact=email).exists():
            raise CommandError(f"A login named {email!r} already exists.")
        group = Group.objects.filter(name=SUPPORT_GROUP).first()
        if group is None:
            raise CommandError(f"The {SUPPORT_GROUP!r} group is missing: run `migrate` first.")
        password = secrets.token_urlsafe(18)
        user = User.objects.create_user(
            username=email, email=email, password=password, is_staff=True
        )
        user.groups.add(group)
        self.stderr.write(
            f"Created support login {email}: it can view, not change, everything in /admin/. "
            "Its password is below and is not shown again."
        )
        self.stdout.write(password)
