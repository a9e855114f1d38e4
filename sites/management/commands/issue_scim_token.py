from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from sites.credentials import scim_tokens
from sites.credentials.base import Via
from sites.management.site_names import site_named


class Command(BaseCommand):
    help = "Issue a Secret Token for a site; the plaintext is the last line of output."

    def add_arguments(self, parser):
        parser.add_argument("site_name", help="The site's name (case-insensitive).")

    def handle(self, *args, site_name: str, **options):
        site = site_named(site_name)
        try:
            token, plaintext = scim_tokens.issue_token(site, via=Via.COMMAND)
        except ValidationError as error:
            raise CommandError(f"{site.name}: {' '.join(error.messages)}") from None
        self.stderr.write(f"Issued token …{token.hint} for {site.name} ({site.msp}).")
        self.stdout.write(plaintext)
