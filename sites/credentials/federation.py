"""Workload identity federation (RFC 7523 §2.2): Entra reaches a site with no shared
secret at all. Its provisioning service presents, at the token endpoint, a JWT that the
customer's Entra tenant signed (the *client assertion*); we check it against a trust the
site's MSP set up and answer with one of our access tokens, as for a client secret.

A trust (FederationTrust) holds the four values Entra shows for the app: issuer, JWKS
URL, subject and audience, and optionally the tenant id. Adding one:

- both URLs name a host in FEDERATION_JWKS_HOSTS (Microsoft's login host unless the
  setting adds others), over https; plain http only for a loopback host named there;
- the issuer is that host's `/<tenant>/v2.0` (or `/<tenant>`), the tenant being an id
  (a GUID), never `common` or `organizations`, which any tenant's tokens would match;
  the JWKS URL is that tenant's key document (`/<tenant>/discovery[/v2.0]/keys`, no other
  port), so that a site cannot be pointed at keys other than its tenant's; a tenant id, when given, is it;
- a site may trust several apps; revoking a trust stops its access tokens at once.

An assertion is accepted (`authenticate`) when, in this order: its client is the
site's live client; its header says RS256 (never `none`, never HMAC: `alg` confusion)
and names a `kid`; one of the client's live trusts has its `iss`, `sub` and `aud`; the
trust's key set (`jwks`) has that `kid`; the signature verifies; `iss` and `aud` are
exactly the trust's (an `aud` list is refused); `exp`, `iat` (and `nbf`, when present)
hold within FEDERATION_CLOCK_LEEWAY and are numbers; it was issued at most
FEDERATION_ASSERTION_MAX_AGE ago; the token it gets would last MIN_TOKEN_SECONDS at
least; its `tid` is the trust's tenant id, when one is set; and the site's training is
on.
Each refusal has a reason code, which the provisioning log keeps (never the assertion).

The access token it gets lasts OAUTH_ACCESS_TOKEN_LIFETIME, but never more than
FEDERATION_TOKEN_OUTLIVES_ASSERTION past the assertion's own `exp` (0 by default: it
ends with the assertion at the latest).
"""

import ipaddress
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

import jwt
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from sites.models import CredentialEvent, FederationTrust, OAuthClient, Site

from . import base, jwks, scim_tokens
from .base import Via

ALGORITHM = "RS256"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
TENANT = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
ISSUER_PATH = re.compile(rf"/(?P<tenant>{TENANT.pattern})(?:/v2\.0)?/?")
# Where Microsoft publishes a tenant's signing keys (v2.0 and v1 endpoints).
JWKS_PATH = re.compile(rf"/(?P<tenant>{TENANT.pattern})/discovery(?:/v2\.0)?/keys")
# An access token shorter than this is of no use to Entra: refuse the assertion instead.
MIN_TOKEN_SECONDS = 60
# Longest assertion read: Entra's are about 1.5 KB.
MAX_ASSERTION = 8 * 1024


class Reason:
    """Why an assertion was refused: the code the provisioning log keeps."""

    UNKNOWN_CLIENT = "unknown_client"
    MALFORMED = "malformed_assertion"
    ALGORITHM = "algorithm_not_allowed"
    NO_KID = "missing_kid"
    NO_TRUST = "no_matching_trust"
    KEYS_UNAVAILABLE = "jwks_unavailable"
    UNKNOWN_KID = "unknown_kid"
    SIGNATURE = "bad_signature"
    ISSUER = "issuer_mismatch"
    AUDIENCE = "audience_mismatch"
    SUBJECT = "subject_mismatch"
    TENANT = "tenant_mismatch"
    EXPIRED = "assertion_expired"
    NOT_YET_VALID = "assertion_not_yet_valid"
    TOO_OLD = "assertion_too_old"
    MISSING_CLAIM = "missing_claim"
    SAT_DISABLED = "sat_disabled"


@dataclass(frozen=True)
class Refusal(Exception):
    reason: str
    description: str
    # The keys could not be fetched: the caller should retry (503), not fix anything.
    retry: bool = False


# --- Trusts -------------------------------------------------------------------------


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def checked_url(value: str, field: str) -> tuple[str, str]:
    """A trust's issuer or JWKS URL, checked against FEDERATION_JWKS_HOSTS: its host and
    path. ValidationError on `field` if it is not allowed."""
    try:
        parts = urlsplit(value)
        host = (parts.hostname or "").lower()
        parts.port  # noqa: B018 (raises ValueError for a port that is no number)
    except ValueError:
        raise ValidationError(
            {field: ["Enter a URL such as https://login.microsoftonline.com/…"]}
        ) from None
    allowed = settings.FEDERATION_JWKS_HOSTS
    if not host or host not in allowed or (parts.port is not None and not is_loopback(host)):
        where = (
            f"{allowed[0]}, Microsoft's login host"
            if len(allowed) == 1
            else f"one of the allowed key hosts: {', '.join(allowed)}"
        )
        raise ValidationError({field: [f"The URL must be on {where}."]}, code="host")
    if parts.scheme != "https" and not (parts.scheme == "http" and is_loopback(host)):
        raise ValidationError({field: ["The URL must start with https://."]}, code="scheme")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise ValidationError(
            {field: ["The URL must not carry a user name, a query or a fragment."]}, code="shape"
        )
    return host, parts.path


@dataclass(frozen=True)
class TrustValues:
    issuer: str
    jwks_url: str
    subject: str
    audience: str
    tenant_id: str


def validate(
    *, issuer: str, jwks_url: str, subject: str, audience: str, tenant_id: str = ""
) -> TrustValues:
    """The values of a new trust, trimmed, or ValidationError naming each bad field."""
    issuer, jwks_url = issuer.strip(), jwks_url.strip()
    subject, audience, tenant_id = subject.strip(), audience.strip(), tenant_id.strip().lower()
    errors: dict[str, list[str]] = {}
    for field, value, limit in (
        ("issuer", issuer, 300),
        ("jwks_url", jwks_url, 500),
        ("subject", subject, 200),
        ("audience", audience, 300),
    ):
        if not value:
            errors[field] = ["This field is required."]
        elif len(value) > limit or any(ch.isspace() or not ch.isprintable() for ch in value):
            errors[field] = [
                f"Paste the value exactly as Entra shows it (at most {limit} characters, no spaces)."
            ]
    tenant = ""
    if "issuer" not in errors:
        try:
            _, path = checked_url(issuer, "issuer")
            match = ISSUER_PATH.fullmatch(path)
            if match is None:
                raise ValidationError(
                    {
                        "issuer": [
                            "The issuer must be https://login.microsoftonline.com/<tenant ID>/v2.0."
                        ]
                    }
                )
            tenant = match["tenant"].lower()
        except ValidationError as error:
            errors.update(error.message_dict)
    if "jwks_url" not in errors:
        try:
            _, path = checked_url(jwks_url, "jwks_url")
            match = JWKS_PATH.fullmatch(path)
            if match is None or (tenant and match["tenant"].lower() != tenant):
                raise ValidationError(
                    {
                        "jwks_url": [
                            "The JWKS URL must be the issuer's tenant's: …/<tenant ID>/discovery/v2.0/keys."
                        ]
                    }
                )
        except ValidationError as error:
            errors.update(error.message_dict)
    if tenant_id and not TENANT.fullmatch(tenant_id):
        errors["tenant_id"] = ["A tenant ID looks like 3f2a9c1e-7b4d-4e8a-9c6f-2d1b5a7e8c90."]
    elif tenant_id and tenant and tenant_id != tenant:
        errors["tenant_id"] = ["The tenant ID is not the issuer's."]
    if errors:
        raise ValidationError(errors)
    return TrustValues(issuer, jwks_url, subject, audience, tenant_id)


def trusts_of(site: Site):
    """Every trust the site ever had, newest first, with its client."""
    return site.federation_trusts.select_related("client", "created_by")


@transaction.atomic
def add_trust(
    site: Site, values: TrustValues, *, by=None, via: str = Via.CONSOLE
) -> FederationTrust:
    """A new trust of the site's client (created first if the site has none), audited.

    Refused (ValidationError) while the site's training is disabled, as a new secret
    is, and when the client already trusts the same app."""
    if not site.sat_enabled:
        raise ValidationError({"sat_enabled": [scim_tokens.SAT_DISABLED]}, code="sat_disabled")
    Site.objects.select_for_update().filter(pk=site.pk).exists()
    client = site.oauth_clients.filter(revoked_at__isnull=True).first()
    if client is None:
        client = OAuthClient.objects.create(site=site, created_by=by)
    try:
        with transaction.atomic():
            trust = FederationTrust.objects.create(
                site=site,
                client=client,
                created_by=by,
                issuer=values.issuer,
                jwks_url=values.jwks_url,
                subject=values.subject,
                audience=values.audience,
                tenant_id=values.tenant_id,
            )
    except IntegrityError:
        raise ValidationError(
            {"subject": ["This site already trusts this app (same issuer, subject and audience)."]},
            code="duplicate",
        ) from None
    base.record_event(trust, CredentialEvent.Action.ISSUED, by=by, via=via)
    return trust


def revoke_trust(trust: FederationTrust, *, by=None, via: str = Via.CONSOLE) -> bool:
    """Stop `trust`, and every access token minted through it, at once. Return False if
    it was already revoked."""
    return base.revoke(trust, by=by, via=via)


def revoke_all_trusts(site: Site, *, by=None, via: str = Via.CONSOLE) -> int:
    """Revoke every trust of the site not yet revoked (part of `entra.disable`)."""
    return base.revoke_all(site.federation_trusts, by=by, via=via)


def refusal(trust: FederationTrust, site: Site) -> str | None:
    """Why `trust` (with its client loaded) may not be used for `site` now, or None."""
    if trust.revoked_at is not None or trust.client.revoked_at is not None:
        return "This federation trust was revoked. Add it again on the site's Entra page."
    if not site.sat_enabled:
        return base.SAT_DISABLED
    return None


# --- Assertions ---------------------------------------------------------------------


@dataclass(frozen=True)
class Verified:
    trust: FederationTrust
    expires_at: datetime  # the assertion's exp


def unverified_parts(assertion: str) -> tuple[dict, dict]:
    if len(assertion) > MAX_ASSERTION:
        raise Refusal(Reason.MALFORMED, "The client assertion is too long.")
    try:
        header = jwt.get_unverified_header(assertion)
        claims = jwt.decode(assertion, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise Refusal(Reason.MALFORMED, "The client assertion is not a signed JWT.") from None
    if header.get("alg") != ALGORITHM:
        raise Refusal(Reason.ALGORITHM, f"The client assertion must be signed with {ALGORITHM}.")
    if not isinstance(header.get("kid"), str) or not header["kid"]:
        raise Refusal(Reason.NO_KID, "The client assertion's header has no kid.")
    return header, claims


# Said to the caller whichever of issuer, subject or audience matched no trust, so that
# nobody can learn a site's tenant or app by trying; the log's reason code says which.
NO_MATCH = (
    "No federation trust of this client matches the assertion's issuer, subject and audience."
)


def matching_trust(client: OAuthClient, claims: dict) -> FederationTrust:
    """The client's live trust whose issuer, subject and audience the (not yet verified)
    claims name; the signature, checked next with that trust's keys, vouches for them."""
    issuer, subject, audience = claims.get("iss"), claims.get("sub"), claims.get("aud")
    trusts = [t for t in client.federation_trusts.all() if t.revoked_at is None]
    for trust in trusts:
        if (trust.issuer, trust.subject, trust.audience) == (issuer, subject, audience):
            return trust
    same_app = [t for t in trusts if (t.issuer, t.subject) == (issuer, subject)]
    if same_app:
        # Verified against the first, so that the log says what is wrong with the audience.
        return same_app[0]
    if any(trust.issuer == issuer for trust in trusts):
        raise Refusal(Reason.SUBJECT, NO_MATCH)
    raise Refusal(Reason.NO_TRUST, NO_MATCH)


def is_time(value) -> bool:
    """A NumericDate (seconds since 1970; Entra's are whole), before the year 3000."""
    return type(value) in (int, float) and 0 <= value < 32503680000


def verify(trust: FederationTrust, assertion: str, kid: str) -> dict:
    """The assertion's claims, checked against `trust` (see the module's order)."""
    try:
        key = jwks.signing_key(trust.jwks_url, kid)
    except jwks.KeysUnavailable:
        raise Refusal(
            Reason.KEYS_UNAVAILABLE,
            "The tenant's signing keys cannot be fetched just now; retry shortly.",
            retry=True,
        ) from None
    if key is None:
        raise Refusal(
            Reason.UNKNOWN_KID, "The client assertion's kid is not among the tenant's signing keys."
        )
    try:
        claims = jwt.decode(
            assertion,
            key.key,
            algorithms=[ALGORITHM],
            issuer=trust.issuer,
            audience=trust.audience,
            leeway=settings.FEDERATION_CLOCK_LEEWAY,
            options={"require": ["iss", "sub", "aud", "exp", "iat"], "strict_aud": True},
        )
    except jwt.InvalidSignatureError:
        raise Refusal(
            Reason.SIGNATURE, "The client assertion's signature does not verify."
        ) from None
    except jwt.ExpiredSignatureError:
        raise Refusal(Reason.EXPIRED, "The client assertion has expired.") from None
    except jwt.ImmatureSignatureError:
        raise Refusal(
            Reason.NOT_YET_VALID,
            "The client assertion is not valid yet (nbf or iat in the future).",
        ) from None
    except jwt.InvalidIssuerError:
        raise Refusal(Reason.ISSUER, "The client assertion's issuer is not the trust's.") from None
    except jwt.InvalidAudienceError:
        raise Refusal(
            Reason.AUDIENCE, "The client assertion's audience is not the trust's."
        ) from None
    except jwt.MissingRequiredClaimError as error:
        raise Refusal(
            Reason.MISSING_CLAIM, f"The client assertion has no {error.claim} claim."
        ) from None
    except jwt.PyJWTError:
        raise Refusal(Reason.MALFORMED, "The client assertion is not a valid JWT.") from None
    if not all(is_time(claims[claim]) for claim in ("exp", "iat")):
        raise Refusal(Reason.MALFORMED, "The client assertion's exp and iat must be NumericDates.")
    if (
        time.time() - claims["iat"]
        > settings.FEDERATION_ASSERTION_MAX_AGE + settings.FEDERATION_CLOCK_LEEWAY
    ):
        raise Refusal(
            Reason.TOO_OLD, "The client assertion was issued too long ago; fetch a new one."
        )
    if trust.tenant_id and str(claims.get("tid", "")).lower() != trust.tenant_id:
        raise Refusal(Reason.TENANT, "The client assertion's tenant (tid) is not the trust's.")
    return claims


def authenticate(client_id: str, assertion: str) -> tuple[Site | None, str, Verified | Refusal]:
    """Check a client assertion sent with `client_id`: the client's site and how logs name
    what was presented (both known also when refused), and either the verified trust or
    why not."""
    client = (
        OAuthClient.objects.select_related("site")
        .prefetch_related("federation_trusts")
        .filter(client_id=client_id, revoked_at__isnull=True)
        .first()
        if OAuthClient.ID_SHAPE.fullmatch(client_id)
        else None
    )
    if client is None:
        return None, f"{OAuthClient.PREFIX}…", Refusal(Reason.UNKNOWN_CLIENT, "Unknown client.")
    site, hint = client.site, f"{client.hint} / trust"
    try:
        header, claims = unverified_parts(assertion)
        trust = matching_trust(client, claims)
        hint = f"{client.hint} / {trust.hint}"
        verified = verify(trust, assertion, header["kid"])
        usable_until = verified["exp"] + settings.FEDERATION_TOKEN_OUTLIVES_ASSERTION
        if usable_until - time.time() < MIN_TOKEN_SECONDS:
            raise Refusal(
                Reason.EXPIRED, "The client assertion expires within a minute; send a fresh one."
            )
        if not site.sat_enabled:
            raise Refusal(Reason.SAT_DISABLED, base.SAT_DISABLED)
    except Refusal as refused:
        return site, hint, refused
    trust.site = site
    expires_at = datetime.fromtimestamp(verified["exp"], tz=UTC)
    return site, hint, Verified(trust, expires_at)
