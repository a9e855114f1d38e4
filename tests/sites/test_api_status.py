"""A site's provisioning status, users and groups through the REST API, after Entra has
provisioned Contoso through the SCIM endpoint with a token issued by the API.

Alice (admin at Northwind IT) reads them with her API key.
"""

from datetime import timedelta

import pytest
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from scim_app.models import Membership
from scim_app.resources.attributes import ENTERPRISE_URN
from sites import services
from sites.credentials import scim_tokens
from sites.models import ScimToken
from tests.conftest import ScimClient
from tests.support.api import ApiClient, key_for
from tests.support.log import logged
from tests.support.provisioned import bare_user, make_group, make_users


@pytest.fixture
def api(alice):
    return ApiClient(key_for(alice))


def entra_user(user_name: str, **extra) -> dict:
    return {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": user_name,
        "active": True,
        "emails": [{"primary": True, "type": "work", "value": user_name}],
        "displayName": user_name.split("@")[0].replace(".", " ").title(),
        **extra,
    }


def test_a_new_site_has_nothing_yet(api, contoso):
    assert api.get(f"sites/{contoso.public_id}/status").json() == {
        "entra_status": "Not configured",
        "users": 0,
        "active_users": 0,
        "groups": 0,
        "last_request": None,
        "last_error": None,
        "nearest_secret_expiry": None,
    }


def test_status_shows_what_entra_provisioned_with_the_issued_token(api, contoso):
    issued = api.post(f"sites/{contoso.public_id}/scim-tokens").json()
    status = api.get(f"sites/{contoso.public_id}/status").json()
    assert status["entra_status"] == "Waiting for first request"

    entra = ScimClient(issued["token"])
    found = entra.get("Users", filter='userName eq "dana.fisher@contoso.example"')
    assert found.status_code == 200 and found.json()["totalResults"] == 0
    assert entra.post("Users", entra_user("dana.fisher@contoso.example")).status_code == 201
    assert (
        entra.post("Users", entra_user("eli.ng@contoso.example", active=False)).status_code == 201
    )
    group = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Finance"}
    assert entra.post("Groups", group).status_code == 201

    status = api.get(f"sites/{contoso.public_id}/status").json()
    assert status["entra_status"] == "Provisioning"
    assert (status["users"], status["active_users"], status["groups"]) == (2, 1, 1)
    assert status["last_request"] is not None
    assert status["last_error"] is None


def test_status_shows_the_last_failed_scim_request(api, contoso, contoso_scim):
    assert contoso_scim.post("Users", {"schemas": [], "active": True}).status_code == 400
    assert contoso_scim.get("Users").status_code == 200
    last_error = api.get(f"sites/{contoso.public_id}/status").json()["last_error"]
    assert last_error["method"] == "POST"
    assert last_error["path"] == "/api/v2/scim/Users"
    assert last_error["status"] == 400
    assert last_error["message"]
    assert set(last_error) == {"at", "method", "path", "status", "message"}


def test_status_is_the_consoles_from_the_provisioning_log(api, alice_client, contoso):
    token, _ = scim_tokens.issue_token(contoso)
    ScimToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now() - timedelta(days=9))
    logged(contoso, timezone.now() - timedelta(hours=2), 409, "userName taken")
    latest = logged(contoso, timezone.now() - timedelta(hours=1))

    status = api.get(f"sites/{contoso.public_id}/status").json()

    assert status["entra_status"] == "Provisioning"
    assert parse_datetime(status["last_request"]) == latest.created
    assert status["last_error"]["status"] == 409
    assert status["last_error"]["message"] == "userName taken"
    page = alice_client.get(f"/sites/{contoso.public_id}/sat/").content.decode()
    assert f"{latest.created:%Y-%m-%d %H:%M} UTC · 200 · listed users" in page
    assert "· 409 · userName taken" in page


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda site, token: scim_tokens.revoke_token(token), "Token revoked"),
        (
            lambda site, token: ScimToken.objects.filter(pk=token.pk).update(
                expires_at=timezone.now() - timedelta(minutes=1)
            ),
            "Token expired",
        ),
        (lambda site, token: services.set_sat_enabled(site, False), "Training disabled"),
    ],
)
def test_status_says_why_entra_cannot_provision(api, contoso, change, expected):
    token, _ = scim_tokens.issue_token(contoso)
    logged(contoso)
    change(contoso, token)
    assert api.get(f"sites/{contoso.public_id}/status").json()["entra_status"] == expected


@pytest.fixture
def people(contoso, woodgrove):
    eli = bare_user(contoso, "Eli.Ng@contoso.example", active=False)
    dana = bare_user(
        contoso,
        "dana.fisher@contoso.example",
        displayName="Dana Fisher",
        emails=[{"type": "work", "value": "dana@contoso.example"}],
        externalId="e-1",
        title="Controller",
        preferredLanguage="de-DE",
        phoneNumbers=[{"type": "mobile", "value": "+49 170 1"}],
        **{ENTERPRISE_URN: {"department": "Finance", "manager": {"value": str(eli.id)}}},
    )
    bare_user(contoso, "ann@contoso.example", displayName="Ann Lee")
    bare_user(woodgrove, "dana.fisher@woodgrove.example")
    finance = make_group(contoso, "Finance")
    make_group(contoso, "all staff")
    make_group(woodgrove, "Finance")
    Membership.objects.create(group=finance, user=dana)
    Membership.objects.create(group=finance, user=eli)
    return dana


def names(response, field: str) -> list[str]:
    return [row[field] for row in response.json()["results"]]


def test_users_are_listed_by_user_name_with_their_details(api, contoso, people):
    response = api.get(f"sites/{contoso.public_id}/users")
    assert names(response, "user_name") == [
        "ann@contoso.example",
        "dana.fisher@contoso.example",
        "Eli.Ng@contoso.example",
    ]
    eli = response.json()["results"][2]
    dana = response.json()["results"][1]
    assert dana == {
        "id": str(people.id),
        "user_name": "dana.fisher@contoso.example",
        "display_name": "Dana Fisher",
        "given_name": "",
        "family_name": "",
        "email": "dana@contoso.example",
        "external_id": "e-1",
        "active": True,
        "title": "Controller",
        "department": "Finance",
        "employee_number": "",
        "preferred_language": "de-DE",
        "manager": {
            "id": eli["id"],
            "user_name": "Eli.Ng@contoso.example",
            "display_name": "",
        },
        "phone_numbers": [{"type": "mobile", "value": "+49 170 1"}],
        "addresses": [],
        "scim": people.data,
        "created": dana["created"],
        "last_modified": dana["last_modified"],
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("search=dana", ["dana.fisher@contoso.example"]),
        ("search=LEE", ["ann@contoso.example"]),
        ("search=dana@contoso", ["dana.fisher@contoso.example"]),
        ("active=false", ["Eli.Ng@contoso.example"]),
        ("active=true&search=contoso", ["ann@contoso.example", "dana.fisher@contoso.example"]),
        ("search=woodgrove", []),
    ],
)
def test_users_can_be_searched_and_filtered_by_active(api, contoso, people, query, expected):
    assert names(api.get(f"sites/{contoso.public_id}/users?{query}"), "user_name") == expected


def test_an_active_filter_that_is_not_a_boolean_is_a_400_naming_it(api, contoso):
    response = api.get(f"sites/{contoso.public_id}/users?active=maybe")
    assert response.status_code == 400
    assert response.json() == {"active": ["Must be true or false."]}


def test_users_are_paged(api, contoso, django_assert_max_num_queries):
    make_users(contoso, (f"user{i:03}@contoso.example" for i in range(60)))
    with django_assert_max_num_queries(6):
        first = api.get(f"sites/{contoso.public_id}/users?page_size=25").json()
    assert first["count"] == 60 and len(first["results"]) == 25
    last = api.get(f"sites/{contoso.public_id}/users?page_size=25&page=3").json()
    assert last["results"][-1]["user_name"] == "user059@contoso.example"
    assert last["next"] is None


def test_groups_are_listed_with_member_counts_and_searchable(
    api, contoso, people, django_assert_max_num_queries
):
    with django_assert_max_num_queries(6) as queries:
        response = api.get(f"sites/{contoso.public_id}/groups")
    rows = {g["display_name"]: g["member_count"] for g in response.json()["results"]}
    # Counted per group shown, not by joining every membership of the site first.
    assert 'JOIN "scim_app_membership"' not in queries.captured_queries[-1]["sql"]
    assert rows == {"all staff": 0, "Finance": 2}
    assert names(response, "display_name") == ["all staff", "Finance"]
    searched = api.get(f"sites/{contoso.public_id}/groups?search=fin")
    assert names(searched, "display_name") == ["Finance"]
