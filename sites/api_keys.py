"""Issue, verify and revoke MSP API keys for the REST API (/api/v1/).

A key is `satapi_` + 43 URL-safe characters (32 random bytes). The prefix differs from
a Secret Token's `satscim_`, so neither endpoint can mistake one for the other and
secret scanners can tell them apart; only the SHA-256 is stored. Same rules as
`sites.tokens`, whose hashing and last-used resolution this reuses.
"""

import hmac
import re
import secrets

from django.db.models import QuerySet
from django.utils import timezone

from .models import MSP, ApiKey, Staff
from .tokens import HINT_LENGTH, hash_secret, record_use

PREFIX = "satapi_"
KEY_RE = re.compile(r"^satapi_[A-Za-z0-9_-]{43}$")


def keys_of(msp: MSP) -> QuerySet[ApiKey]:
    return msp.api_keys.select_related("created_by")


def issue_key(msp: MSP, *, name: str, by=None) -> tuple[ApiKey, str]:
    """Create a key for `msp`; return it with its plaintext, which is never stored."""
    plaintext = PREFIX + secrets.token_urlsafe(32)
    key = ApiKey.objects.create(
        msp=msp,
        name=name,
        key_hash=hash_secret(plaintext),
        hint=plaintext[-HINT_LENGTH:],
        created_by=by,
    )
    return key, plaintext


def verify_key(plaintext: str) -> ApiKey | None:
    """Return the key (with its MSP and creator's staff loaded) if it may be used now,
    else None: unknown, revoked, or its creator is no longer an active staff member of
    the key's MSP (deleted, deactivated, or moved to another MSP).

    A key acts for its creator, so it can never outlive its creator's access. Every
    refusal gives None, so a caller cannot tell them apart.
    """
    if not KEY_RE.match(plaintext):
        return None
    digest = hash_secret(plaintext)
    key = (
        ApiKey.objects.select_related("msp", "created_by__staff")
        .filter(key_hash=digest, revoked_at__isnull=True)
        .first()
    )
    if key is None or not hmac.compare_digest(key.key_hash, digest):
        return None
    if _creator_staff(key) is None:
        return None
    record_use(key)
    return key


def _creator_staff(key: ApiKey) -> Staff | None:
    """The creator's membership of the key's MSP, if they are still active in it."""
    creator = key.created_by
    if creator is None or not creator.is_active:
        return None
    try:
        staff = creator.staff
    except Staff.DoesNotExist:
        return None
    return staff if staff.msp_id == key.msp_id else None


def can_write(key: ApiKey) -> bool:
    """Whether the key may change things now: its creator is still an admin of the
    key's MSP. Checked on every request, so demoting the creator demotes the key."""
    staff = _creator_staff(key)
    return staff is not None and staff.is_admin


def revoke_key(key: ApiKey) -> bool:
    """Stop `key` at once. Return False if it was already revoked."""
    now = timezone.now()
    if not ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(revoked_at=now):
        return False
    key.revoked_at = now
    return True
