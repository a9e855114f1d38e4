import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from sites.models import MSP, Site, Staff

DEMO_SITES = ("Contoso", "Fabrikam")


class Command(BaseCommand):
    help = "Create (or refresh) the demo MSP, its sites Contoso and Fabrikam, and the login 'demo'."

    def add_arguments(self, parser):
        parser.add_argument("--password", help="Password for 'demo' (default: a generated one).")

    @transaction.atomic
    def handle(self, *args, password: str | None = None, **options):
        msp, _ = MSP.objects.get_or_create(name="Demo MSP")
        for name in DEMO_SITES:
            site, _ = Site.objects.get_or_create(msp=msp, name=name)
            if not site.sat_enabled:
                site.sat_enabled = True
                site.save(update_fields=["sat_enabled"])

        password = password or secrets.token_urlsafe(12)
        user, _ = get_user_model().objects.get_or_create(username="demo")
        user.set_password(password)
        user.save()
        Staff.objects.update_or_create(user=user, defaults={"msp": msp, "role": Staff.Role.ADMIN})

        self.stdout.write(f"Demo MSP ready with sites {', '.join(DEMO_SITES)}.")
        self.stdout.write(f"Sign in as: demo / {password}")
