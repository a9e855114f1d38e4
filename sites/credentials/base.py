"""What every credential kind shares: issue, find, note use, revoke, and the audit trail.

A plaintext is the kind's prefix and 43 URL-safe characters (32 random bytes); it exists
only in the response that shows it once. We keep its SHA-256 (to find it again) and its
last four characters (for people to tell credentials apart).
"""

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from datetime import timedelta
from typing import TypeVar

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from sat_portal.prepared import PreparedQuery
from sites import remembered
from sites.models import CredentialEvent, HashedSecret

HINT_LENGTH = 4
BODY = r"[A-Za-z0-9_-]{43}"
# last_used_at is written at most this often per credential, not on every request.
LAST_USED_RESOLUTION = timedelta(seconds=60)

# Why any credential of a site is refused while the site's training is off.
SAT_DISABLED = "Security awareness training is disabled for this site."

Via = CredentialEvent.Via
C = TypeVar("C", bound=HashedSecret)


def digest(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode()).hexdigest()


def has_shape(model: type[HashedSecret], plaintext: str) -> bool:
    return re.fullmatch(re.escape(model.PREFIX) + BODY, plaintext) is not None


def create(model: type[C], *, by=None, **fields) -> tuple[C, str]:
    """A credential of `model` with its plaintext, never stored; not audited (`issue` is):
    only for access tokens, which Entra fetches every hour."""
    plaintext = model.PREFIX + secrets.token_urlsafe(32)
    credential = model.objects.create(
        secret_hash=digest(plaintext), hint=plaintext[-HINT_LENGTH:], created_by=by, **fields
    )
    return credential, plaintext


def issue(model: type[C], *, by=None, via: str, **fields) -> tuple[C, str]:
    """Create a credential of `model`, recorded in the audit trail; return it with its
    plaintext, never stored."""
    with transaction.atomic():
        credential, plaintext = create(model, by=by, **fields)
        record_event(credential, CredentialEvent.Action.ISSUED, by=by, via=via)
    return credential, plaintext


def by_hash(queryset: Callable[[], QuerySet[C]]) -> PreparedQuery:
    """The lookup `find` runs for a credential kind: `queryset()` (the kind, with what to
    load along with it) by the secret's hash. Compiled once (sat_portal.prepared): every
    request that carries a credential starts with it."""
    return PreparedQuery(lambda wanted: queryset().filter(secret_hash=wanted), digest(""))


def find(lookup: PreparedQuery, plaintext: str, *, generation: str | None = None) -> C | None:
    """The credential `lookup` (from `by_hash`) finds for `plaintext`, whatever its state.

    One indexed lookup by hash, so timing says nothing about the secret and no secret
    can be found by its hint or prefix; the constant-time compare guards against a
    collation that would match a hash that is not byte-equal. With a `generation`
    (SCIM requests), what this worker remembers of it under that generation, else what
    it looks up is remembered (sites.remembered).
    """
    if not has_shape(lookup.model, plaintext):
        return None
    wanted = digest(plaintext)
    remembered_credential = remembered.recall(lookup.model, wanted, generation)
    if remembered_credential is not None:
        return remembered_credential
    found = lookup(wanted)  # the hash is unique: one row or none
    if not found or not hmac.compare_digest(found[0].secret_hash, wanted):
        return None
    remembered.remember(lookup.model, wanted, generation, found[0])
    return found[0]


def record_use(credential: HashedSecret) -> None:
    """Note that a credential was just accepted: at most one UPDATE a minute each, after
    the request's transaction commits, so concurrent requests with one credential never
    wait on each other for its row."""
    now = timezone.now()
    if credential.last_used_at and now - credential.last_used_at < LAST_USED_RESOLUTION:
        return
    model, pk = type(credential), credential.pk
    transaction.on_commit(lambda: model.objects.filter(pk=pk).update(last_used_at=now))
    credential.last_used_at = now


def revoke(credential: HashedSecret, *, by=None, via: str) -> bool:
    """Stop `credential` at once. Return False if it was already revoked."""
    now = timezone.now()
    with transaction.atomic():
        model = type(credential)
        if not model.objects.filter(pk=credential.pk, revoked_at__isnull=True).update(
            revoked_at=now
        ):
            return False
        credential.revoked_at = now
        record_event(credential, CredentialEvent.Action.REVOKED, by=by, via=via)
    return True


def revoke_all(credentials: QuerySet[C], *, by=None, via: str) -> int:
    """Revoke each of `credentials` not yet revoked; return how many were. Load them
    through their site (`site.scim_tokens`), so that the audit trail needs no query for it."""
    revoked = 0
    with transaction.atomic():
        for credential in credentials.filter(revoked_at__isnull=True).select_for_update():
            revoked += revoke(credential, by=by, via=via)
    return revoked


def record_event(credential: HashedSecret, action: str, *, by, via: str) -> CredentialEvent:
    site = getattr(credential, "site", None)
    return CredentialEvent.objects.create(
        kind=credential.KIND,
        credential_id=credential.pk,
        msp_id=site.msp_id if site is not None else credential.msp_id,
        site=site,
        action=action,
        actor=by,
        via=via,
        hint=credential.hint,
    )
