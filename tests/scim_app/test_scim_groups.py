"""/Groups and memberships as Entra drives them, both dialects."""

import pytest

from scim_app.models import Membership, ScimGroup, ScimUser

from .conftest import assert_scim_error, create_group, create_user, patch_body

GROUP_URN = "urn:ietf:params:scim:schemas:core:2.0:Group"
MS_GROUP_URN = "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"


@pytest.fixture
def people(contoso_scim):
    return [create_user(contoso_scim, f"user{i}@contoso.example")["id"] for i in range(4)]


def members_of(group: dict) -> set[str]:
    return {
        str(m)
        for m in Membership.objects.filter(group_id=group["id"]).values_list("user_id", flat=True)
    }


def add(*ids, op="Add"):
    return {"op": op, "path": "members", "value": [{"$ref": None, "value": i} for i in ids]}


def test_entra_group_create(contoso_scim, contoso):
    response = contoso_scim.post(
        "Groups",
        {
            "schemas": [GROUP_URN, MS_GROUP_URN],
            "externalId": "4be0d6a2-93c1-4e1f-b0a7-5d8e2c6f7a13",
            "displayName": "Finance Team",
            "meta": {"resourceType": "Group"},
        },
    )
    assert response.status_code == 201
    body = response.json()
    assert body["displayName"] == "Finance Team"
    assert body["externalId"] == "4be0d6a2-93c1-4e1f-b0a7-5d8e2c6f7a13"
    assert body["members"] == []
    assert response["Location"] == body["meta"]["location"]
    assert ScimGroup.objects.get(id=body["id"]).site == contoso


def test_create_with_members(contoso_scim, people):
    group = create_group(contoso_scim, "Ops", members=[{"value": people[0]}, {"value": people[1]}])
    assert {m["value"] for m in group["members"]} == set(people[:2])


def test_duplicate_display_name_is_409_case_insensitively(contoso_scim, finance):
    assert_scim_error(
        contoso_scim.post("Groups", {"displayName": "FINANCE team"}), 409, "uniqueness"
    )


@pytest.mark.parametrize(
    "body", [{}, {"displayName": ""}, {"displayName": 3}, {"displayName": "x" * 256}]
)
def test_invalid_groups_are_400(contoso_scim, body):
    assert_scim_error(contoso_scim.post("Groups", body), 400, "invalidValue")
    assert not ScimGroup.objects.exists()


def test_add_members_appends_and_tolerates_existing_ones(contoso_scim, finance, people):
    assert (
        contoso_scim.patch(f"Groups/{finance['id']}", patch_body(add(*people[:2]))).status_code
        == 204
    )
    response = contoso_scim.patch(
        f"Groups/{finance['id']}", patch_body(add(people[1], people[2]), add(people[3], op="add"))
    )
    assert response.status_code == 204 and response.content == b""
    assert members_of(finance) == set(people)


def test_remove_with_a_value_list_removes_only_those(contoso_scim, finance, people):
    contoso_scim.patch(f"Groups/{finance['id']}", patch_body(add(*people)))
    response = contoso_scim.patch(
        f"Groups/{finance['id']}",
        patch_body({"op": "Remove", "path": "members", "value": [{"value": people[0]}]}),
    )
    assert response.status_code == 204
    assert members_of(finance) == set(people[1:])


def test_new_dialect_remove_by_value_filter_path(contoso_scim, finance, people):
    contoso_scim.patch(f"Groups/{finance['id']}", patch_body(add(*people)))
    response = contoso_scim.patch(
        f"Groups/{finance['id']}",
        patch_body({"op": "remove", "path": f'members[value eq "{people[2]}"]'}),
    )
    assert response.status_code == 204
    assert members_of(finance) == {people[0], people[1], people[3]}


def test_remove_members_without_value_removes_all(contoso_scim, finance, people):
    contoso_scim.patch(f"Groups/{finance['id']}", patch_body(add(*people)))
    contoso_scim.patch(f"Groups/{finance['id']}", patch_body({"op": "Remove", "path": "members"}))
    assert members_of(finance) == set()
    assert ScimUser.objects.count() == 4


def test_replace_members_sets_exactly_the_list(contoso_scim, finance, people):
    contoso_scim.patch(f"Groups/{finance['id']}", patch_body(add(*people[:3])))
    contoso_scim.patch(
        f"Groups/{finance['id']}",
        patch_body({"op": "replace", "path": "members", "value": [{"value": people[3]}]}),
    )
    assert members_of(finance) == {people[3]}


def test_path_less_ops_on_a_group(contoso_scim, finance, people):
    response = contoso_scim.patch(
        f"Groups/{finance['id']}",
        patch_body(
            {"op": "replace", "value": {"displayName": "Finance & Ops", "externalId": "e2"}},
            {"op": "add", "value": {"members": [{"value": people[0]}]}},
        ),
    )
    assert response.status_code == 204
    group = contoso_scim.get(f"Groups/{finance['id']}").json()
    assert group["displayName"] == "Finance & Ops" and group["externalId"] == "e2"
    assert [m["value"] for m in group["members"]] == [people[0]]
    assert group["meta"]["lastModified"] > finance["meta"]["lastModified"]


def test_rename(contoso_scim, finance):
    contoso_scim.patch(
        f"Groups/{finance['id']}",
        patch_body({"op": "Replace", "path": "displayName", "value": "Finance & Ops"}),
    )
    assert contoso_scim.get(f"Groups/{finance['id']}").json()["displayName"] == "Finance & Ops"


def test_a_path_less_replace_may_carry_the_groups_own_id_but_no_other(contoso_scim, finance):
    # Some clients send the group back with its id; the id is not theirs to change.
    own = {"op": "replace", "value": {"id": finance["id"], "displayName": "Finance & Ops"}}
    assert contoso_scim.patch(f"Groups/{finance['id']}", patch_body(own)).status_code == 204
    assert contoso_scim.get(f"Groups/{finance['id']}").json()["displayName"] == "Finance & Ops"

    other_id = "0b9e1d2c-3f4a-4b5c-8d6e-7f8091a2b3c4"
    other = {"op": "replace", "value": {"id": other_id, "displayName": "Renamed"}}
    response = contoso_scim.patch(f"Groups/{finance['id']}", patch_body(other))
    assert_scim_error(response, 400, "mutability")
    assert contoso_scim.get(f"Groups/{finance['id']}").json()["displayName"] == "Finance & Ops"


def test_rename_onto_another_group_is_409(contoso_scim, finance):
    other = create_group(contoso_scim, "Sales")
    response = contoso_scim.patch(
        f"Groups/{other['id']}",
        patch_body({"op": "Replace", "path": "displayName", "value": "finance team"}),
    )
    assert_scim_error(response, 409, "uniqueness")


@pytest.mark.parametrize("bad", ["not-a-uuid", "0b9e1d2c-3f4a-4b5c-8d6e-7f8091a2b3c4", None, 17])
def test_unknown_member_is_400_invalid_value_and_nothing_changes(
    contoso_scim, finance, people, bad
):
    response = contoso_scim.patch(
        f"Groups/{finance['id']}",
        patch_body(
            {"op": "replace", "path": "displayName", "value": "Renamed"},
            add(people[0]),
            {"op": "Add", "path": "members", "value": [{"value": people[1]}, {"value": bad}]},
        ),
    )
    assert_scim_error(response, 400, "invalidValue")
    assert members_of(finance) == set()
    assert contoso_scim.get(f"Groups/{finance['id']}").json()["displayName"] == "Finance Team"


@pytest.mark.parametrize(
    ("operation", "scim_type"),
    [
        ({"op": "add", "path": 'members[value eq "x"]', "value": "x"}, "invalidPath"),
        ({"op": "replace", "path": "owner", "value": "x"}, "invalidPath"),
        ({"op": "remove", "path": "displayName"}, "invalidValue"),
        ({"op": "add", "path": "members", "value": "nope"}, "invalidValue"),
        ({"op": "add", "path": "members", "value": ["nope"]}, "invalidValue"),
        ({"op": "move", "path": "members", "value": []}, "invalidSyntax"),
    ],
)
def test_bad_group_patches(contoso_scim, finance, operation, scim_type):
    assert_scim_error(
        contoso_scim.patch(f"Groups/{finance['id']}", patch_body(operation)), 400, scim_type
    )


def test_removing_a_member_who_was_deleted_is_fine(contoso_scim, finance, people):
    contoso_scim.patch(f"Groups/{finance['id']}", patch_body(add(people[0])))
    contoso_scim.delete(f"Users/{people[0]}")
    response = contoso_scim.patch(
        f"Groups/{finance['id']}",
        patch_body({"op": "Remove", "path": "members", "value": [{"value": people[0]}]}),
    )
    assert response.status_code == 204


def test_deleting_a_user_takes_it_out_of_its_groups_but_keeps_the_rows(
    contoso_scim, finance, people
):
    contoso_scim.patch(f"Groups/{finance['id']}", patch_body(add(*people[:2])))
    contoso_scim.delete(f"Users/{people[0]}")
    shown = contoso_scim.get(f"Groups/{finance['id']}").json()["members"]
    assert [member["value"] for member in shown] == [people[1]]
    listed = contoso_scim.get("Groups", filter=f'members eq "{people[0]}"').json()
    assert listed["totalResults"] == 0
    # Kept (with the user) for the retention period, so that a restore brings them back.
    assert members_of(finance) == {people[0], people[1]}


def test_deleting_a_group_keeps_its_users(contoso_scim, finance, people):
    contoso_scim.patch(f"Groups/{finance['id']}", patch_body(add(*people)))
    assert contoso_scim.delete(f"Groups/{finance['id']}").status_code == 204
    assert_scim_error(contoso_scim.get(f"Groups/{finance['id']}"), 404)
    assert contoso_scim.get("Users").json()["totalResults"] == 4
    assert contoso_scim.get("Groups").json()["totalResults"] == 0
    assert members_of(finance) == set(people)  # kept with the deleted group


def test_excluded_members_are_not_returned(contoso_scim, finance, people):
    contoso_scim.patch(f"Groups/{finance['id']}", patch_body(add(people[0])))
    one = contoso_scim.get(f"Groups/{finance['id']}", excludedAttributes="members").json()
    assert "members" not in one and one["displayName"] == "Finance Team"
    listed = contoso_scim.get(
        "Groups", excludedAttributes="members", filter='displayName eq "Finance Team"'
    ).json()
    assert listed["totalResults"] == 1 and "members" not in listed["Resources"][0]
    full = contoso_scim.get(f"Groups/{finance['id']}").json()
    assert full["members"] == [
        {
            "value": people[0],
            "$ref": f"http://testserver/api/v2/scim/Users/{people[0]}",
            "display": "user0@contoso.example",
            "type": "User",
        }
    ]


def test_put_replaces_name_and_members(contoso_scim, finance, people):
    contoso_scim.patch(f"Groups/{finance['id']}", patch_body(add(*people[:2])))
    response = contoso_scim.put(
        f"Groups/{finance['id']}",
        {"schemas": [GROUP_URN], "displayName": "Finance", "members": [{"value": people[3]}]},
    )
    assert response.status_code == 200
    assert response.json()["displayName"] == "Finance"
    assert members_of(finance) == {people[3]}


def test_microsofts_group_schema_is_accepted_but_nothing_under_it_is_dropped(contoso_scim, finance):
    listed = contoso_scim.post(
        "Groups", {"schemas": [GROUP_URN, MS_GROUP_URN], "displayName": "Payroll"}
    )
    assert listed.status_code == 201
    response = contoso_scim.patch(
        f"Groups/{finance['id']}",
        patch_body(
            {
                "op": "replace",
                "value": {
                    "displayName": "Finance",
                    f"{MS_GROUP_URN}:description": "not stored here",
                },
            }
        ),
    )
    body = assert_scim_error(response, 400, "invalidPath")
    assert MS_GROUP_URN in body["detail"]
    # All or nothing: the rename in the same operation did not happen either.
    assert contoso_scim.get(f"Groups/{finance['id']}").json()["displayName"] == "Finance Team"


@pytest.mark.parametrize("value", ["   ", ""])
def test_whitespace_only_group_names_are_refused_by_patch(contoso_scim, finance, value):
    response = contoso_scim.patch(
        f"Groups/{finance['id']}",
        patch_body({"op": "replace", "path": "displayName", "value": value}),
    )
    assert_scim_error(response, 400, "invalidValue")


def test_more_members_at_once_than_one_statement_takes(contoso_scim, contoso, finance):
    """Adds and replaces are written a batch of ids per statement (groups.BATCH): a list
    across batches is checked whole first, and applied whole."""
    users = ScimUser.objects.bulk_create(
        ScimUser(site=contoso, user_name=f"user{n:04}@contoso.example") for n in range(1201)
    )
    ids = [str(user.id) for user in users]
    deleted = create_user(contoso_scim, "gone@contoso.example")["id"]
    assert contoso_scim.delete(f"Users/{deleted}").status_code == 204

    # An id that is not a live user of the site, past the second batch: nothing is added.
    response = contoso_scim.patch(f"Groups/{finance['id']}", patch_body(add(*ids, deleted)))
    assert_scim_error(response, 400, "invalidValue")
    assert deleted in response.json()["detail"]
    assert members_of(finance) == set()

    # Repeated ids and existing members are fine.
    assert (
        contoso_scim.patch(f"Groups/{finance['id']}", patch_body(add(*ids[:10]))).status_code == 204
    )
    response = contoso_scim.patch(f"Groups/{finance['id']}", patch_body(add(*ids, *ids[:600])))
    assert response.status_code == 204
    assert members_of(finance) == set(ids)

    body = {
        "schemas": [GROUP_URN],
        "displayName": "Finance Team",
        "members": [{"value": i} for i in ids[600:]],
    }
    assert contoso_scim.put(f"Groups/{finance['id']}", body).status_code == 200
    assert members_of(finance) == set(ids[600:])
