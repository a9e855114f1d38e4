"""Counters in the cache shared by every worker and node (Redis when REDIS_URL is set):
request rates and sign-in failures.

Every increment is atomic (Redis INCR; the in-process cache takes a lock), so the limits
hold however many requests run at once.
"""

import functools
import hashlib
import math
import re
import time
from dataclasses import dataclass

from django.core.cache import DEFAULT_CACHE_ALIAS, cache, caches
from django.core.cache.backends.redis import RedisCache
from django.core.exceptions import ImproperlyConfigured
from redis.commands.core import Script

# As in Django REST framework: the period's first letter counts ("/min", "/minute", "/m").
PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
RATE_RE = re.compile(r"^\s*(\d+)\s*/\s*([smhd])[a-z]*\s*$")


@dataclass(frozen=True)
class Rate:
    limit: int
    seconds: int

    @classmethod
    @functools.cache  # read from settings on every request
    def parse(cls, text: str) -> "Rate":
        """ "600/min" -> Rate(600, 60); also /sec, /hour and /day."""
        match = RATE_RE.match(text.lower())
        if not match:
            raise ImproperlyConfigured(f"{text!r} is not a rate such as 600/min")
        return cls(int(match[1]), PERIODS[match[2]])


def cache_key(kind: str, *parts: str) -> str:
    # Hashed: the parts are user input (usernames, addresses) and cache keys must be short.
    digest = hashlib.sha256("\0".join(parts).encode()).hexdigest()[:32]
    return f"{kind}:{digest}"


def _increment(key: str, timeout: int) -> int:
    """Add one to the counter at `key`, which starts at the first increment and is gone
    `timeout` seconds later (incrementing does not extend it)."""
    backend = caches[DEFAULT_CACHE_ALIAS]
    if isinstance(backend, RedisCache):
        return _redis_hit(backend, key, timeout)[0]
    cache.add(key, 0, timeout=timeout)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add() and incr()
        cache.set(key, 1, timeout=timeout)
        return 1


def hit(kind: str, ident: str, rate: Rate) -> int | None:
    """Count one request of `ident` against `rate`. None while within the limit, else
    the seconds until its window ends (for Retry-After).

    A window starts at an ident's first request and lasts `rate.seconds`; every worker
    and node counts into the same key.
    """
    if isinstance(caches[DEFAULT_CACHE_ALIAS], RedisCache):
        return read_and_hit([], kind, ident, rate)[1]
    key = cache_key(kind, ident)
    count = _increment(key, rate.seconds)
    if count == 1:
        cache.set(f"{key}:start", time.time(), timeout=rate.seconds)
    if count <= rate.limit:
        return None
    started = cache.get(f"{key}:start") or time.time()
    return max(1, math.ceil(started + rate.seconds - time.time()))


def read_and_hit(keys: list[str], kind: str, ident: str, rate: Rate) -> tuple[dict, int | None]:
    """`cache.get_many(keys)` and `hit(kind, ident, rate)`, in one round trip to Redis:
    a SCIM request reads its address's refusals and counts against its site's rate
    together (scim_app.endpoint.guard)."""
    backend = caches[DEFAULT_CACHE_ALIAS]
    if not isinstance(backend, RedisCache):
        return cache.get_many(keys), hit(kind, ident, rate)
    count, remaining, values = _redis_hit(backend, cache_key(kind, ident), rate.seconds, keys)
    return values, None if count <= rate.limit else max(1, remaining)


# `hit` as one Redis command: count (INCR), start the window at its first count (EXPIRE;
# a key left without an expiry by an older version's counting gets one too), the seconds
# it still runs (TTL), and the values of the other keys given (MGET). Redis runs a script
# whole, so no counter is ever left without its expiry.
COUNT = Script(
    None,
    b"""
    local count = redis.call('INCR', KEYS[1])
    local remaining = redis.call('TTL', KEYS[1])
    if remaining < 0 then
        redis.call('EXPIRE', KEYS[1], ARGV[1])
        remaining = tonumber(ARGV[1])
    end
    local values = {}
    if #KEYS > 1 then values = redis.call('MGET', unpack(KEYS, 2)) end
    return {count, remaining, values}
    """,
)


def _redis_hit(
    backend: RedisCache, key: str, seconds: int, read: list[str] = ()
) -> tuple[int, int, dict]:
    """`hit` in one round trip to Redis (every SCIM and API request makes one), with the
    values of the keys to `read`, if any. The count is an integer, as Django's Redis cache
    stores one, so `failures()` reads it too."""
    key = backend.make_and_validate_key(key)
    client = backend._cache.get_client(key, write=True)
    keys = [key, *(backend.make_and_validate_key(wanted) for wanted in read)]
    count, remaining, stored = COUNT(keys, [seconds], client=client)
    values = {
        wanted: backend._cache._serializer.loads(value)
        for wanted, value in zip(read, stored, strict=True)
        if value is not None
    }
    return count, remaining, values


def failures(kind: str, *parts: str) -> int:
    """How many failures are counted for `parts` in their current window."""
    return cache.get(cache_key(kind, *parts), 0)


def add_failure(kind: str, *parts: str, window: int) -> int:
    """Count a failure; the window starts at the first failure and is not extended."""
    return _increment(cache_key(kind, *parts), window)


def clear_failures(kind: str, *parts: str) -> None:
    cache.delete(cache_key(kind, *parts))
