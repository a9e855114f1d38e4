"""Credentials we issue, one module per kind over shared rules (`base`).

- `scim_tokens`: a site's Secret Token, Entra's bearer for the SCIM endpoint.
- `oauth`: a site's OAuth client, its secrets and the access tokens minted with them
  (the client credentials grant, Entra's other way to reach the SCIM endpoint).
- `federation`: a site's trusts in Entra tenants, whose signed assertions get access
  tokens with no secret at all (workload identity federation), and `jwks`, the tenants'
  signing keys.
- `entra`: a site's Entra integration as a whole (disabling it).
- `api_keys`: an MSP's key for the REST API.
- `scim_bearer`: which site a bearer credential sent to the SCIM endpoint belongs to.

Every kind's plaintext starts with its prefix, so that logs can be scrubbed of all of
them with one pattern (`SECRET_PATTERN`) and secret scanners recognise them.
"""

import re

from sites.models import AccessToken, ApiKey, ClientSecret, HashedSecret, ScimToken

KINDS: dict[str, type[HashedSecret]] = {
    model.KIND: model for model in (ScimToken, ApiKey, ClientSecret, AccessToken)
}

SECRET_PATTERN = re.compile(
    "(" + "|".join(re.escape(model.PREFIX) for model in KINDS.values()) + r")[A-Za-z0-9_-]+"
)
REDACTED = "[redacted]"


def redact_secrets(text: str) -> str:
    """`text` with every secret of ours replaced by its prefix and [redacted]."""
    return SECRET_PATTERN.sub(lambda match: match[1] + REDACTED, text)
