from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from sites import team


class Command(BaseCommand):
    help = (
        "Create an MSP and its first admin login. The last line printed is a one-time link "
        "(valid 72 hours) with which the admin chooses a password."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help='The MSP\'s name, e.g. "Acme IT".')
        parser.add_argument(
            "--admin", required=True, metavar="EMAIL", help="The first admin's email address."
        )

    def handle(self, *args, name: str, admin: str, **options) -> None:
        try:
            msp, user = team.create_msp(name, admin)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        self.stderr.write(
            f"Created MSP {msp.name} with admin {user.username}. Send them the link below: "
            "it sets their password and works once, for 72 hours."
        )
        self.stdout.write(team.set_password_url(user))
