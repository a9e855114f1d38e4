"""Every attribute Entra can map is kept and returned exactly as sent: the core User
schema, the enterprise extension and the manager, through POST, PUT and both PATCH
dialects; "" and null clear; nothing is accepted and then dropped.

Contoso's Entra provisions Dana with every attribute of Entra's default mapping for a
custom SCIM app (and the rest of RFC 7643 §4.1); Microsoft's validator then PATCHes each
attribute, clears the optional ones and sets, changes and removes her manager.
"""

from copy import deepcopy

import pytest

from scim_app.models import ScimUser

from .conftest import (
    ENTERPRISE_URN,
    USER_URN,
    assert_scim_error,
    create_user,
    entra_user,
    patch_body,
)

FULL_USER = {
    "schemas": [USER_URN, ENTERPRISE_URN],
    "externalId": "9f1c2b7e-0d4a-4c55-8a61-2e7b3f9d1c04",
    "userName": "dana.fisher@contoso.example",
    "name": {
        "formatted": "Ms. Dana J. Fisher III",
        "familyName": "Fisher",
        "givenName": "Dana",
        "middleName": "Jane",
        "honorificPrefix": "Ms.",
        "honorificSuffix": "III",
    },
    "displayName": "Dana Fisher",
    "nickName": "Dee",
    "profileUrl": "https://contoso.example/people/dana",
    "title": "Finance Director",
    "userType": "Employee",
    "preferredLanguage": "de-DE",
    "locale": "de-DE",
    "timezone": "Europe/Berlin",
    "active": True,
    "emails": [
        {"value": "dana.fisher@contoso.example", "type": "work", "primary": True},
        {"value": "Dana@Home.example", "type": "home"},
    ],
    "phoneNumbers": [
        {"value": "+49 30 1234567", "type": "work", "primary": True},
        {"value": "+49 170 7654321", "type": "mobile"},
        {"value": "+49 30 1234568", "type": "fax"},
    ],
    "ims": [{"value": "dana.fisher", "type": "skype"}],
    "photos": [{"value": "https://contoso.example/photos/dana.jpg", "type": "photo"}],
    "addresses": [
        {
            "type": "work",
            "formatted": "Unter den Linden 1\n10117 Berlin\nDE",
            "streetAddress": "Unter den Linden 1",
            "locality": "Berlin",
            "region": "Berlin",
            "postalCode": "10117",
            "country": "DE",
            "primary": True,
        }
    ],
    "entitlements": [{"value": "training-admin", "display": "Training admin", "type": "app"}],
    "roles": [{"value": "approver", "display": "Approver", "type": "finance", "primary": True}],
    "x509Certificates": [{"value": "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"}],
    ENTERPRISE_URN: {
        "employeeNumber": "000123",
        "costCenter": "4130",
        "organization": "Contoso Ltd",
        "division": "Corporate",
        "department": "Finance",
    },
}


def stored(resource: dict) -> dict:
    """What a GET shows of the attributes a client sets (not id, schemas or meta)."""
    return {k: v for k, v in resource.items() if k not in ("id", "schemas", "meta")}


def sent(body: dict) -> dict:
    return {k: v for k, v in body.items() if k != "schemas"}


def replace(path: str, value) -> dict:
    return {"op": "Replace", "path": path, "value": value}


@pytest.fixture
def dana(contoso_scim):
    return create_user(contoso_scim, FULL_USER["userName"], **deepcopy(FULL_USER))


def get(scim, user: dict) -> dict:
    response = scim.get(f"Users/{user['id']}")
    assert response.status_code == 200, response.content
    return response.json()


def test_every_attribute_survives_post_and_get_exactly_as_sent(contoso_scim, dana):
    assert stored(dana) == sent(FULL_USER)
    assert dana["schemas"] == [USER_URN, ENTERPRISE_URN]
    assert stored(get(contoso_scim, dana)) == sent(FULL_USER)


def test_put_replaces_every_attribute_and_clears_what_it_leaves_out(contoso_scim, dana):
    body = deepcopy(FULL_USER)
    body["title"] = "CFO"
    body["phoneNumbers"] = [{"value": "+49 30 999", "type": "work"}]
    del body["nickName"], body[ENTERPRISE_URN]["costCenter"], body["ims"]
    response = contoso_scim.put(f"Users/{dana['id']}", body)
    assert response.status_code == 200, response.content
    assert stored(response.json()) == sent(body)
    assert stored(get(contoso_scim, dana)) == sent(body)


SINGLE_VALUED = [
    ("displayName", "Dana F."),
    ("nickName", "D"),
    ("profileUrl", "https://contoso.example/p/df"),
    ("title", "CFO"),
    ("userType", "Contractor"),
    ("preferredLanguage", "en-GB"),
    ("locale", "en-GB"),
    ("timezone", "Europe/London"),
    ("externalId", "new-external-id"),
    ("userName", "dana.lee@contoso.example"),
    ("name.givenName", "Danielle"),
    ("name.familyName", "Fisher-Lee"),
    ("name.formatted", "Danielle Fisher-Lee"),
    ("name.middleName", "J."),
    (f"{ENTERPRISE_URN}:employeeNumber", "000999"),
    (f"{ENTERPRISE_URN}:costCenter", "4200"),
    (f"{ENTERPRISE_URN}:organization", "Contoso GmbH"),
    (f"{ENTERPRISE_URN}:division", "EMEA"),
    (f"{ENTERPRISE_URN}:department", "Treasury"),
    ('emails[type eq "work"].value', "dana.lee@contoso.example"),
    ('phoneNumbers[type eq "mobile"].value', "+49 170 0000000"),
    ('phoneNumbers[type eq "fax"].value', "+49 30 0000000"),
    ('addresses[type eq "work"].locality', "Potsdam"),
    ('addresses[type eq "work"].postalCode', "14467"),
    ('addresses[type eq "work"].country', "AT"),
]


def expected_after(path: str, value) -> dict:
    """FULL_USER as a GET should show it after `path` was replaced with `value`."""
    expected = sent(deepcopy(FULL_USER))
    if path.startswith(ENTERPRISE_URN):
        expected[ENTERPRISE_URN][path.rsplit(":", 1)[1]] = value
    elif "[" in path:
        attr, rest = path.split("[", 1)
        kind = rest.split('"')[1]
        sub = rest.rsplit(".", 1)[1]
        next(e for e in expected[attr] if e["type"] == kind)[sub] = value
    elif "." in path:
        attr, sub = path.split(".")
        expected[attr][sub] = value
    else:
        expected[path] = value
    return expected


@pytest.mark.parametrize(("path", "value"), SINGLE_VALUED)
def test_each_attribute_patched_with_a_path_reads_back_and_nothing_else_changes(
    contoso_scim, dana, path, value
):
    response = contoso_scim.patch(f"Users/{dana['id']}", patch_body(replace(path, value)))
    assert response.status_code == 200, response.content
    assert stored(get(contoso_scim, dana)) == expected_after(path, value)


@pytest.mark.parametrize(("path", "value"), SINGLE_VALUED)
def test_each_attribute_patched_path_less_in_the_new_dialect_reads_back(
    contoso_scim, dana, path, value
):
    # Keys are paths too, value filters included: {"emails[type eq \"work\"].value": ...}.
    operation = {"op": "replace", "value": {path: value}}
    response = contoso_scim.patch(f"Users/{dana['id']}", patch_body(operation))
    assert response.status_code == 200, response.content
    assert stored(get(contoso_scim, dana)) == expected_after(path, value)


OPTIONAL = [
    "displayName",
    "nickName",
    "profileUrl",
    "title",
    "userType",
    "preferredLanguage",
    "locale",
    "timezone",
    "externalId",
    "name.givenName",
    "name.middleName",
    f"{ENTERPRISE_URN}:employeeNumber",
    f"{ENTERPRISE_URN}:department",
    "phoneNumbers",
    "addresses",
    "roles",
]


def cleared(path: str) -> dict:
    expected = sent(deepcopy(FULL_USER))
    if path.startswith(ENTERPRISE_URN):
        del expected[ENTERPRISE_URN][path.rsplit(":", 1)[1]]
    elif "." in path:
        attr, sub = path.split(".")
        del expected[attr][sub]
    else:
        del expected[path]
    return expected


@pytest.mark.parametrize("empty", ["", None])
@pytest.mark.parametrize("path", OPTIONAL)
def test_an_optional_attribute_patched_to_empty_or_null_reads_back_empty(
    contoso_scim, dana, path, empty
):
    response = contoso_scim.patch(f"Users/{dana['id']}", patch_body(replace(path, empty)))
    assert response.status_code == 200, response.content
    assert stored(get(contoso_scim, dana)) == cleared(path)


@pytest.mark.parametrize("path", OPTIONAL)
def test_remove_clears_an_optional_attribute(contoso_scim, dana, path):
    response = contoso_scim.patch(f"Users/{dana['id']}", patch_body({"op": "remove", "path": path}))
    assert response.status_code == 200, response.content
    assert stored(get(contoso_scim, dana)) == cleared(path)


def test_removing_active_means_the_documented_default_true(contoso_scim, dana):
    contoso_scim.patch(f"Users/{dana['id']}", patch_body(replace("active", "False")))
    response = contoso_scim.patch(
        f"Users/{dana['id']}", patch_body({"op": "remove", "path": "active"})
    )
    assert response.status_code == 200 and response.json()["active"] is True


def test_clearing_the_last_enterprise_attribute_drops_the_extension(contoso_scim, dana):
    operations = [
        {"op": "remove", "path": f"{ENTERPRISE_URN}:{k}"} for k in FULL_USER[ENTERPRISE_URN]
    ]
    body = contoso_scim.patch(f"Users/{dana['id']}", patch_body(*operations)).json()
    assert ENTERPRISE_URN not in body and body["schemas"] == [USER_URN]


@pytest.mark.parametrize("empty", ["", None])
@pytest.mark.parametrize(
    "operation",
    [
        lambda empty: {"op": "replace", "path": "name", "value": {"givenName": empty}},
        lambda empty: {"op": "Add", "path": "name", "value": {"givenName": empty}},
        lambda empty: {"op": "replace", "value": {"name": {"givenName": empty}}},
        lambda empty: {"op": "replace", "value": {"name.givenName": empty}},
    ],
    ids=["replace name", "add name", "path-less name", "path-less name.givenName"],
)
def test_clearing_one_sub_attribute_keeps_the_others(contoso_scim, dana, operation, empty):
    response = contoso_scim.patch(f"Users/{dana['id']}", patch_body(operation(empty)))
    assert response.status_code == 200, response.content
    expected = {k: v for k, v in FULL_USER["name"].items() if k != "givenName"}
    assert get(contoso_scim, dana)["name"] == expected


def test_a_merged_value_sets_some_sub_attributes_and_clears_others(contoso_scim, dana):
    value = {"name": {"givenName": None, "familyName": "Fisher-Lee", "middleName": ""}}
    contoso_scim.patch(f"Users/{dana['id']}", patch_body({"op": "replace", "value": value}))
    expected = {**FULL_USER["name"], "familyName": "Fisher-Lee"}
    del expected["givenName"], expected["middleName"]
    assert get(contoso_scim, dana)["name"] == expected


@pytest.mark.parametrize(
    "operation",
    [
        {"op": "replace", "value": {ENTERPRISE_URN: None}},
        {"op": "replace", "value": {ENTERPRISE_URN: {}}},
        {"op": "replace", "path": ENTERPRISE_URN, "value": None},
        {"op": "remove", "path": ENTERPRISE_URN},
    ],
    ids=["path-less null", "path-less {}", "path null", "remove"],
)
def test_the_whole_enterprise_extension_cleared_at_once(contoso_scim, dana, operation):
    response = contoso_scim.patch(f"Users/{dana['id']}", patch_body(operation))
    assert response.status_code == 200, response.content
    body = get(contoso_scim, dana)
    assert ENTERPRISE_URN not in body and body["schemas"] == [USER_URN]
    assert body["title"] == FULL_USER["title"]


# --- multi-valued attributes ---------------------------------------------------------


def test_add_of_a_filtered_value_that_is_absent_creates_it(contoso_scim, dana):
    contoso_scim.patch(
        f"Users/{dana['id']}",
        patch_body(
            {"op": "Add", "path": 'phoneNumbers[type eq "pager"].value', "value": "+49 1"},
            {"op": "Add", "path": 'addresses[type eq "home"].locality', "value": "Köln"},
        ),
    )
    body = get(contoso_scim, dana)
    assert {"type": "pager", "value": "+49 1"} in body["phoneNumbers"]
    assert {"type": "home", "locality": "Köln"} in body["addresses"]


def test_remove_of_one_filtered_value_keeps_the_others(contoso_scim, dana):
    contoso_scim.patch(
        f"Users/{dana['id']}",
        patch_body({"op": "remove", "path": 'phoneNumbers[type eq "mobile"]'}),
    )
    types = [p["type"] for p in get(contoso_scim, dana)["phoneNumbers"]]
    assert types == ["work", "fax"]


def test_add_to_a_filtered_value_merges_and_empty_sub_attributes_clear(contoso_scim, dana):
    response = contoso_scim.patch(
        f"Users/{dana['id']}",
        patch_body(
            {"op": "add", "path": 'addresses[type eq "work"]', "value": {"locality": ""}},
            {"op": "add", "path": 'addresses[type eq "work"]', "value": {"region": "BE"}},
        ),
    )
    assert response.status_code == 200, response.content
    [address] = get(contoso_scim, dana)["addresses"]
    expected = {**FULL_USER["addresses"][0], "region": "BE"}
    del expected["locality"]
    assert address == expected


def test_add_of_primary_alone_to_a_filtered_value_keeps_its_value(contoso_scim, dana):
    response = contoso_scim.patch(
        f"Users/{dana['id']}",
        patch_body({"op": "add", "path": 'emails[type eq "home"]', "value": {"primary": True}}),
    )
    assert response.status_code == 200, response.content
    assert get(contoso_scim, dana)["emails"] == [
        {"value": "dana.fisher@contoso.example", "type": "work", "primary": False},
        {"value": "Dana@Home.example", "type": "home", "primary": True},
    ]


@pytest.mark.parametrize("empty", ["", None, {}, []])
def test_a_filtered_value_replaced_with_nothing_is_removed(contoso_scim, dana, empty):
    response = contoso_scim.patch(
        f"Users/{dana['id']}",
        patch_body({"op": "replace", "path": 'phoneNumbers[type eq "mobile"]', "value": empty}),
    )
    assert response.status_code == 200, response.content
    assert [p["type"] for p in get(contoso_scim, dana)["phoneNumbers"]] == ["work", "fax"]


def test_making_one_value_primary_makes_the_others_not_primary(contoso_scim, dana):
    response = contoso_scim.patch(
        f"Users/{dana['id']}",
        patch_body(
            {"op": "replace", "path": 'phoneNumbers[type eq "mobile"].primary', "value": True}
        ),
    )
    phones = {p["type"]: p.get("primary") for p in response.json()["phoneNumbers"]}
    assert phones == {"work": False, "mobile": True, "fax": None}


def test_two_primary_values_in_one_attribute_are_refused(contoso_scim):
    body = entra_user(
        "two@contoso.example",
        phoneNumbers=[{"value": "1", "primary": True}, {"value": "2", "primary": True}],
    )
    assert_scim_error(contoso_scim.post("Users", body), 400, "invalidValue")
    assert not ScimUser.objects.exists()


def test_replace_of_a_whole_multi_valued_attribute(contoso_scim, dana):
    roles = [{"value": "viewer", "type": "training"}]
    body = contoso_scim.patch(f"Users/{dana['id']}", patch_body(replace("roles", roles))).json()
    assert body["roles"] == roles


def test_add_to_a_multi_valued_attribute_appends(contoso_scim, dana):
    ims = [{"value": "dana@xmpp.example", "type": "xmpp"}]
    body = contoso_scim.patch(
        f"Users/{dana['id']}", patch_body({"op": "add", "path": "ims", "value": ims})
    ).json()
    assert body["ims"] == FULL_USER["ims"] + ims


def test_adding_a_value_already_there_merges_into_it_instead_of_repeating_it(contoso_scim, dana):
    home = {"value": "DANA@home.example", "type": "home", "primary": True}
    other = {"value": "d@other.example", "type": "other"}
    response = contoso_scim.patch(
        f"Users/{dana['id']}",
        patch_body({"op": "add", "path": "emails", "value": [home, other, other]}),
    )
    assert response.status_code == 200, response.content
    assert get(contoso_scim, dana)["emails"] == [
        {"value": "dana.fisher@contoso.example", "type": "work", "primary": False},
        {"value": "DANA@home.example", "type": "home", "primary": True},
        other,
    ]


# --- manager -------------------------------------------------------------------------

MANAGER = f"{ENTERPRISE_URN}:manager"


def manager_of(scim, user: dict):
    return get(scim, user)[ENTERPRISE_URN].get("manager")


def test_the_manager_is_set_changed_and_removed_as_microsofts_validator_does(contoso_scim, dana):
    boss = create_user(contoso_scim, "boss@contoso.example", displayName="Bea Boss")
    other = create_user(contoso_scim, "other@contoso.example", displayName="Otto Other")

    add = {"op": "Add", "path": MANAGER, "value": boss["id"]}
    assert contoso_scim.patch(f"Users/{dana['id']}", patch_body(add)).status_code == 200
    assert manager_of(contoso_scim, dana) == {
        "value": boss["id"],
        "$ref": f"http://testserver/api/v2/scim/Users/{boss['id']}",
        "displayName": "Bea Boss",
    }

    change = replace(MANAGER, {"value": other["id"]})
    assert contoso_scim.patch(f"Users/{dana['id']}", patch_body(change)).status_code == 200
    assert manager_of(contoso_scim, dana)["displayName"] == "Otto Other"

    assert (
        contoso_scim.patch(f"Users/{dana['id']}", patch_body(replace(MANAGER, ""))).status_code
        == 200
    )
    assert manager_of(contoso_scim, dana) is None


@pytest.mark.parametrize("empty", ["", None, {"value": ""}])
def test_every_empty_manager_value_removes_it(contoso_scim, dana, empty):
    contoso_scim.patch(f"Users/{dana['id']}", patch_body(replace(MANAGER, "x-1")))
    contoso_scim.patch(f"Users/{dana['id']}", patch_body(replace(MANAGER, empty)))
    assert manager_of(contoso_scim, dana) is None


def test_a_manager_not_provisioned_yet_is_kept_as_sent_and_named_once_they_arrive(
    contoso_scim, dana
):
    contoso_scim.patch(f"Users/{dana['id']}", patch_body(replace(MANAGER, "not-a-user-yet")))
    assert manager_of(contoso_scim, dana) == {"value": "not-a-user-yet"}

    boss = create_user(contoso_scim, "boss@contoso.example", displayName="Bea Boss")
    contoso_scim.patch(f"Users/{dana['id']}", patch_body(replace(MANAGER, boss["id"])))
    assert manager_of(contoso_scim, dana)["displayName"] == "Bea Boss"


def test_another_sites_user_as_manager_reveals_nothing(contoso_scim, fabrikam_scim, dana):
    stranger = create_user(fabrikam_scim, "eve@fabrikam.example", displayName="Eve Secret")
    contoso_scim.patch(f"Users/{dana['id']}", patch_body(replace(MANAGER, stranger["id"])))
    assert manager_of(contoso_scim, dana) == {"value": stranger["id"]}
    assert "Eve Secret" not in contoso_scim.get(f"Users/{dana['id']}").content.decode()


def test_a_deleted_manager_leaves_the_reference_as_sent_without_ref_or_name(contoso_scim, dana):
    boss = create_user(contoso_scim, "boss@contoso.example", displayName="Bea Boss")
    contoso_scim.patch(f"Users/{dana['id']}", patch_body(replace(MANAGER, boss["id"])))
    assert contoso_scim.delete(f"Users/{boss['id']}").status_code == 204
    assert manager_of(contoso_scim, dana) == {"value": boss["id"]}


def test_a_manager_given_in_a_post_is_returned_with_its_ref(contoso_scim):
    boss = create_user(contoso_scim, "boss@contoso.example", displayName="Bea Boss")
    body = entra_user(
        "dana@contoso.example", **{ENTERPRISE_URN: {"manager": {"value": boss["id"]}}}
    )
    created = contoso_scim.post("Users", body).json()
    assert created[ENTERPRISE_URN]["manager"]["$ref"].endswith(boss["id"])


# --- names are case-insensitive, nothing is dropped ----------------------------------


def test_attribute_names_in_a_post_are_case_insensitive(contoso_scim):
    body = {
        "Schemas": [USER_URN],
        "UserName": "case@contoso.example",
        "Active": False,
        "NAME": {"GivenName": "Casey"},
        "Emails": [{"Value": "case@contoso.example", "TYPE": "work"}],
        ENTERPRISE_URN.upper(): {"Department": "Legal"},
    }
    created = contoso_scim.post("Users", body)
    assert created.status_code == 201, created.content
    user = created.json()
    assert user["userName"] == "case@contoso.example" and user["active"] is False
    assert user["name"] == {"givenName": "Casey"}
    assert user["emails"] == [{"value": "case@contoso.example", "type": "work"}]
    assert user[ENTERPRISE_URN] == {"department": "Legal"}


@pytest.mark.parametrize(
    "extra",
    [
        {"favouriteColour": "red"},
        {"urn:example:custom:2.0:User": {"badge": "42"}},
        {"emails": [{"value": "a@contoso.example", "display": "A"}]},
        {"name": {"givenName": "A", "nickname": "B"}},
        {ENTERPRISE_URN: {"shoeSize": "44"}},
    ],
)
def test_an_attribute_we_do_not_store_is_refused_not_dropped(contoso_scim, extra):
    response = contoso_scim.post("Users", entra_user("new@contoso.example", **extra))
    body = assert_scim_error(response, 400, response.json().get("scimType"))
    assert body["scimType"] in ("invalidPath", "invalidValue")
    assert not ScimUser.objects.exists()


def test_a_users_read_only_groups_are_ignored_by_post_and_put(contoso_scim):
    groups = [{"value": "0b9e1d2c-3f4a-4b5c-8d6e-7f8091a2b3c4", "display": "Finance"}]
    user = create_user(contoso_scim, "g@contoso.example", groups=groups)
    assert "groups" not in user
    body = {"userName": "g@contoso.example", "title": "CFO", "groups": groups}
    response = contoso_scim.put(f"Users/{user['id']}", body)
    assert response.status_code == 200 and response.json()["title"] == "CFO"


def test_unknown_attributes_without_a_value_are_harmless(contoso_scim):
    body = entra_user("new@contoso.example", favouriteColour=None, roles=[], groups=[])
    assert contoso_scim.post("Users", body).status_code == 201


def test_the_password_is_accepted_but_never_stored_nor_returned(contoso_scim):
    created = contoso_scim.post("Users", entra_user("pw@contoso.example", password="Hunter2!x"))
    assert created.status_code == 201 and "password" not in created.json()
    patched = contoso_scim.patch(
        f"Users/{created.json()['id']}", patch_body(replace("password", "Other3!y"))
    )
    assert patched.status_code == 200
    data = str(ScimUser.objects.values_list("data", flat=True).get())
    assert "Hunter2" not in data and "Other3" not in data


def test_read_only_attributes_cannot_be_patched(contoso_scim, dana):
    response = contoso_scim.patch(
        f"Users/{dana['id']}", patch_body(replace(f"{MANAGER}.displayName", "Boss"))
    )
    assert_scim_error(response, 400, "mutability")


def test_a_user_patched_with_its_own_id_along_is_changed_and_another_id_refused(contoso_scim, dana):
    own = {"op": "replace", "value": {"active": False, "id": dana["id"]}}
    response = contoso_scim.patch(f"Users/{dana['id']}", patch_body(own))
    assert response.status_code == 200 and response.json()["active"] is False

    for operation in (
        {"op": "replace", "value": {"active": True, "id": dana["id"].upper()}},
        {"op": "replace", "path": "id", "value": "0b9e1d2c-3f4a-4b5c-8d6e-7f8091a2b3c4"},
    ):
        response = contoso_scim.patch(f"Users/{dana['id']}", patch_body(operation))
        assert_scim_error(response, 400, "mutability")
    assert get(contoso_scim, dana)["active"] is False


# --- discovery tells the truth -------------------------------------------------------


def sample(attribute: dict):
    """A value for an attribute as /Schemas describes it."""
    if attribute["type"] == "boolean":
        return True
    if attribute["type"] == "complex":
        value = {
            sub["name"]: sample(sub)
            for sub in attribute["subAttributes"]
            if sub["mutability"] != "readOnly" and sub["name"] != "primary"
        }
        return [value] if attribute["multiValued"] else value
    if attribute["name"] == "type":
        return attribute.get("canonicalValues", ["work"])[0]
    return f"{attribute['name']}-sample"


def test_every_advertised_attribute_is_kept_and_returned(contoso_scim):
    """A test that fails when /Schemas advertises an attribute a round trip drops."""
    schemas = {s["id"]: s for s in contoso_scim.get("Schemas").json()["Resources"]}
    body = {"schemas": [USER_URN, ENTERPRISE_URN]}
    for urn, target in ((USER_URN, body), (ENTERPRISE_URN, body.setdefault(ENTERPRISE_URN, {}))):
        for attribute in schemas[urn]["attributes"]:
            if attribute["mutability"] == "readOnly" or attribute["returned"] == "never":
                continue
            target[attribute["name"]] = sample(attribute)
    body["userName"] = "every@contoso.example"
    created = contoso_scim.post("Users", body)
    assert created.status_code == 201, created.content
    returned = get(contoso_scim, created.json())
    assert stored(returned) == sent(body)
    advertised = {a["name"] for a in schemas[USER_URN]["attributes"]} | {ENTERPRISE_URN}
    assert set(stored(returned)) <= advertised


def test_the_enterprise_extension_is_declared_and_served(contoso_scim):
    user_type = contoso_scim.get("ResourceTypes/User").json()
    assert user_type["schemaExtensions"] == [{"schema": ENTERPRISE_URN, "required": False}]
    enterprise = contoso_scim.get(f"Schemas/{ENTERPRISE_URN}").json()
    names = {a["name"] for a in enterprise["attributes"]}
    assert names == {
        "employeeNumber",
        "costCenter",
        "organization",
        "division",
        "department",
        "manager",
    }
    manager = next(a for a in enterprise["attributes"] if a["name"] == "manager")
    assert [s["name"] for s in manager["subAttributes"]] == ["value", "$ref", "displayName"]


@pytest.mark.parametrize(
    ("attribute", "longest", "pattern"),
    [
        ("emails", 320, "{}@contoso.example"),
        ("photos", 2048, "https://contoso.example/photos/{}.jpg"),
        # A certificate is a few kilobytes of base64 (RFC 7643 §4.1.2).
        ("x509Certificates", 16384, "MII{}"),
    ],
)
def test_a_value_as_long_as_its_attribute_allows_is_kept_and_a_longer_one_refused(
    contoso_scim, attribute, longest, pattern
):
    filler = longest - len(pattern.format(""))
    longest_value = pattern.format("A" * filler)
    user = create_user(
        contoso_scim, "long@contoso.example", **{attribute: [{"value": longest_value}]}
    )
    assert get(contoso_scim, user)[attribute] == [{"value": longest_value}]

    too_long = pattern.format("A" * (filler + 1))
    body = {"userName": "longer@contoso.example", attribute: [{"value": too_long}]}
    error = assert_scim_error(contoso_scim.post("Users", body), 400, "invalidValue")
    assert f"longer than {longest} characters" in error["detail"]
