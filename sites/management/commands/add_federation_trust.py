import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from scim_app.endpoint.locations import tenant_url, token_endpoint
from sites.credentials import federation
from sites.credentials.base import Via
from sites.management.site_names import site_named


class Command(BaseCommand):
    help = (
        "Let a site's Entra connect with workload identity federation: trust the app whose "
        "issuer, JWKS URL, subject and audience Entra shows. The last line printed is one "
        "JSON object with what to paste back into Entra: client_id, token_endpoint and "
        "tenant_url (none of them secret)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("site_name", help="The site's name (case-insensitive).")
        parser.add_argument(
            "--issuer", required=True, help="https://login.microsoftonline.com/<tenant>/v2.0"
        )
        parser.add_argument(
            "--jwks-url",
            required=True,
            help="https://login.microsoftonline.com/<tenant>/discovery/v2.0/keys",
        )
        parser.add_argument(
            "--subject", required=True, help="The app's object id, as Entra shows it."
        )
        parser.add_argument("--audience", required=True, help="api://<app id>, or the bare app id.")
        parser.add_argument(
            "--tenant-id", default="", help="Optional: also check the assertions' tid."
        )

    def handle(self, *args, site_name: str, **options) -> None:
        site = site_named(site_name)
        try:
            values = federation.validate(
                issuer=options["issuer"],
                jwks_url=options["jwks_url"],
                subject=options["subject"],
                audience=options["audience"],
                tenant_id=options["tenant_id"],
            )
            trust = federation.add_trust(site, values, via=Via.COMMAND)
        except ValidationError as error:
            raise CommandError(f"{site.name}: {' '.join(error.messages)}") from None
        self.stderr.write(f"{site.name} ({site.msp}) now trusts {trust}.")
        # No request to build URLs from: SCIM_BASE_URL, else PUBLIC_URL.
        added = {
            "client_id": trust.client.client_id,
            "token_endpoint": token_endpoint(),
            "tenant_url": tenant_url(),
        }
        self.stdout.write(json.dumps(added))
