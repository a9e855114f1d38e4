"""What the console, the API's status and the admin ask of the provisioning log."""

from datetime import datetime

from django.db.models import OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce

from sat_portal.queries import subquery_count
from scim_app.models import ProvisioningLogEntry
from sites.models import Site


def requests(entries: QuerySet[ProvisioningLogEntry]) -> QuerySet[ProvisioningLogEntry]:
    """Only what was sent to our endpoints: not what people did to provisioned data in the
    console or the admin, nor the guard's notes (records.record_action, without a path)."""
    return entries.exclude(path="")


def last_request(site: Site) -> ProvisioningLogEntry | None:
    """The site's most recent SCIM request (the console's provisioning status)."""
    return requests(site.provisioning_log.order_by("-created")).first()


def last_error(site: Site) -> ProvisioningLogEntry | None:
    """The site's most recent request that we answered with an error."""
    return site.provisioning_log.filter(status__gte=400).order_by("-created").first()


def last_request_column() -> Subquery:
    """`last_request(site)` of the outer query's site, as a column: one walk down the log's
    (site, created) index per site."""
    latest = requests(ProvisioningLogEntry.objects.filter(site=OuterRef("pk")))
    return Subquery(latest.order_by("-created").values("created")[:1])


def requests_column(since: datetime, *, errors: bool = False) -> Coalesce:
    """How many requests (or, with `errors`, how many answered with an error) the outer
    query's site sent since `since`, as a column: a range of the log's (site, created)
    index per site, so keep `since` recent."""
    entries = requests(ProvisioningLogEntry.objects.filter(created__gte=since))
    if errors:
        entries = entries.filter(status__gte=400)
    return subquery_count(entries, "site")
