"""The deviation and CAPA pages, driven like a browser (forms posted, redirects followed), for the CMO and for a
sponsor: each renders what its reader may see and each form refuses bad input with the reason on the field."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from django.utils import timezone

from deviations.models import Deviation
from tests.deviations.helpers import capa_for, classify, investigate, notify, ready_to_close, report
from tests.factories import PASSWORD


def test_operator_reports_through_the_form(cast, client_for):
    client = client_for("acme.operator")
    form = client.get(reverse("deviation-create")).content.decode()
    assert "HLX-101" in form and "NWB-7" in form  # every product Acme makes, with its sponsor
    product = cast.products["HLX-101"].pk
    data = {"title": "Capsule weight out of limits", "site": cast.sites["Acme Boston"].pk, "area_equipment": "Filler",
            "process_step": "Encapsulation", "category": "manufacturing",
            "discovered_at": (timezone.now() - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
            "discovered_by": "Olivia Park", "description": "3 of 20 capsules above limit", "report": "1",
            f"product-{product}": "1", f"batches-{product}": "HLX-101-B1, HLX-101-B2"}
    bad = client.post(reverse("deviation-create"), {**data, "title": ""})
    assert bad.status_code == 400 and 'data-field="title"' in bad.content.decode()
    none = client.post(reverse("deviation-create"), {k: v for k, v in data.items() if not k.startswith("product-")})
    assert none.status_code == 400 and "at least one affected product" in none.content.decode()
    assert not Deviation.objects.filter(title="Capsule weight out of limits").exists()  # refused: nothing kept
    response = client.post(reverse("deviation-create"), data, follow=True)
    page = response.content.decode()
    assert response.status_code == 200 and "Open (reported)" in page and "HLX-101-B1, HLX-101-B2" in page


def test_cmo_pages_render_every_state(cast, client_for):
    open_one = classify(cast, report(cast))
    closed_capa = capa_for(cast, open_one)
    pending = ready_to_close(cast, products=("HLX-101", "NWB-7"))
    client = client_for("acme.qa")
    for deviation in (open_one, pending):
        page = client.get(reverse("deviation-detail", args=[deviation.pk])).content.decode()
        assert deviation.number in page and "Deadlines" in page and "Timeline" in page
    assert "Sign: approved" in client.get(reverse("deviation-detail", args=[pending.pk])).content.decode()
    listing = client.get(reverse("deviations")).content.decode()
    assert open_one.number in listing and pending.number in listing and "Pending QA approval: 1" in listing
    filtered = client.get(reverse("deviations") + "?state=pending_approval").content.decode()
    assert pending.number in filtered and open_one.number not in filtered
    for name in ("deviation-classify", "deviation-investigation", "deviation-edit", "deviation-lines",
                 "deviation-extension", "deviation-file-upload"):
        assert client.get(reverse(name, args=[open_one.pk])).status_code == 200, name
    assert client.get(reverse("deviation-consistency")).status_code == 200
    assert client.get(reverse("deviation-taxonomy")).status_code == 200
    assert client.get(reverse("capas")).status_code == 200
    assert closed_capa.number in client.get(reverse("capa-detail", args=[closed_capa.pk])).content.decode()
    closing = client.post(reverse("deviation-close", args=[pending.pk]), {"password": "wrong"})
    assert closing.status_code == 400 and "not correct" in closing.content.decode()
    from tenants.models import SecurityEvent

    assert SecurityEvent.objects.filter(kind="signature_failed", actor=cast.users["acme.qa"]).count() == 1
    closing = client.post(reverse("deviation-close", args=[pending.pk]), {"password": PASSWORD}, follow=True)
    assert "Closed" in closing.content.decode() and "Amir Castellano" in closing.content.decode()


def test_classify_form_refuses_a_stale_version(cast, client_for):
    deviation = report(cast)
    client = client_for("acme.qa")
    response = client.post(reverse("deviation-classify", args=[deviation.pk]),
                           {"classification": "major", "rationale": "x", "version": deviation.version - 1})
    assert response.status_code == 409 and "Someone else changed this record" in response.content.decode()


def test_sponsor_comments_and_acknowledges_from_the_page(cast, client_for):
    deviation = investigate(cast, classify(cast, report(cast)))
    notify(cast, deviation)
    client = client_for("helix.qa")
    page = client.get(reverse("deviation-detail", args=[deviation.pk])).content.decode()
    assert "Read-only" in page and "Acknowledge…" in page and "Record investigation" not in page
    notice = deviation.notices.get()
    assert client.post(reverse("deviation-acknowledge", args=[notice.pk]), {"note": "Seen"}).status_code == 302
    assert client.post(reverse("deviation-comment", args=[deviation.pk]),
                       {"kind": "question", "body": "Was the HLX-101 granulate held overnight?"}).status_code == 302
    cmo_page = client_for("acme.qa").get(reverse("deviation-detail", args=[deviation.pk])).content.decode()
    assert "Was the HLX-101 granulate held overnight?" in cmo_page and "Acknowledged by Hannah Lindqvist" in cmo_page
