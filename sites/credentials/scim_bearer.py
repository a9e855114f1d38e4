"""Which site a bearer credential sent to the SCIM endpoint belongs to.

The SCIM auth hook (scim_app.endpoint.auth) asks only `check()`; each credential kind
that SCIM accepts (a Secret Token, an OAuth access token) is one verifier in
`VERIFIERS`, tried by its prefix, as is each kind it refuses without a look-up.
"""

from collections.abc import Callable
from dataclasses import dataclass

from sites import remembered
from sites.models import AccessToken, ApiKey, ClientSecret, CredentialKind, ScimToken, Site

from . import KINDS, base, oauth


@dataclass(frozen=True)
class BearerCheck:
    """What the SCIM endpoint or the token endpoint (and the provisioning log) knows of
    a credential sent to it.

    `site` is set whenever the credential is ours and belongs to a site, also when it is
    refused (revoked, expired, training disabled): support can then see a site's
    requests failing. `hint` is "…abcd" for a known credential ("satcli_…x1y2 / …abcd"
    for an OAuth client's); for an unknown one only its visible prefix, never a
    secret's characters.
    """

    site: Site | None
    kind: str
    hint: str
    refusal: str | None = None

    @property
    def accepted(self) -> bool:
        return self.refusal is None


MISSING = (
    "Send the site's Secret Token, or an access token from the token endpoint, as "
    "'Authorization: Bearer …'."
)
UNKNOWN = (
    "The Secret Token is not valid: it is unknown, revoked or expired. "
    "Copy a current token from the site's SAT settings."
)
SAT_DISABLED = base.SAT_DISABLED
API_KEY = "An MSP API key is for /api/v1/; the SCIM endpoint takes the site's Secret Token."
NOT_A_BEARER = (
    "A client secret is not a bearer token: send it to the token endpoint, and the access "
    "token it answers with here."
)


SECRET_TOKENS = base.by_hash(lambda: ScimToken.objects.select_related("site"))


def secret_token_refusal(token: ScimToken) -> str | None:
    """Why `token` (with its site loaded) may not be used now, or None."""
    if not token.is_usable:
        return UNKNOWN
    if not token.site.sat_enabled:
        return SAT_DISABLED
    return None


def check_secret_token(plaintext: str, generation: str | None) -> BearerCheck:
    token = base.find(SECRET_TOKENS, plaintext, generation=generation)
    if token is None:
        return BearerCheck(None, CredentialKind.SCIM_TOKEN, f"{ScimToken.PREFIX}…", UNKNOWN)
    refusal = secret_token_refusal(token)
    if refusal is None:
        base.record_use(token)
    return BearerCheck(token.site, CredentialKind.SCIM_TOKEN, f"…{token.hint}", refusal)


def check_access_token(plaintext: str, generation: str | None) -> BearerCheck:
    # One query: the token joined to its site, secret and client, whose states decide.
    token = oauth.find_access_token(plaintext, generation=generation)
    if token is None:
        return BearerCheck(
            None, CredentialKind.ACCESS_TOKEN, f"{AccessToken.PREFIX}…", oauth.ACCESS_UNKNOWN
        )
    refusal = oauth.access_token_refusal(token)
    if refusal is None:
        base.record_use(token)
    return BearerCheck(token.site, CredentialKind.ACCESS_TOKEN, oauth.token_hint(token), refusal)


def refuse_api_key(plaintext: str, generation: str | None) -> BearerCheck:
    # Never looked up: an API key has no business here, whatever its state.
    return BearerCheck(None, CredentialKind.API_KEY, f"{ApiKey.PREFIX}…", API_KEY)


def refuse_client_secret(plaintext: str, generation: str | None) -> BearerCheck:
    # Never looked up either: a client secret only ever goes to the token endpoint.
    return BearerCheck(None, CredentialKind.CLIENT_SECRET, f"{ClientSecret.PREFIX}…", NOT_A_BEARER)


VERIFIERS: dict[str, Callable[[str, str | None], BearerCheck]] = {
    ScimToken.PREFIX: check_secret_token,
    AccessToken.PREFIX: check_access_token,
    ApiKey.PREFIX: refuse_api_key,
    ClientSecret.PREFIX: refuse_client_secret,
}


def bearer_plaintext(authorization: str) -> str:
    """The credential of an `Authorization: Bearer …` header; "" for any other."""
    scheme, _, credentials = authorization.partition(" ")
    return credentials.strip() if scheme.lower() == "bearer" else ""


def unchecked(authorization: str) -> BearerCheck:
    """What may be said of a credential that was not looked up (the request was refused
    before that): its kind and visible prefix, never a secret's characters."""
    plaintext = bearer_plaintext(authorization)
    if not plaintext:
        return BearerCheck(None, "", "")
    for model in KINDS.values():
        if plaintext.startswith(model.PREFIX):
            return BearerCheck(None, model.KIND, f"{model.PREFIX}…")
    return BearerCheck(None, "", "(not a SAT token)")


def check(authorization: str, *, generation: str | None = None) -> BearerCheck:
    """The answer to an `Authorization` header sent to the SCIM endpoint; `generation`:
    what this worker remembers of credentials may be used (sites.remembered)."""
    plaintext = bearer_plaintext(authorization)
    if not plaintext:
        return BearerCheck(None, "", "", MISSING)
    for prefix, verify in VERIFIERS.items():
        if plaintext.startswith(prefix):
            return verify(plaintext, generation)
    return BearerCheck(None, "", "(not a SAT token)", UNKNOWN)


# The kinds a worker remembers, with the check the early count (remembered_site) makes.
REMEMBERED_KINDS = ((ScimToken, secret_token_refusal), (AccessToken, oauth.access_token_refusal))


def remembered_site(authorization: str) -> int | None:
    """The site of the credential in `authorization` if this worker remembers it as one
    it would accept, so that its request may be counted against the site's rate before
    it is checked (scim_app.endpoint.guard): a credential's site never changes. Whether
    memory may still be trusted is read in that same round trip, so any generation
    does; a credential refused when last looked up (revoked, expired, training off) is
    never counted before its check."""
    plaintext = bearer_plaintext(authorization)
    for model, refusal in REMEMBERED_KINDS:
        if plaintext.startswith(model.PREFIX):
            credential = remembered.recent(model, base.digest(plaintext))
            if credential is None or refusal(credential) is not None:
                return None
            return credential.site_id
    return None
