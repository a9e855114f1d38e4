"""The API's OpenAPI 3 schema and its Swagger UI docs, generated and served offline."""

import re

from django.contrib.staticfiles import finders


def test_the_schema_is_openapi_3_with_the_api_key_scheme(client):
    response = client.get("/api/v1/schema/?format=json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert schema["components"]["securitySchemes"]["apiKey"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "An MSP API key (`satapi_…`), created by an MSP admin in the console.",
    }
    assert "/api/v1/sites/{site_id}/scim-tokens/{token_id}/revoke/" in schema["paths"]
    assert not any(path.startswith("/api/v2/") for path in schema["paths"])


def test_the_docs_load_swagger_ui_from_our_own_static_files(client):
    response = client.get("/api/v1/docs/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "/api/v1/schema/" in page
    assets = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert assets
    for asset in assets:
        assert asset.startswith("/static/drf_spectacular_sidecar/"), asset
        assert finders.find(asset.removeprefix("/static/")), asset
    assert "https://" not in page and "//cdn" not in page
