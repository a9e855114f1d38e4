"""Discovery (RFC 7643 §5-7): describes exactly what is implemented."""

from .conftest import ENTERPRISE_URN, GROUP_URN, USER_URN, assert_scim_error


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
    assert {s["id"] for s in body["Resources"]} == {USER_URN, ENTERPRISE_URN, GROUP_URN}
    user = contoso_scim.get(f"Schemas/{USER_URN}").json()
    typed = {"value", "type", "primary"}
    assert attribute_names(user) == {
        "id", "externalId", "userName", "displayName", "nickName", "profileUrl", "title",
        "userType", "preferredLanguage", "locale", "timezone", "active", "password",
        "name", *(f"name.{s}" for s in (
            "formatted", "familyName", "givenName", "middleName", "honorificPrefix",
            "honorificSuffix",
        )),
        *(f"{a}{s}" for a in ("emails", "phoneNumbers", "ims", "photos", "x509Certificates")
          for s in ("", *(f".{t}" for t in typed))),
        *(f"{a}{s}" for a in ("entitlements", "roles")
          for s in ("", ".display", *(f".{t}" for t in typed))),
        "addresses", *(f"addresses.{s}" for s in (
            "formatted", "streetAddress", "locality", "region", "postalCode", "country",
            "type", "primary",
        )),
    }  # fmt: skip
    group = contoso_scim.get(f"Schemas/{GROUP_URN}").json()
    assert attribute_names(group) == {
        "id", "externalId", "displayName", "members", "members.value", "members.$ref",
        "members.display", "members.type",
    }  # fmt: skip
    assert "null" not in contoso_scim.get("Schemas").content.decode()
    assert_scim_error(contoso_scim.get("Schemas/urn:example:nope"), 404)


def characteristics(schema: dict, name: str) -> dict:
    return next(a for a in schema["attributes"] if a["name"] == name)


def test_each_attribute_says_what_it_is_as_rfc_7643_shows(contoso_scim):
    user = contoso_scim.get(f"Schemas/{USER_URN}").json()
    assert characteristics(user, "userName") == {
        "name": "userName",
        "type": "string",
        "multiValued": False,
        "description": "Unique within the site, compared case-insensitively. Entra's matching key.",
        "required": True,
        "caseExact": False,
        "mutability": "readWrite",
        "returned": "default",
        "uniqueness": "server",
    }
    assert characteristics(user, "password")["mutability"] == "writeOnly"
    assert characteristics(user, "password")["returned"] == "never"
    assert characteristics(user, "id")["returned"] == "always"
    phones = characteristics(user, "phoneNumbers")
    assert "caseExact" not in phones and phones["multiValued"] is True
    kinds = next(s for s in phones["subAttributes"] if s["name"] == "type")["canonicalValues"]
    assert {"work", "mobile", "fax"} <= set(kinds)
    assert characteristics(user, "profileUrl")["referenceTypes"] == ["external"]
    group = contoso_scim.get(f"Schemas/{GROUP_URN}").json()
    members = {s["name"]: s for s in characteristics(group, "members")["subAttributes"]}
    assert members["$ref"]["referenceTypes"] == ["User"]
    assert members["display"]["mutability"] == "readOnly"
