"""Provisioning log rows as the SCIM endpoint writes them, for status tests."""

from datetime import datetime

from django.utils import timezone

from scim_app.models import ProvisioningLogEntry
from sites.models import Site


def logged(
    site: Site, at: datetime | None = None, status: int = 200, summary: str = "listed users"
) -> ProvisioningLogEntry:
    """A SCIM request of `site`'s recorded in the provisioning log at `at` (default now)."""
    return ProvisioningLogEntry.objects.create(
        site=site,
        created=at or timezone.now(),
        method="GET",
        path="/api/v2/scim/Users",
        status=status,
        duration_ms=3,
        summary=summary,
    )
