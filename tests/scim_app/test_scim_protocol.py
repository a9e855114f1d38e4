"""What every SCIM answer looks like: SCIM JSON, never HTML or a redirect (entra-provisioning.md §1, §6)."""

import json

import pytest
from django.db import connection

from scim_app import views

from .conftest import assert_scim_error, create_user, patch_body


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
def test_unknown_paths_are_scim_404s(contoso_scim, path):
    assert_scim_error(contoso_scim.get(path), 404)


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

    monkeypatch.setattr(views.adapters.UserAdapter, "to_dict", explode)
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
    assert connection.vendor in ("postgresql", "sqlite")
