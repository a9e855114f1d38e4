"""Console rules: who may see and change which site, and what a site's Entra status is.

Security invariant: every console view finds sites through `sites_of(staff)`, so another
MSP's site is a 404 exactly like a site that does not exist; changes also need
`require_admin(staff)`.
"""

from collections import defaultdict
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404

from scim_app.models import ScimGroup, ScimUser

from . import tokens
from .models import ScimToken, Site, Staff


def staff_of(user: AbstractBaseUser | AnonymousUser) -> Staff:
    """The signed-in user's MSP membership; a login without one may see nothing (403)."""
    try:
        return Staff.objects.select_related("msp").get(user_id=user.pk)
    except Staff.DoesNotExist:
        raise PermissionDenied("This login does not belong to an MSP.") from None


def require_admin(staff: Staff) -> None:
    if not staff.is_admin:
        raise PermissionDenied("Ensure your account has Admin permissions.")


def sites_of(staff: Staff) -> QuerySet[Site]:
    return Site.objects.filter(msp=staff.msp)


def get_site(staff: Staff, public_id) -> Site:
    return get_object_or_404(sites_of(staff), public_id=public_id)


def _count(queryset: QuerySet) -> Coalesce:
    """A correlated `SELECT COUNT(*)` per outer row: unlike two joined Count()s, counts
    of users and groups do not multiply each other."""
    counted = queryset.order_by().values("site").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def with_counts(sites: QuerySet[Site]) -> QuerySet[Site]:
    return sites.annotate(
        user_count=_count(ScimUser.objects.filter(site=OuterRef("pk"))),
        group_count=_count(ScimGroup.objects.filter(site=OuterRef("pk"))),
    )


def search(sites: QuerySet[Site], query: str) -> QuerySet[Site]:
    return sites.filter(name__icontains=query) if query else sites


class EntraStatus:
    """A site's Microsoft Entra integration, as the Sites list and settings page show it."""

    NOT_CONFIGURED = "Not configured"
    WAITING = "Waiting for first request"
    PROVISIONING = "Provisioning"
    REVOKED = "Token revoked"

    def __init__(self, site_tokens: list[ScimToken]):
        # Rotation keeps the old token working, and Entra may still be using it: the last
        # request is the latest use of any of the site's tokens.
        used = [t.last_used_at for t in site_tokens if t.last_used_at]
        self.last_request: datetime | None = max(used, default=None)
        if not site_tokens:
            self.label = self.NOT_CONFIGURED
        elif not any(tokens.is_active(t) for t in site_tokens):
            self.label = self.REVOKED
        elif self.last_request is None:
            self.label = self.WAITING
        else:
            self.label = self.PROVISIONING

    @property
    def css(self) -> str:
        return {
            self.NOT_CONFIGURED: "muted",
            self.WAITING: "pending",
            self.PROVISIONING: "ok",
            self.REVOKED: "bad",
        }[self.label]

    def __str__(self) -> str:
        return self.label


def attach_statuses(sites: list[Site]) -> None:
    """Set `site.entra` on each site with one query for all their tokens, however many."""
    by_site: dict[int, list[ScimToken]] = defaultdict(list)
    fields = ("site_id", "revoked_at", "expires_at", "last_used_at")
    for token in ScimToken.objects.filter(site__in=sites).only(*fields).order_by():
        by_site[token.site_id].append(token)
    for site in sites:
        site.entra = EntraStatus(by_site[site.pk])


def provisioning_summary(site: Site) -> dict[str, int]:
    summary = site.scim_users.aggregate(
        users=Count("pk"), active_users=Count("pk", filter=Q(active=True))
    )
    summary["groups"] = site.scim_groups.count()
    return summary
