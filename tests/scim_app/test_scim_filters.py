"""Filters (RFC 7644 §3.4.2.2) evaluated by the database, site-scoped first."""

import json
from datetime import timedelta

import pytest

from scim_app.models import ScimUser

from .conftest import ENTERPRISE_URN, assert_scim_error, create_group, create_user, patch_body


@pytest.fixture
def users(contoso_scim):
    dana = create_user(
        contoso_scim,
        "dana.fisher@contoso.example",
        externalId="ext-1",
        emails=[
            {"type": "work", "value": "dana.fisher@contoso.example", "primary": True},
            {"type": "home", "value": "home.dana@example.org"},
        ],
    )
    sam = create_user(contoso_scim, "sam.lee@contoso.example", externalId="ext-2")
    ana = create_user(contoso_scim, "ana.diaz@contoso.example", externalId="EXT-3", emails=[])
    contoso_scim.patch(
        f"Users/{sam['id']}", patch_body({"op": "Replace", "path": "active", "value": "False"})
    )
    return {"dana": dana, "sam": sam, "ana": ana}


def names(scim, filter_text: str) -> set[str]:
    response = scim.get("Users", filter=filter_text)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["totalResults"] == len(body["Resources"])
    return {r["userName"].split(".")[0] for r in body["Resources"]}


@pytest.mark.parametrize(
    ("filter_text", "expected"),
    [
        ('userName eq "dana.fisher@contoso.example"', {"dana"}),
        ('userName eq "DANA.FISHER@Contoso.Example"', {"dana"}),
        ('UserName Eq "dana.fisher@contoso.example"', {"dana"}),
        (
            'urn:ietf:params:scim:schemas:core:2.0:User:userName eq "sam.lee@contoso.example"',
            {"sam"},
        ),
        ('externalId eq "ext-1"', {"dana"}),
        ('externalId eq "EXT-1"', set()),  # externalId is caseExact
        ('emails[type eq "work"].value eq "Sam.Lee@contoso.example"', {"sam"}),
        ('emails.value eq "ana.diaz@contoso.example"', set()),
        ('name.familyName eq "lee"', {"sam"}),
        ('name.FamilyName co "IS"', {"dana"}),
        ('userName sw "ANA"', {"ana"}),
        ('userName ew "contoso.example"', {"dana", "sam", "ana"}),
        ('userName ne "dana.fisher@contoso.example"', {"sam", "ana"}),
        ("active eq true", {"dana", "ana"}),
        ("active eq false", {"sam"}),
        ("emails pr", {"dana", "sam"}),
        ("name pr", {"dana", "sam", "ana"}),
        ('emails.value eq "HOME.dana@example.org"', {"dana"}),
        ('emails.value sw "home."', {"dana"}),
        ('emails.value ew "@contoso.example"', {"dana", "sam"}),
        ('emails.value co "ana.diaz"', set()),
        ('emails[type eq "work"].value eq "home.dana@example.org"', set()),
        ("externalId pr", {"dana", "sam", "ana"}),
        ("emails.value pr", {"dana", "sam"}),
        (
            'userName eq "dana.fisher@contoso.example" or userName eq "ana.diaz@contoso.example"',
            {"dana", "ana"},
        ),
        ('active eq true and not (userName sw "dana")', {"ana"}),
        ('(userName sw "d" or userName sw "s") and active eq false', {"sam"}),
        ('meta.created gt "2000-01-01T00:00:00Z"', {"dana", "sam", "ana"}),
        ('meta.lastModified lt "2000-01-01T00:00:00Z"', set()),
        ('userName eq "a3c1e2d4-5b6f-4a70-9e81-0f2d3c4b5a69"', set()),
    ],
)
def test_user_filters(contoso_scim, users, filter_text, expected):
    assert names(contoso_scim, filter_text) == expected


def test_filter_by_id(contoso_scim, users):
    assert names(contoso_scim, f'id eq "{users["sam"]["id"]}"') == {"sam"}
    assert names(contoso_scim, 'id eq "not-a-uuid"') == set()


def test_filter_on_last_modified_window(contoso_scim, users):
    user = ScimUser.objects.get(id=users["ana"]["id"])
    after = (user.last_modified - timedelta(microseconds=1)).isoformat()
    assert "ana" in names(contoso_scim, f'meta.lastModified ge "{after}"')


@pytest.mark.parametrize(
    "filter_text",
    [
        'userName eq "unterminated',
        "userName eq",
        "((userName",
        'favouriteColour eq "red"',
        'userName gt "m"',
        'active eq "maybe"',
        'meta.created gt "yesterday"',
        'emails[type eq "home"].display eq "x"',
        'phoneNumbers[type eq "work" or primary eq true].value eq "x"',
        'members[value eq "x"]',
        'urn:example:other:2.0:User:userName eq "x"',
        'userName eq "x" and favouriteColour eq "red"',
        'userName eq "x" or favouriteColour eq "y"',
        'meta.lastModified gt "2020-13-45T00:00:00Z"',
        'meta.created gt "0001-01-01T00:00:00+14:00"',
        'userName eq "a\x00b"',
        "(" * 1000 + 'userName eq "x"' + ")" * 1000,
        " or ".join(['userName eq "x"'] * 200),
        "not (" * 1000 + 'userName eq "x"' + ")" * 1000,
    ],
)
def test_unsupported_or_malformed_filters_are_400_invalid_filter(contoso_scim, users, filter_text):
    assert_scim_error(contoso_scim.get("Users", filter=filter_text), 400, "invalidFilter")


def test_group_filters(contoso_scim):
    finance = create_group(contoso_scim, "Finance Team", externalId="g-1")
    create_group(contoso_scim, "Sales")
    for filter_text, expected in [
        ('displayName eq "finance team"', ["Finance Team"]),
        ('DisplayName eq "Finance Team"', ["Finance Team"]),
        ('externalId eq "g-1"', ["Finance Team"]),
        (f'id eq "{finance["id"]}"', ["Finance Team"]),
        ('displayName sw "S"', ["Sales"]),
    ]:
        body = contoso_scim.get("Groups", filter=filter_text, excludedAttributes="members").json()
        assert [r["displayName"] for r in body["Resources"]] == expected, filter_text
    assert_scim_error(contoso_scim.get("Groups", filter='userName eq "x"'), 400, "invalidFilter")


def test_an_or_filter_never_returns_another_sites_users(contoso_scim, fabrikam_scim, users):
    create_user(fabrikam_scim, "eve@fabrikam.example")
    leaky = 'userName eq "eve@fabrikam.example" or userName sw ""'
    assert names(contoso_scim, leaky) == {"dana", "sam", "ana"}
    assert names(fabrikam_scim, leaky) == {"eve@fabrikam"}
    assert names(fabrikam_scim, 'not (userName eq "x")') == {"eve@fabrikam"}


@pytest.fixture
def staff(contoso_scim):
    """Dana in Finance with phones, an address and a manager; Sam in Sales."""
    sam = create_user(
        contoso_scim,
        "sam.lee@contoso.example",
        title="Account Executive",
        phoneNumbers=[{"value": "+1 206 555 0100", "type": "mobile"}],
        addresses=[{"type": "work", "country": "US", "locality": "Seattle"}],
        roles=[{"value": "seller", "primary": True}],
        **{ENTERPRISE_URN: {"department": "Sales", "employeeNumber": "7"}},
    )
    dana = create_user(
        contoso_scim,
        "dana.fisher@contoso.example",
        title="Finance Director",
        preferredLanguage="de-DE",
        emails=[
            {"type": "work", "value": "dana.fisher@contoso.example", "primary": True},
            {"type": "home", "value": "Dana@Home.example"},
        ],
        phoneNumbers=[
            {"value": "+49 30 1234567", "type": "work"},
            {"value": "+49 170 7654321", "type": "mobile", "primary": True},
        ],
        addresses=[{"type": "work", "country": "DE", "locality": "Berlin"}],
        roles=[{"value": "approver", "primary": False}],
        **{ENTERPRISE_URN: {"department": "Finance", "manager": {"value": sam["id"]}}},
    )
    return {"dana": dana, "sam": sam}


@pytest.mark.parametrize(
    ("filter_text", "expected"),
    [
        ('title eq "finance director"', {"dana"}),
        ('title sw "Account"', {"sam"}),
        ('Title co "DIRECT"', {"dana"}),
        ("title pr", {"dana", "sam"}),
        ('preferredLanguage eq "de-DE"', {"dana"}),
        (f'{ENTERPRISE_URN}:department eq "Finance"', {"dana"}),
        (f'{ENTERPRISE_URN.upper()}:DEPARTMENT eq "sales"', {"sam"}),
        (f'{ENTERPRISE_URN}:employeeNumber eq "7"', {"sam"}),
        ('phoneNumbers[type eq "work"].value sw "+49"', {"dana"}),
        ('phoneNumbers[type eq "mobile"].value sw "+1"', {"sam"}),
        ('phoneNumbers[type eq "mobile" and primary eq true].value pr', {"dana"}),
        ('phoneNumbers.value co "555"', {"sam"}),
        ('phoneNumbers[type eq "fax"]', set()),
        ('phoneNumbers[type eq "mobile"]', {"dana", "sam"}),
        ('addresses.country eq "DE"', {"dana"}),
        ('addresses[type eq "work"].locality eq "seattle"', {"sam"}),
        ('emails[type eq "home"].value eq "dana@home.example"', {"dana"}),
        ("roles[primary eq true].value pr", {"sam"}),
        ('roles.value eq "approver" and title pr', {"dana"}),
        ('not (title sw "Finance")', {"sam"}),
        ('addresses.country eq "DE" or addresses.country eq "US"', {"dana", "sam"}),
        ('phoneNumbers.value eq "100%"', set()),
        ('phoneNumbers.value co "_"', set()),
    ],
)
def test_filters_on_every_stored_attribute_run_in_the_database(
    contoso_scim, staff, filter_text, expected
):
    assert names(contoso_scim, filter_text) == expected


def test_the_managers_id_is_a_filter_too(contoso_scim, staff):
    text = f'{ENTERPRISE_URN}:manager.value eq "{staff["sam"]["id"]}"'
    assert names(contoso_scim, text) == {"dana"}


def test_group_filters_on_members_answer_as_microsofts_reference_implementation(
    contoso_scim, staff
):
    finance = create_group(contoso_scim, "Finance Team")
    create_group(contoso_scim, "Sales")
    dana = staff["dana"]["id"]
    contoso_scim.patch(
        f"Groups/{finance['id']}",
        patch_body({"op": "Add", "path": "members", "value": [{"value": dana}]}),
    )
    for filter_text in (
        f'members eq "{dana}"',
        f'members[value eq "{dana}"]',
        f'members.value eq "{dana}"',
        f'id eq "{finance["id"]}" and members eq "{dana}"',
    ):
        body = contoso_scim.get("Groups", filter=filter_text, excludedAttributes="members").json()
        assert [g["displayName"] for g in body["Resources"]] == ["Finance Team"], filter_text
    sam = staff["sam"]["id"]
    assert contoso_scim.get("Groups", filter=f'members eq "{sam}"').json()["totalResults"] == 0
    body = contoso_scim.get("Groups", filter='members eq "not-an-id"').json()
    assert body["totalResults"] == 0


def test_a_user_with_two_work_addresses_is_found_by_either(contoso_scim, users):
    emails = [
        {"type": "work", "value": "lee@contoso.example"},
        {"type": "home", "value": "lee@example.org"},
        {"type": "work", "value": "lee@fabrikam.example"},
    ]
    lee = create_user(contoso_scim, "lee@contoso.example", emails=emails)
    work = 'emails[type eq "work"].value'
    assert names(contoso_scim, f'{work} eq "LEE@fabrikam.example"') == {"lee@contoso"}
    assert names(contoso_scim, f'{work} eq "lee@contoso.example"') == {"lee@contoso"}
    assert names(contoso_scim, f'{work} sw "lee@fab"') == {"lee@contoso"}
    assert names(contoso_scim, f'{work} eq "lee@example.org"') == set()
    assert names(contoso_scim, f'{work} ne "lee@fabrikam.example"') == {"dana", "sam", "ana"}

    # A PATCH that leaves one work address: the other no longer finds the user.
    contoso_scim.patch(
        f"Users/{lee['id']}",
        patch_body({"op": "remove", "path": 'emails[value eq "lee@fabrikam.example"]'}),
    )
    assert names(contoso_scim, f'{work} eq "lee@fabrikam.example"') == set()
    assert names(contoso_scim, f'{work} eq "lee@contoso.example"') == {"lee@contoso"}


@pytest.mark.parametrize(
    "name", ['Team "A"', "R&D \\ EMEA", "TestGrp-!@#$%^&*()_+=-{}][\":;'/.,?\\1", "Café\tBar"]
)
def test_a_group_whose_name_needs_escaping_is_found_by_entras_matching_query(contoso_scim, name):
    # Filter values are JSON strings (RFC 7644 §3.4.2.2): `"` and `\` come escaped.
    group = create_group(contoso_scim, name)
    quoted = json.dumps(name, ensure_ascii=False)
    response = contoso_scim.get(
        "Groups", filter=f"displayName eq {quoted}", excludedAttributes="members"
    )
    assert response.status_code == 200, response.content
    assert [found["id"] for found in response.json()["Resources"]] == [group["id"]]


def test_an_escaped_quote_works_in_a_patch_paths_filter(contoso_scim):
    roles = [{"value": 'r"1', "type": "app"}, {"value": "r2", "type": "app"}]
    user = create_user(contoso_scim, "roles@contoso.example", roles=roles)
    response = contoso_scim.patch(
        f"Users/{user['id']}", patch_body({"op": "remove", "path": 'roles[value eq "r\\"1"]'})
    )
    assert response.status_code == 200, response.content
    assert response.json()["roles"] == [{"value": "r2", "type": "app"}]


@pytest.mark.parametrize("filter_text", ['displayName eq "DOMAIN\\group"', 'displayName eq "a\\"'])
def test_a_malformed_escape_in_a_filter_value_is_400(contoso_scim, filter_text):
    assert_scim_error(contoso_scim.get("Groups", filter=filter_text), 400, "invalidFilter")
