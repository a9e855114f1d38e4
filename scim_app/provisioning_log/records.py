"""Log rows that are not SCIM requests: what people did to provisioned data in the console
or the admin (restore, purge, hold mode) and what the guard noticed, so that a user's or a
site's history is in one place."""

from scim_app.models import ProvisioningLogEntry
from sites.models import Site


def record_action(
    site: Site,
    *,
    method: str,
    summary: str,
    actor=None,
    resource_type: str = "",
    resource_id: str = "",
    changes: list[dict] | None = None,
) -> ProvisioningLogEntry:
    """method: CONSOLE or ADMIN for a person (the actor), ALERT for the guard."""
    return ProvisioningLogEntry.objects.create(
        site=site,
        method=method,
        path="",
        status=200,
        duration_ms=0,
        summary=summary[:300],
        actor=actor,
        resource_type=resource_type,
        resource_id=str(resource_id)[:64],
        changes=changes or [],
    )
