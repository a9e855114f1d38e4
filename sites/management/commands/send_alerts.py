from django.conf import settings
from django.core.management.base import BaseCommand

from sites import alerts


class Command(BaseCommand):
    help = (
        "E-mail MSP admins about failing sites and expiring credentials (each at most once "
        "a day per site). The app does this itself every minute (housekeeping); this is "
        "for installs with HOUSEKEEPING_INTERVAL=0, run from cron."
    )

    def handle(self, *args, **options) -> None:
        if not settings.EMAIL_ENABLED:
            self.stderr.write("EMAIL_URL is not set: no e-mail is sent.")
            return
        self.stdout.write(f"Sent {alerts.send_due_alerts()} alert(s).")
