"""/Users as Entra drives it (shared/docs/entra-provisioning.md §3-4), both PATCH dialects."""

import pytest

from scim_app.models import ScimUser

from .conftest import ENTERPRISE_URN, assert_scim_error, create_user, entra_user, patch_body

USER_URN = "urn:ietf:params:scim:schemas:core:2.0:User"


def test_entra_create_returns_201_with_the_stored_resource(contoso_scim, contoso):
    response = contoso_scim.post("Users", entra_user("dana.fisher@contoso.example"))
    assert response.status_code == 201
    assert response["Content-Type"].startswith("application/scim+json")
    body = response.json()
    assert response["Location"] == body["meta"]["location"]
    assert body["meta"]["location"] == f"http://testserver/api/v2/scim/Users/{body['id']}"
    assert body["meta"]["resourceType"] == "User"
    assert body["meta"]["created"].endswith("Z") and body["meta"]["lastModified"]
    assert body["schemas"] == [USER_URN]
    assert body["userName"] == "dana.fisher@contoso.example"
    assert body["externalId"] == "ext-dana.fisher@contoso.example"
    assert body["name"] == {"formatted": "Dana Fisher", "familyName": "Fisher", "givenName": "Dana"}
    assert body["emails"] == [
        {"value": "dana.fisher@contoso.example", "type": "work", "primary": True}
    ]
    assert body["active"] is True
    assert "roles" not in body and "null" not in response.content.decode()
    user = ScimUser.objects.get(id=body["id"])
    assert user.site == contoso
    assert user.work_email == "dana.fisher@contoso.example"


def test_create_accepts_string_booleans_nulls_and_unknown_schemas(contoso_scim):
    body = entra_user(
        "lee@contoso.example",
        active="False",
        schemas=[USER_URN, "urn:example:unknown:1.0"],
        nickName=None,
        title="Engineer",
        **{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "IT"}},
    )
    response = contoso_scim.post("Users", body)
    assert response.status_code == 201, response.content
    assert response.json()["active"] is False
    assert response.json()["title"] == "Engineer"
    assert response.json()[ENTERPRISE_URN] == {"department": "IT"}
    assert "nickName" not in response.json()


def test_a_user_without_name_or_emails_is_stored_as_sent(contoso_scim):
    response = contoso_scim.post(
        "Users", {"schemas": [USER_URN], "userName": "svc@contoso.example"}
    )
    assert response.status_code == 201
    body = response.json()
    assert "name" not in body and "emails" not in body and "externalId" not in body
    assert body["active"] is True


def test_duplicate_username_is_409_uniqueness_case_insensitively(contoso_scim, dana):
    response = contoso_scim.post("Users", entra_user("DANA.Fisher@contoso.example"))
    body = assert_scim_error(response, 409, "uniqueness")
    assert "already exists" in body["detail"] and "constraint" not in body["detail"].lower()


def test_the_same_username_may_exist_in_two_sites(contoso_scim, fabrikam_scim, dana):
    create_user(fabrikam_scim, "dana.fisher@contoso.example")


def test_get_by_id_returns_what_was_created(contoso_scim, dana):
    response = contoso_scim.get(f"Users/{dana['id']}")
    assert response.status_code == 200
    assert response.json() == dana


def test_trailing_slash_and_unknown_query_parameters_are_fine(contoso_scim, dana):
    assert contoso_scim.get(f"Users/{dana['id']}/").status_code == 200
    response = contoso_scim.get("Users/", aadOptscim062020="", filter='userName eq "x"')
    assert response.status_code == 200


def test_default_dialect_disable_and_enable_with_string_booleans(contoso_scim, dana):
    for value, expected in (("False", False), ("True", True), ("false", False)):
        response = contoso_scim.patch(
            f"Users/{dana['id']}", patch_body({"op": "Replace", "path": "active", "value": value})
        )
        assert response.status_code == 200
        assert response.json()["active"] is expected


def test_a_disabled_user_is_still_returned_by_get_and_filter(contoso_scim, dana):
    contoso_scim.patch(
        f"Users/{dana['id']}", patch_body({"op": "replace", "path": "active", "value": False})
    )
    assert contoso_scim.get(f"Users/{dana['id']}").json()["active"] is False
    found = contoso_scim.get("Users", filter=f'userName eq "{dana["userName"]}"').json()
    assert found["totalResults"] == 1 and found["Resources"][0]["active"] is False


def test_default_dialect_one_op_per_attribute(contoso_scim, dana):
    response = contoso_scim.patch(
        f"Users/{dana['id']}",
        patch_body(
            {"op": "Replace", "path": "name.familyName", "value": "Fisher-Lee"},
            {"op": "Replace", "path": "name.givenName", "value": "Dana J."},
            {"op": "Replace", "path": "externalId", "value": "new-ext"},
            {"op": "Add", "path": "displayName", "value": "Dana Fisher-Lee"},
        ),
    )
    body = response.json()
    assert body["name"]["familyName"] == "Fisher-Lee" and body["name"]["givenName"] == "Dana J."
    assert body["externalId"] == "new-ext" and body["displayName"] == "Dana Fisher-Lee"


def test_new_dialect_path_less_op_with_dotted_and_urn_keys(contoso_scim, dana):
    response = contoso_scim.patch(
        f"Users/{dana['id']}",
        patch_body(
            {
                "op": "replace",
                "value": {
                    "name.givenName": "Dana",
                    "name.familyName": "Lee",
                    "externalId": "9f1c",
                    "active": False,
                    "urn:ietf:params:scim:schemas:core:2.0:User:displayName": "Dana Lee",
                    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department": "IT",
                },
            }
        ),
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["name"]["familyName"] == "Lee" and body["externalId"] == "9f1c"
    assert body["active"] is False and body["displayName"] == "Dana Lee"
    assert body[ENTERPRISE_URN] == {"department": "IT"}


def test_op_and_attribute_names_are_case_insensitive(contoso_scim, dana):
    response = contoso_scim.patch(
        f"Users/{dana['id']}",
        {"operations": [{"OP": "REPLACE", "Path": "Name.FamilyName", "VALUE": "X"}]},
    )
    assert response.status_code == 200 and response.json()["name"]["familyName"] == "X"


def test_a_path_naming_the_core_schema_is_a_path_less_operation(contoso_scim, dana):
    response = contoso_scim.patch(
        f"Users/{dana['id']}",
        patch_body(
            {"op": "replace", "path": USER_URN, "value": {"displayName": "Dana F."}},
        ),
    )
    assert response.json()["displayName"] == "Dana F."


def test_work_email_replace_changes_the_work_entry(contoso_scim, dana):
    response = contoso_scim.patch(
        f"Users/{dana['id']}",
        patch_body(
            {
                "op": "Replace",
                "path": 'emails[type eq "work"].value',
                "value": "dana@contoso.example",
            }
        ),
    )
    assert response.json()["emails"] == [
        {"value": "dana@contoso.example", "type": "work", "primary": True}
    ]
    assert ScimUser.objects.get(id=dana["id"]).work_email == "dana@contoso.example"


def test_work_email_add_creates_the_entry_when_absent(contoso_scim):
    user = create_user(contoso_scim, "no.mail@contoso.example", emails=[])
    assert "emails" not in user
    response = contoso_scim.patch(
        f"Users/{user['id']}",
        patch_body(
            {"op": "Add", "path": 'emails[type eq "work"].value', "value": "nm@contoso.example"}
        ),
    )
    assert response.json()["emails"] == [{"type": "work", "value": "nm@contoso.example"}]
    found = contoso_scim.get("Users", filter='emails[type eq "work"].value eq "NM@contoso.example"')
    assert found.json()["totalResults"] == 1


def test_removing_the_work_email(contoso_scim, dana):
    response = contoso_scim.patch(
        f"Users/{dana['id']}", patch_body({"op": "remove", "path": 'emails[type eq "work"]'})
    )
    assert "emails" not in response.json()
    assert ScimUser.objects.get(id=dana["id"]).work_email == ""


def test_rename_keeps_the_id(contoso_scim, dana):
    response = contoso_scim.patch(
        f"Users/{dana['id']}",
        patch_body({"op": "Replace", "path": "userName", "value": "dana.lee@contoso.example"}),
    )
    assert response.json()["id"] == dana["id"]
    assert response.json()["userName"] == "dana.lee@contoso.example"


def test_rename_onto_another_users_name_is_409_and_changes_nothing(contoso_scim, dana):
    other = create_user(contoso_scim, "sam.lee@contoso.example")
    response = contoso_scim.patch(
        f"Users/{other['id']}",
        patch_body(
            {"op": "Replace", "path": "displayName", "value": "Sam"},
            {"op": "Replace", "path": "userName", "value": "Dana.Fisher@contoso.example"},
        ),
    )
    assert_scim_error(response, 409, "uniqueness")
    assert contoso_scim.get(f"Users/{other['id']}").json() == other


def test_an_empty_operations_list_is_a_no_op(contoso_scim, dana):
    response = contoso_scim.patch(f"Users/{dana['id']}", patch_body())
    assert response.status_code == 200
    assert response.json()["meta"]["lastModified"] == dana["meta"]["lastModified"]


def test_patch_is_all_or_nothing(contoso_scim, dana):
    response = contoso_scim.patch(
        f"Users/{dana['id']}",
        patch_body(
            {"op": "Replace", "path": "name.familyName", "value": "Changed"},
            {"op": "Replace", "path": "active", "value": "maybe"},
        ),
    )
    assert_scim_error(response, 400, "invalidValue")
    assert contoso_scim.get(f"Users/{dana['id']}").json() == dana


@pytest.mark.parametrize(
    ("operation", "scim_type"),
    [
        ({"op": "Frobnicate", "path": "active", "value": True}, "invalidSyntax"),
        ({"path": "active", "value": True}, "invalidSyntax"),
        ({"op": "replace", "path": "favouriteColour", "value": "red"}, "invalidPath"),
        ({"op": "replace", "path": "name[givenName eq 1", "value": "x"}, "invalidPath"),
        ({"op": "replace", "path": 'addresses[type eq "work"].x y', "value": "x"}, "invalidPath"),
        ({"op": "remove"}, "noTarget"),
        ({"op": "replace", "value": "not an object"}, "invalidValue"),
        ({"op": "replace", "path": "userName", "value": 42}, "invalidValue"),
        ({"op": "replace", "path": "userName", "value": ""}, "invalidValue"),
        ({"op": "remove", "path": "userName"}, "invalidValue"),
        ({"op": "replace", "path": "name.givenName", "value": "x" * 256}, "invalidValue"),
        ({"op": "replace", "path": "emails", "value": [{"type": "work"}]}, "invalidValue"),
        ({"op": "replace", "path": 'emails[type eq "work"].display', "value": "D"}, "invalidPath"),
        ({"op": "replace", "path": "name", "value": "Dana"}, "invalidValue"),
    ],
)
def test_bad_patch_operations_are_400_with_the_right_scim_type(
    contoso_scim, dana, operation, scim_type
):
    response = contoso_scim.patch(f"Users/{dana['id']}", patch_body(operation))
    assert_scim_error(response, 400, scim_type)
    assert contoso_scim.get(f"Users/{dana['id']}").json() == dana


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"userName": ""},
        {"userName": 7},
        {"userName": "x" * 321},
        {"userName": "a@b.c", "active": "yes"},
        {"userName": "a@b.c", "name": "Dana"},
        {"userName": "a@b.c", "emails": "a@b.c"},
        {"userName": "a@b.c", "emails": [{"value": 3}]},
        {"userName": "a@b.c", "externalId": ["x"]},
        {"userName": "a@b.c", "name": {"givenName": "x" * 256}},
    ],
)
def test_invalid_users_are_400_invalid_value_and_nothing_is_stored(contoso_scim, body):
    assert_scim_error(contoso_scim.post("Users", body), 400, "invalidValue")
    assert not ScimUser.objects.exists()


def test_put_replaces_the_whole_user(contoso_scim, dana):
    response = contoso_scim.put(
        f"Users/{dana['id']}",
        {"schemas": [USER_URN], "userName": "dana.fisher@contoso.example", "active": False},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["active"] is False
    assert "name" not in body and "emails" not in body and "externalId" not in body


def test_delete_then_404(contoso_scim, dana):
    response = contoso_scim.delete(f"Users/{dana['id']}")
    assert response.status_code == 204 and response.content == b""
    assert_scim_error(contoso_scim.get(f"Users/{dana['id']}"), 404)
    assert_scim_error(contoso_scim.delete(f"Users/{dana['id']}"), 404)


def test_a_malformed_id_is_404(contoso_scim):
    assert_scim_error(contoso_scim.get("Users/not-a-uuid"), 404)
    assert_scim_error(contoso_scim.patch("Users/not-a-uuid", patch_body()), 404)


def test_post_to_an_id_is_405(contoso_scim, dana):
    assert_scim_error(contoso_scim.post(f"Users/{dana['id']}", entra_user("x@y.z")), 405)


@pytest.mark.parametrize("alias", ["{id}", "{ID}", "urn:uuid:{id}", "{hex}", "{{{id}}}"])
def test_only_the_id_exactly_as_issued_finds_the_user(contoso_scim, dana, alias):
    raw = alias.format(id=dana["id"], ID=dana["id"].upper(), hex=dana["id"].replace("-", ""))
    expected = 200 if raw == dana["id"] else 404
    assert contoso_scim.get(f"Users/{raw}").status_code == expected


def test_an_empty_work_email_removes_the_entry(contoso_scim, dana):
    for value in (None, ""):
        response = contoso_scim.patch(
            f"Users/{dana['id']}",
            patch_body({"op": "add", "path": 'emails[type eq "work"].value', "value": value}),
        )
        assert response.status_code == 200 and "emails" not in response.json()


def test_a_whitespace_only_user_name_is_refused_by_patch_too(contoso_scim, dana):
    response = contoso_scim.patch(
        f"Users/{dana['id']}", patch_body({"op": "replace", "path": "userName", "value": "   "})
    )
    assert_scim_error(response, 400, "invalidValue")


def test_at_most_twenty_emails(contoso_scim):
    emails = [{"type": "other", "value": f"a{i}@contoso.example"} for i in range(21)]
    assert_scim_error(
        contoso_scim.post("Users", entra_user("many@contoso.example", emails=emails)),
        400,
        "invalidValue",
    )


def test_attributes_apply_to_write_responses(contoso_scim):
    response = contoso_scim.request(
        "POST", "Users?attributes=userName", entra_user("few@contoso.example")
    )
    assert response.status_code == 201
    assert set(response.json()) == {"schemas", "id", "userName"}


def test_excluded_sub_attributes(contoso_scim, dana):
    one = contoso_scim.get(
        f"Users/{dana['id']}", excludedAttributes="name.givenName,meta.location"
    ).json()
    assert one["name"] == {"formatted": "Dana Fisher", "familyName": "Fisher"}
    assert "location" not in one["meta"] and one["meta"]["resourceType"] == "User"


@pytest.mark.parametrize(
    "operation",
    [
        {"op": "remove", "path": 'emails[type eq "work"].value'},
        {"op": "Remove", "path": "emails.value"},
        {"op": "replace", "path": 'emails[type eq "work"].value', "value": ""},
    ],
    ids=["remove filtered", "remove unfiltered", "replace with empty"],
)
def test_removing_the_work_emails_value_removes_the_work_email(contoso_scim, dana, operation):
    response = contoso_scim.patch(f"Users/{dana['id']}", patch_body(operation))
    assert response.status_code == 200, response.content
    assert "emails" not in response.json()
    assert "emails" not in contoso_scim.get(f"Users/{dana['id']}").json()
    assert ScimUser.objects.get(id=dana["id"]).work_email == ""


def test_removing_a_phone_numbers_value_removes_that_number_only(contoso_scim):
    phones = [{"value": "+1 555 0100", "type": "work"}, {"value": "+1 555 0199", "type": "mobile"}]
    user = create_user(contoso_scim, "phones@contoso.example", phoneNumbers=phones)
    response = contoso_scim.patch(
        f"Users/{user['id']}",
        patch_body({"op": "remove", "path": 'phoneNumbers[type eq "work"].value'}),
    )
    assert response.json()["phoneNumbers"] == [{"value": "+1 555 0199", "type": "mobile"}]
    # What GET shows can be sent back as it is.
    again = contoso_scim.get(f"Users/{user['id']}").json()
    assert contoso_scim.put(f"Users/{user['id']}", again).status_code == 200


@pytest.mark.parametrize("op", ["add", "replace"])
def test_a_sub_attribute_without_a_filter_creates_the_value_when_there_is_none(contoso_scim, op):
    user = create_user(contoso_scim, "no.phone@contoso.example", emails=[])
    response = contoso_scim.patch(
        f"Users/{user['id']}",
        patch_body(
            {"op": op, "path": "emails.value", "value": "np@contoso.example"},
            {"op": op, "path": "phoneNumbers.value", "value": "+1 555 0100"},
            {"op": op, "path": "addresses.locality", "value": "Berlin"},
        ),
    )
    assert response.status_code == 200, response.content
    user = response.json()
    assert user["emails"] == [{"value": "np@contoso.example"}]
    assert user["phoneNumbers"] == [{"value": "+1 555 0100"}]
    assert user["addresses"] == [{"locality": "Berlin"}]
    assert contoso_scim.get(f"Users/{user['id']}").json() == user


def test_a_value_made_without_its_value_is_refused(contoso_scim):
    user = create_user(contoso_scim, "no.mail@contoso.example", emails=[])
    response = contoso_scim.patch(
        f"Users/{user['id']}", patch_body({"op": "add", "path": "emails.type", "value": "work"})
    )
    assert_scim_error(response, 400, "invalidValue")
    assert "emails" not in contoso_scim.get(f"Users/{user['id']}").json()
