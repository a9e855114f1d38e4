"""What the console, the API's status and the admin ask of the provisioning log."""

from scim_app.models import ProvisioningLogEntry
from sites.models import Site


def last_request(site: Site) -> ProvisioningLogEntry | None:
    """The site's most recent SCIM request (the console's provisioning status)."""
    return site.provisioning_log.order_by("-created").first()


def last_error(site: Site) -> ProvisioningLogEntry | None:
    """The site's most recent request that we answered with an error."""
    return site.provisioning_log.filter(status__gte=400).order_by("-created").first()
