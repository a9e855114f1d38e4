"""What a site's Microsoft Entra integration is doing, as the Sites list, the settings
page, the admin and the API's `status` all show it: the one place that decides it."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery

from sat_portal.queries import subquery_count
from scim_app.models import ProvisioningLogEntry, ScimGroup, ScimUser
from scim_app.provisioning_log import queries as provisioning_log

from .models import ScimToken, Site


def with_counts(sites: QuerySet[Site]) -> QuerySet[Site]:
    """Each site with its users and groups counted and the time of its last SCIM request
    (`last_request_at`, from the provisioning log: one index lookup per site shown)."""
    latest = ProvisioningLogEntry.objects.filter(site=OuterRef("pk")).order_by("-created")
    return sites.annotate(
        user_count=subquery_count(ScimUser.objects.live(), "site"),
        group_count=subquery_count(ScimGroup.objects.live(), "site"),
        last_request_at=Subquery(latest.values("created")[:1]),
    )


class EntraStatus:
    """A site's Microsoft Entra integration, as the Sites list, the settings page and the
    API's status show it.

    `last_request` is when Entra last called for the site, as the provisioning log
    recorded it (also a request refused because its token was revoked or expired, or
    because training is disabled: Entra is still trying).
    """

    NOT_CONFIGURED = "Not configured"
    WAITING = "Waiting for first request"
    PROVISIONING = "Provisioning"
    EXPIRED = "Token expired"
    REVOKED = "Token revoked"
    SAT_DISABLED = "Training disabled"

    def __init__(self, site: Site, site_tokens: list[ScimToken], last_request: datetime | None):
        self.last_request = last_request
        newest = max(site_tokens, key=lambda t: (t.created_at, t.pk), default=None)
        if not site.sat_enabled:
            # Entra's requests are refused whatever the tokens: say why.
            self.label = self.SAT_DISABLED
        elif newest is None:
            self.label = self.NOT_CONFIGURED
        elif not any(t.is_usable for t in site_tokens):
            self.label = self.REVOKED if newest.revoked_at else self.EXPIRED
        elif last_request is None:
            self.label = self.WAITING
        else:
            self.label = self.PROVISIONING

    @property
    def css(self) -> str:
        return {
            self.NOT_CONFIGURED: "muted",
            self.WAITING: "pending",
            self.PROVISIONING: "ok",
            self.EXPIRED: "bad",
            self.REVOKED: "bad",
            self.SAT_DISABLED: "muted",
        }[self.label]

    def __str__(self) -> str:
        return self.label


TOKEN_STATUS_FIELDS = ("site_id", "created_at", "revoked_at", "expires_at")


def attach_statuses(sites: list[Site]) -> None:
    """Set `site.entra` on each site of a `with_counts()` page with one query for all
    their tokens, however many sites."""
    by_site: dict[int, list[ScimToken]] = defaultdict(list)
    tokens_of_page = ScimToken.objects.filter(site__in=sites).only(*TOKEN_STATUS_FIELDS)
    for token in tokens_of_page.order_by():
        by_site[token.site_id].append(token)
    for site in sites:
        site.entra = EntraStatus(site, by_site[site.pk], site.last_request_at)


@dataclass(frozen=True)
class ProvisioningSummary:
    entra: EntraStatus
    users: int
    active_users: int
    groups: int
    last_request: ProvisioningLogEntry | None
    last_error: ProvisioningLogEntry | None


def provisioning_summary(
    site: Site, site_tokens: list[ScimToken] | None = None
) -> ProvisioningSummary:
    """A site's provisioning status, for the settings page and the API's `status`: the
    one place that decides what the console and the API say about it."""
    if site_tokens is None:
        site_tokens = list(site.scim_tokens.only(*TOKEN_STATUS_FIELDS))
    counts = site.scim_users.live().aggregate(
        users=Count("pk"), active_users=Count("pk", filter=Q(active=True))
    )
    request = provisioning_log.last_request(site)
    return ProvisioningSummary(
        entra=EntraStatus(site, site_tokens, request.created if request else None),
        users=counts["users"],
        active_users=counts["active_users"],
        groups=site.scim_groups.live().count(),
        last_request=request,
        last_error=provisioning_log.last_error(site),
    )
