"""PROVISIONING_LOG_RETENTION_DAYS: older rows go, a batch at a time (housekeeping runs
it; `prune_provisioning_log` too, by hand)."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from scim_app.models import ProvisioningLogEntry

BATCH = 5000


def prune_batch(days: int | None = None, batch: int = BATCH) -> int:
    """Delete up to `batch` rows older than `days` (the retention), in one short
    transaction; how many went."""
    days = settings.PROVISIONING_LOG_RETENTION_DAYS if days is None else days
    cutoff = timezone.now() - timedelta(days=days)
    old = ProvisioningLogEntry.objects.filter(created__lt=cutoff).order_by()
    ids = list(old.values_list("pk", flat=True)[:batch])
    if not ids:
        return 0
    return ProvisioningLogEntry.objects.filter(pk__in=ids).delete()[0]


def prune_job() -> bool:
    """Housekeeping's job: one batch; True if there may be more."""
    return prune_batch() == BATCH
