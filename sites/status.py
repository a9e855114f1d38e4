"""What a site's Microsoft Entra integration is doing, as the Sites list, the settings
page, the admin and the API's `status` all show it: the one place that decides it."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from sat_portal.queries import subquery_count
from scim_app.models import ProvisioningLogEntry, ScimGroup, ScimUser
from scim_app.provisioning_log import queries as provisioning_log

from .models import ClientSecret, Credential, FederationTrust, ScimToken, Site

# The credentials Entra may use for a site: Secret Tokens, OAuth client secrets and
# federation trusts.
ENTRA_CREDENTIALS = (ScimToken, ClientSecret, FederationTrust)


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
    API's status show it, whichever way Entra authenticates (a Secret Token, OAuth client
    credentials, or both while moving from one to the other).

    `last_request` is when Entra last called for the site, as the provisioning log
    recorded it (also a request refused because its token was revoked or expired, or
    because training is disabled: Entra is still trying; and its token requests).
    `secret_expires_at` is when the first of its usable client secrets expires, and
    `secret_expiring` whether that is within 30 days: Entra stops then, unless given a
    newer secret first.
    """

    NOT_CONFIGURED = "Not configured"
    WAITING = "Waiting for first request"
    PROVISIONING = "Provisioning"
    EXPIRED = "Token expired"
    REVOKED = "Token revoked"
    CLIENT_EXPIRED = "Client secret expired"
    CLIENT_REVOKED = "Client secret revoked"
    TRUST_REVOKED = "Federation trust revoked"
    SAT_DISABLED = "Training disabled"

    def __init__(self, site: Site, credentials: list[Credential], last_request: datetime | None):
        """`credentials`: the site's Secret Tokens, client secrets and federation
        trusts, every state."""
        self.last_request = last_request
        self.secret_expires_at = min(
            (c.expires_at for c in credentials if isinstance(c, ClientSecret) and c.is_usable),
            default=None,
        )
        newest = max(credentials, key=lambda c: (c.created_at, c.pk), default=None)
        if not site.sat_enabled:
            # Entra's requests are refused whatever the credentials: say why.
            self.label = self.SAT_DISABLED
        elif newest is None:
            self.label = self.NOT_CONFIGURED
        elif not any(c.is_usable for c in credentials):
            # What Entra was given last is what it is failing with.
            if isinstance(newest, FederationTrust):
                self.label = self.TRUST_REVOKED
            elif isinstance(newest, ClientSecret):
                self.label = self.CLIENT_REVOKED if newest.revoked_at else self.CLIENT_EXPIRED
            else:
                self.label = self.REVOKED if newest.revoked_at else self.EXPIRED
        elif last_request is None:
            self.label = self.WAITING
        else:
            self.label = self.PROVISIONING

    @property
    def secret_expiring(self) -> bool:
        if self.secret_expires_at is None:
            return False
        return self.secret_expires_at <= timezone.now() + ClientSecret.EXPIRING_WITHIN

    @property
    def css(self) -> str:
        return {
            self.NOT_CONFIGURED: "muted",
            self.WAITING: "pending",
            self.PROVISIONING: "ok",
            self.EXPIRED: "bad",
            self.REVOKED: "bad",
            self.CLIENT_EXPIRED: "bad",
            self.CLIENT_REVOKED: "bad",
            self.TRUST_REVOKED: "bad",
            self.SAT_DISABLED: "muted",
        }[self.label]

    def __str__(self) -> str:
        return self.label


STATUS_FIELDS = ("site_id", "created_at", "revoked_at", "expires_at")


def credentials_of(sites: list[Site]) -> dict[int, list[Credential]]:
    """Every Entra credential of `sites` by site id (what the status needs of them): one
    query per kind, however many sites."""
    by_site: dict[int, list[Credential]] = defaultdict(list)
    for model in ENTRA_CREDENTIALS:
        for credential in model.objects.filter(site__in=sites).only(*STATUS_FIELDS).order_by():
            by_site[credential.site_id].append(credential)
    return by_site


def attach_statuses(sites: list[Site]) -> None:
    """Set `site.entra` on each site of a `with_counts()` page."""
    by_site = credentials_of(sites)
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
    site: Site, credentials: list[Credential] | None = None
) -> ProvisioningSummary:
    """A site's provisioning status, for the settings page and the API's `status`: the
    one place that decides what the console and the API say about it. `credentials`:
    the site's Secret Tokens and client secrets, if the caller has them already."""
    if credentials is None:
        credentials = credentials_of([site])[site.pk]
    counts = site.scim_users.live().aggregate(
        users=Count("pk"), active_users=Count("pk", filter=Q(active=True))
    )
    request = provisioning_log.last_request(site)
    return ProvisioningSummary(
        entra=EntraStatus(site, credentials, request.created if request else None),
        users=counts["users"],
        active_users=counts["active_users"],
        groups=site.scim_groups.live().count(),
        last_request=request,
        last_error=provisioning_log.last_error(site),
    )
