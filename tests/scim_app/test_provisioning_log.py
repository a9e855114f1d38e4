"""The provisioning log: every SCIM request, success or not, is recorded, without secrets,
and recording never changes the answer Entra gets.

Contoso's Entra (contoso_scim) provisions Dana; strangers knock with unknown tokens.
"""

import json
import logging
import uuid

import pytest
from django.db import connection

from scim_app.models import ProvisioningLogEntry, ScimGroup, ScimUser
from scim_app.provisioning_log.queries import last_error, last_request
from tests.conftest import ScimClient

from .conftest import (
    GROUP_URN,
    assert_scim_error,
    create_group,
    create_user,
    entra_user,
    patch_body,
)

DANA = "dana.fisher@contoso.example"


def explode(*args, **kwargs):
    raise RuntimeError("database on fire")


def only_entry() -> ProvisioningLogEntry:
    entries = list(ProvisioningLogEntry.objects.all())
    assert len(entries) == 1, entries
    return entries[0]


def stored_text(entry: ProvisioningLogEntry) -> str:
    return " ".join(
        str(getattr(entry, field.attname)) for field in ProvisioningLogEntry._meta.concrete_fields
    )


def test_a_created_user_is_logged_with_its_site_token_and_summary(contoso, contoso_scim):
    response = contoso_scim.post("Users", entra_user(DANA))
    assert response.status_code == 201

    entry = only_entry()
    token = contoso.scim_tokens.get()
    assert entry.site == contoso
    assert entry.credential_hint == f"…{token.hint}"
    assert (entry.method, entry.path, entry.status) == ("POST", "/api/v2/scim/Users", 201)
    assert entry.resource_type == "User"
    assert entry.resource_id == response.json()["id"]
    assert entry.summary == f"created user {DANA}"
    assert entry.scim_type == entry.error_detail == ""
    assert json.loads(entry.request_body)["userName"] == DANA
    # A success's answer is not kept: it is what we stored, and lists hold other users.
    assert entry.response_body == ""
    assert entry.client_address == "127.0.0.1"
    assert entry.request_size == len(json.dumps(entra_user(DANA)))
    assert {"attribute": "userName", "old": "", "new": DANA} in entry.changes
    assert entry.duration_ms >= 0


def test_an_ipv6_client_behind_the_load_balancer_is_logged_and_found_by_its_address(
    contoso_scim, settings
):
    settings.TRUSTED_PROXY_COUNT = 1
    response = contoso_scim.post(
        "Users", entra_user(DANA), headers={"X-Forwarded-For": "2001:DB8:0::5"}
    )
    assert response.status_code == 201

    # Stored in the canonical form, and found by it.
    assert only_entry().client_address == "2001:db8::5"
    assert ProvisioningLogEntry.objects.filter(client_address="2001:db8::5").count() == 1


def test_a_filter_query_is_logged_with_its_query_string_and_result_count(contoso_scim):
    response = contoso_scim.get("Users", filter=f'userName eq "{DANA}"')
    assert response.status_code == 200

    entry = only_entry()
    assert entry.path.startswith("/api/v2/scim/Users?filter=userName")
    assert entry.resource_type == "User"
    assert entry.resource_id == ""
    assert entry.summary == f'filter userName eq "{DANA}" → 0 results'


def test_a_membership_patch_logs_who_was_added_and_who_was_removed(contoso_scim):
    ids = [create_user(contoso_scim, f"member{i}@contoso.example")["id"] for i in range(3)]
    group = create_group(contoso_scim, "Finance Team")["id"]

    def membership_patch(*operations) -> ProvisioningLogEntry:
        response = contoso_scim.patch(f"Groups/{group}", patch_body(*operations))
        assert response.status_code == 204, response.content
        return ProvisioningLogEntry.objects.filter(method="PATCH").latest("id")

    added = membership_patch(
        {"op": "Add", "path": "members", "value": [{"value": i} for i in (ids[0], ids[1], ids[0])]}
    )
    assert added.summary == "added 2 members to Finance Team"
    assert added.changes == [{"attribute": "members", "old": "", "new": json.dumps(ids[:2])}]

    # Removing a user who is not a member removes nobody, and the log says so.
    removed = membership_patch(
        {"op": "Remove", "path": f'members[value eq "{ids[1]}"]'},
        {"op": "Remove", "path": "members", "value": [{"value": ids[2]}]},
    )
    assert removed.summary == "removed 1 member from Finance Team"
    assert removed.changes == [{"attribute": "members", "old": json.dumps([ids[1]]), "new": ""}]

    everyone = membership_patch({"op": "Remove", "path": "members"})
    assert everyone.changes == [{"attribute": "members", "old": json.dumps([ids[0]]), "new": ""}]
    assert contoso_scim.get(f"Groups/{group}").json().get("members", []) == []


def test_a_scim_error_is_logged_with_its_scim_type_and_detail(contoso, contoso_scim):
    contoso_scim.post("Users", entra_user(DANA))
    response = contoso_scim.post("Users", entra_user(DANA))
    body = assert_scim_error(response, 409, "uniqueness")

    entry = ProvisioningLogEntry.objects.filter(status=409).get()
    assert entry.site == contoso
    assert entry.scim_type == "uniqueness"
    assert entry.error_detail == body["detail"]
    assert entry.resource_type == "User"
    assert entry.summary == "POST /Users → 409 uniqueness"


def test_a_write_that_was_rolled_back_is_still_logged(contoso, contoso_scim):
    # Creating a group with a member that is not a user of the site fails after the group
    # row was inserted; the view's transaction rolls it back, the log keeps the attempt.
    stranger = str(uuid.uuid4())
    body = {"schemas": [GROUP_URN], "displayName": "Finance Team", "members": [{"value": stranger}]}
    response = contoso_scim.post("Groups", body)
    assert_scim_error(response, 400, "invalidValue")
    assert not ScimGroup.objects.exists()

    entry = only_entry()
    assert (entry.site, entry.status, entry.resource_type) == (contoso, 400, "Group")
    assert entry.scim_type == "invalidValue"
    assert stranger in entry.error_detail
    assert "Finance Team" in entry.request_body


@pytest.mark.parametrize(
    ("header", "hint"),
    [
        (f"Bearer satscim_{'S' * 43}", "satscim_…"),
        ("Bearer hunter2-from-another-system", "(not a SAT token)"),
        (None, ""),
    ],
)
def test_an_unknown_token_is_logged_without_a_site_and_without_the_secret(contoso, header, hint):
    headers = {"Authorization": header} if header else {}
    response = ScimClient(None).request("GET", "Users", headers=headers)
    assert_scim_error(response, 401)

    entry = only_entry()
    assert entry.site is None
    assert entry.credential_hint == hint
    assert entry.status == 401
    assert entry.summary == "GET /Users → 401"
    assert "S" * 8 not in stored_text(entry)
    assert "hunter2" not in stored_text(entry)


@pytest.mark.parametrize(
    "failing",
    [
        "scim_app.endpoint.views.UsersView.get",  # in the view
        "scim_app.endpoint.auth.ratelimit.hit",  # before it, in the auth hook
    ],
)
def test_an_unexpected_error_is_logged_as_the_500_entra_received(
    contoso, contoso_scim, monkeypatch, failing
):
    monkeypatch.setattr(failing, explode)
    response = contoso_scim.get("Users")
    assert_scim_error(response, 500)

    entry = only_entry()
    assert (entry.method, entry.path, entry.status) == ("GET", "/api/v2/scim/Users", 500)
    assert entry.summary == "GET /Users → 500"
    assert "database on fire" not in stored_text(entry)


def test_an_oversized_body_is_logged_as_413_without_being_read(contoso_scim, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = contoso_scim.post("Users", entra_user(DANA, displayName="x" * 2000))
    assert_scim_error(response, 413)

    entry = only_entry()
    assert entry.status == 413
    assert entry.request_body == "" and entry.request_size > 1000


def test_requests_outside_the_scim_endpoint_are_not_logged(client, contoso):
    client.get("/admin/login/")
    assert not ProvisioningLogEntry.objects.exists()


def test_a_write_whose_log_row_cannot_be_written_is_not_committed_and_says_retry(
    contoso, contoso_scim, caplog
):
    """The write and its log row commit together: no change without its row."""
    table = ProvisioningLogEntry._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {table} RENAME TO {table}_away")
    try:
        with caplog.at_level(logging.ERROR, logger="scim_app.endpoint.errors"):
            response = contoso_scim.post("Users", entra_user(DANA))
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"ALTER TABLE {table}_away RENAME TO {table}")

    assert_scim_error(response, 503)
    assert response["Retry-After"]
    assert not ScimUser.objects.filter(site=contoso, user_name=DANA).exists()
    assert not ProvisioningLogEntry.objects.exists()
    # Entra retries: then it is created, and logged.
    assert contoso_scim.post("Users", entra_user(DANA)).status_code == 201
    assert only_entry().summary == f"created user {DANA}"


class Statements:
    """Every statement the request's database connection runs."""

    def __init__(self):
        self.sql: list[str] = []

    def __call__(self, execute, sql, params, many, context):
        self.sql.append(sql)
        return execute(sql, params, many, context)

    def log_insert(self) -> str:
        (insert,) = [sql for sql in self.sql if ProvisioningLogEntry._meta.db_table in sql]
        return insert

    def others(self) -> list[str]:
        return [sql for sql in self.sql if ProvisioningLogEntry._meta.db_table not in sql]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="synchronous_commit")
def test_only_rows_of_reads_and_refusals_commit_without_waiting_for_the_disk(contoso_scim):
    """A read's row (and a refused write's) may be lost in a crash, never a write: its
    transaction keeps PostgreSQL's durable commit. A crash cannot be staged in a test, so
    this watches what each request asks of PostgreSQL."""
    relaxed = "set_config('synchronous_commit', 'off', true)"
    seen = {}
    for name, send in {
        "create": lambda: contoso_scim.post("Users", entra_user(DANA)),
        "read": lambda: contoso_scim.get("Users", filter=f'userName eq "{DANA}"'),
        "refused create": lambda: contoso_scim.post("Users", entra_user(DANA)),
    }.items():
        statements = Statements()
        with connection.execute_wrapper(statements):
            send()
        assert not any("synchronous_commit" in sql for sql in statements.others())
        seen[name] = relaxed in statements.log_insert()
    assert seen == {"create": False, "read": True, "refused create": True}
    assert ProvisioningLogEntry.objects.count() == 3
    assert ScimUser.objects.filter(user_name=DANA).count() == 1


def test_passwords_and_tokens_in_bodies_are_redacted(contoso_scim):
    leaked = f"satscim_{'L' * 43}"
    body = entra_user(DANA, password="Hunter2!", nickName=f"paste of {leaked}")
    contoso_scim.post("Users", body)

    entry = only_entry()
    stored = json.loads(entry.request_body)
    assert stored["password"] == "[redacted]"
    assert stored["nickName"] == "paste of satscim_[redacted]"
    assert stored["userName"] == DANA
    for secret in ("Hunter2!", leaked, contoso_scim.token):
        assert secret not in stored_text(entry)


def test_a_patch_setting_a_password_is_redacted(contoso_scim):
    dana = contoso_scim.post("Users", entra_user(DANA)).json()
    operations = [
        {"op": "replace", "path": "password", "value": "Hunter2!"},
        {"op": "replace", "value": {"password": "Hunter3!", "displayName": "Dana"}},
    ]
    contoso_scim.patch(f"Users/{dana['id']}", patch_body(*operations))

    entry = ProvisioningLogEntry.objects.get(method="PATCH")
    stored = json.loads(entry.request_body)["Operations"]
    assert stored[0] == {"op": "replace", "path": "password", "value": "[redacted]"}
    assert stored[1]["value"] == {"password": "[redacted]", "displayName": "Dana"}
    assert "Hunter" not in stored_text(entry)


def test_a_body_is_stored_as_sent(contoso_scim):
    sent = json.dumps(entra_user(DANA, displayName="Dana Fisher"), indent=1)
    assert contoso_scim.post("Users", raw=sent.encode()).status_code == 201

    assert only_entry().request_body == sent


def test_secrets_spelled_with_json_escapes_are_redacted_too(contoso_scim):
    # "p\u0061ssword" is "password" once parsed, and "\u0073atscim_" our token prefix:
    # the stored body must not keep them because the raw text hides them.
    leaked = f"satscim_{'L' * 43}"
    body = json.dumps(entra_user(DANA, nickName=leaked)).replace("satscim_", "\\u0073atscim_")
    body = body[:-1] + ', "p\\u0061ssword": "Hunter2!"}'
    contoso_scim.post("Users", raw=body.encode())

    entry = only_entry()
    stored = json.loads(entry.request_body)
    assert stored["password"] == "[redacted]"
    assert stored["nickName"] == "satscim_[redacted]"
    for secret in ("Hunter2!", leaked[8:]):
        assert secret not in stored_text(entry)


def test_large_bodies_are_stored_capped(contoso_scim):
    members = [{"value": str(uuid.uuid4())} for _ in range(600)]
    contoso_scim.post("Groups", {"schemas": [GROUP_URN], "displayName": "All", "members": members})

    entry = only_entry()
    assert len(entry.request_body) < 17 * 1024
    assert entry.request_body.endswith("more characters not stored]")


def test_last_request_and_last_error_give_a_sites_provisioning_status(
    contoso, fabrikam, contoso_scim
):
    contoso_scim.post("Users", entra_user(DANA))
    contoso_scim.post("Users", entra_user(DANA))
    contoso_scim.get("Users", filter=f'userName eq "{DANA}"')

    assert last_request(contoso).method == "GET"
    assert last_error(contoso).status == 409
    assert last_request(fabrikam) is None
    assert last_error(fabrikam) is None
