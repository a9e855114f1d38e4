"""Discovery (RFC 7643 §5-7): describes exactly what is implemented."""

from .conftest import assert_scim_error

USER_URN = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_URN = "urn:ietf:params:scim:schemas:core:2.0:Group"


def test_service_provider_config_is_honest(contoso_scim):
    body = contoso_scim.get("ServiceProviderConfig").json()
    assert body["patch"] == {"supported": True}
    assert body["filter"]["supported"] is True and body["filter"]["maxResults"] == 500
    assert body["bulk"]["supported"] is False
    assert body["sort"] == {"supported": False} and body["etag"] == {"supported": False}
    assert body["changePassword"] == {"supported": False}
    assert body["authenticationSchemes"][0]["type"] == "oauthbearertoken"
    assert body["meta"]["location"] == "http://testserver/api/v2/scim/ServiceProviderConfig"


def test_resource_types(contoso_scim):
    body = contoso_scim.get("ResourceTypes").json()
    assert {(r["id"], r["endpoint"], r["schema"]) for r in body["Resources"]} == {
        ("User", "/Users", USER_URN),
        ("Group", "/Groups", GROUP_URN),
    }
    assert contoso_scim.get("ResourceTypes/User").json()["endpoint"] == "/Users"
    assert_scim_error(contoso_scim.get("ResourceTypes/Device"), 404)


def attribute_names(schema: dict) -> set[str]:
    names = set()
    for attribute in schema["attributes"]:
        names.add(attribute["name"])
        names.update(f"{attribute['name']}.{s['name']}" for s in attribute.get("subAttributes", []))
    return names


def test_schemas_list_exactly_what_we_store_and_return(contoso_scim):
    body = contoso_scim.get("Schemas").json()
    assert {s["id"] for s in body["Resources"]} == {USER_URN, GROUP_URN}
    user = contoso_scim.get(f"Schemas/{USER_URN}").json()
    assert attribute_names(user) == {
        "id", "externalId", "userName", "name", "name.givenName", "name.familyName",
        "name.formatted", "displayName", "emails", "emails.value", "emails.type",
        "emails.primary", "active",
    }  # fmt: skip
    group = contoso_scim.get(f"Schemas/{GROUP_URN}").json()
    assert attribute_names(group) == {
        "id", "externalId", "displayName", "members", "members.value", "members.display",
    }  # fmt: skip
    assert "null" not in contoso_scim.get("Schemas").content.decode()
    assert_scim_error(contoso_scim.get("Schemas/urn:example:nope"), 404)
