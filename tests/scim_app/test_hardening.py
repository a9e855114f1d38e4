"""What an audit of the SCIM endpoint found, each a test first, then fixed:

1. deletes racing membership changes answered 500;
2. a token holder could make writes that left no provisioning-log row;
3. anyone could grow the log without bound;
4. API keys were stored in plaintext in the log;
5. the log kept more personal data than support needs.
"""

import http.client
import json
import secrets
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import pytest
from django.db import connection, connections

from scim_app.models import Membership, ProvisioningLogEntry, ScimGroup, ScimUser
from scim_app.provisioning_log.redaction import MAX_DEPTH
from scim_app.resources import lifecycle
from sites.credentials import api_keys, scim_tokens
from sites.models import MSP, Site
from tests.conftest import ScimClient
from tests.support.api import ApiClient
from tests.support.storage import columns_containing

from .conftest import assert_scim_error, create_group, create_user, entra_user, patch_body

DANA = "dana.fisher@contoso.example"
SCIM_STATUSES = {200, 201, 204, 400, 404, 409}


# --- 1. deletes that race ------------------------------------------------------------


class LiveScim:
    """Entra over real HTTP, against the live server's threads."""

    def __init__(self, base_url: str, token: str):
        self.address = urlsplit(base_url).netloc
        self.token = token

    def __call__(self, method: str, path: str, body=None) -> int:
        conn = http.client.HTTPConnection(self.address, timeout=30)
        try:
            payload = json.dumps(body).encode() if body is not None else None
            headers = {"Authorization": f"Bearer {self.token}"}
            if payload is not None:
                headers["Content-Type"] = "application/scim+json"
            conn.request(method, f"/api/v2/scim/{path}", body=payload, headers=headers)
            response = conn.getresponse()
            response.read()
            return response.status
        finally:
            conn.close()


def purge_deleted() -> int:
    try:
        return lifecycle.purge(ScimUser.objects.deleted())
    finally:
        connections.close_all()  # this thread's own connection


def add_members(*ids) -> dict:
    return patch_body({"op": "Add", "path": "members", "value": [{"value": i} for i in ids]})


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs a database that runs requests in parallel"
)
def test_deletes_racing_membership_changes_give_scim_statuses_and_leave_no_orphans(live_server):
    site = Site.objects.create(msp=MSP.objects.create(name="Race MSP"), name="Contoso")
    token = scim_tokens.issue_token(site)[1]
    scim, send = ScimClient(token), LiveScim(live_server.url, token)
    statuses = []
    for round_ in range(10):
        users = [create_user(scim, f"u{round_}-{i}@contoso.example")["id"] for i in range(4)]
        group = create_group(scim, f"Group {round_}")["id"]
        calls = [
            ("DELETE", f"Users/{users[0]}", None),
            ("PATCH", f"Groups/{group}", add_members(*users)),
            ("DELETE", f"Groups/{group}", None),
            ("PATCH", f"Groups/{group}", add_members(users[0], users[1])),
            ("PUT", f"Users/{users[1]}", entra_user(f"u{round_}-1@contoso.example")),
            ("DELETE", f"Users/{users[1]}", None),
            ("POST", "Users", entra_user(f"u{round_}-0@contoso.example")),
        ]
        with ThreadPoolExecutor(len(calls)) as pool:
            statuses += list(pool.map(lambda call: send(*call), calls))
        # A purge of what was deleted, racing more requests on the same rows.
        calls = [
            ("PATCH", f"Groups/{group}", add_members(users[2])),
            ("DELETE", f"Users/{users[2]}", None),
        ]
        with ThreadPoolExecutor(len(calls) + 1) as pool:
            purge = pool.submit(purge_deleted)
            statuses += list(pool.map(lambda call: send(*call), calls))
            purge.result()
    assert set(statuses) <= SCIM_STATUSES, statuses
    # Every membership points at a user and a group that exist (the constraints say so),
    # and no group SCIM returns lists a deleted user.
    assert not Membership.objects.exclude(user__in=ScimUser.objects.all()).exists()
    for group in ScimGroup.objects.live():
        for member in scim.get(f"Groups/{group.id}").json().get("members", []):
            assert ScimUser.objects.get(pk=member["value"]).deleted_at is None


# --- 2. no write without its log row -------------------------------------------------


def rows() -> int:
    return ProvisioningLogEntry.objects.count()


@pytest.mark.parametrize(
    ("method", "path", "raw", "expected"),
    [
        # A lone surrogate in an attribute value: refused, and logged.
        ("POST", "Users", b'{"userName": "a@contoso.example", "nickName": "\\ud800"}', 400),
        # ... or in a member we ignore: accepted, and logged with the character escaped.
        (
            "PATCH",
            "Users/{id}",
            b'{"Operations": [], "x": "\\ud800", "y": "nul \\u0000 here"}',
            200,
        ),
        ("DELETE", "Users/{id}", b'{"note": "\\udfff and \\u0000"}', 204),
        # Invalid UTF-8: refused where the body is read, logged where it is not.
        ("POST", "Users", b'{"userName": "\xff\xfe"}', 400),
        ("DELETE", "Users/{id}", b"\xff\xfe\x00", 204),
        # 600 levels deep: refused before anything is written, and logged.
        (
            "PATCH",
            "Users/{id}",
            b'{"Operations": []' + b', "x": ' + b"[" * 600 + b"]" * 600 + b"}",
            400,
        ),
    ],
)
def test_every_request_is_logged_whatever_its_body(contoso_scim, method, path, raw, expected):
    user = create_user(contoso_scim, DANA)
    before = rows()
    response = contoso_scim.request(method, path.format(id=user["id"]), raw=raw)
    assert response.status_code == expected, response.content
    assert rows() == before + 1
    entry = ProvisioningLogEntry.objects.latest("id")
    assert entry.status == expected and entry.request_size == len(raw)
    assert "\x00" not in entry.request_body


def test_a_stored_body_says_when_characters_were_escaped(contoso_scim):
    user = create_user(contoso_scim, DANA)
    contoso_scim.request("PATCH", f"Users/{user['id']}", raw=b'{"Operations": [], "x": "\\ud800"}')
    stored = ProvisioningLogEntry.objects.latest("id").request_body
    assert "\\ud800" in stored and "written as \\u escapes" in stored


# --- 3. refused requests cost little and are limited -------------------------------


def test_refused_requests_keep_no_body_and_a_flood_of_them_is_cut_off(contoso_scim, settings):
    settings.SCIM_REFUSAL_RATE_LIMIT = "20/min"
    anonymous = ScimClient(None)
    body = {"userName": "x@contoso.example", "junk": secrets.token_hex(20_000)}  # ~40 KB

    statuses = [anonymous.post("Users", body).status_code for _ in range(30)]

    assert statuses == [401] * 20 + [429] * 10
    refused = ProvisioningLogEntry.objects.filter(status=401)
    assert refused.count() == 20
    assert not ProvisioningLogEntry.objects.filter(status=429).exists()  # no row at all
    for entry in refused:
        assert entry.request_body == entry.response_body == ""
        assert entry.request_size > 40_000 and entry.client_address == "127.0.0.1"
        stored = sum(len(str(getattr(entry, f.name) or "")) for f in entry._meta.concrete_fields)
        assert stored < 400, stored
    # Entra's own requests, from another address, are untouched by the flood.
    other = contoso_scim.request("GET", "Users", REMOTE_ADDR="203.0.113.9")
    assert other.status_code == 200


def test_a_site_over_its_request_rate_gets_429_with_retry_after(contoso_scim, settings):
    settings.SCIM_SITE_RATE_LIMIT = "5/min"
    statuses = [contoso_scim.get("Users").status_code for _ in range(7)]
    assert statuses == [200] * 5 + [429] * 2
    response = contoso_scim.get("Users")
    body = assert_scim_error(response, 429)
    assert 0 < int(response["Retry-After"]) <= 60 and "requests" in body["detail"]


# --- 4. no secret of ours is ever stored ------------------------------------------------


def issued_secrets(contoso, alice) -> dict[str, str]:
    """Real secrets, as issued: about three in four contain - or _."""
    found = {}
    while len(found) < 2:
        _, token = scim_tokens.issue_token(contoso)
        _, key = api_keys.issue_key(alice.staff.msp, name="k", by=alice)
        if {"-", "_"} & set(token[8:]) and "token" not in found:
            found["token"] = token
        if {"-", "_"} & set(key[7:]) and "key" not in found:
            found["key"] = key
    return found


def test_secrets_sent_anywhere_in_a_request_are_never_stored(contoso, alice):
    leaked = issued_secrets(contoso, alice)
    scim = ScimClient(leaked["token"])
    for secret in leaked.values():
        scim.post("Users", entra_user(f"{secrets.token_hex(4)}@contoso.example", nickName=secret))
        scim.get("Users", filter=f'userName eq "{secret}"')
        scim.request("GET", "Users", headers={"X-Forwarded-For": secret, "X-Note": secret})
        scim.request("PATCH", f"Users/{secret}", {"Operations": [{"op": "add", "value": secret}]})
        ApiClient(secret).get("sites")
    for secret in leaked.values():
        # The ScimUser's nickName holds it as Entra sent it: that is provisioned data.
        places = [p for p in columns_containing(secret) if p != "scim_app.ScimUser.data"]
        assert places == [], secret
        assert columns_containing(secret[8:30]) in ([], ["scim_app.ScimUser.data"])


# --- 5. less personal data kept ------------------------------------------------------


def test_a_lists_answer_is_summarised_not_stored(contoso_scim):
    for i in range(20):
        create_user(contoso_scim, f"user{i}@contoso.example")
    contoso_scim.get("Users", count=50)
    entry = ProvisioningLogEntry.objects.latest("id")
    assert entry.response_body == "" and entry.summary == "list Users → 20 results"
    kept = ProvisioningLogEntry.objects.exclude(response_body="")
    assert not kept.filter(status__lt=400).exists()


# --- the tests that could not fail, now can ----------------------------------------------


def near_miss(secret: str) -> str:
    """The same prefix and the same last four characters, one character changed."""
    middle = len(secret) // 2
    swapped = "A" if secret[middle] != "A" else "B"
    return secret[:middle] + swapped + secret[middle + 1 :]


def test_a_near_miss_secret_token_is_refused(contoso):
    _, token = scim_tokens.issue_token(contoso)
    assert ScimClient(token).get("Users").status_code == 200
    assert_scim_error(ScimClient(near_miss(token)).get("Users"), 401)


def test_a_near_miss_api_key_is_refused(alice):
    _, key = api_keys.issue_key(alice.staff.msp, name="k", by=alice)
    assert ApiClient(key).get("sites").status_code == 200
    assert ApiClient(near_miss(key)).get("sites").status_code == 401


def test_rotating_twice_never_extends_the_oldest_token(contoso, settings):
    settings.SCIM_TOKEN_GRACE_PERIOD = 3600
    first, _ = scim_tokens.issue_token(contoso)
    second, _ = scim_tokens.issue_token(contoso)
    first.refresh_from_db()
    first_ends = first.expires_at
    scim_tokens.issue_token(contoso)
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.expires_at == first_ends  # A's expiry unchanged by C
    assert second.expires_at > first_ends


def test_a_shorter_grace_period_cuts_a_longer_one(contoso, settings):
    settings.SCIM_TOKEN_GRACE_PERIOD = 86400
    first, _ = scim_tokens.issue_token(contoso)
    scim_tokens.issue_token(contoso)
    first.refresh_from_db()
    long_end = first.expires_at
    settings.SCIM_TOKEN_GRACE_PERIOD = 60
    scim_tokens.issue_token(contoso)
    first.refresh_from_db()
    assert first.expires_at < long_end


@pytest.mark.parametrize("method", ["OPTIONS", "PROPFIND", "TRACE"])
def test_unsupported_methods_are_a_scim_405_with_allow(contoso_scim, method):
    response = contoso_scim.request(method, "Users")
    assert_scim_error(response, 405)
    assert "GET" in response["Allow"] and method not in response["Allow"]


@pytest.mark.parametrize(("levels", "expected"), [(MAX_DEPTH, 200), (MAX_DEPTH + 1, 400)])
def test_a_body_nested_past_the_limit_is_refused_and_one_at_the_limit_is_not(
    contoso_scim, levels, expected
):
    user = create_user(contoso_scim, DANA)
    # The body's object is the first level; "x" holds the rest.
    nested = "[" * (levels - 1) + "]" * (levels - 1)
    raw = f'{{"Operations": [], "x": {nested}}}'.encode()
    response = contoso_scim.request("PATCH", f"Users/{user['id']}", raw=raw)
    assert response.status_code == expected, response.content
    if expected == 400:
        assert f"nested more than {MAX_DEPTH} levels" in response.json()["detail"]
