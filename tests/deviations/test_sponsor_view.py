"""One deviation, two sponsors: each sees it read-only with only its own product lines, notices, comment threads
and timeline — through the API, the page, the PDF and the database itself — and the notification clocks follow
each sponsor's own agreement."""

from __future__ import annotations

import pytest
from django.db import connection
from django.urls import reverse

from agreements import services as agreement_services
from agreements.catalogue import NotificationEvent
from clocks.calendars import CalendarCode, Unit
from clocks.models import Notification
from deviations import services
from deviations.models import Acknowledgement, AffectedProduct, Notice
from tenants import rls
from tests.agreements.helpers import acting, complete, draft, sign
from tests.deviations.helpers import classify, notify, report

BOTH = ("HLX-101", "NWB-7")


def shared(cast):
    """Reported at Acme, affecting Helix's HLX-101 and Northwind's NWB-7; classified major; both told."""
    deviation = classify(cast, report(cast, products=BOTH), "major")
    notify(cast, deviation)
    with acting(cast, "northwind.qa"):
        services.comment_add(membership=cast.memberships["northwind.qa"], deviation=deviation,
                             body="NWB-7 is light-sensitive: check the hold time.", kind="comment")
    return deviation


@pytest.mark.parametrize("reader, own, other, other_name", [
    ("helix.qa", "HLX-101", "NWB-7", "Northwind"), ("northwind.qa", "NWB-7", "HLX-101", "Helix")])
def test_each_sponsor_sees_only_its_own_lines_in_the_api(cast, api_for, reader, own, other, other_name):
    deviation = shared(cast)
    body = api_for(reader).get(reverse("api:deviation-detail", args=[deviation.pk])).json()
    assert [line["product_code"] for line in body["products"]] == [own]
    assert [n["sponsor_name"] for n in body["notices"]] == [cast.products[own].organization.name]
    text = str(body)
    assert other not in text and other_name not in text and f"{other}-L001" not in text
    listed = api_for(reader).get(reverse("api:deviation-list")).json()["results"]
    assert [[line["product_code"] for line in d["products"]] for d in listed] == [[own]]
    if reader == "helix.qa":
        assert body["comments"] == [] and "light-sensitive" not in text  # Northwind's thread is Northwind's


@pytest.mark.parametrize("reader, own, other, other_name", [
    ("helix.qa", "HLX-101", "NWB-7", "Northwind"), ("northwind.qa", "NWB-7", "HLX-101", "Helix")])
def test_each_sponsor_sees_only_its_own_lines_on_the_page_and_in_the_pdf(cast, client_for, reader, own, other,
                                                                      other_name):
    deviation = shared(cast)
    client = client_for(reader)
    page = client.get(reverse("deviation-detail", args=[deviation.pk])).content.decode()
    assert f"{own}-L001" in page and deviation.number in page
    assert other not in page and other_name not in page
    listing = client.get(reverse("deviations")).content.decode()
    assert own in listing and other not in listing and other_name not in listing
    csv = client.get(reverse("deviation-export")).content.decode()
    assert own in csv and other not in csv and other_name not in csv
    pdf = client.get(reverse("deviation-pdf", args=[deviation.pk]))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"


def test_the_cmo_sees_every_line_and_every_thread(cast, api_for):
    deviation = shared(cast)
    body = api_for("acme.qa").get(reverse("api:deviation-detail", args=[deviation.pk])).json()
    assert sorted(line["product_code"] for line in body["products"]) == sorted(BOTH)
    assert len(body["notices"]) == 2 and [c["body"] for c in body["comments"]] == [
        "NWB-7 is light-sensitive: check the hold time."]


def test_row_level_security_hides_the_other_sponsors_lines_even_from_raw_sql(cast):
    deviation = shared(cast)
    helix = cast.memberships["helix.qa"]
    with acting(cast, "helix.qa"):
        assert list(AffectedProduct.objects.filter(deviation=deviation).values_list("product__code", flat=True)) == [
            "HLX-101"]
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM deviations_affectedproduct WHERE deviation_id = %s", [deviation.pk])
            assert cursor.fetchone()[0] == 1
            cursor.execute("SELECT count(*) FROM deviations_notice WHERE deviation_id = %s", [deviation.pk])
            assert cursor.fetchone()[0] == 1
            cursor.execute("SELECT count(*) FROM deviations_comment WHERE deviation_id = %s", [deviation.pk])
            assert cursor.fetchone()[0] == 0
    assert helix.organization_id != deviation.organization_id


def test_sponsors_cannot_write_the_cmos_record(cast, api_for):
    deviation = shared(cast)
    api = api_for("helix.qa")
    assert api.patch(reverse("api:deviation-detail", args=[deviation.pk]),
                     {"title": "x", "version": deviation.version}, format="json").status_code == 403
    assert api.post(reverse("api:deviation-classify", args=[deviation.pk]),
                    {"classification": "minor", "rationale": "x"}, format="json").status_code == 403
    assert api_for("acme.qa").get(reverse("api:deviation-detail", args=[deviation.pk])).status_code == 200
    assert api_for("borealis.qa").get(reverse("api:deviation-detail", args=[deviation.pk])).status_code == 404


def test_notification_windows_come_from_each_sponsors_agreement(cast):
    """Helix ↔ Acme agreed 1 US business day for a major deviation and a 20-day closure; Northwind ↔ Acme has no
    effective agreement, so the conservative default (3 US business days, 30 days) applies to Northwind."""
    agreement = complete(cast, draft(cast, "helix", "acme"), "helix.qa")
    with acting(cast, "helix.qa"):
        agreement_services.windows_update(membership=cast.memberships["helix.qa"], agreement=agreement, windows={
            NotificationEvent.MAJOR_DEVIATION: (1, Unit.BUSINESS_DAYS, CalendarCode.US_FEDERAL)})
        agreement.refresh_from_db()
        agreement_services.agreement_update(membership=cast.memberships["helix.qa"], agreement=agreement,
                                            deviation_closure_days=20)
    with acting(cast, "acme.qa"):
        agreement_services.agreement_submit(membership=cast.memberships["acme.qa"], agreement=agreement)
    sign(cast, agreement, "helix.qa", "approve-sponsor")
    sign(cast, agreement, "acme.qa", "approve-cmo")

    deviation = classify(cast, report(cast, products=BOTH), "major")
    assert deviation.closure_deadline.amount == 20  # the strictest closure target of the affected partnerships
    notices = {n.sponsor.slug: n for n in Notice.objects.filter(deviation=deviation).select_related("sponsor",
                                                                                                  "deadline")}
    assert (notices["helix"].deadline.amount, notices["helix"].deadline.unit) == (1, Unit.BUSINESS_DAYS)
    assert (notices["northwind"].deadline.amount, notices["northwind"].deadline.unit) == (3, Unit.BUSINESS_DAYS)
    assert "1 US business day after deviation reported" in notices["helix"].deadline.rule_text
    # each sponsor sees its own clock only
    helix_view = set(notices["helix"].deadline.audience.values_list("organization_id", flat=True))
    assert cast.orgs["northwind"].pk not in helix_view


def test_notifying_writes_the_outbox_meets_the_clock_and_the_sponsor_acknowledges(cast, mailoutbox):
    deviation = classify(cast, report(cast, products=BOTH), "critical")
    notices = notify(cast, deviation)
    assert len(notices) == 2
    for notice in Notice.objects.filter(deviation=deviation).select_related("deadline"):
        assert notice.notified_at is not None and notice.deadline.state == "met" and notice.recipients >= 1
    with rls.system_context("test"):
        helix_mail = Notification.objects.filter(organization=cast.orgs["helix"], record_id=deviation.pk)
        assert helix_mail.count() == 1 and helix_mail.get().email_state == "pending"
        body = helix_mail.get().body
        from clocks.delivery import notification_link

        assert notification_link(helix_mail.get()) == reverse("deviation-detail", args=[deviation.pk])
    assert "HLX-101" in body and "NWB-7" not in body
    helix_notice = Notice.objects.get(deviation=deviation, sponsor=cast.orgs["helix"])
    with acting(cast, "northwind.qa"), pytest.raises(Exception, match="Only the sponsor"):
        services.notice_acknowledge(membership=cast.memberships["northwind.qa"], notice=helix_notice)
    with acting(cast, "helix.qa"):
        ack = services.notice_acknowledge(membership=cast.memberships["helix.qa"], notice=helix_notice,
                                          note="Received; QP informed.")
    assert ack.organization_id == cast.orgs["helix"].pk and Acknowledgement.objects.count() == 1
    with rls.system_context("test"):
        assert Notification.objects.filter(organization=cast.orgs["acme"], subject__contains="acknowledged").exists()
    with pytest.raises(Exception, match="already been told"):
        notify(cast, deviation)


def test_exports_need_the_export_capability_and_carry_the_readers_rows(cast, api_for, client_for):
    deviation = shared(cast)
    assert api_for("helix.viewer").get(reverse("api:deviation-pdf", args=[deviation.pk])).status_code == 403
    assert client_for("helix.viewer").get(reverse("deviation-pdf", args=[deviation.pk])).status_code == 403
    assert api_for("helix.viewer").get(reverse("api:deviation-export")).status_code == 403
    body = api_for("helix.qa").get(reverse("api:deviation-export")).content.decode()
    assert deviation.number in body and "HLX-101-L001" in body and "NWB-7" not in body


def test_a_service_refusal_keeps_its_reason_in_the_api(cast, api_for):
    deviation = shared(cast)
    helix_notice = Notice.objects.get(deviation=deviation, sponsor=cast.orgs["helix"])
    response = api_for("northwind.qa").post(reverse("api:deviation-notice-acknowledge", args=[helix_notice.pk]),
                                            {}, format="json")
    assert response.status_code == 404  # Northwind cannot even see Helix's notice
    response = api_for("acme.qa").post(reverse("api:deviation-notice-acknowledge", args=[helix_notice.pk]), {},
                                       format="json")
    assert response.status_code == 403 and "Only the sponsor" in response.json()["error"]["message"]
