"""Workload identity federation without the internet: an Entra tenant of our own.

`Tenant` generates RSA keys, publishes them as a JSON Web Key Set on a loopback port (as
https://login.microsoftonline.com/<tenant>/discovery/v2.0/keys does) and signs client
assertions with the claims Microsoft's example payload carries. The key server can
rotate its keys, fail (503), stop answering, or be slow; it counts its fetches.
"""

import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlencode

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from django.test import Client

from sites.credentials import federation

from .oauth import FORM, TOKEN_URL

# Keys are slow to generate: a few made once per session, reused by every tenant.
_KEYS: list[rsa.RSAPrivateKey] = []


def rsa_key(index: int) -> rsa.RSAPrivateKey:
    while len(_KEYS) <= index:
        _KEYS.append(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    return _KEYS[index]


def public_jwk(key: rsa.RSAPrivateKey, kid: str) -> dict:
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    # As Microsoft publishes them: use, kid, x5t (here the kid), n, e.
    return {**jwk, "kid": kid, "use": "sig", "x5t": kid}


class KeyServer:
    """A JWKS endpoint on 127.0.0.1. `mode`: "ok", "error" (503), "garbage" (not JSON),
    "slow" (answers after `delay` seconds), "trickle" (the document a byte every `delay`
    seconds), "truncated" (a chunked answer that stops short) or "nested" (JSON nested
    deeper than any parser recurses)."""

    def __init__(self):
        self.documents: dict[str, dict] = {}  # path -> JWKS document
        self.mode = "ok"
        self.delay = 0.0
        self.fetches: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                server.fetches.append(self.path)
                if server.mode == "slow":
                    time.sleep(server.delay)
                document = server.documents.get(self.path)
                if server.mode == "error" or document is None:
                    self.send_response(503 if document else 404)
                    self.end_headers()
                    return
                body = {
                    "garbage": b"<html>sign in</html>",
                    "nested": b"[" * 100_000 + b"]" * 100_000,  # under the size cap
                }.get(server.mode, json.dumps(document).encode())
                if server.mode in ("trickle", "truncated"):
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    try:
                        for byte in body[: 64 if server.mode == "truncated" else None]:
                            self.wfile.write(b"1\r\n" + bytes([byte]) + b"\r\n")
                            self.wfile.flush()
                            time.sleep(server.delay)
                        if server.mode == "trickle":
                            self.wfile.write(b"0\r\n\r\n")
                    except (BrokenPipeError, ConnectionResetError):
                        pass  # the app gave up on us, as it should
                    self.close_connection = True  # truncated: no last chunk
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@dataclass
class Tenant:
    """An Entra tenant with an enterprise app whose provisioning job signs assertions.
    Its issuer and JWKS URL are on the key server's loopback host."""

    server: KeyServer
    tenant_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    subject: str = field(default_factory=lambda: str(uuid.uuid4()))  # the app's object id
    app_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    keys: dict[str, rsa.RSAPrivateKey] = field(default_factory=dict)

    def __post_init__(self):
        self.publish({"key-1": rsa_key(0)})

    @property
    def issuer(self) -> str:
        return f"{self.server.base}/{self.tenant_id}/v2.0"

    @property
    def jwks_path(self) -> str:
        return f"/{self.tenant_id}/discovery/v2.0/keys"

    @property
    def jwks_url(self) -> str:
        return self.server.base + self.jwks_path

    @property
    def audience(self) -> str:
        return f"api://{self.app_id}"

    def trust_values(self, **overrides) -> dict:
        """What Entra shows the admin, to paste into our console."""
        return {
            "issuer": self.issuer,
            "jwks_url": self.jwks_url,
            "subject": self.subject,
            "audience": self.audience,
            **overrides,
        }

    def publish(self, keys: dict[str, rsa.RSAPrivateKey]) -> None:
        """Publish exactly these keys (a rotation replaces them)."""
        self.keys = keys
        self.server.documents[self.jwks_path] = {
            "keys": [public_jwk(key, kid) for kid, key in keys.items()]
        }

    def assertion(
        self, *, kid: str = "key-1", key=None, headers=None, lifetime=3600, **claims
    ) -> str:
        """A client assertion as Entra's provisioning service presents it (claims as in
        Microsoft's example payload); `claims` override or, set to None, drop one."""
        now = int(time.time())
        payload = {
            "aud": self.audience,
            "iss": self.issuer,
            "iat": now,
            "nbf": now,
            "exp": now + lifetime,
            "aio": "k2BgYJj1ZvT3e1f7wBZ2mfn8Aq8=",
            "azp": str(uuid.UUID(int=1)),
            "azpacr": "2",
            "oid": self.subject,
            "rh": "0.AAAA.",
            "sub": self.subject,
            "tid": self.tenant_id,
            "uti": "Zb8Qq7oWNUKz4Z2E7e4PAA",
            "ver": "2.0",
        }
        payload.update(claims)
        payload = {name: value for name, value in payload.items() if value is not None}
        return jwt.encode(
            payload,
            key or self.keys.get(kid) or rsa_key(0),
            algorithm="RS256",
            headers={"kid": kid, "typ": "JWT", **(headers or {})},
        )


def request_token(
    client_id: str | None, assertion: str | None, *, client: Client | None = None, **form
):
    """POST to the token endpoint as Entra does with workload identity federation."""
    body = {
        "grant_type": "client_credentials",
        "client_assertion_type": federation.ASSERTION_TYPE,
        **({"client_id": client_id} if client_id is not None else {}),
        **({"client_assertion": assertion} if assertion is not None else {}),
        **form,
    }
    return (client or Client()).post(TOKEN_URL, urlencode(body), content_type=FORM)
