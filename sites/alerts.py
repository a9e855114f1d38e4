"""E-mail alerts to an MSP's admins (when EMAIL_URL is set), run by housekeeping once a
minute:

- *failing*: more than FAILURE_ALERT_PERCENT of a site's SCIM requests in the last
  FAILURE_ALERT_WINDOW seconds were answered with an error (and there were at least
  FAILURE_ALERT_MINIMUM): Entra puts a provisioning job in quarantine above 40%, after
  which it retries only rarely, so someone should look before that.
- *expiring*: a credential of a site (any kind in sites.credentials.KINDS with a site and
  EXPIRY_ALERT) expires within EXPIRY_ALERT_DAYS days.

Each kind goes at most once per site in ALERT_INTERVAL: what was sent is remembered in the
database (SiteAlert), so the limit holds across processes, nodes and restarts. Sites whose
training is disabled get none: Entra's requests are refused on purpose there.

Bounded work whatever the number of sites: one grouped query over the recent log (its
index on `created`), one query per credential kind, then a few queries per alert sent.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from scim_app.models import ProvisioningLogEntry

from . import notifications, status
from .credentials import KINDS
from .models import CredentialKind, HashedSecret, Site, SiteAlert

Kind = SiteAlert.Kind
ALERT_INTERVAL = timedelta(days=1)


@dataclass(frozen=True)
class Alert:
    site: Site
    kind: str
    subject: str
    body: str


def failing_sites(now: datetime) -> dict[int, tuple[int, int]]:
    """{site id: (failed, total)} for the sites whose error share in the window is above
    the threshold: one grouped query."""
    since = now - timedelta(seconds=settings.FAILURE_ALERT_WINDOW)
    rows = (
        ProvisioningLogEntry.objects.filter(created__gte=since, site__isnull=False)
        # What people did to provisioned data, and the guard's notes, are not requests.
        .exclude(path="")
        .order_by()
        .values("site_id")
        .annotate(total=Count("pk"), failed=Count("pk", filter=Q(status__gte=400)))
        .annotate(failed_percent=F("failed") * 100)
        .filter(
            total__gte=settings.FAILURE_ALERT_MINIMUM,
            failed_percent__gt=F("total") * settings.FAILURE_ALERT_PERCENT,
        )
    )
    return {row["site_id"]: (row["failed"], row["total"]) for row in rows}


def error_kinds(site: Site, since: datetime) -> str:
    """The site's most frequent errors in the window, e.g. "401 (20), 409 uniqueness (3)"."""
    rows = (
        site.provisioning_log.filter(created__gte=since, status__gte=400)
        .exclude(path="")
        .order_by()
        .values("status", "scim_type")
        .annotate(count=Count("pk"))
        .order_by("-count", "status", "scim_type")[:5]
    )
    return ", ".join(
        " ".join(str(part) for part in (row["status"], row["scim_type"]) if part)
        + f" ({row['count']})"
        for row in rows
    )


def failing_alert(site: Site, failed: int, total: int, now: datetime) -> Alert:
    minutes = settings.FAILURE_ALERT_WINDOW // 60
    share = round(100 * failed / total)
    since = now - timedelta(seconds=settings.FAILURE_ALERT_WINDOW)
    return Alert(
        site,
        Kind.FAILING,
        subject=f"SAT Portal: {site.name}: provisioning is failing ({share}% errors)",
        body=(
            f"In the last {minutes} minutes SAT Portal answered {failed} of the {total} "
            f"provisioning requests Microsoft Entra sent for {site.name} ({site.msp}) with an "
            f"error: {share}%.\n\nMost frequent: {error_kinds(site, since)}.\n\n"
            "Above 40%, Entra puts the provisioning job in quarantine and retries only "
            "rarely. The site's status and its last error:\n"
            f"{notifications.site_url(site)}\n\n"
            "You get this at most once a day for each site.\n"
        ),
    )


def alerted_kinds() -> list[type[HashedSecret]]:
    """The credential kinds that belong to a site and that people renew."""
    return [
        model
        for model in KINDS.values()
        if model.EXPIRY_ALERT and any(field.name == "site" for field in model._meta.fields)
    ]


def expiring_credentials(now: datetime) -> dict[int, list[HashedSecret]]:
    """{site id: its usable credentials that expire within EXPIRY_ALERT_DAYS}: one query
    per credential kind."""
    found: dict[int, list[HashedSecret]] = {}
    for model in alerted_kinds():
        expiring = model.objects.filter(status.expiring_soon(now)).order_by("expires_at")
        for credential in expiring:
            found.setdefault(credential.site_id, []).append(credential)
    return found


def expiring_alert(site: Site, credentials: list[HashedSecret]) -> Alert:
    first = min(credential.expires_at for credential in credentials)
    lines = "\n".join(
        f"- {CredentialKind(c.KIND).label} {c} expires {c.expires_at:%Y-%m-%d %H:%M} UTC"
        f" (last used {f'{c.last_used_at:%Y-%m-%d %H:%M} UTC' if c.last_used_at else 'never'})"
        for c in credentials
    )
    return Alert(
        site,
        Kind.EXPIRING,
        subject=f"SAT Portal: {site.name}: a credential expires on {first:%Y-%m-%d}",
        body=(
            f"Microsoft Entra's credentials for {site.name} ({site.msp}) that expire within "
            f"{settings.EXPIRY_ALERT_DAYS} days:\n{lines}\n\n"
            "After that Entra can no longer provision the site with them. Unless Entra "
            "already uses a newer one, issue a new credential and put it into Entra's "
            f"provisioning settings before then:\n{notifications.site_url(site)}\n\n"
            "You get this at most once a day for each site.\n"
        ),
    )


def sent_recently(kind: str, site_ids, now: datetime) -> set[int]:
    recent = SiteAlert.objects.filter(
        kind=kind, site_id__in=site_ids, sent_at__gt=now - ALERT_INTERVAL
    )
    return set(recent.values_list("site_id", flat=True))


def claim(site: Site, kind: str, now: datetime) -> bool:
    """Note that this alert goes now, unless one went within ALERT_INTERVAL: of two
    processes noticing the same at once, exactly one gets True."""
    if SiteAlert.objects.filter(site=site, kind=kind, sent_at__lte=now - ALERT_INTERVAL).update(
        sent_at=now
    ):
        return True
    try:
        with transaction.atomic():
            SiteAlert.objects.create(site=site, kind=kind, sent_at=now)
    except IntegrityError:
        return False
    return True


def unclaim(site: Site, kind: str, now: datetime) -> None:
    """The message did not go: the next run tries again."""
    SiteAlert.objects.filter(site=site, kind=kind, sent_at=now).update(sent_at=now - ALERT_INTERVAL)


def due_alerts(now: datetime) -> list[Alert]:
    """The alerts to send now: not sent within ALERT_INTERVAL, for sites with training."""
    failing = failing_sites(now)
    expiring = expiring_credentials(now)
    failing_ids = failing.keys() - sent_recently(Kind.FAILING, failing.keys(), now)
    expiring_ids = expiring.keys() - sent_recently(Kind.EXPIRING, expiring.keys(), now)
    if not failing_ids and not expiring_ids:
        return []
    sites = Site.objects.select_related("msp").filter(
        pk__in=failing_ids | expiring_ids, sat_enabled=True
    )
    alerts = []
    for site in sites.order_by("pk"):
        if site.pk in failing_ids:
            alerts.append(failing_alert(site, *failing[site.pk], now))
        if site.pk in expiring_ids:
            alerts.append(expiring_alert(site, expiring[site.pk]))
    return alerts


def send_due_alerts() -> int:
    """Send what is due; how many messages went. Nothing without EMAIL_URL."""
    if not settings.EMAIL_ENABLED:
        return 0
    now = timezone.now()
    alerts = due_alerts(now)
    recipients = notifications.admin_addresses_of({alert.site.msp_id for alert in alerts})
    sent = 0
    for alert in alerts:
        to = recipients.get(alert.site.msp_id)
        if not to or not claim(alert.site, alert.kind, now):
            continue
        if not notifications.send(to, subject=alert.subject, body=alert.body):
            unclaim(alert.site, alert.kind, now)
            break  # the mail server is not taking anything: the next run tries again
        sent += 1
    return sent


def alert_job() -> bool:
    """Housekeeping's job: one pass; there is never more to do until the next run."""
    send_due_alerts()
    return False
