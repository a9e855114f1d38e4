from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from scim_app.models import ProvisioningLogEntry


class Command(BaseCommand):
    help = "Delete provisioning log entries older than --days, a batch of rows at a time."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=30, help="Keep this many days (30).")
        parser.add_argument(
            "--batch-size", type=int, default=5000, help="Rows per DELETE statement (5000)."
        )

    def handle(self, *args, days: int, batch_size: int, **options) -> None:
        if days < 0:
            raise CommandError("--days must be 0 or more.")
        if batch_size < 1:
            raise CommandError("--batch-size must be 1 or more.")
        cutoff = timezone.now() - timedelta(days=days)
        old = ProvisioningLogEntry.objects.filter(created__lt=cutoff).order_by()
        deleted = 0
        # Small DELETEs, each its own transaction, so the table is never locked for
        # long and Entra's requests keep being logged while this runs.
        while ids := list(old.values_list("pk", flat=True)[:batch_size]):
            deleted += ProvisioningLogEntry.objects.filter(pk__in=ids).delete()[0]
        self.stdout.write(f"Deleted {deleted} provisioning log entries older than {days} days.")
