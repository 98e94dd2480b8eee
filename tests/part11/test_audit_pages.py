"""Audit-trail pages and API: search, filters, timeline, CSV export; scoped to what the organization can see."""

import csv
import io

import pytest
from django.urls import reverse

from tenants import services


@pytest.fixture
def changed(cast):
    services.site_update(membership=cast.memberships["acme.qa"], site=cast.sites["Acme Boston"],
                         address="9 Harbor Way", reason="site renumbered by the city")
    return cast.sites["Acme Boston"]


def test_record_history_timeline(cast, client_for, changed):
    body = client_for("acme.qa").get(reverse("record-history", args=["tenants_site", changed.pk])).content.decode()
    assert "History: Site" in body and "9 Harbor Way" in body and "→" in body
    assert "Created" in body and "Updated" in body
    # The partner sees nothing of a site outside its scope: 404, like a missing record.
    cork = cast.sites["Acme Cork"]
    assert client_for("helix.qa").get(reverse("record-history", args=["tenants_site", cork.pk])).status_code == 404
    assert client_for("borealis.qa").get(reverse("record-history", args=["tenants_site", changed.pk])).status_code \
        == 404


def test_search_filters_and_export(cast, client_for, changed):
    client = client_for("acme.qa")
    body = client.get(reverse("audit-search"), {"record_type": "tenants_site", "action": "update"}).content.decode()
    assert "9 Harbor Way" in body and "Acme Cork" not in body
    assert "record_type=tenants_site" in body  # the export link keeps the filters
    invalid = client.get(reverse("audit-search"), {"since": "not-a-date"})
    assert invalid.status_code == 200 and 'data-field="since"' in invalid.content.decode()
    response = client.get(reverse("audit-export"), {"record_type": "tenants_site", "action": "update"})
    assert response["Content-Disposition"].startswith("attachment; filename=\"audit-trail-")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows and all(row["record_type"] == "Site" and row["action"] == "update" for row in rows)
    assert any("9 Harbor Way" in row["changes"] for row in rows)
    assert len(rows[0]["hash"]) == 64


def test_api_twin(cast, api_for, changed):
    client = api_for("acme.qa")
    rows = client.get(reverse("api:audit-event-list"), {"record_type": "tenants_site",
                                                        "record_id": changed.pk}).json()["results"]
    assert {r["action"] for r in rows} == {"create", "update"}
    assert all(r["record_type"] == "Site" for r in rows)
    export = client.get(reverse("api:audit-event-export"), {"record_id": changed.pk})
    assert export.status_code == 200 and export["Content-Type"].startswith("text/csv")
    assert api_for("borealis.qa").get(reverse("api:audit-event-list"), {"record_id": changed.pk}).json()[
        "results"] == []


def test_roles_without_the_capability(cast, client_for, api_for):
    assert client_for("helix.viewer").get(reverse("audit-search")).status_code == 403
    assert client_for("acme.operator").get(reverse("audit-export")).status_code == 403
    assert api_for("acme.operator").get(reverse("api:audit-event-list")).status_code == 403
    assert client_for("auditor").get(reverse("audit-search")).status_code == 200
