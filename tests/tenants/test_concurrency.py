"""Optimistic concurrency: a stale write answers 409/412 (API) or a clear form error (pages) and saves nothing."""

from django.urls import reverse

from tenants import services
from tenants.models import Site


def boston(cast):
    return Site.objects.get(pk=cast.sites["Acme Boston"].pk)


def test_etag_and_if_match(cast, api_for):
    client = api_for("acme.qa")
    url = reverse("api:site-detail", args=[cast.sites["Acme Boston"].pk])
    etag = client.get(url)["ETag"]
    assert etag == '"1"'
    first = client.patch(url, {"address": "first", "reason": "r"}, format="json", HTTP_IF_MATCH=etag)
    assert first.status_code == 200 and first["ETag"] == '"2"'
    stale = client.patch(url, {"address": "second", "reason": "r"}, format="json", HTTP_IF_MATCH=etag)
    assert stale.status_code == 412
    body = stale.json()["error"]
    assert body["code"] == "precondition_failed" and body["current_version"] == 2 and "Nothing was saved" in \
        body["message"]
    assert boston(cast).address == "first"


def test_version_field_conflict_is_409(cast, api_for):
    client = api_for("acme.qa")
    url = reverse("api:site-detail", args=[cast.sites["Acme Boston"].pk])
    assert client.patch(url, {"address": "a", "version": 1, "reason": "r"}, format="json").status_code == 200
    stale = client.patch(url, {"address": "b", "version": 1, "reason": "r"}, format="json")
    assert stale.status_code == 409 and stale.json()["error"]["current_version"] == 2
    assert boston(cast).address == "a" and boston(cast).version == 2


def test_a_write_must_name_its_version(cast, api_for):
    response = api_for("acme.qa").patch(reverse("api:site-detail", args=[cast.sites["Acme Boston"].pk]),
                                        {"address": "x"}, format="json")
    assert response.status_code == 428 and "version" in response.json()["error"]["fields"]
    assert boston(cast).address != "x"


def test_two_editors_on_the_page(cast, client_for):
    site = cast.sites["Acme Boston"]
    url = reverse("site-edit", args=[site.pk])
    alice, bob = client_for("acme.qa"), client_for("acme.admin")
    assert 'name="version" value="1"' in alice.get(url).content.decode()
    assert 'name="version" value="1"' in bob.get(url).content.decode()
    data = {"name": "Acme Boston", "country": "US", "fei_number": "3004567890", "is_active": "on", "version": 1,
            "reason": "corrected"}
    assert alice.post(url, {**data, "address": "Alice's address"}).status_code == 302
    response = bob.post(url, {**data, "address": "Bob's address"})
    assert response.status_code == 409
    assert "Someone else changed this record" in response.content.decode()
    assert boston(cast).address == "Alice's address"


def test_concurrent_service_writes_cannot_both_win(cast):
    import pytest

    from qms.errors import StaleWrite

    first, second = boston(cast), boston(cast)  # two people read version 1
    services.site_update(membership=cast.memberships["acme.qa"], site=first, address="one", reason="r")
    with pytest.raises(StaleWrite):
        services.site_update(membership=cast.memberships["acme.admin"], site=second, address="two", reason="r")
    assert boston(cast).address == "one"
