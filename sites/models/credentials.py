"""Credentials: what lets a caller in, each kind one table.

Every kind shares one life (Credential): last use noted, optionally ending at
`expires_at`, revoked at once, and each issue and revoke recorded as a CredentialEvent
(but for OAuth access tokens, minted every hour). Most are secrets we issue
(HashedSecret): issued with a recognisable prefix and shown once, of which only a
SHA-256 is stored, found by the hash of what a caller sends. A federation trust is the
one kind with no secret at all: it names the Entra tenant and app whose signed
assertions we accept. The rules live in `sites.credentials`; these are the rows.
"""

import re
import secrets
import uuid
from datetime import timedelta
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from sat_portal.loading import LoadedAsIs
from sites.remembered import ForgettingQuerySet

from .tenancy import MSP, Site


class CredentialKind(models.TextChoices):
    SCIM_TOKEN = "scim_token", "Secret Token"
    API_KEY = "api_key", "API key"
    CLIENT_SECRET = "client_secret", "OAuth client secret"
    ACCESS_TOKEN = "access_token", "OAuth access token"
    FEDERATION_TRUST = "federation_trust", "Federation trust"


class CredentialState(models.TextChoices):
    ACTIVE = "active", "Active"
    # Still accepted, until `expires_at`, which is near: a newer Secret Token was issued,
    # or a client secret ends within 30 days.
    EXPIRING = "expiring", "Expiring"
    EXPIRED = "expired", "Expired"
    REVOKED = "revoked", "Revoked"


def state_filter(state: str, expiring_within: timedelta | None = None) -> Q:
    """The rows in `state`, as a query: the one definition lists and counts use.

    `expiring_within` is the kind's EXPIRING_WITHIN (see HashedSecret).
    """
    now = timezone.now()
    not_revoked = Q(revoked_at__isnull=True)
    active = Q(expires_at__isnull=True)
    expiring = Q(expires_at__gt=now)
    if expiring_within is not None:
        active |= Q(expires_at__gt=now + expiring_within)
        expiring &= Q(expires_at__lte=now + expiring_within)
    return {
        CredentialState.ACTIVE: not_revoked & active,
        CredentialState.EXPIRING: not_revoked & expiring,
        CredentialState.EXPIRED: not_revoked & Q(expires_at__lte=now),
        CredentialState.REVOKED: ~not_revoked,
    }[state]


class CredentialQuerySet(ForgettingQuerySet):
    def usable(self) -> "CredentialQuerySet":
        """Accepted now: neither revoked nor past its expiry (active or expiring)."""
        return self.filter(
            state_filter(CredentialState.ACTIVE) | state_filter(CredentialState.EXPIRING)
        )


class Credential(LoadedAsIs):
    """What every credential kind shares: who made it and when, its last use, an optional
    expiry, and revocation."""

    KIND: ClassVar[str]
    # A credential with an expiry is EXPIRING until then; for a kind that always has one
    # (client secrets), only within this much of it.
    EXPIRING_WITHIN: ClassVar[timedelta | None] = None
    # Whether a site's MSP admins are e-mailed before one expires (sites.alerts). False
    # for kinds that are minted and replaced without a person (short-lived access tokens).
    EXPIRY_ALERT: ClassVar[bool] = True

    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = CredentialQuerySet.as_manager()

    class Meta:
        abstract = True
        ordering = ["-created_at"]

    @property
    def state(self) -> CredentialState:
        if self.revoked_at is not None:
            return CredentialState.REVOKED
        now = timezone.now()
        if self.expires_at is None:
            return CredentialState.ACTIVE
        if self.expires_at <= now:
            return CredentialState.EXPIRED
        if self.EXPIRING_WITHIN and self.expires_at > now + self.EXPIRING_WITHIN:
            return CredentialState.ACTIVE
        return CredentialState.EXPIRING

    @property
    def is_usable(self) -> bool:
        return self.state in (CredentialState.ACTIVE, CredentialState.EXPIRING)


class HashedSecret(Credential):
    """A secret we issued: `PREFIX` + 43 URL-safe characters, of which we keep the SHA-256
    and the last characters (`hint`) for people to tell them apart."""

    PREFIX: ClassVar[str]

    # Hex SHA-256 of the whole secret; unique, so checking one is a single indexed lookup.
    secret_hash = models.CharField(max_length=64, unique=True, editable=False)
    hint = models.CharField(max_length=8, help_text="The secret's last characters, for display.")

    class Meta(Credential.Meta):
        abstract = True

    def __str__(self) -> str:
        return f"{self.PREFIX}…{self.hint}"


class ScimToken(HashedSecret):
    """A site's Secret Token: Entra's long-lived bearer credential for the SCIM endpoint."""

    PREFIX = "satscim_"
    KIND = CredentialKind.SCIM_TOKEN

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="scim_tokens")

    class Meta(HashedSecret.Meta):
        verbose_name = "SCIM token"


class ApiKey(HashedSecret):
    """An MSP's key for the REST API (/api/v1/).

    A key reaches the sites of its MSP only, and acts with its creator's role at the time
    of each request: a key whose creator is no longer an admin of that MSP can only read.
    """

    PREFIX = "satapi_"
    KIND = CredentialKind.API_KEY

    msp = models.ForeignKey(MSP, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100, help_text="What the key is for, e.g. 'Onboarding'.")
    # Used in console URLs instead of the sequential pk, and as the rate-limit bucket.
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)

    class Meta(HashedSecret.Meta):
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name} {super().__str__()}"


def new_client_id() -> str:
    """A client identifier: public, but not guessable from another (128 random bits)."""
    return OAuthClient.PREFIX + secrets.token_urlsafe(16)


class OAuthClient(models.Model):
    """A site's OAuth 2.0 client, for Entra's client credentials grant (RFC 6749 §4.4).

    Entra's provisioning blade takes its `client_id` (public: it is no secret, and
    selects the site at the token endpoint) and one of its secrets. A site has at most
    one client that is not revoked; revoking it retires its id and every secret with it.
    """

    PREFIX = "satcli_"
    # What new_client_id makes: anything else is no client id, and is never looked up.
    ID_SHAPE = re.compile(re.escape(PREFIX) + r"[A-Za-z0-9_-]{22}")

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="oauth_clients")
    client_id = models.CharField(max_length=40, unique=True, default=new_client_id, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ForgettingQuerySet.as_manager()

    class Meta:
        verbose_name = "OAuth client"
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["site"],
                condition=Q(revoked_at__isnull=True),
                name="sites_oauthclient_one_live_per_site",
            ),
        ]

    def __str__(self) -> str:
        return self.client_id

    @property
    def hint(self) -> str:
        """How logs name the client: its prefix and last characters."""
        return f"{self.PREFIX}…{self.client_id[-4:]}"


class ClientSecret(HashedSecret):
    """A secret of a site's OAuth client. It always expires, 1 to 3 years after issue
    (Microsoft's gallery rule); several may be usable at once, so that Entra can be moved
    to a new one before the old one is revoked."""

    PREFIX = "satsec_"
    KIND = CredentialKind.CLIENT_SECRET
    EXPIRING_WITHIN = timedelta(days=30)

    client = models.ForeignKey(OAuthClient, on_delete=models.CASCADE, related_name="secrets")
    # The client's site, kept here too: a site's secrets (settings page, Sites list, API,
    # status) are read without a join, and the audit trail names the site.
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="client_secrets")
    expires_at = models.DateTimeField()

    class Meta(HashedSecret.Meta):
        verbose_name = "OAuth client secret"


class FederationTrust(Credential):
    """Workload identity federation (RFC 7523 §2.2): the Entra tenant and app whose
    signed assertions a site's OAuth client accepts in place of a client secret.

    An assertion is accepted when it is signed (RS256) by a key published at `jwks_url`,
    and its `iss`, `sub` and `aud` are exactly `issuer`, `subject` and `audience` (and
    its `tid` is `tenant_id`, when that is set). Nothing here is secret: Entra shows all
    four values, and so does our console. A trust never expires; it is revoked.
    """

    KIND = CredentialKind.FEDERATION_TRUST

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="federation_trusts")
    # The client whose id Entra sends beside the assertion: the site's, when it was added.
    client = models.ForeignKey(
        OAuthClient, on_delete=models.CASCADE, related_name="federation_trusts"
    )
    issuer = models.CharField(max_length=300)
    jwks_url = models.CharField("JWKS URL", max_length=500)
    subject = models.CharField(max_length=200)
    audience = models.CharField(max_length=300)
    tenant_id = models.CharField(
        "tenant ID", max_length=36, blank=True, help_text="Checked against the assertion's tid."
    )

    class Meta(Credential.Meta):
        verbose_name = "federation trust"
        constraints = [
            models.UniqueConstraint(
                fields=["client", "issuer", "subject", "audience"],
                condition=Q(revoked_at__isnull=True),
                name="sites_federationtrust_one_live_per_app",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.issuer} · {self.subject}"

    @property
    def hint(self) -> str:
        """How the audit trail and logs name a trust: its subject's last characters."""
        return f"…{self.subject[-6:]}"


class AccessToken(HashedSecret):
    """A bearer token for the SCIM endpoint, minted at the token endpoint with a client
    secret or, through a federation trust, with a signed assertion: one of `secret` and
    `trust`. Usable until `expires_at` while what it came from, its client and the
    site's training are too: the SCIM lookup joins them all in one query."""

    PREFIX = "satat_"
    KIND = CredentialKind.ACCESS_TOKEN
    EXPIRY_ALERT = False  # minted every hour and replaced without a person

    secret = models.ForeignKey(
        ClientSecret, null=True, on_delete=models.CASCADE, related_name="access_tokens"
    )
    trust = models.ForeignKey(
        FederationTrust, null=True, on_delete=models.CASCADE, related_name="access_tokens"
    )
    # The site, so that the SCIM lookup reaches it in the same query, and the expired
    # tokens of a site are pruned by its index.
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="access_tokens")
    expires_at = models.DateTimeField()

    class Meta(HashedSecret.Meta):
        verbose_name = "OAuth access token"
        constraints = [
            models.CheckConstraint(
                condition=Q(secret__isnull=False, trust__isnull=True)
                | Q(secret__isnull=True, trust__isnull=False),
                name="sites_accesstoken_secret_or_trust",
            ),
        ]

    @property
    def grant(self) -> "ClientSecret | FederationTrust":
        """What the token was minted with."""
        return self.secret or self.trust


class CredentialEvent(models.Model):
    """Audit trail: who issued or revoked which credential, for which MSP and site, when
    and through what (the console, the API, the admin or a command)."""

    class Action(models.TextChoices):
        ISSUED = "issued", "Issued"
        REVOKED = "revoked", "Revoked"

    class Via(models.TextChoices):
        CONSOLE = "console", "console"
        API = "api", "REST API"
        ADMIN = "admin", "admin"
        COMMAND = "command", "command"

    kind = models.CharField(max_length=20, choices=CredentialKind.choices)
    # The credential's pk in its kind's table (credentials of every kind share this trail).
    credential_id = models.PositiveBigIntegerField()
    msp = models.ForeignKey(MSP, on_delete=models.CASCADE, related_name="credential_events")
    # Empty for credentials of a whole MSP (API keys).
    site = models.ForeignKey(
        Site, null=True, blank=True, on_delete=models.CASCADE, related_name="credential_events"
    )
    action = models.CharField(max_length=10, choices=Action.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    via = models.CharField(max_length=20, choices=Via.choices)
    hint = models.CharField(max_length=8)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            # A credential's own history (the admin's token page).
            models.Index(fields=["kind", "credential_id"], name="sites_credevent_credential"),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.get_kind_display()} …{self.hint}"
