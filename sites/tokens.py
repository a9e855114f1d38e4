"""Issue, verify and revoke Secret Tokens: the one place where token rules live.

The console, the admin, the REST API and the management commands all call these.
A token is `satscim_` + 43 URL-safe characters (32 random bytes). The prefix lets
secret scanners and log scrubbers recognise it; only its SHA-256 is stored.
"""

import hashlib
import hmac
import re
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from .models import ApiKey, ScimToken, Site, TokenEvent

PREFIX = "satscim_"
TOKEN_RE = re.compile(r"^satscim_[A-Za-z0-9_-]{43}$")
HINT_LENGTH = 4
# last_used_at is written at most this often per token, not on every request.
LAST_USED_RESOLUTION = timedelta(seconds=60)


def hash_secret(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode()).hexdigest()


def active_tokens(site: Site) -> QuerySet[ScimToken]:
    now = timezone.now()
    return site.scim_tokens.filter(revoked_at__isnull=True).filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=now)
    )


def is_active(token: ScimToken) -> bool:
    now = timezone.now()
    return token.revoked_at is None and (token.expires_at is None or token.expires_at > now)


@transaction.atomic
def issue_token(site: Site, *, by=None, via: str = "console") -> tuple[ScimToken, str]:
    """Create a token for `site`; return it with its plaintext, which is never stored.

    Tokens already active get an expiry `SCIM_TOKEN_GRACE_PERIOD` from now, so the
    customer can paste the new one into Entra without an outage.
    """
    plaintext = PREFIX + secrets.token_urlsafe(32)
    grace_end = timezone.now() + timedelta(seconds=settings.SCIM_TOKEN_GRACE_PERIOD)
    active_tokens(site).filter(Q(expires_at__isnull=True) | Q(expires_at__gt=grace_end)).update(
        expires_at=grace_end
    )
    token = ScimToken.objects.create(
        site=site,
        token_hash=hash_secret(plaintext),
        hint=plaintext[-HINT_LENGTH:],
        created_by=by,
    )
    TokenEvent.objects.create(
        token=token, site=site, action=TokenEvent.Action.ISSUED, actor=by, via=via, hint=token.hint
    )
    return token, plaintext


def find_token(plaintext: str) -> ScimToken | None:
    """The token (with its site loaded) whose secret is `plaintext`, active or not.

    One indexed query. For deciding whether to accept a token use verify_token; this
    is for recording which site a refused request came from.
    """
    if not TOKEN_RE.match(plaintext):
        return None
    digest = hash_secret(plaintext)
    token = ScimToken.objects.select_related("site").filter(token_hash=digest).first()
    # The lookup is by hash, so timing reveals nothing of the secret; the compare
    # guards against a collation that would match a hash that is not byte-equal.
    if token is None or not hmac.compare_digest(token.token_hash, digest):
        return None
    return token


def verify_token(plaintext: str) -> ScimToken | None:
    """Return the active token (with its site loaded) for `plaintext`, else None.

    Unknown, revoked and expired tokens all give None, so a caller cannot tell them
    apart.
    """
    token = find_token(plaintext)
    if token is None or not is_active(token):
        return None
    record_use(token)
    return token


def record_use(credential: ScimToken | ApiKey) -> None:
    """Note that a token or API key was just accepted: at most one UPDATE a minute each."""
    now = timezone.now()
    if credential.last_used_at and now - credential.last_used_at < LAST_USED_RESOLUTION:
        return
    type(credential).objects.filter(pk=credential.pk).update(last_used_at=now)
    credential.last_used_at = now


@transaction.atomic
def revoke_token(token: ScimToken, *, by=None, via: str = "console") -> bool:
    """Stop `token` at once. Return False if it was already revoked."""
    now = timezone.now()
    if not ScimToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=now):
        return False
    token.revoked_at = now
    TokenEvent.objects.create(
        token=token,
        site=token.site,
        action=TokenEvent.Action.REVOKED,
        actor=by,
        via=via,
        hint=token.hint,
    )
    return True


@transaction.atomic
def revoke_all(site: Site, *, by=None, via: str = "console") -> int:
    """Disable the site's Entra integration: revoke every token not yet revoked."""
    revoked = 0
    for token in site.scim_tokens.filter(revoked_at__isnull=True).select_for_update():
        revoked += revoke_token(token, by=by, via=via)
    return revoked
