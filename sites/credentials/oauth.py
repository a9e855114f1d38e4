"""OAuth 2.0 client credentials (RFC 6749 §4.4): the way Microsoft's app gallery requires
Entra to reach a site's SCIM endpoint since 2026, beside the Secret Token.

Entra is given the Tenant URL, the token endpoint, the site's client id and one of its
client secrets. With the last two it fetches an access token about once an hour
(scim_app.endpoint.oauth), and sends that to the SCIM endpoint as its bearer
(scim_bearer).

- A site has one client that is not revoked. Its id is public and selects the site at the
  token endpoint. Revoking the client revokes its secrets; the next secret issued for the
  site then comes with a new client id.
- Client secrets (`satsec_…`) expire 1 to 3 years after issue, as Microsoft requires, and
  several may be usable at once, so that Entra moves to a new one before the old one is
  revoked. They are issued and revoked through `base`, like Secret Tokens, and so are in
  the audit trail; none is issued while the site's training is off.
- Access tokens (`satat_…`) last OAUTH_ACCESS_TOKEN_LIFETIME seconds, never past their
  secret's expiry. They are not audited one by one (Entra fetches one an hour per site);
  expired ones are deleted as new ones are minted. One works only while its secret and
  client are not revoked and the site's training is on: any of those stops it at once.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from sites.models import AccessToken, ClientSecret, FederationTrust, OAuthClient, Site

from . import base, federation, scim_tokens
from .base import Via

CLIENT_SECRETS = base.by_hash(lambda: ClientSecret.objects.select_related("client", "site"))
ACCESS_TOKENS = base.by_hash(
    lambda: AccessToken.objects.select_related("site", "secret__client", "trust__client")
)

MIN_SECRET_DAYS = 365
MAX_SECRET_DAYS = 3 * 365
LIFETIME = f"A client secret lasts {MIN_SECRET_DAYS} to {MAX_SECRET_DAYS} days (1 to 3 years)."
# What a token grants: this site's SCIM endpoint, nothing else.
SCOPE = "scim"

UNKNOWN_CLIENT = "Unknown client, or a wrong client secret."
REVOKED = (
    "This client secret was revoked. Add a new secret in the site's SAT settings and "
    "paste it into Entra."
)
EXPIRED = (
    "This client secret expired on {:%Y-%m-%d}. Add a new secret in the site's SAT "
    "settings and paste it into Entra."
)
ACCESS_EXPIRED = "The access token has expired: fetch a new one from the token endpoint."
ACCESS_UNKNOWN = "The access token is not valid: fetch a new one from the token endpoint."


def live_client(site: Site) -> OAuthClient | None:
    """The site's client that is not revoked, if it has one."""
    return site.oauth_clients.filter(revoked_at__isnull=True).first()


def secrets_of(site: Site) -> QuerySet[ClientSecret]:
    """Every secret the site ever had, newest first, with its client and creator."""
    return site.client_secrets.select_related("client", "created_by")


@transaction.atomic
def issue_secret(
    site: Site, *, lifetime_days: int | None = None, by=None, via: str = Via.CONSOLE
) -> tuple[ClientSecret, str]:
    """A new secret for the site's client (created first if the site has none), with its
    plaintext, which is never stored. It expires `lifetime_days` from now
    (OAUTH_SECRET_LIFETIME_DAYS unless given). Secrets already issued keep working.

    Refused (ValidationError) while the site's training is disabled, as a Secret Token
    is, and for a lifetime outside 1 to 3 years.
    """
    if not site.sat_enabled:
        raise ValidationError({"sat_enabled": [scim_tokens.SAT_DISABLED]}, code="sat_disabled")
    days = settings.OAUTH_SECRET_LIFETIME_DAYS if lifetime_days is None else lifetime_days
    if not MIN_SECRET_DAYS <= days <= MAX_SECRET_DAYS:
        raise ValidationError({"lifetime_days": [LIFETIME]}, code="lifetime")
    # One secret issued at a time per site, so two at once cannot both create a client.
    Site.objects.select_for_update().filter(pk=site.pk).exists()
    client = live_client(site) or OAuthClient.objects.create(site=site, created_by=by)
    expires_at = timezone.now() + timedelta(days=days)
    return base.issue(ClientSecret, by=by, via=via, client=client, site=site, expires_at=expires_at)


def revoke_secret(secret: ClientSecret, *, by=None, via: str = Via.CONSOLE) -> bool:
    """Stop `secret`, and every access token minted with it, at once. Return False if it
    was already revoked."""
    return base.revoke(secret, by=by, via=via)


def revoke_all_secrets(site: Site, *, by=None, via: str = Via.CONSOLE) -> int:
    """Revoke every secret of the site not yet revoked (part of `entra.disable`)."""
    return base.revoke_all(site.client_secrets, by=by, via=via)


@transaction.atomic
def revoke_client(client: OAuthClient, *, by=None, via: str = Via.CONSOLE) -> bool:
    """Retire `client`: its secrets and federation trusts are revoked (each in the audit
    trail) and its access tokens stop at once. Return False if it was already revoked."""
    now = timezone.now()
    if not OAuthClient.objects.filter(pk=client.pk, revoked_at__isnull=True).update(revoked_at=now):
        return False
    client.revoked_at = now
    base.revoke_all(client.site.client_secrets.filter(client=client), by=by, via=via)
    base.revoke_all(client.site.federation_trusts.filter(client=client), by=by, via=via)
    return True


def hint(secret: ClientSecret) -> str:
    """How the provisioning log names a secret: "satcli_…x1y2 / …ab12" (its client's id
    and its own last characters)."""
    return f"{secret.client.hint} / …{secret.hint}"


def refusal(secret: ClientSecret, site: Site) -> str | None:
    """Why `secret` (with its client loaded) may not be used for `site` now, or None."""
    if secret.revoked_at is not None or secret.client.revoked_at is not None:
        return REVOKED
    if secret.expires_at <= timezone.now():
        return EXPIRED.format(secret.expires_at)
    if not site.sat_enabled:
        return base.SAT_DISABLED
    return None


@dataclass(frozen=True)
class ClientAuthentication:
    """The answer to a client's credential at the token endpoint. `site` and `hint` are
    set whenever the client is known, also when it is refused (for the provisioning
    log). When accepted, `secret` or `trust` is what the access token is minted with
    (a trust's with `not_after`, its assertion's expiry); when refused, `refusal` says
    why (to a caller who sent a real credential only) and `reason` is the log's code.
    `retry`: refused for now only (a tenant's keys could not be fetched)."""

    site: Site | None
    hint: str
    refusal: str | None = None
    secret: ClientSecret | None = None
    trust: FederationTrust | None = None
    not_after: datetime | None = None
    reason: str = ""
    retry: bool = False


def authenticate(client_id: str, plaintext: str) -> ClientAuthentication:
    """Check a client id and secret, as sent to the token endpoint: one indexed lookup
    by the secret's hash (base.find), whose client must be `client_id`'s."""
    secret = base.find(CLIENT_SECRETS, plaintext)
    if secret is None or secret.client.client_id != client_id:
        client = known_client(client_id)
        if client is None:
            return ClientAuthentication(None, f"{OAuthClient.PREFIX}…", UNKNOWN_CLIENT)
        return ClientAuthentication(client.site, client.hint, UNKNOWN_CLIENT)
    reason = refusal(secret, secret.site)
    return ClientAuthentication(
        secret.site, hint(secret), reason, secret=secret if reason is None else None
    )


def known_client(client_id: str) -> OAuthClient | None:
    if not OAuthClient.ID_SHAPE.fullmatch(client_id):
        return None
    return OAuthClient.objects.select_related("site").filter(client_id=client_id).first()


@dataclass(frozen=True)
class IssuedAccessToken:
    token: AccessToken
    plaintext: str
    expires_in: int  # seconds


def mint_access_token(accepted: ClientAuthentication) -> IssuedAccessToken:
    """A new access token for an accepted client (see `authenticate`, and
    `federation`). It lasts OAUTH_ACCESS_TOKEN_LIFETIME, never past its secret's expiry,
    nor, through a trust, more than FEDERATION_TOKEN_OUTLIVES_ASSERTION past the
    assertion's."""
    grant = accepted.secret or accepted.trust
    now = timezone.now()
    # Expired tokens are of no use to anyone: the site's few are deleted as new ones come.
    AccessToken.objects.filter(site=grant.site, expires_at__lte=now).delete()
    expires_at = now + timedelta(seconds=settings.OAUTH_ACCESS_TOKEN_LIFETIME)
    if accepted.secret is not None:
        expires_at = min(expires_at, accepted.secret.expires_at)
    else:
        outlives = timedelta(seconds=settings.FEDERATION_TOKEN_OUTLIVES_ASSERTION)
        expires_at = min(expires_at, accepted.not_after + outlives)
    token, plaintext = base.create(
        AccessToken,
        secret=accepted.secret,
        trust=accepted.trust,
        site=grant.site,
        expires_at=expires_at,
    )
    base.record_use(grant)
    # Rounded, not truncated: a token of a whole hour says 3600, never 3599.
    return IssuedAccessToken(token, plaintext, round((expires_at - now).total_seconds()))


def find_access_token(plaintext: str, *, generation: str | None = None) -> AccessToken | None:
    """The access token whose plaintext this is, whatever its state, with its site,
    secret and client: one indexed lookup by hash, joined (or remembered, see base.find)."""
    return base.find(ACCESS_TOKENS, plaintext, generation=generation)


def access_token_refusal(token: AccessToken) -> str | None:
    """Why `token` (from `find_access_token`) may not be used now, or None."""
    if not token.is_usable:
        return ACCESS_EXPIRED
    if token.trust is not None:
        return federation.refusal(token.trust, token.site)
    return refusal(token.secret, token.site)


def token_hint(token: AccessToken) -> str:
    """How the provisioning log names an access token: by what it was minted with."""
    if token.trust is not None:
        return f"{token.trust.client.hint} / {token.trust.hint}"
    return hint(token.secret)
