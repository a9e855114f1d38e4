"""MSP API keys for the REST API (/api/v1/).

A key acts for its creator: it reaches its MSP's sites only, may write only while its
creator is an admin of that MSP, and stops working when the creator loses access
(deactivated, deleted or moved to another MSP). A Secret Token is never an API key, nor
the other way round: their prefixes differ.
"""

from django.db.models import QuerySet

from sites.models import MSP, ApiKey, Staff

from . import base
from .base import Via

API_KEYS = base.by_hash(lambda: ApiKey.objects.select_related("msp", "created_by__staff"))


def keys_of(msp: MSP) -> QuerySet[ApiKey]:
    return msp.api_keys.select_related("created_by")


def issue_key(msp: MSP, *, name: str, by=None, via: str = Via.CONSOLE) -> tuple[ApiKey, str]:
    """A new key for `msp` with its plaintext, which is never stored."""
    return base.issue(ApiKey, by=by, via=via, msp=msp, name=name)


def verify_key(plaintext: str) -> ApiKey | None:
    """The key (with its MSP and its creator's staff loaded) if it may be used now, else
    None: unknown, revoked, expired, or its creator no longer an active staff member of
    the key's MSP. Every refusal gives None, so a caller cannot tell them apart."""
    key = base.find(API_KEYS, plaintext)
    if key is None or not key.is_usable or creator_staff(key) is None:
        return None
    base.record_use(key)
    return key


def creator_staff(key: ApiKey) -> Staff | None:
    """The creator's membership of the key's MSP, if they are still active in it."""
    creator = key.created_by
    if creator is None or not creator.is_active:
        return None
    try:
        staff = creator.staff
    except Staff.DoesNotExist:
        return None
    return staff if staff.msp_id == key.msp_id else None


def revoke_key(key: ApiKey, *, by=None, via: str = Via.CONSOLE) -> bool:
    """Stop `key` at once. Return False if it was already revoked."""
    return base.revoke(key, by=by, via=via)
