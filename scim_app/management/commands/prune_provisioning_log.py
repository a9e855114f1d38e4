from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from scim_app.provisioning_log import retention


class Command(BaseCommand):
    help = (
        "Delete provisioning log entries older than --days, a batch of rows at a time. The "
        "app does this itself (housekeeping); this is for a run by hand."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--days",
            type=int,
            default=settings.PROVISIONING_LOG_RETENTION_DAYS,
            help="Keep this many days (PROVISIONING_LOG_RETENTION_DAYS).",
        )
        parser.add_argument(
            "--batch-size", type=int, default=retention.BATCH, help="Rows per DELETE statement."
        )

    def handle(self, *args, days: int, batch_size: int, **options) -> None:
        if days < 0:
            raise CommandError("--days must be 0 or more.")
        if batch_size < 1:
            raise CommandError("--batch-size must be 1 or more.")
        deleted = 0
        # Small DELETEs, each its own transaction, so the table is never locked for
        # long and Entra's requests keep being logged while this runs.
        while batch := retention.prune_batch(days, batch_size):
            deleted += batch
            if batch < batch_size:
                break
        self.stdout.write(f"Deleted {deleted} provisioning log entries older than {days} days.")
