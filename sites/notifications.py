"""E-mail to an MSP's admins, when e-mail is configured (EMAIL_URL); otherwise nothing is
sent and nothing fails. Sent after the surrounding transaction commits, so a rolled-back
change never mails anyone."""

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse

from .models import MSP, Site, Staff

logger = logging.getLogger(__name__)


def admin_addresses(msp: MSP) -> list[str]:
    return list(
        Staff.objects.filter(msp=msp, role=Staff.Role.ADMIN, user__is_active=True)
        .exclude(user__email="")
        .values_list("user__email", flat=True)
    )


def notify_admins(msp: MSP, *, subject: str, body: str) -> None:
    if not settings.EMAIL_ENABLED:
        return

    def send() -> None:
        recipients = admin_addresses(msp)
        if not recipients:
            return
        try:
            send_mail(subject, body, None, recipients)
        except Exception:
            # A mail server being down must not fail the request that noticed something.
            logger.exception("Could not e-mail the admins of %s", msp)

    transaction.on_commit(send)


def site_url(site: Site) -> str:
    return settings.PUBLIC_URL + reverse("console:sat", args=[site.public_id])
