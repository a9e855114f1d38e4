"""SCIM credentials each worker process remembers, so that a request whose credential the
same worker looked up moments ago does not look it up again: one of a GET by id's three
round trips to PostgreSQL, and about a seventh of its Python instructions (issue 16).

What a worker remembers is the credential as loaded (with its site, and for an access
token its secret or trust and client), and every request checks it again as if just
loaded: revocation, expiry, the site's training. What memory could be wrong about is
only a change to those rows, and every change replaces the *generation*, a random value
in the shared cache:

- a save or delete of an MSP, a site or a credential (`post_save`, `post_delete`; not
  the delete of an expired or revoked credential, which memory refuses already), and an
  `update()` of their tables (`ForgettingQuerySet`), but for their last use alone;
- at once, so that the changing request's own transaction never sees memory, and again
  after its transaction commits, so that a request that read the old rows meanwhile and
  remembered them under the new generation does not keep them.

Every SCIM request reads the generation in the round trip that reads its address's
refusal count (scim_app.endpoint.guard), and recalls only what was remembered under it.
Nothing is remembered longer than MAX_AGE, whatever happens.

Only on when every worker shares the cache (settings.SCIM_REMEMBER_CREDENTIALS, on with
REDIS_URL): with a cache of its own, a worker would never hear of another's revocation.
Unknown credentials are never remembered: a new one works at once, and guessing fills
no memory.
"""

import secrets
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import models, transaction
from django.db.models.signals import post_delete

GENERATION_KEY = "credentials-generation"
MAX_AGE = 60.0  # seconds
MAX_ENTRIES = 10_000
# Written on use (at most once a minute each): what no check decides on.
NOTED_ON_USE = frozenset({"last_used_at"})


@dataclass(frozen=True)
class Remembered:
    generation: str
    until: float  # time.monotonic()
    credential: models.Model


# (model, SHA-256 of the plaintext) -> what was loaded for it. Shared by the worker's
# threads: each get and set of a dict is atomic.
_memory: dict[tuple[type, str], Remembered] = {}


def generation(stored: str | None) -> str | None:
    """The generation a request recalls and remembers under, from the shared cache's
    `stored` value (read before the credential is looked up); None when memory is off.
    A cache without one (new, or Redis restarted) gets one, from this request unless
    another got there first."""
    if not settings.SCIM_REMEMBER_CREDENTIALS:
        return None
    if stored is None:
        fresh = secrets.token_hex(8)
        return fresh if cache.add(GENERATION_KEY, fresh, timeout=None) else None
    return stored


def recall(model: type, digest: str, generation: str | None) -> models.Model | None:
    """What is remembered for `digest` under `generation`, if not older than MAX_AGE."""
    found = _fresh(model, digest)
    if generation is None or found is None or found.generation != generation:
        return None
    return found.credential


def recent(model: type, digest: str) -> models.Model | None:
    """What is remembered for `digest` under any generation, if not older than MAX_AGE."""
    found = _fresh(model, digest)
    return found.credential if found is not None else None


def _fresh(model: type, digest: str) -> Remembered | None:
    found = _memory.get((model, digest))
    return found if found is not None and found.until >= time.monotonic() else None


def remember(model: type, digest: str, generation: str | None, credential: models.Model) -> None:
    if generation is None:
        return
    if len(_memory) >= MAX_ENTRIES:
        _memory.clear()  # old access tokens, mostly: Entra fetches a new one every hour
    _memory[model, digest] = Remembered(generation, time.monotonic() + MAX_AGE, credential)


def forget_everywhere() -> None:
    """Every worker's memory is stale from its next request on."""
    new_generation()
    transaction.on_commit(new_generation)


def new_generation() -> None:
    cache.set(GENERATION_KEY, secrets.token_hex(8), timeout=None)


def forget_on_change(sender, instance, created=False, update_fields=None, **kwargs) -> None:
    """Receiver of post_save and post_delete of the models memory holds."""
    if created or (update_fields is not None and set(update_fields) <= NOTED_ON_USE):
        return
    if kwargs["signal"] is post_delete and getattr(instance, "is_usable", None) is False:
        # An expired or revoked credential's row (the site's expired access tokens go as
        # each new one is minted): memory refuses it already.
        return
    forget_everywhere()


class ForgettingQuerySet(models.QuerySet):
    """The queryset of a model memory holds: an UPDATE of its table makes memory stale,
    as a save does."""

    def update(self, **fields) -> int:
        updated = super().update(**fields)
        if updated and not set(fields) <= NOTED_ON_USE:
            forget_everywhere()
        return updated
