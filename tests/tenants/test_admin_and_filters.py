"""Django admin for the platform superuser; API filtering, search and pagination."""

import pytest
from django.urls import reverse

from tests.factories import UserFactory

ADMIN_MODELS = ["user", "organization", "site", "product", "partnership", "membership", "membershiptoken"]


@pytest.mark.parametrize("model", ADMIN_MODELS)
def test_admin_changelists_and_add_pages(cast, client, model):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    assert client.get(reverse(f"admin:tenants_{model}_changelist")).status_code == 200
    assert client.get(reverse(f"admin:tenants_{model}_add")).status_code == 200


def test_admin_is_closed_to_tenant_users(cast, client_for):
    response = client_for("acme.admin").get(reverse("admin:tenants_organization_changelist"))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_filters_search_and_pagination(cast, api_for):
    client = api_for("northwind.qa")
    rows = client.get(reverse("api:site-list"), {"country": "IE"}).json()["results"]
    assert [r["name"] for r in rows] == ["Acme Cork"]
    rows = client.get(reverse("api:partnership-list"), {"stage": "tech_transfer"}).json()["results"]
    assert [(r["sponsor"]["slug"], r["cmo"]["slug"]) for r in rows] == [("northwind", "borealis")]
    rows = client.get(reverse("api:partnership-list"), {"cmo": "acme"}).json()["results"]
    assert [r["cmo"]["slug"] for r in rows] == ["acme"]
    rows = client.get(reverse("api:product-list"), {"market": "uk"}).json()["results"]
    assert [r["code"] for r in rows] == ["NWB-7"]
    rows = client.get(reverse("api:product-list"), {"search": "Borvacimab"}).json()["results"]
    assert [r["code"] for r in rows] == ["NWB-9"]
    page = client.get(reverse("api:product-list"), {"page_size": 1, "ordering": "code"}).json()
    assert page["count"] == 2 and len(page["results"]) == 1 and page["next"]


def test_filter_cannot_widen_visibility(cast, api_for):
    rows = api_for("helix.qa").get(reverse("api:site-list"), {"organization": "borealis"}).json()["results"]
    assert rows == []
