"""The mass-deprovisioning guard: notice within the hour when Entra disables or deletes an
unusual share of a site's users (a narrowed scope, a removed assignment group, a broken
sync rule), flag the site for its MSP and tell its admins. Entra never sees an error
because of it: the guard only watches.

Counted in the shared cache (Redis when REDIS_URL is set, so every worker counts into one
number), per site and window; the database is asked only when a site passes the minimum.
"""

from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from sat_portal import ratelimit
from scim_app.models import ScimUser
from scim_app.provisioning_log import records
from sites import notifications
from sites.models import Site


def note_deprovisioned(site: Site) -> None:
    """Entra just disabled or deleted one of `site`'s active users."""
    window = settings.DEPROVISIONING_ALERT_WINDOW
    count = ratelimit.add_failure("deprovisioned", str(site.pk), window=window)
    if count < settings.DEPROVISIONING_ALERT_MINIMUM or recently_flagged(site):
        return
    still_active = ScimUser.objects.live().filter(site=site, active=True).count()
    if count / (still_active + count) > settings.DEPROVISIONING_ALERT_SHARE:
        flag(site, count, still_active + count)


def recently_flagged(site: Site) -> bool:
    since = timezone.now() - timedelta(seconds=settings.DEPROVISIONING_ALERT_WINDOW)
    return site.deprovisioning_alert_at is not None and site.deprovisioning_alert_at > since


def flag(site: Site, count: int, before: int) -> None:
    now = timezone.now()
    since = now - timedelta(seconds=settings.DEPROVISIONING_ALERT_WINDOW)
    not_yet = Q(deprovisioning_alert_at__isnull=True) | Q(deprovisioning_alert_at__lte=since)
    # One request flags the site, however many pass the threshold at once.
    if not Site.objects.filter(not_yet, pk=site.pk).update(deprovisioning_alert_at=now):
        return
    site.deprovisioning_alert_at = now
    summary = (
        f"Mass deprovisioning: Entra disabled or deleted {count} of {before} active users "
        "within the hour."
    )
    records.record_action(site, method="ALERT", summary=summary)
    notifications.notify_admins(
        site.msp,
        subject=f"SAT Portal: {site.name}: {count} users disabled or deleted by Entra",
        body=(
            f"{summary}\n\nIf this was not intended, check the Entra application's "
            "provisioning scope and assignments now. Deleted users are kept for "
            f"{settings.SCIM_DELETED_RETENTION_DAYS} days and can be restored from the "
            f"site's Users page; hold mode keeps further deletes from being applied:\n"
            f"{notifications.site_url(site)}"
        ),
    )


def acknowledge(site: Site) -> None:
    """An MSP admin has looked: the flag goes, the guard watches again."""
    Site.objects.filter(pk=site.pk).update(deprovisioning_alert_at=None)
    site.deprovisioning_alert_at = None
