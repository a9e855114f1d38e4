"""Security invariant: a site's token reaches that site's data and nothing else.

Contoso and Fabrikam belong to one MSP, Woodgrove to another; none of them may read,
find, change or delete another's users and groups, nor put another's user in a group.
Another site's id is answered exactly like an id that never existed.
"""

import uuid

import pytest

from scim_app.models import Membership, ScimGroup, ScimUser

from .conftest import assert_scim_error, create_group, create_user, patch_body


@pytest.fixture
def theirs(woodgrove_scim):
    """Woodgrove's user and group, which Contoso's token must not reach."""
    user = create_user(woodgrove_scim, "mallory@woodgrove.example")
    group = create_group(woodgrove_scim, "Woodgrove Staff")
    woodgrove_scim.patch(
        f"Groups/{group['id']}",
        patch_body({"op": "add", "path": "members", "value": [{"value": user["id"]}]}),
    )
    return {"user": user, "group": group}


def same_as_never_existed(response) -> dict:
    """A 404 that says nothing of the other site."""
    body = assert_scim_error(response, 404)
    assert "woodgrove" not in response.content.decode().lower()
    return body


@pytest.mark.parametrize("kind", ["Users", "Groups"])
def test_reads_writes_and_deletes_by_another_sites_id_are_404(contoso_scim, theirs, kind):
    target = theirs["user" if kind == "Users" else "group"]
    path = f"{kind}/{target['id']}"
    never = f"{kind}/{uuid.uuid4()}"
    for method, body in [
        ("GET", None),
        ("PATCH", patch_body({"op": "replace", "path": "externalId", "value": "pwned"})),
        ("PUT", {"userName": "pwned@x.example", "displayName": "pwned"}),
        ("DELETE", None),
    ]:
        foreign = same_as_never_existed(contoso_scim.request(method, path, body))
        unknown = same_as_never_existed(contoso_scim.request(method, never, body))
        assert foreign["detail"].replace(target["id"], "?") == unknown["detail"].replace(
            never.split("/")[1], "?"
        )
    assert ScimUser.objects.filter(external_id="pwned").count() == 0
    assert ScimGroup.objects.filter(external_id="pwned").count() == 0
    assert ScimUser.objects.filter(id=theirs["user"]["id"]).exists()
    assert ScimGroup.objects.filter(id=theirs["group"]["id"]).exists()


def test_filters_and_lists_never_show_another_sites_rows(contoso_scim, theirs):
    for filter_text in [
        'userName eq "mallory@woodgrove.example"',
        f'id eq "{theirs["user"]["id"]}"',
        'userName eq "x" or userName pr',
        'not (userName eq "x")',
    ]:
        body = contoso_scim.get("Users", filter=filter_text).json()
        assert body["totalResults"] == 0 and body["Resources"] == []
    assert contoso_scim.get("Users").json()["totalResults"] == 0
    assert contoso_scim.get("Groups").json()["totalResults"] == 0
    body = contoso_scim.get("Groups", filter='displayName eq "Woodgrove Staff"').json()
    assert body["totalResults"] == 0


def test_another_sites_user_cannot_join_a_group(contoso_scim, theirs):
    group = create_group(contoso_scim, "Contoso Staff")
    ours = create_user(contoso_scim, "dana@contoso.example")
    for operation in [
        {
            "op": "Add",
            "path": "members",
            "value": [{"value": ours["id"]}, {"value": theirs["user"]["id"]}],
        },
        {"op": "replace", "path": "members", "value": [{"value": theirs["user"]["id"]}]},
        {"op": "add", "value": {"members": [{"value": theirs["user"]["id"]}]}},
    ]:
        body = assert_scim_error(
            contoso_scim.patch(f"Groups/{group['id']}", patch_body(operation)), 400, "invalidValue"
        )
        assert "mallory" not in body["detail"]
    response = contoso_scim.post(
        "Groups", {"displayName": "Sneaky", "members": [{"value": theirs["user"]["id"]}]}
    )
    assert_scim_error(response, 400, "invalidValue")
    assert not ScimGroup.objects.filter(display_name="Sneaky").exists()
    response = contoso_scim.put(
        f"Groups/{group['id']}",
        {"displayName": "Contoso Staff", "members": [{"value": theirs["user"]["id"]}]},
    )
    assert_scim_error(response, 400, "invalidValue")
    assert Membership.objects.filter(group_id=group["id"]).count() == 0


def test_removing_another_sites_member_changes_nothing(contoso_scim, theirs):
    group = create_group(contoso_scim, "Contoso Staff")
    response = contoso_scim.patch(
        f"Groups/{group['id']}",
        patch_body({"op": "remove", "path": f'members[value eq "{theirs["user"]["id"]}"]'}),
    )
    assert response.status_code == 204
    assert Membership.objects.filter(group_id=theirs["group"]["id"]).count() == 1


def test_same_msp_sites_are_separate_too(contoso_scim, fabrikam_scim):
    eve = create_user(fabrikam_scim, "eve@fabrikam.example")
    assert_scim_error(contoso_scim.get(f"Users/{eve['id']}"), 404)
    assert (
        contoso_scim.get("Users", filter='userName eq "eve@fabrikam.example"').json()[
            "totalResults"
        ]
        == 0
    )
