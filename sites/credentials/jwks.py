"""The signing keys of the Entra tenants our sites federate with (workload identity
federation, `federation`): a JSON Web Key Set fetched from each trust's JWKS URL and
kept in memory, by URL and `kid`.

- A key set is fresh for FEDERATION_JWKS_MAX_AGE seconds; after that the next assertion
  that needs it fetches it again.
- An assertion signed with a `kid` the set lacks (Microsoft rotated its keys) fetches the
  set at once, but at most once per FEDERATION_JWKS_REFETCH_INTERVAL seconds per URL:
  a stream of made-up `kid`s cannot turn us into a client hammering Microsoft.
- When a fetch fails (Microsoft unreachable, an error, a body that is no key set), the
  keys we hold stay usable until FEDERATION_JWKS_STALE_SECONDS after they were fetched,
  and the URL is not tried again before the refetch interval: a token request never
  waits on a host we know to be down.
- A fetch takes at most FEDERATION_JWKS_TIMEOUT seconds in all (a host that trickles
  bytes is cut off), reads at most MAX_BODY bytes and follows no redirect (a redirect
  could leave the allowed hosts). A set without a single RSA signing key is a failed
  fetch: it never replaces keys we hold.
- One fetch at a time per URL. While it runs, requests that hold usable keys for that
  URL go on with them instead of waiting; only a request with no usable keys at all
  waits, and for the timeout at most. A fetch never holds up another tenant's keys nor a
  SCIM request (those check our own access tokens, not JWTs).

The cache is per process: a key set is public, and a fresh process fetches it once.
"""

import http.client
import json
import logging
import threading
import time
import urllib.request
from dataclasses import dataclass, field

import jwt
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from django.conf import settings

logger = logging.getLogger(__name__)

MAX_BODY = 256 * 1024
# Only RSA keys that sign: an assertion must be RS256 (`federation`).
KEY_TYPE = "RSA"


class KeysUnavailable(Exception):
    """No usable key set for the URL: never fetched, or the last good one is too old."""


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


OPENER = urllib.request.build_opener(NoRedirect)


@dataclass
class KeySet:
    keys: dict[str, jwt.PyJWK] = field(default_factory=dict)
    fetched_at: float | None = None  # monotonic; None: never fetched successfully
    failed_at: float | None = None  # the last attempt that failed
    refetched_at: float | None = None  # the last fetch an unknown kid asked for
    lock: threading.Lock = field(default_factory=threading.Lock)


_sets: dict[str, KeySet] = {}
_sets_lock = threading.Lock()


def key_set(url: str) -> KeySet:
    with _sets_lock:
        return _sets.setdefault(url, KeySet())


def clear() -> None:
    """Forget every key set (tests; a deployment never needs it)."""
    with _sets_lock:
        _sets.clear()


def parse(body: bytes) -> dict[str, jwt.PyJWK]:
    """The RSA signing keys of a JWKS document, by kid; ValueError if it is not one."""
    document = json.loads(body)
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise ValueError("not a JSON Web Key Set")
    keys = {}
    for entry in document["keys"]:
        if not isinstance(entry, dict) or entry.get("kty") != KEY_TYPE:
            continue
        if entry.get("use", "sig") != "sig" or entry.get("alg", "RS256") != "RS256":
            continue
        kid = entry.get("kid")
        if not isinstance(kid, str) or not kid:
            continue
        try:
            key = jwt.PyJWK.from_dict(entry, algorithm="RS256")
        except (jwt.PyJWKError, jwt.InvalidKeyError, ValueError, TypeError):
            continue
        if isinstance(key.key, RSAPublicKey):  # a published private key is no signing key
            keys[kid] = key
    if not keys:
        raise ValueError("no RSA signing key in the key set")
    return keys


def download(url: str) -> dict[str, jwt.PyJWK]:
    request = urllib.request.Request(  # noqa: S310 (the URL was validated: https or loopback http)
        url, headers={"Accept": "application/json", "User-Agent": "SAT Portal"}
    )
    deadline = time.monotonic() + settings.FEDERATION_JWKS_TIMEOUT
    with OPENER.open(request, timeout=settings.FEDERATION_JWKS_TIMEOUT) as answer:
        if answer.status != 200:
            raise ValueError(f"HTTP {answer.status}")
        body = b""
        while chunk := answer.read1(16 * 1024):
            body += chunk
            if len(body) > MAX_BODY:
                raise ValueError("the key set is too large")
            if time.monotonic() > deadline:
                raise TimeoutError("the key set took too long to arrive")
    return parse(body)


def recently(moment: float | None, now: float) -> bool:
    return moment is not None and now - moment < settings.FEDERATION_JWKS_REFETCH_INTERVAL


def refresh(url: str, entry: KeySet, *, now: float) -> None:
    """Fetch the key set into `entry` (its lock held); on failure keep what it holds."""
    try:
        keys = download(url)
    except (OSError, ValueError, http.client.HTTPException, RecursionError) as exc:
        # The URL only: it is public, and names the tenant, which support needs.
        logger.warning("Could not fetch the signing keys at %s: %s", url, exc)
        entry.failed_at = now
        return
    entry.keys, entry.fetched_at, entry.failed_at = keys, time.monotonic(), None


def usable(entry: KeySet) -> bool:
    """Whether the set holds keys fetched recently enough to be used (see STALE)."""
    return entry.fetched_at is not None and (
        time.monotonic() - entry.fetched_at < settings.FEDERATION_JWKS_STALE_SECONDS
    )


def signing_key(url: str, kid: str) -> jwt.PyJWK | None:
    """The key `kid` of the set at `url`, fetching the set when it is stale or lacks
    `kid` (see the module's rules); None if the set has no such key. KeysUnavailable if
    there is no set we may use."""
    entry = key_set(url)
    if usable(entry):
        if not entry.lock.acquire(blocking=False):
            # Another request is fetching this set: go on with the keys held; a kid they
            # lack is asked for again once that fetch is done.
            if kid in entry.keys:
                return entry.keys[kid]
            raise KeysUnavailable(url)
    elif not entry.lock.acquire(timeout=settings.FEDERATION_JWKS_TIMEOUT + 1):
        raise KeysUnavailable(url)  # no keys to use, and another fetch is taking its time
    try:
        now = time.monotonic()
        stale = (
            entry.fetched_at is None or now - entry.fetched_at >= settings.FEDERATION_JWKS_MAX_AGE
        )
        unknown = kid not in entry.keys
        # A host that just failed is not asked again before the interval; nor is one just
        # asked for an unknown kid, however many made-up kids arrive.
        if not recently(entry.failed_at, now) and (
            stale or (unknown and not recently(entry.refetched_at, now))
        ):
            if unknown and not stale:
                entry.refetched_at = now
            refresh(url, entry, now=now)
        if not usable(entry):
            raise KeysUnavailable(url)
        return entry.keys.get(kid)
    finally:
        entry.lock.release()
