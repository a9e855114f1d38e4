"""Sites through the REST API: list, search, page, create, read, rename, SAT on and off.

Alice (admin at Northwind IT) manages Contoso and Fabrikam with her API key; Tailspin's
Woodgrove never appears. Bad input is a 400 naming the field, never a 500.
"""

import pytest

from sites.models import Site
from tests.support.api import ApiClient, key_for


@pytest.fixture
def api(alice):
    return ApiClient(key_for(alice))


def test_the_list_shows_only_alices_sites_ordered_by_name(api, contoso, fabrikam, woodgrove):
    body = api.get("sites").json()
    assert body["count"] == 2
    assert [s["name"] for s in body["results"]] == ["Contoso", "Fabrikam"]
    assert body["results"][0] == {
        "id": str(contoso.public_id),
        "name": "Contoso",
        "sat_enabled": True,
        "created": contoso.created.isoformat().replace("+00:00", "Z"),
    }


def test_search_matches_part_of_the_name_ignoring_case(api, contoso, fabrikam):
    assert [s["name"] for s in api.get("sites?search=FAB").json()["results"]] == ["Fabrikam"]
    assert api.get("sites?search=nothing").json() == {
        "count": 0,
        "next": None,
        "previous": None,
        "results": [],
    }


def test_pages_follow_each_other_without_overlap(api, msp, django_assert_max_num_queries):
    Site.objects.bulk_create(Site(msp=msp, name=f"Site {i:03}") for i in range(120))
    with django_assert_max_num_queries(5):
        first = api.get("sites").json()
    assert first["count"] == 120
    assert len(first["results"]) == 50
    second = api.get(first["next"]).json()
    third = api.get(second["next"]).json()
    names = [s["name"] for page in (first, second, third) for s in page["results"]]
    assert names == [f"Site {i:03}" for i in range(120)]
    assert third["next"] is None
    assert len(api.get("sites?page_size=500").json()["results"]) == 120


@pytest.mark.parametrize("page", ["99", "abc", "-1"])
def test_a_page_past_the_end_or_not_a_number_is_a_json_404(api, contoso, page):
    response = api.get(f"sites?page={page}")
    assert response.status_code == 404
    assert response.json() == {"detail": "Invalid page."}


def test_alice_creates_a_site(api, msp):
    response = api.post("sites", {"name": "Litware", "sat_enabled": False})
    assert response.status_code == 201
    site = Site.objects.get(name="Litware")
    assert site.msp == msp
    assert not site.sat_enabled
    assert response.json()["id"] == str(site.public_id)


def test_a_new_site_has_sat_enabled_by_default(api):
    assert api.post("sites/", {"name": "Litware"}).json()["sat_enabled"] is True


def test_a_duplicate_name_in_the_same_msp_is_a_400_naming_name(api, contoso):
    response = api.post("sites", {"name": "CONTOSO"})
    assert response.status_code == 400
    assert response.json() == {"name": ["Your MSP already has a site with this name."]}


def test_another_msp_may_use_the_same_name(charlie, contoso):
    response = ApiClient(key_for(charlie)).post("sites", {"name": "Contoso"})
    assert response.status_code == 201


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({}, "name", "This field is required."),
        ({"name": ""}, "name", "This field may not be blank."),
        ({"name": "   "}, "name", "This field may not be blank."),
        ({"name": None}, "name", "This field may not be null."),
        ({"name": "x" * 201}, "name", "Ensure this field has no more than 200 characters."),
        ({"name": "a\x00b"}, "name", "Null characters are not allowed."),
        ({"name": "Litware", "sat_enabled": "maybe"}, "sat_enabled", "Must be a valid boolean."),
        ({"name": ["Litware"]}, "name", "Not a valid string."),
    ],
)
def test_invalid_input_is_a_400_naming_the_field(api, body, field, message):
    response = api.post("sites", body)
    assert response.status_code == 400
    assert response.json() == {field: [message]}
    assert not Site.objects.exists()


@pytest.mark.parametrize("raw", ["{", "[]", "null", '"name"', "\xff"])
def test_a_body_that_is_not_a_json_object_is_a_400(api, raw):
    response = api.post("sites", raw=raw)
    assert response.status_code == 400
    assert "detail" in response.json() or "non_field_errors" in response.json()


def test_a_body_that_is_not_json_is_a_415(api):
    response = api.client.post(
        "/api/v1/sites",
        "name=Litware",
        content_type="application/x-www-form-urlencoded",
        headers=api.headers,
    )
    assert response.status_code == 415
    assert response.json()["detail"].startswith("Unsupported media type")


def test_alice_reads_one_site(api, contoso):
    response = api.get(f"sites/{contoso.public_id}")
    assert response.status_code == 200
    assert response.json()["name"] == "Contoso"


@pytest.mark.parametrize("site_id", ["not-a-uuid", "12345", "00000000-0000-0000-0000-000000000000"])
def test_a_malformed_or_unknown_site_id_is_a_json_404(api, site_id):
    for path in (f"sites/{site_id}", f"sites/{site_id}/status", f"sites/{site_id}/users"):
        response = api.get(path)
        assert response.status_code == 404
        assert response.json() == {"detail": "No site with this id."}


def test_an_unknown_api_path_is_a_json_404(api):
    response = api.get("nothing/here")
    assert response.status_code == 404
    assert response.json() == {"detail": "No API resource at /api/v1/nothing/here."}


def test_alice_renames_a_site_and_turns_sat_off_and_on(api, contoso):
    path = f"sites/{contoso.public_id}"
    assert api.patch(path, {"name": "Contoso Ltd"}).json()["name"] == "Contoso Ltd"
    assert api.patch(path, {"sat_enabled": False}).json()["sat_enabled"] is False
    contoso.refresh_from_db()
    assert (contoso.name, contoso.sat_enabled) == ("Contoso Ltd", False)
    assert api.patch(path, {"sat_enabled": True}).json()["sat_enabled"] is True


def test_renaming_to_the_same_name_in_another_case_is_allowed(api, contoso):
    response = api.patch(f"sites/{contoso.public_id}", {"name": "CONTOSO"})
    assert response.status_code == 200


def test_renaming_to_another_sites_name_is_a_400(api, contoso, fabrikam):
    response = api.patch(f"sites/{contoso.public_id}", {"name": "fabrikam"})
    assert response.status_code == 400
    assert response.json() == {"name": ["Your MSP already has a site with this name."]}


def test_id_and_created_cannot_be_changed(api, contoso):
    before = (contoso.public_id, contoso.created)
    api.patch(f"sites/{contoso.public_id}", {"id": "x", "created": "2000-01-01T00:00:00Z"})
    contoso.refresh_from_db()
    assert (contoso.public_id, contoso.created) == before


def test_put_and_delete_on_a_site_are_not_allowed(api, contoso):
    assert api.request("PUT", f"sites/{contoso.public_id}", {"name": "X"}).status_code == 405
    response = api.delete(f"sites/{contoso.public_id}")
    assert response.status_code == 405
    assert response.json() == {"detail": 'Method "DELETE" not allowed.'}
    assert Site.objects.filter(pk=contoso.pk).exists()


@pytest.mark.parametrize("resource", ["sites", "users", "groups"])
def test_a_search_with_a_nul_character_is_a_400_naming_search(alice, contoso, resource):
    path = "sites" if resource == "sites" else f"sites/{contoso.public_id}/{resource}"
    response = ApiClient(key_for(alice)).get(f"{path}?search=a%00b")
    assert response.status_code == 400
    assert response.json() == {"search": ["Null characters are not allowed."]}
