"""Paging (RFC 7644 §3.4.2.4) and attributes / excludedAttributes (§3.9)."""

import pytest

from .conftest import assert_scim_error, create_user


@pytest.fixture
def twelve(contoso_scim):
    return sorted(create_user(contoso_scim, f"u{i:02}@contoso.example")["id"] for i in range(12))


def page(scim, **params):
    response = scim.get("Users", **params)
    assert response.status_code == 200, response.content
    return response.json()


def test_pages_of_five_cover_everyone_once_in_a_stable_order(contoso_scim, twelve):
    seen = []
    for start in (1, 6, 11):
        body = page(contoso_scim, startIndex=start, count=5)
        assert body["startIndex"] == start and body["totalResults"] == 12
        assert body["itemsPerPage"] == len(body["Resources"]) == min(5, 12 - start + 1)
        seen += [r["id"] for r in body["Resources"]]
    assert seen == twelve
    assert [r["id"] for r in page(contoso_scim, startIndex=6, count=5)["Resources"]] == twelve[5:10]


def test_a_page_past_the_end_is_empty_but_counts(contoso_scim, twelve):
    body = page(contoso_scim, startIndex=50, count=5)
    assert body["totalResults"] == 12 and body["Resources"] == [] and body["itemsPerPage"] == 0


def test_start_index_below_one_is_one(contoso_scim, twelve):
    assert page(contoso_scim, startIndex=-3, count=2)["startIndex"] == 1
    assert page(contoso_scim, startIndex=0, count=2)["Resources"][0]["id"] == twelve[0]


def test_count_zero_returns_only_the_total(contoso_scim, twelve):
    body = page(contoso_scim, count=0)
    assert body["totalResults"] == 12 and body["Resources"] == []


def test_default_count_is_100_and_count_is_capped(contoso_scim, twelve, settings):
    assert len(page(contoso_scim)["Resources"]) == 12
    settings.SCIM_MAX_PAGE_SIZE = 4
    body = page(contoso_scim, count=1000)
    assert body["itemsPerPage"] == 4 and body["totalResults"] == 12


@pytest.mark.parametrize("params", [{"startIndex": "one"}, {"count": "1.5"}, {"count": ""}])
def test_non_numeric_paging_is_400(contoso_scim, params):
    assert_scim_error(contoso_scim.get("Users", **params), 400, "invalidValue")


def test_attributes_returns_only_those_plus_id_and_schemas(contoso_scim, twelve):
    body = page(contoso_scim, attributes="userName,name.givenName", count=1)
    assert set(body["Resources"][0]) == {"schemas", "id", "userName", "name"}
    assert set(body["Resources"][0]["name"]) == {"givenName"}
    one = contoso_scim.get(f"Users/{twelve[0]}", attributes="emails.value,active").json()
    assert set(one) == {"schemas", "id", "emails", "active"}
    assert list(one["emails"][0]) == ["value"]


def test_excluded_attributes_are_left_out_but_never_id(contoso_scim, twelve):
    one = contoso_scim.get(f"Users/{twelve[0]}", excludedAttributes="emails,meta,id").json()
    assert "emails" not in one and "meta" not in one and one["id"] == twelve[0]


def test_urn_qualified_attribute_names(contoso_scim, twelve):
    one = contoso_scim.get(
        f"Users/{twelve[0]}", attributes="urn:ietf:params:scim:schemas:core:2.0:User:userName"
    ).json()
    assert set(one) == {"schemas", "id", "userName"}
