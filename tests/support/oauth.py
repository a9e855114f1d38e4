"""OAuth 2.0 client credentials as Entra uses them: a site's client id and secret, sent
to the token endpoint with HTTP Basic, and the access token it answers with."""

import base64
from dataclasses import dataclass
from urllib.parse import quote_plus, urlencode

from django.test import Client

from sites.credentials import oauth

TOKEN_URL = "/api/v2/oauth/token"
FORM = "application/x-www-form-urlencoded"


@dataclass(frozen=True)
class ClientCredentials:
    client_id: str
    client_secret: str


def issue_client_secret(site, **kwargs) -> ClientCredentials:
    """A new secret of `site`'s client (created if needed), as an operator issues one."""
    secret, plaintext = oauth.issue_secret(site, via="command", **kwargs)
    return ClientCredentials(secret.client.client_id, plaintext)


def basic(client_id: str, secret: str, encode=quote_plus) -> str:
    """RFC 6749 §2.3.1: each part form-urlencoded, joined by a colon, base64-encoded."""
    joined = f"{encode(client_id)}:{encode(secret)}"
    return "Basic " + base64.b64encode(joined.encode()).decode()


def request_token(credentials: ClientCredentials | None, *, client: Client | None = None, **form):
    """POST to the token endpoint as Entra does: Basic, grant_type=client_credentials."""
    headers = {}
    if credentials is not None:
        headers["Authorization"] = basic(credentials.client_id, credentials.client_secret)
    body = urlencode({"grant_type": "client_credentials", **form})
    return (client or Client()).post(TOKEN_URL, body, content_type=FORM, headers=headers)


def fetch_access_token(credentials: ClientCredentials) -> str:
    response = request_token(credentials)
    assert response.status_code == 200, response.content
    return response.json()["access_token"]
