"""E-mail to an MSP's admins and to people invited to its team, when e-mail is configured
(EMAIL_URL); otherwise nothing is sent and nothing fails. What a request sends goes after
the surrounding transaction commits, so a rolled-back change never mails anyone."""

import logging
from collections.abc import Iterable

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse

from .models import MSP, Site, Staff

logger = logging.getLogger(__name__)


def admin_addresses(msp: MSP) -> list[str]:
    return admin_addresses_of([msp.pk]).get(msp.pk, [])


def admin_addresses_of(msp_ids: Iterable[int]) -> dict[int, list[str]]:
    """{MSP id: its active admins' email addresses}, one query for all the MSPs."""
    admins = (
        Staff.objects.filter(msp_id__in=list(msp_ids), role=Staff.Role.ADMIN, user__is_active=True)
        .exclude(user__email="")
        .order_by("user__email")
        .values_list("msp_id", "user__email")
    )
    addresses: dict[int, list[str]] = {}
    for msp_id, email in admins:
        addresses.setdefault(msp_id, []).append(email)
    return addresses


def send(recipients: list[str], *, subject: str, body: str) -> bool:
    """Send one message now; False (and logged) if the mail server could not take it.

    A mail server being down must not fail whatever noticed something worth telling.
    """
    try:
        send_mail(subject, body, None, recipients)
    except Exception:
        logger.exception("Could not e-mail %s", ", ".join(recipients))
        return False
    return True


def notify_admins(msp: MSP, *, subject: str, body: str) -> None:
    if not settings.EMAIL_ENABLED:
        return

    def send_to_admins() -> None:
        recipients = admin_addresses(msp)
        if recipients:
            send(recipients, subject=subject, body=body)

    transaction.on_commit(send_to_admins)


def notify(address: str, *, subject: str, body: str) -> None:
    """One message to one person, after the transaction commits."""
    if settings.EMAIL_ENABLED:
        transaction.on_commit(lambda: send([address], subject=subject, body=body))


def site_url(site: Site) -> str:
    return settings.PUBLIC_URL + reverse("console:sat", args=[site.public_id])
