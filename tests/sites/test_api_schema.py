"""The API's OpenAPI 3 schema and its Swagger UI docs, generated and served offline."""

import re


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
    assets = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert "/api/v1/docs/?script=" in assets
    for asset in assets:
        assert asset.startswith(
            ("/static/drf_spectacular_sidecar/", "/static/api/", "/api/v1/docs/")
        ), asset
        assert client.get(asset).status_code == 200, asset
    assert "https://" not in page and "//cdn" not in page
    # The Content-Security-Policy allows no inline script: Swagger UI starts from a file.
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", page) == []
    assert "/api/v1/schema/" in client.get("/api/v1/docs/?script=").content.decode()
