import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from sites import team
from sites.support import SUPPORT_GROUP


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
            team.check_new_login(email)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        group = Group.objects.filter(name=SUPPORT_GROUP).first()
        if group is None:
            raise CommandError(f"The {SUPPORT_GROUP!r} group is missing: run `migrate` first.")
        password = secrets.token_urlsafe(18)
        user = get_user_model().objects.create_user(
            username=email, email=email, password=password, is_staff=True
        )
        user.groups.add(group)
        self.stderr.write(
            f"Created support login {email}: it can view, not change, everything in /admin/. "
            "Its password is below and is not shown again."
        )
        self.stdout.write(password)
