"""What a site's Microsoft Entra integration is doing, as the Sites list, the settings
page, the admin and the API's `status` all show it: the one place that decides it."""

import operator
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import reduce

from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from sat_portal.queries import subquery_count
from scim_app.models import ProvisioningLogEntry, ScimGroup, ScimUser
from scim_app.provisioning_log import activity
from scim_app.provisioning_log import queries as provisioning_log

from .models import ClientSecret, Credential, FederationTrust, ScimToken, Site

# The credentials Entra may use for a site: Secret Tokens, OAuth client secrets and
# federation trusts.
ENTRA_CREDENTIALS = (ScimToken, ClientSecret, FederationTrust)

# The health badge looks at the last hour of requests (see Health).
HEALTH_WINDOW = timedelta(hours=1)


def with_counts(sites: QuerySet[Site]) -> QuerySet[Site]:
    """Each site with what the Sites list shows of it, as columns of the one query that
    reads the page (correlated subqueries, each an index lookup or a short index range
    per site shown, however big the site or the log):

    - `user_count`, `active_user_count`, `group_count`: live (not deleted) users, the
      active ones among them, and live groups;
    - `last_request_at`: Entra's last request, from the provisioning log;
    - `hour_requests`, `hour_errors`: its requests in the last hour, and the errors among
      them (Health);
    - `day_errors`: errors in the last 24 hours, as the site's activity panel counts them.
    """
    hour_ago = timezone.now() - HEALTH_WINDOW
    return sites.annotate(
        user_count=subquery_count(ScimUser.objects.live(), "site"),
        active_user_count=subquery_count(ScimUser.objects.live().filter(active=True), "site"),
        group_count=subquery_count(ScimGroup.objects.live(), "site"),
        last_request_at=provisioning_log.last_request_column(),
        hour_requests=provisioning_log.requests_column(hour_ago),
        hour_errors=provisioning_log.requests_column(hour_ago, errors=True),
        day_errors=activity.errors_column(activity.window_start("24h")),
    )


def expiring_soon(now: datetime) -> Q:
    """Credentials still usable that expire within EXPIRY_ALERT_DAYS: those the expiry
    e-mail (sites.alerts) is about, and the Sites list flags."""
    until = now + timedelta(days=settings.EXPIRY_ALERT_DAYS)
    return Q(revoked_at__isnull=True, expires_at__gt=now, expires_at__lte=until)


def any_credential(rows: Callable[[QuerySet], QuerySet]) -> Q:
    """Whether the outer query's site has an Entra credential of any kind among `rows` of
    that kind (e.g. `lambda credentials: credentials.usable()`)."""
    return reduce(
        operator.or_,
        (Q(Exists(rows(model.objects.filter(site=OuterRef("pk"))))) for model in ENTRA_CREDENTIALS),
    )


# The Sites list's filter. Each is one condition on a `with_counts()` query and agrees
# with what the list shows of a site: its Entra status (the first two), `day_errors`,
# the expiry flag, and the training badge.
STATES = {
    "provisioning": "Provisioning",
    "waiting": "Waiting for first request",
    "errors": "Errors in the last 24 hours",
    "expiring": "Credential expiring",
    "training_disabled": "Training disabled",
}


def in_state(sites: QuerySet[Site], state: str) -> QuerySet[Site]:
    """The sites of a `with_counts()` query that are in `state` (a key of STATES)."""
    if state == "training_disabled":
        return sites.filter(sat_enabled=False)
    if state == "errors":
        return sites.filter(day_errors__gt=0)
    if state == "expiring":
        now = timezone.now()
        return sites.filter(any_credential(lambda rows: rows.filter(expiring_soon(now))))
    # EntraStatus: training on, a usable credential, and a request from Entra or not yet.
    configured = sites.filter(any_credential(lambda rows: rows.usable()), sat_enabled=True)
    if state == "provisioning":
        return configured.filter(last_request_at__isnull=False)
    if state == "waiting":
        return configured.filter(last_request_at__isnull=True)
    raise ValueError(f"unknown state {state!r}")


class EntraStatus:
    """A site's Microsoft Entra integration, as the Sites list, the settings page and the
    API's status show it, whichever way Entra authenticates (a Secret Token, OAuth client
    credentials, or both while moving from one to the other).

    `last_request` is when Entra last called for the site, as the provisioning log
    recorded it (also a request refused because its token was revoked or expired, or
    because training is disabled: Entra is still trying; and its token requests).
    `secret_expires_at` is when the first of its usable client secrets expires, and
    `secret_expiring` whether that is within 30 days: Entra stops then, unless given a
    newer secret first. `expiring` is the first of its credentials of any kind to expire
    within EXPIRY_ALERT_DAYS (`expiring_soon`), if any: what the Sites list flags.
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
        now = timezone.now()
        until = now + timedelta(days=settings.EXPIRY_ALERT_DAYS)
        self.expiring = min(
            (
                c
                for c in credentials
                if c.revoked_at is None and c.expires_at and now < c.expires_at <= until
            ),
            key=lambda c: c.expires_at,
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
    def expiring_kind(self) -> str:
        """What the Sites list calls the credential that expires first."""
        return "Client secret" if isinstance(self.expiring, ClientSecret) else "Secret Token"

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


@dataclass(frozen=True)
class Health:
    """A site's requests in the last hour (HEALTH_WINDOW) and the errors among them.

    It is *failing* when at least FAILURE_ALERT_PERCENT (40%) of at least
    FAILURE_ALERT_MINIMUM (10) requests were answered with an error: Entra puts a
    provisioning job in quarantine above 40% and then retries only rarely, so the badge
    shows from the threshold on, before that happens. A site whose training is disabled
    is never failing: its requests are refused on purpose (as for the e-mail alerts).
    """

    requests: int
    errors: int
    sat_enabled: bool = True

    @property
    def percent(self) -> int:
        return round(100 * self.errors / self.requests) if self.requests else 0

    @property
    def failing(self) -> bool:
        return (
            self.sat_enabled
            and self.requests >= settings.FAILURE_ALERT_MINIMUM
            and self.errors * 100 >= self.requests * settings.FAILURE_ALERT_PERCENT
        )


def attach_statuses(sites: list[Site]) -> None:
    """Set `site.entra` and `site.health` on each site of a `with_counts()` page."""
    by_site = credentials_of(sites)
    for site in sites:
        site.entra = EntraStatus(site, by_site[site.pk], site.last_request_at)
        site.health = Health(site.hour_requests, site.hour_errors, site.sat_enabled)


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
