"""What every SCIM answer looks like: SCIM JSON, never HTML or a redirect (entra-provisioning.md §1, §6)."""

import json

import pytest

from scim_app.resources import users

from .conftest import assert_scim_error, create_group, create_user, patch_body


def test_bodies_without_content_type_or_as_plain_json_are_accepted(contoso_scim):
    response = contoso_scim.client.generic(
        "POST",
        "/api/v2/scim/Users",
        data=json.dumps({"userName": "plain@contoso.example"}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {contoso_scim.token}"},
    )
    assert response.status_code == 201
    response = contoso_scim.client.get(
        "/api/v2/scim/Users", headers={"Authorization": f"Bearer {contoso_scim.token}"}
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    "raw",
    [b"{not json", b"\xff\xfe", b"[1, 2]", b'"userName"', b"null"],
)
def test_malformed_bodies_are_400_invalid_syntax(contoso_scim, raw):
    assert_scim_error(contoso_scim.post("Users", raw=raw), 400, "invalidSyntax")


def test_patch_without_operations_is_400(contoso_scim):
    user = create_user(contoso_scim, "p@contoso.example")
    for body in ({}, {"Operations": "replace"}, {"Operations": {"op": "add"}}):
        assert_scim_error(contoso_scim.patch(f"Users/{user['id']}", body), 400, "invalidSyntax")
    assert_scim_error(
        contoso_scim.patch(f"Users/{user['id']}", {"Operations": ["add"]}), 400, "invalidSyntax"
    )


def test_a_body_over_1_mb_is_413(contoso_scim):
    huge = json.dumps({"userName": "x@y.z", "displayName": "x" * (1024 * 1024)}).encode()
    assert_scim_error(contoso_scim.post("Users", raw=huge), 413)


@pytest.mark.parametrize("path", ["Nope", "Users/1/2", "Groups/x/members", "v1/Users"])
@pytest.mark.parametrize("method", ["GET", "POST", "OPTIONS"])
def test_unknown_paths_are_scim_404s(contoso_scim, path, method):
    assert_scim_error(contoso_scim.request(method, path), 404)


@pytest.mark.parametrize("path", ["Bulk", "Me", ".search", "Users/.search"])
def test_bulk_and_me_are_501(contoso_scim, path):
    assert_scim_error(contoso_scim.post(path, {}), 501)
    assert_scim_error(contoso_scim.get(path), 501)


def test_the_tenant_url_itself_answers_scim_json_without_redirect(contoso_scim):
    for path in ("/api/v2/scim", "/api/v2/scim/"):
        assert_scim_error(contoso_scim.get(path), 404)


def test_unsupported_methods_are_405_scim(contoso_scim):
    assert_scim_error(contoso_scim.request("OPTIONS", "Users"), 405)
    assert_scim_error(contoso_scim.patch("Schemas", patch_body()), 405)


def test_unexpected_errors_are_a_generic_500_with_details_only_in_the_log(
    contoso_scim, monkeypatch, caplog
):
    def explode(*args, **kwargs):
        raise RuntimeError("secret internals: SELECT * FROM sites_scimtoken")

    monkeypatch.setattr(users, "to_scim", explode)
    with caplog.at_level("ERROR"):
        response = contoso_scim.post("Users", {"userName": "boom@contoso.example"})
    body = assert_scim_error(response, 500)
    assert "secret internals" not in body["detail"] and "SELECT" not in body["detail"]
    assert "secret internals" in caplog.text


def test_values_longer_than_the_columns_are_400_not_a_database_error(contoso_scim):
    response = contoso_scim.post("Users", {"userName": "x" * 400})
    body = assert_scim_error(response, 400, "invalidValue")
    assert "longer than" in body["detail"]


def test_database_errors_do_not_leak_constraint_names(contoso_scim):
    create_user(contoso_scim, "dup@contoso.example")
    body = assert_scim_error(
        contoso_scim.post("Users", {"userName": "DUP@contoso.example"}), 409, "uniqueness"
    )
    assert "scim_user_username_unique_per_site" not in body["detail"]
    assert "constraint" not in body["detail"].lower() and "unique" not in body["detail"].lower()


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
@pytest.mark.parametrize("path", ["Users", "Groups/"])
def test_writes_to_a_collection_are_405_with_allow(contoso_scim, method, path):
    response = contoso_scim.request(method, path, patch_body())
    assert_scim_error(response, 405)


def test_405_says_what_is_allowed(contoso_scim):
    response = contoso_scim.request("OPTIONS", "Schemas")
    assert_scim_error(response, 405)
    assert response["Allow"] == "GET, HEAD"


def test_head_is_answered_like_get(contoso_scim):
    response = contoso_scim.request("HEAD", "Users")
    assert response.status_code == 200 and response.content == b""


@pytest.mark.parametrize(
    "raw",
    [
        b'{"userName": "d@x", "name": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        b'{"userName": "n@x", "externalId": ' + b"9" * 5000 + b"}",
    ],
)
def test_pathological_json_is_400_not_500(contoso_scim, raw):
    assert_scim_error(contoso_scim.post("Users", raw=raw), 400, "invalidSyntax")


def test_a_utf8_byte_order_mark_is_accepted(contoso_scim):
    raw = "\ufeff".encode() + json.dumps({"userName": "bom@contoso.example"}).encode()
    assert contoso_scim.post("Users", raw=raw).status_code == 201


@pytest.mark.parametrize(
    "raw",
    [
        b'{"userName": "nul\\u0000@contoso.example"}',
        b'{"userName": "lone\\ud800@contoso.example"}',
        b'{"userName": "ok@contoso.example", "name": {"givenName": "a\\u0000"}}',
        b'{"userName": "ok@contoso.example", "emails": [{"value": "x\\udfff@y"}]}',
    ],
)
def test_strings_no_database_can_store_are_400(contoso_scim, raw):
    assert_scim_error(contoso_scim.post("Users", raw=raw), 400, "invalidValue")


def test_a_huge_start_index_is_an_empty_page(contoso_scim):
    create_user(contoso_scim, "one@contoso.example")
    body = contoso_scim.get("Users", startIndex=10**30).json()
    assert body["startIndex"] == 10**30 and body["Resources"] == [] and body["totalResults"] == 1


def test_a_non_numeric_content_length_is_400(contoso_scim):
    response = contoso_scim.request("POST", "Users", raw=b"{}", CONTENT_LENGTH="abc")
    assert_scim_error(response, 400)


def test_a_chunked_body_without_length_is_411(contoso_scim):
    response = contoso_scim.request(
        "POST", "Users", raw=b"", headers={"Transfer-Encoding": "chunked"}
    )
    assert_scim_error(response, 411)


def test_a_host_this_service_does_not_answer_for_is_400_and_changes_nothing(contoso_scim, settings):
    """Every answer's meta.location is built from the Host header, and any write could
    happen before it is: ALLOWED_HOSTS is checked first, as for every other page."""
    settings.ALLOWED_HOSTS = ["testserver"]  # the test client's host
    user = create_user(contoso_scim, "host@contoso.example")
    group = create_group(contoso_scim, "Hosts")
    evil = {"headers": {"Host": "evil.example"}}
    requests = [
        contoso_scim.request("GET", f"Users/{user['id']}", **evil),
        contoso_scim.request("GET", "ServiceProviderConfig", **evil),
        contoso_scim.post("Users", {"userName": "evil@contoso.example"}, **evil),
        contoso_scim.patch(
            f"Groups/{group['id']}",
            patch_body({"op": "replace", "path": "externalId", "value": "set-via-evil"}),
            **evil,
        ),
        contoso_scim.delete(f"Users/{user['id']}", **evil),
    ]
    for response in requests:
        assert "Host header" in assert_scim_error(response, 400)["detail"]
    users = contoso_scim.get("Users").json()
    assert [found["userName"] for found in users["Resources"]] == ["host@contoso.example"]
    assert "externalId" not in contoso_scim.get(f"Groups/{group['id']}").json()


@pytest.mark.parametrize(
    "body",
    [
        {"userName": "first@contoso.example", "USERNAME": "second@contoso.example"},
        {"userName": "t@contoso.example", "title": "T1", "Title": "T2"},
        {
            "userName": "d@contoso.example",
            users.ENTERPRISE_URN: {"department": "A"},
            users.ENTERPRISE_URN.upper(): {"department": "B"},
        },
        {
            "userName": "n@contoso.example",
            "name": {"givenName": "Ada", "GIVENNAME": "Grace"},
        },
        {
            "userName": "e@contoso.example",
            "emails": [{"value": "a@contoso.example", "VALUE": "b@contoso.example"}],
        },
    ],
    ids=["userName", "title", "extension", "name.givenName", "emails.value"],
)
def test_an_attribute_given_twice_in_different_case_is_400_not_one_of_them_dropped(
    contoso_scim, body
):
    error = assert_scim_error(contoso_scim.post("Users", body), 400, "invalidSyntax")
    assert "given twice" in error["detail"]
    assert contoso_scim.get("Users").json()["totalResults"] == 0


def test_a_sub_attribute_given_twice_in_a_patch_value_is_400_and_changes_nothing(contoso_scim):
    user = contoso_scim.post(
        "Users", {"userName": "p@contoso.example", "name": {"givenName": "Ada"}}
    ).json()
    body = patch_body(
        {"op": "replace", "path": "name", "value": {"givenName": "B", "GIVENNAME": "C"}}
    )
    error = assert_scim_error(contoso_scim.patch(f"Users/{user['id']}", body), 400, "invalidSyntax")
    assert "name.givenName is given twice" in error["detail"]
    assert contoso_scim.get(f"Users/{user['id']}").json()["name"] == {"givenName": "Ada"}
