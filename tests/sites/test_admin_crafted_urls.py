"""Crafted admin URLs (odd filter values, NUL characters) are answered, never a 500.

Root is a superuser looking at every changelist of the support admin, with each filter
parameter given a value a browser would never send.
"""

import pytest
from django.contrib import admin
from django.urls import reverse

from tests.admin_support import make_group, make_log_entry, make_user, signed_in_client

ODD_VALUES = ["²", "%C2%B2", "%00", "a%00b", "-1", "99999999999999999999", "1.5", "", "x"]


def changelists() -> list[str]:
    return [
        reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        for model in admin.site._registry
        if model._meta.app_label in ("sites", "scim_app")
    ]


def filter_parameters(url: str, client) -> set[str]:
    """The parameter names the changelist's own filter links use."""
    html = client.get(url).content.decode()
    import re

    return {name for name in re.findall(r'href="\?([a-z_]+)=', html)} | {"site", "msp", "q"}


@pytest.fixture
def root_client(root, contoso):
    user = make_user(contoso, "dana@contoso.example")
    make_group(contoso, "Finance", [user])
    make_log_entry(contoso)
    return signed_in_client(root)


@pytest.mark.parametrize("url", changelists())
def test_no_changelist_filter_or_search_value_is_a_server_error(root_client, url):
    for name in filter_parameters(url, root_client):
        for value in ODD_VALUES:
            response = root_client.get(f"{url}?{name}={value}")
            assert response.status_code in (200, 302), (url, name, value, response.status_code)


def test_a_site_filter_that_is_not_a_number_shows_nothing(root_client):
    url = reverse("admin:scim_app_scimuser_changelist")
    response = root_client.get(f"{url}?site=%C2%B2")
    assert response.status_code == 200
    assert b"dana@contoso.example" not in response.content


def test_a_search_with_a_nul_character_ignores_it(root_client):
    url = reverse("admin:scim_app_scimuser_changelist")
    response = root_client.get(f"{url}?q=dana%00")
    assert response.status_code == 200
    assert b"dana@contoso.example" in response.content


def test_the_autocomplete_search_with_a_nul_character_answers(root_client, contoso):
    response = root_client.get(
        "/admin/autocomplete/",
        {"term": "Con\x00", "app_label": "sites", "model_name": "scimtoken", "field_name": "site"},
    )
    assert response.status_code == 200
    assert [r["text"] for r in response.json()["results"]] == ["Contoso"]
