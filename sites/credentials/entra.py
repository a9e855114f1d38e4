"""A site's Microsoft Entra integration as a whole: every credential with which Entra may
reach the site's SCIM endpoint (Secret Tokens, OAuth client secrets and federation
trusts, with the access tokens minted from them)."""

from dataclasses import dataclass

from django.db import transaction

from sites.models import Site

from . import federation, oauth, scim_tokens
from .base import Via


@dataclass(frozen=True)
class Disabled:
    """How many credentials `disable` revoked, of each kind."""

    scim_tokens: int
    client_secrets: int
    federation_trusts: int


@transaction.atomic
def disable(site: Site, *, by=None, via: str = Via.CONSOLE) -> Disabled:
    """Stop Entra provisioning the site at once: revoke every Secret Token, client secret
    and federation trust (their access tokens stop with them), each in the audit trail.

    The OAuth client keeps its id, so that connecting Entra again needs only a new secret.
    """
    return Disabled(
        scim_tokens=scim_tokens.revoke_all(site, by=by, via=via),
        client_secrets=oauth.revoke_all_secrets(site, by=by, via=via),
        federation_trusts=federation.revoke_all_trusts(site, by=by, via=via),
    )
