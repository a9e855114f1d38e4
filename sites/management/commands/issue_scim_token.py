from django.core.management.base import BaseCommand, CommandError

from sites import tokens
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
        if not site.sat_enabled:
            raise CommandError(f"Security awareness training is disabled for {site.name!r}.")
        token, plaintext = tokens.issue_token(site, via="command")
        self.stderr.write(f"Issued token …{token.hint} for {site.name} ({site.msp}).")
        self.stdout.write(plaintext)
