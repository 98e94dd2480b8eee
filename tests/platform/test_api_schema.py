"""OpenAPI 3 schema and interactive docs; the JSON error shape."""

from django.urls import reverse


def test_schema_lists_the_api(db, client):
    response = client.get(reverse("api-schema"), {"format": "json"})
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    for path in ("/api/v1/sites/", "/api/v1/products/", "/api/v1/partnerships/", "/api/v1/organizations/",
                 "/api/v1/members/", "/api/v1/auth/token/", "/api/v1/me/"):
        assert path in schema["paths"], path


def test_docs_page(db, client):
    response = client.get(reverse("api-docs"))
    assert response.status_code == 200 and b"swagger" in response.content.lower()


def test_unknown_route_and_method_use_error_shape(cast, api_for):
    client = api_for("acme.qa")
    response = client.delete(reverse("api:site-detail", args=[cast.sites["Acme Boston"].pk]))
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
