from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from sites.credentials import scim_tokens
from sites.credentials.base import Via
from sites.models import Site


class Command(BaseCommand):
    help = "Issue a Secret Token for a site; the plaintext is the last line of output."

    def add_arguments(self, parser):
        parser.add_argument("site_name", help="The site's name (case-insensitive).")

    def handle(self, *args, site_name: str, **options):
        sites = list(Site.objects.filter(name__iexact=site_name).select_related("msp")[:2])
        if not sites:
            raise CommandError(f"No site is named {site_name!r}.")
        if len(sites) > 1:
            raise CommandError(f"More than one MSP has a site named {site_name!r}.")
        site = sites[0]
        try:
            token, plaintext = scim_tokens.issue_token(site, via=Via.COMMAND)
        except ValidationError as error:
            raise CommandError(f"{site.name}: {' '.join(error.messages)}") from None
        self.stderr.write(f"Issued token …{token.hint} for {site.name} ({site.msp}).")
        self.stdout.write(plaintext)
