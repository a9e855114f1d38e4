"""Personas shared by every test.

Alice is an admin of Northwind IT (an MSP) and Bob a read-only engineer there; their
sites are Contoso and Fabrikam. Charlie works for another MSP, Tailspin, whose site
Woodgrove must never be visible to Alice or Bob, nor Contoso's data to Woodgrove's token.
Each site's Entra calls with a Secret Token (`contoso_scim`) or, through OAuth 2.0 client
credentials, with an access token (`contoso_oauth_scim`).
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.test import Client

from sites.credentials import federation, jwks, scim_tokens
from sites.models import MSP, Site, Staff
from tests.support.federation import KeyServer, Tenant
from tests.support.oauth import ClientCredentials, fetch_access_token, issue_client_secret

PASSWORD = "correct-horse-battery-staple"
ROOT = Path(__file__).resolve().parent.parent


def pytest_configure(config):
    """Pages are tested with the manifest of hashed static files that production serves,
    so collect them first (once: pytest-xdist's workers start after this)."""
    if hasattr(config, "workerinput"):
        return
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "-v", "0"],
        cwd=ROOT,
        check=True,
    )


@pytest.fixture(autouse=True)
def fresh_counters():
    """Rate limits, sign-in locks and the guard count in the cache: each test starts at 0
    (sites and addresses repeat from test to test)."""

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def remembered_credentials(settings):
    """SCIM workers remember credentials, as in production with REDIS_URL
    (sites.remembered), so that every test of a revoked, expired or disabled credential
    also tests that memory forgets it. Tests run in one process: its cache is shared."""
    settings.SCIM_REMEMBER_CREDENTIALS = True


# Nothing listens on port 1: every Redis command is refused at once.
UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"


@pytest.fixture
def unreachable_redis(settings):
    """The shared cache is a Redis that cannot be reached, as in an outage."""
    settings.REDIS_URL = UNREACHABLE_REDIS
    settings.CACHES = {
        "default": {
            "BACKEND": "sat_portal.cache.RedisCache",
            "LOCATION": UNREACHABLE_REDIS,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }


@pytest.fixture
def msp(db):
    return MSP.objects.create(name="Northwind IT")


@pytest.fixture
def other_msp(db):
    return MSP.objects.create(name="Tailspin MSP")


@pytest.fixture
def contoso(msp):
    return Site.objects.create(msp=msp, name="Contoso")


@pytest.fixture
def fabrikam(msp):
    return Site.objects.create(msp=msp, name="Fabrikam")


@pytest.fixture
def woodgrove(other_msp):
    return Site.objects.create(msp=other_msp, name="Woodgrove")


def make_staff(username: str, msp: MSP, role: str):
    user = get_user_model().objects.create_user(username=username, password=PASSWORD)
    Staff.objects.create(user=user, msp=msp, role=role)
    return user


@pytest.fixture
def alice(msp):
    return make_staff("alice", msp, Staff.Role.ADMIN)


@pytest.fixture
def bob(msp):
    return make_staff("bob", msp, Staff.Role.READ_ONLY)


@pytest.fixture
def charlie(other_msp):
    return make_staff("charlie", other_msp, Staff.Role.ADMIN)


# The admin's personas: Root is a superuser; Sam is support staff (the "Support" group,
# view-only, see createsupportuser) and belongs to no MSP.
@pytest.fixture
def root(db):
    return get_user_model().objects.create_superuser("root", "root@example.com", PASSWORD)


@pytest.fixture
def sam(db):
    from django.contrib.auth.models import Group

    user = get_user_model().objects.create_user("sam", "sam@example.com", PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name="Support"))
    return user


@pytest.fixture
def signed_in(db):
    """`signed_in(alice)`: a console test client with Alice's session."""

    def sign_in(user) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return sign_in


class ScimClient:
    """Sends requests the way Entra does: bearer token, JSON bodies, no Accept header."""

    def __init__(self, token: str | None):
        self.client = Client()
        self.token = token

    def request(self, method: str, path: str, body=None, *, raw: bytes | None = None, **extra):
        if not path.startswith("/"):
            path = "/api/v2/scim/" + path
        headers = dict(extra.pop("headers", {}))
        if self.token is not None:
            headers.setdefault("Authorization", f"Bearer {self.token}")
        data = raw if raw is not None else (json.dumps(body) if body is not None else "")
        return self.client.generic(
            method,
            path,
            data=data,
            content_type="application/scim+json; charset=utf-8",
            headers=headers,
            **extra,
        )

    def get(self, path, **params):
        from urllib.parse import urlencode

        query = f"?{urlencode(params)}" if params else ""
        return self.request("GET", path + query)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body, **kw)

    def patch(self, path, body=None, **kw):
        return self.request("PATCH", path, body, **kw)

    def put(self, path, body=None, **kw):
        return self.request("PUT", path, body, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)


@pytest.fixture
def contoso_scim(contoso):
    _, plaintext = scim_tokens.issue_token(contoso, via="command")
    return ScimClient(plaintext)


@pytest.fixture
def fabrikam_scim(fabrikam):
    _, plaintext = scim_tokens.issue_token(fabrikam, via="command")
    return ScimClient(plaintext)


@pytest.fixture
def woodgrove_scim(woodgrove):
    _, plaintext = scim_tokens.issue_token(woodgrove, via="command")
    return ScimClient(plaintext)


@pytest.fixture
def contoso_client(contoso, fresh_counters) -> ClientCredentials:
    """Contoso's OAuth client id and a secret of it, as Entra is given them."""
    return issue_client_secret(contoso)


@pytest.fixture
def contoso_oauth_scim(contoso_client) -> ScimClient:
    """Contoso's Entra calling SCIM with an access token from the token endpoint."""
    return ScimClient(fetch_access_token(contoso_client))


@pytest.fixture
def fabrikam_client(fabrikam, fresh_counters) -> ClientCredentials:
    return issue_client_secret(fabrikam)


@pytest.fixture(scope="session")
def key_server():
    """One loopback JWKS server for the session (tests.support.federation)."""
    server = KeyServer()
    yield server
    server.close()


@pytest.fixture
def entra_tenant(key_server, settings) -> Tenant:
    """An Entra tenant of our own, whose keys the app may fetch: its loopback host is in
    FEDERATION_JWKS_HOSTS (beside Microsoft's), as the tests' only way to serve keys.
    The key server and the app's key cache start empty."""
    settings.FEDERATION_JWKS_HOSTS = [*settings.FEDERATION_JWKS_HOSTS, "127.0.0.1"]
    key_server.documents.clear()
    key_server.fetches.clear()
    key_server.mode = "ok"
    jwks.clear()
    yield Tenant(key_server)
    jwks.clear()


@pytest.fixture
def contoso_trust(contoso, entra_tenant):
    """Contoso trusts `entra_tenant`'s provisioning app, as its MSP set it up."""
    return federation.add_trust(
        contoso, federation.validate(**entra_tenant.trust_values()), via="command"
    )
