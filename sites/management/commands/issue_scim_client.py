import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from scim_app.endpoint.locations import tenant_url, token_endpoint
from sites.credentials import oauth
from sites.credentials.base import Via
from sites.management.site_names import site_named


class Command(BaseCommand):
    help = (
        "Create a site's OAuth client if it has none, and a new client secret. The last line "
        "printed is one JSON object with what Entra needs: tenant_url, token_endpoint, "
        "client_id and client_secret (shown only this once)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("site_name", help="The site's name (case-insensitive).")
        parser.add_argument(
            "--lifetime-days",
            type=int,
            metavar="DAYS",
            help="Days until the secret expires, 365 to 1095 (default: "
            "OAUTH_SECRET_LIFETIME_DAYS).",
        )

    def handle(self, *args, site_name: str, lifetime_days: int | None, **options) -> None:
        site = site_named(site_name)
        try:
            secret, plaintext = oauth.issue_secret(
                site, lifetime_days=lifetime_days, via=Via.COMMAND
            )
        except ValidationError as error:
            raise CommandError(f"{site.name}: {' '.join(error.messages)}") from None
        self.stderr.write(
            f"Issued client secret …{secret.hint} for {site.name} ({site.msp}), "
            f"expiring {secret.expires_at:%Y-%m-%d %H:%M} UTC."
        )
        # No request to build URLs from: SCIM_BASE_URL, else PUBLIC_URL.
        issued = {
            "tenant_url": tenant_url(),
            "token_endpoint": token_endpoint(),
            "client_id": secret.client.client_id,
            "client_secret": plaintext,
        }
        self.stdout.write(json.dumps(issued))
