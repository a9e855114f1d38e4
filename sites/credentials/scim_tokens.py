"""Secret Tokens: a site's long-lived bearer credential for Entra's SCIM requests.

Entra cannot refresh a Secret Token, so a token does not expire unless a newer one is
issued (then the older keeps working for SCIM_TOKEN_GRACE_PERIOD, long enough to paste
the new one into Entra) or it is revoked.
"""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from sites.models import ScimToken, Site

from . import base
from .base import Via

SAT_DISABLED = "Enable Security Awareness Training for this site first."


def usable_tokens(site: Site) -> QuerySet[ScimToken]:
    return site.scim_tokens.usable()


@transaction.atomic
def issue_token(site: Site, *, by=None, via: str = Via.CONSOLE) -> tuple[ScimToken, str]:
    """A new token for `site` with its plaintext, which is never stored.

    Refused (ValidationError on `sat_enabled`) while the site's training is disabled:
    Entra could not use the token. Tokens in use get an expiry SCIM_TOKEN_GRACE_PERIOD
    from now, unless they already end sooner: rotating again never extends a token.
    """
    if not site.sat_enabled:
        raise ValidationError({"sat_enabled": [SAT_DISABLED]}, code="sat_disabled")
    grace_end = timezone.now() + timedelta(seconds=settings.SCIM_TOKEN_GRACE_PERIOD)
    usable_tokens(site).filter(Q(expires_at__isnull=True) | Q(expires_at__gt=grace_end)).update(
        expires_at=grace_end
    )
    return base.issue(ScimToken, by=by, via=via, site=site)


def revoke_token(token: ScimToken, *, by=None, via: str = Via.CONSOLE) -> bool:
    """Stop `token` at once. Return False if it was already revoked."""
    return base.revoke(token, by=by, via=via)


def revoke_all(site: Site, *, by=None, via: str = Via.CONSOLE) -> int:
    """Revoke every token of the site not yet revoked (part of `entra.disable`)."""
    return base.revoke_all(site.scim_tokens, by=by, via=via)
