"""The batch pages, driven like a browser (forms posted, redirects followed), for the CMO and for a sponsor: each
renders what its reader may see, each form refuses bad input with the reason on the field, and the sponsor never
sees another sponsor's batches."""

from __future__ import annotations

import datetime as dt
import hashlib
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from batches.models import Batch, ChangeInEffect, Disposition, Document, QcResult, Query
from clocks.models import Notification
from part11.signatures import signatures_of
from tenants.models import SecurityEvent
from tests.batches.helpers import ask, at_sponsor, complete, pdf_bytes, register, submit, upload
from tests.deviations.helpers import report as report_deviation
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def _create_post(cast, **overrides):
    today = timezone.localdate()
    data = {"product": cast.products["HLX-101"].pk, "lot_number": "HLX-P-001", "site": cast.sites["Acme Boston"].pk,
            "manufactured_on": (today - dt.timedelta(days=10)).isoformat(),
            "completed_on": (today - dt.timedelta(days=8)).isoformat(), "expiry_date": "",
            "quantity": "250000", "unit": "tablets",
            "planned_delivery_date": (today + dt.timedelta(days=20)).isoformat()}
    return {**data, **overrides}


def _field_error(html: str, field: str) -> bool:
    return f'data-field="{field}"' in html


# --- Register and import ------------------------------------------------------------------------------------------


def test_operator_registers_a_batch_through_the_form(cast, client_for):
    client = client_for("acme.operator")
    form = client.get(reverse("batch-create")).content.decode()
    assert "HLX-101" in form and "NWB-7" in form and "Acme Boston" in form  # what Acme makes, where
    bad = client.post(reverse("batch-create"), _create_post(cast, lot_number=""))
    assert bad.status_code == 400 and _field_error(bad.content.decode(), "lot_number")
    early = client.post(reverse("batch-create"), _create_post(
        cast, completed_on=(timezone.localdate() - dt.timedelta(days=30)).isoformat()))
    assert early.status_code == 400 and _field_error(early.content.decode(), "completed_on")
    assert "Manufacturing cannot end before it starts." in early.content.decode()
    # A site the partnership with Helix does not name: the service's refusal lands on the site field.
    cork = client.post(reverse("batch-create"), _create_post(cast, site=cast.sites["Acme Cork"].pk))
    assert cork.status_code == 400 and _field_error(cork.content.decode(), "site")
    assert not Batch.objects.exists()
    response = client.post(reverse("batch-create"), _create_post(cast), follow=True)
    page = response.content.decode()
    batch = Batch.objects.get()
    assert response.redirect_chain[-1][0] == reverse("batch-detail", args=[batch.pk])
    assert "HLX-101 lot HLX-P-001 registered." in page and "In production" in page
    assert (batch.organization, batch.sponsor, batch.created_by) == (
        cast.orgs["acme"], cast.orgs["helix"], cast.users["acme.operator"])
    duplicate = client.post(reverse("batch-create"), _create_post(cast))
    assert duplicate.status_code == 400 and _field_error(duplicate.content.decode(), "lot_number")


def test_sponsor_and_admin_cannot_register(cast, client_for):
    for username, status in (("helix.qa", 403), ("acme.admin", 403), ("helix.viewer", 403)):
        client = client_for(username)
        assert client.get(reverse("batch-create")).status_code == status, username
        assert client.post(reverse("batch-create"), _create_post(cast)).status_code == status, username
        assert client.get(reverse("batch-import")).status_code == status, username
    assert not Batch.objects.exists()
    assert "Register a batch" not in client_for("helix.qa").get(reverse("batches")).content.decode()
    assert "Register a batch" in client_for("acme.operator").get(reverse("batches")).content.decode()


def _csv(*rows: str) -> SimpleUploadedFile:
    header = "product,lot_number,site,manufactured_on,quantity,unit,planned_delivery_date"
    return SimpleUploadedFile("batches.csv", ("\n".join((header, *rows)) + "\n").encode(), content_type="text/csv")


def test_import_registers_every_row_or_none(cast, client_for):
    client = client_for("acme.operator")
    page = client.get(reverse("batch-import")).content.decode()
    assert "product,lot_number,site,manufactured_on,completed_on,expiry_date,quantity,unit,planned_delivery_date" in (
        page)  # the expected header, with an example row under it
    made = (timezone.localdate() - dt.timedelta(days=7)).isoformat()
    bad = client.post(reverse("batch-import"), {"file": _csv(
        f"HLX-101,IMP-1,Acme Boston,{made},1000,tablets,",
        f"HLX-101,IMP-2,Nowhere Plant,{made},1000,tablets,",
        "NWB-7,IMP-3,Acme Cork,2024-13-01,1000,vials,",
        f"NWB-7,IMP-4,Acme Cork,{made},500,vials,")})
    html = bad.content.decode()
    assert bad.status_code == 400
    assert "2 of 4 rows have errors; nothing was imported." in html
    errors = re.findall(r'<tr data-row="(\d+)"><td>\d+</td><td><code>(\w+)</code></td><td>([^<]+)</td>', html)
    assert [(row, field) for row, field, _ in errors] == [("2", "site"), ("3", "manufactured_on")]
    assert "Nowhere Plant is not one of your organization&#x27;s sites." in html
    assert not Batch.objects.exists()  # all or nothing
    not_csv = client.post(reverse("batch-import"), {"file": SimpleUploadedFile("x.csv", b"lot\nL1\n")})
    assert not_csv.status_code == 400 and _field_error(not_csv.content.decode(), "file")
    good = client.post(reverse("batch-import"), {"file": _csv(
        f"HLX-101,IMP-1,Acme Boston,{made},1000,tablets,",
        f"NWB-7,IMP-4,Acme Cork,{made},500,vials,{(timezone.localdate() + dt.timedelta(days=9)).isoformat()}")},
        follow=True)
    assert good.redirect_chain[-1][0] == reverse("batches")
    assert "2 batches registered." in good.content.decode()
    assert set(Batch.objects.values_list("lot_number", "sponsor__slug")) == {("IMP-1", "helix"), ("IMP-4", "northwind")}


# --- Lists, queue and CSV -------------------------------------------------------------------------------------------


def test_pipeline_counts_filters_and_csv(cast, client_for):
    waiting = at_sponsor(cast, lot="HLX-101-Q1")
    making = register(cast, lot="HLX-101-Q2")
    northwind = register(cast, product="NWB-7", lot="NWB-7-Q3")
    client = client_for("acme.qa")
    page = client.get(reverse("batches")).content.decode()
    assert "In production (record in preparation): 2" in page and "Awaiting sponsor disposition: 1" in page
    for batch in (waiting, making, northwind):
        assert reverse("batch-detail", args=[batch.pk]) in page
    assert "no EBR" in page and "Helix Therapeutics" in page and "Northwind Biologics" in page
    filtered = client.get(reverse("batches"), {"sponsor": cast.orgs["northwind"].pk}).content.decode()
    assert "NWB-7-Q3" in filtered and "HLX-101-Q1" not in filtered
    by_state = client.get(reverse("batches"), {"state": "sponsor_review"}).content.decode()
    assert "HLX-101-Q1" in by_state and "HLX-101-Q2" not in by_state
    text = client.get(reverse("batches"), {"q": "q2"}).content.decode()
    assert "HLX-101-Q2" in text and "HLX-101-Q1" not in text
    clean = client.get(reverse("batches"), {"exceptions": "false"}).content.decode()
    assert "HLX-101-Q1" in clean and "HLX-101-Q2" not in clean  # complete record, nothing flagged
    csv = client.get(reverse("batch-export"), {"product": cast.products["HLX-101"].pk})
    body = csv.content.decode()
    assert csv["Content-Type"].startswith("text/csv") and "HLX-101-Q1" in body and "NWB-7-Q3" not in body
    assert "executed batch record; certificate of analysis" in body  # the missing documents of HLX-101-Q2
    queue = client.get(reverse("batch-queue")).content.decode()
    assert "In my QA review" in queue and "Nothing waiting for you." in queue


def test_sponsor_queue_is_oldest_first_with_age_and_due_date(cast, client_for):
    first = at_sponsor(cast, lot="HLX-101-A1")
    second = at_sponsor(cast, lot="HLX-101-A2")
    Batch.objects.filter(pk=first.pk).update(sent_to_sponsor_at=timezone.now() - dt.timedelta(days=3))
    client = client_for("helix.qa")
    page = client.get(reverse("batch-queue")).content.decode()
    assert "Awaiting my disposition" in page
    assert page.index("HLX-101-A1") < page.index("HLX-101-A2")
    assert "3 days" in page and "0 days" in page and "On track" in page
    due = Batch.objects.get(pk=second.pk).review_deadline.due_at
    assert f"{due:%-d %b %Y}" in page
    by_cmo = client.get(reverse("batch-queue"), {"cmo": cast.orgs["borealis"].pk}).content.decode()
    assert "HLX-101-A1" not in by_cmo and "Nothing waiting for you." in by_cmo
    with_exceptions = client.get(reverse("batch-queue"), {"exceptions": "true"}).content.decode()
    assert "HLX-101-A1" not in with_exceptions


# --- The review page and the executed batch record ---------------------------------------------------------------


def test_review_page_shows_exceptions_and_the_record_inline(cast, client_for):
    from batches import services
    from tests.agreements.helpers import acting
    from tests.batches.helpers import results

    batch = complete(cast, register(cast, lot="HLX-101-R1"))
    results(cast, batch, services.QcLine("Assay (HPLC)", "95.0–105.0 %", "99.4 %"),
            services.QcLine("Water content (KF)", "≤ 2.0 %", "2.3 %", passed=True, oos=True))
    with acting(cast, "acme.qa"):
        services.changes_set(membership=cast.memberships["acme.qa"], batch=batch,
                             changes=[services.ChangeLine("CC-2024-118", "New granulation endpoint")])
    batch = submit(cast, batch)
    from tests.batches.helpers import dispose

    dispose(cast, batch, by="acme.qa")
    ebr = Document.objects.get(batch=batch, kind=Document.Kind.EXECUTED_BATCH_RECORD)
    page = client_for("helix.qa").get(reverse("batch-detail", args=[batch.pk])).content.decode()
    assert "HLX-101 lot HLX-101-R1" in page and "Awaiting sponsor disposition" in page
    assert "Water content (KF): OOS investigated, result 2.3 %" in page
    assert "Change in effect: CC-2024-118 New granulation endpoint" in page
    document_url = reverse("batch-document", args=[ebr.pk])
    assert re.search(rf'<iframe class="pdf-frame" src="{document_url}" title="Executed batch record', page)
    assert f'href="{document_url}?download=1"' in page and ebr.file.sha256 in page
    assert "Amir Castellano</strong> — Released" in page  # the CMO's signed release, manifested
    assert reverse("batch-dispose", args=[batch.pk]) in page and "Raise a query" in page
    assert "Edit…" not in page and "QC results…" not in page  # the record is the CMO's
    cmo_page = client_for("acme.qa").get(reverse("batch-detail", args=[batch.pk])).content.decode()
    assert "Raise a query" not in cmo_page and reverse("batch-dispose", args=[batch.pk]) not in cmo_page


def test_inline_document_is_framed_by_our_pages_only_and_downloads(cast, client_for):
    batch = complete(cast, register(cast))
    ebr = Document.objects.get(batch=batch, kind=Document.Kind.EXECUTED_BATCH_RECORD)
    client = client_for("helix.qa")
    inline = client.get(reverse("batch-document", args=[ebr.pk]))
    assert inline.status_code == 200
    assert inline["Content-Type"] == "application/pdf"
    assert inline["Content-Disposition"].startswith("inline")
    assert "frame-ancestors 'self'" in inline["Content-Security-Policy"]
    assert "sandbox" not in inline["Content-Security-Policy"]
    assert inline["X-Frame-Options"] == "SAMEORIGIN"
    assert inline["X-Checksum-SHA256"] == ebr.file.sha256
    body = b"".join(inline.streaming_content)
    assert body.startswith(b"%PDF-") and hashlib.sha256(body).hexdigest() == ebr.file.sha256
    download = client.get(reverse("batch-document", args=[ebr.pk]), {"download": "1"})
    assert download["Content-Disposition"].startswith("attachment")
    assert download["X-Frame-Options"] == "DENY" and "sandbox" in download["Content-Security-Policy"]


def test_northwind_never_sees_helix_batches(cast, client_for):
    helix = at_sponsor(cast, lot="HLX-101-SECRET")
    ebr = Document.objects.get(batch=helix, kind=Document.Kind.EXECUTED_BATCH_RECORD)
    query = ask(cast, helix)
    own = at_sponsor(cast, product="NWB-7", lot="NWB-7-OWN")
    client = client_for("northwind.qa")
    for name in ("batches", "batch-queue"):
        page = client.get(reverse(name)).content.decode()
        assert "NWB-7-OWN" in page and "HLX-101" not in page and "Helix" not in page, name
    csv = client.get(reverse("batch-export")).content.decode()
    assert "NWB-7-OWN" in csv and "HLX-101" not in csv
    assert client.get(reverse("batch-detail", args=[helix.pk])).status_code == 404
    assert client.get(reverse("batch-document", args=[ebr.pk])).status_code == 404
    assert client.get(reverse("batch-document", args=[ebr.pk]), {"download": "1"}).status_code == 404
    assert client.get(reverse("batch-pdf", args=[helix.pk])).status_code == 404
    assert client.get(reverse("batch-dispose", args=[helix.pk])).status_code == 404
    assert client.post(reverse("batch-query-reply", args=[query.pk]), {"body": "x"}).status_code == 404
    assert client.get(reverse("batch-detail", args=[own.pk])).status_code == 200


# --- The CMO's record forms -----------------------------------------------------------------------------------------


def test_cmo_edits_results_changes_documents_and_submits(cast, client_for):
    batch = register(cast, lot="HLX-101-F1")
    qa = client_for("acme.qa")
    stale = qa.post(reverse("batch-edit", args=[batch.pk]), {
        "lot_number": "HLX-101-F1", "site": cast.sites["Acme Boston"].pk, "manufactured_on": batch.manufactured_on,
        "quantity": "240000", "unit": "tablets", "version": batch.version - 1})
    assert stale.status_code == 409 and "Someone else changed this record" in stale.content.decode()
    saved = qa.post(reverse("batch-edit", args=[batch.pk]), {
        "lot_number": "HLX-101-F1", "site": cast.sites["Acme Boston"].pk, "manufactured_on": batch.manufactured_on,
        "quantity": "240000", "unit": "tablets", "version": batch.version})
    assert saved.status_code == 302 and Batch.objects.get(pk=batch.pk).quantity == 240000

    form = qa.get(reverse("batch-results", args=[batch.pk])).content.decode()
    assert 'name="form-TOTAL_FORMS" value="5"' in form  # no results yet: five blank rows
    rows = {"form-TOTAL_FORMS": "3", "form-INITIAL_FORMS": "0", "version": Batch.objects.get(pk=batch.pk).version,
            "form-0-test": "Assay", "form-0-specification": "95–105 %", "form-0-result": "99.1 %",
            "form-0-passed": "on",
            "form-1-test": "Dissolution", "form-1-specification": "Q ≥ 80 %", "form-1-result": "",
            "form-1-passed": "on", "form-2-passed": "on"}
    missing = qa.post(reverse("batch-results", args=[batch.pk]), rows)
    assert missing.status_code == 400 and _field_error(missing.content.decode(), "result")
    assert not QcResult.objects.filter(batch=batch).exists()
    rows["form-1-result"] = "78 %"
    rows.pop("form-1-passed")
    assert qa.post(reverse("batch-results", args=[batch.pk]), rows).status_code == 302
    assert list(QcResult.objects.filter(batch=batch).values_list("test", "passed")) == [
        ("Assay", True), ("Dissolution", False)]
    again = qa.get(reverse("batch-results", args=[batch.pk])).content.decode()
    assert 'name="form-TOTAL_FORMS" value="7"' in again and 'value="Dissolution"' in again

    changes = {"form-TOTAL_FORMS": "2", "form-INITIAL_FORMS": "0", "version": Batch.objects.get(pk=batch.pk).version,
               "form-0-reference": "CC-1", "form-0-title": "New supplier", "form-1-reference": "cc-1",
               "form-1-title": "Twice"}
    twice = qa.post(reverse("batch-changes", args=[batch.pk]), changes)
    assert twice.status_code == 400 and "This change is listed twice." in twice.content.decode()
    changes["form-1-reference"] = "CC-2"
    assert qa.post(reverse("batch-changes", args=[batch.pk]), changes).status_code == 302
    assert ChangeInEffect.objects.filter(batch=batch).count() == 2

    not_pdf = qa.post(reverse("batch-document-upload", args=[batch.pk]), {
        "kind": "ebr", "title": "EBR", "file": SimpleUploadedFile("ebr.csv", b"a,b\n1,2\n")})
    assert not_pdf.status_code == 400 and _field_error(not_pdf.content.decode(), "file")
    response = qa.post(reverse("batch-document-upload", args=[batch.pk]), {
        "kind": "ebr", "title": "EBR HLX-101-F1", "file": SimpleUploadedFile("ebr.pdf", pdf_bytes())}, follow=True)
    document = Document.objects.get(batch=batch)
    assert f"SHA-256 {document.file.sha256}" in response.content.decode()
    upload(cast, Batch.objects.get(pk=batch.pk))  # a newer EBR supersedes it; the page keeps both, the old one marked
    page = qa.get(reverse("batch-detail", args=[batch.pk])).content.decode()
    assert "superseded" in page and page.count(document.file.sha256) == 1

    operator = client_for("acme.operator")
    assert operator.get(reverse("batch-document-upload", args=[batch.pk])).status_code == 403  # QA uploads
    submitted = operator.post(reverse("batch-submit", args=[batch.pk]), follow=True)
    assert "submitted for QA review" in submitted.content.decode()
    assert Batch.objects.get(pk=batch.pk).state == Batch.State.CMO_REVIEW
    returned = qa.post(reverse("batch-return", args=[batch.pk]), {"reason": "Dissolution fails: retest"})
    assert returned.status_code == 302
    batch = Batch.objects.get(pk=batch.pk)
    assert (batch.state, batch.return_reason) == (Batch.State.IN_PRODUCTION, "Dissolution fails: retest")
    assert qa.post(reverse("batch-return", args=[batch.pk]), {"reason": "again"}).status_code == 400


def test_delivery_is_recorded_after_release(cast, client_for):
    from tests.batches.helpers import dispose

    batch = at_sponsor(cast)
    client = client_for("acme.operator")
    early = client.post(reverse("batch-delivery", args=[batch.pk]), {
        "actual_delivery_date": timezone.localdate().isoformat(), "version": batch.version})
    assert early.status_code == 400 and "record its delivery" in early.content.decode()
    dispose(cast, batch, by="helix.qa")
    batch = Batch.objects.get(pk=batch.pk)
    future = client.post(reverse("batch-delivery", args=[batch.pk]), {
        "actual_delivery_date": (timezone.localdate() + dt.timedelta(days=2)).isoformat(), "version": batch.version})
    assert future.status_code == 400 and _field_error(future.content.decode(), "actual_delivery_date")
    assert client.post(reverse("batch-delivery", args=[batch.pk]), {
        "actual_delivery_date": timezone.localdate().isoformat(), "version": batch.version}).status_code == 302
    assert Batch.objects.get(pk=batch.pk).actual_delivery_date == timezone.localdate()


# --- Dispositions through the page ---------------------------------------------------------------------------------


def test_cmo_and_sponsor_release_through_the_page(cast, client_for):
    batch = submit(cast, complete(cast, register(cast)))
    cmo = client_for("acme.qa")
    form = cmo.get(reverse("batch-dispose", args=[batch.pk])).content.decode()
    assert "Release the batch (CMO quality unit)" in form and "<strong>released</strong>" in form
    assert "nothing blocks it" in form
    early = client_for("helix.qa").post(reverse("batch-dispose", args=[batch.pk]),
                                        {"decision": "release", "password": PASSWORD})
    assert early.status_code == 400 and "the sponsor decides once the CMO has sent it" in early.content.decode()
    response = cmo.post(reverse("batch-dispose", args=[batch.pk]), {"decision": "release", "password": PASSWORD},
                        follow=True)
    assert "Signed by Amir Castellano — Released." in response.content.decode()
    assert Batch.objects.get(pk=batch.pk).state == Batch.State.SPONSOR_REVIEW

    sponsor = client_for("helix.qa")
    form = sponsor.get(reverse("batch-dispose", args=[batch.pk])).content.decode()
    assert "Release the batch (sponsor)" in form
    wrong = sponsor.post(reverse("batch-dispose", args=[batch.pk]), {"decision": "release", "password": "nope"})
    assert wrong.status_code == 400 and _field_error(wrong.content.decode(), "password")
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.SIGNATURE_FAILED,
                                        actor=cast.users["helix.qa"]).count() == 1  # kept: the request committed
    assert not Disposition.objects.filter(batch=batch, organization=cast.orgs["helix"]).exists()
    response = sponsor.post(reverse("batch-dispose", args=[batch.pk]), {"decision": "release", "password": PASSWORD},
                            follow=True)
    page = response.content.decode()
    assert "Signed by Hannah Lindqvist — Released. HLX-101 lot L001 is released." in page
    assert "Hannah Lindqvist</strong> — Released" in page and "Amir Castellano</strong> — Released" in page
    batch = Batch.objects.get(pk=batch.pk)
    disposition = Disposition.objects.get(batch=batch, step=Disposition.Step.SPONSOR_RELEASE)
    assert batch.state == Batch.State.RELEASED and signatures_of(disposition).get().meaning == "released"
    assert Notification.objects.filter(organization=cast.orgs["acme"], record_table="batches_batch",
                                       record_id=batch.pk, subject__contains="released by Helix").exists()


def test_open_deviation_blocks_release_until_signed_conditionally(cast, client_for):
    batch = at_sponsor(cast, lot="HLX-101-L001")
    deviation = report_deviation(cast)  # open, naming HLX-101-L001
    client = client_for("helix.qa")
    detail = client.get(reverse("batch-detail", args=[batch.pk])).content.decode()
    assert f"Deviation {deviation.number} is open" in detail and "1 blocker" in detail
    form = client.get(reverse("batch-dispose", args=[batch.pk])).content.decode()
    assert f"Deviation {deviation.number} is open on this batch" in form
    refused = client.post(reverse("batch-dispose", args=[batch.pk]), {"decision": "release", "password": PASSWORD})
    assert refused.status_code == 400 and deviation.number in refused.content.decode()
    assert _field_error(refused.content.decode(), "decision")
    unjustified = client.post(reverse("batch-dispose", args=[batch.pk]),
                              {"decision": "conditional", "password": PASSWORD})
    assert unjustified.status_code == 400 and _field_error(unjustified.content.decode(), "justification")
    response = client.post(reverse("batch-dispose", args=[batch.pk]), {
        "decision": "conditional", "password": PASSWORD,
        "justification": "Torque alarm during wet massing only; assay and dissolution within limits."}, follow=True)
    page = response.content.decode()
    assert "is conditionally released" in page
    assert "Torque alarm during wet massing only" in page and f"Deviations open when signed: {deviation.number}" in page
    disposition = Disposition.objects.get(batch=batch, step=Disposition.Step.SPONSOR_RELEASE)
    assert (disposition.decision, disposition.open_deviations) == ("conditional", [deviation.number])
    assert Batch.objects.get(pk=batch.pk).state == Batch.State.CONDITIONALLY_RELEASED


def test_sponsor_rejects_with_a_reason(cast, client_for):
    batch = at_sponsor(cast)
    client = client_for("helix.qa")
    no_reason = client.post(reverse("batch-dispose", args=[batch.pk]), {"decision": "reject", "password": PASSWORD})
    assert no_reason.status_code == 400 and _field_error(no_reason.content.decode(), "reason")
    assert client.post(reverse("batch-dispose", args=[batch.pk]), {
        "decision": "reject", "password": PASSWORD, "reason": "Bioburden excursion"}).status_code == 302
    batch = Batch.objects.get(pk=batch.pk)
    assert batch.state == Batch.State.REJECTED
    assert "Bioburden excursion" in client.get(reverse("batch-detail", args=[batch.pk])).content.decode()


# --- Queries ---------------------------------------------------------------------------------------------------------


def _notified(cast, org, batch, text):
    return Notification.objects.filter(organization=cast.orgs[org], record_table="batches_batch",
                                       record_id=batch.pk, subject__contains=text).count()


def test_query_thread_through_the_pages_notifies_the_other_party(cast, client_for):
    batch = at_sponsor(cast)
    sponsor, cmo = client_for("helix.qa"), client_for("acme.qa")
    assert cmo.get(reverse("batch-query-create", args=[batch.pk])).status_code == 403  # the sponsor asks
    empty = sponsor.post(reverse("batch-query-create", args=[batch.pk]), {"subject": "Granulation", "body": ""})
    assert empty.status_code == 400 and _field_error(empty.content.decode(), "body")
    raised = sponsor.post(reverse("batch-query-create", args=[batch.pk]), {
        "subject": "Granulation end point", "body": "Why 4 minutes later than validated?"}, follow=True)
    assert "Query “Granulation end point” sent to Acme CDMO." in raised.content.decode()
    query = Query.objects.get(batch=batch)
    assert _notified(cast, "acme", batch, "Query on HLX-101 lot L001 from Helix Therapeutics") == 1

    page = cmo.get(reverse("batch-detail", args=[batch.pk])).content.decode()
    assert "Why 4 minutes later than validated?" in page and "awaiting Acme CDMO" in page
    assert reverse("batch-query-close", args=[query.pk]) not in page  # the CMO answers, the sponsor closes
    answered = cmo.post(reverse("batch-query-reply", args=[query.pk]), {
        "body": "Granule moisture was at the upper limit; end point by torque as validated."})
    assert answered.status_code == 302 and answered["Location"].endswith(f"#query-{query.pk}")
    assert _notified(cast, "helix", batch, "Acme CDMO answered the query") == 1
    assert cmo.post(reverse("batch-query-close", args=[query.pk]), {"note": "x"}).status_code == 403

    page = sponsor.get(reverse("batch-detail", args=[batch.pk])).content.decode()
    assert "Granule moisture was at the upper limit" in page and "awaiting Helix Therapeutics" in page
    blocked = sponsor.post(reverse("batch-dispose", args=[batch.pk]), {"decision": "release", "password": PASSWORD})
    assert blocked.status_code == 400 and "Close your open queries first" in blocked.content.decode()
    closed = sponsor.post(reverse("batch-query-close", args=[query.pk]), {"note": "Answered, thank you."},
                          follow=True)
    assert "Query “Granulation end point” closed." in closed.content.decode()
    assert Query.objects.get(pk=query.pk).state == Query.State.CLOSED
    assert _notified(cast, "acme", batch, "Helix Therapeutics closed the query") == 1
    late = cmo.post(reverse("batch-query-reply", args=[query.pk]), {"body": "One more thing"})
    assert late.status_code == 400 and "This query is closed" in late.content.decode()


def test_cmo_queue_and_the_submitter_may_not_decide(cast, client_for):
    mine = submit(cast, complete(cast, register(cast, lot="HLX-101-S1")), by="acme.qa")
    other = submit(cast, complete(cast, register(cast, lot="HLX-101-S2")))
    Batch.objects.filter(pk=other.pk).update(submitted_at=timezone.now() - dt.timedelta(days=2))
    client = client_for("acme.qa")
    queue = client.get(reverse("batch-queue")).content.decode()
    assert "In my QA review" in queue and queue.index("HLX-101-S2") < queue.index("HLX-101-S1")
    assert "2 days" in queue
    form = client.get(reverse("batch-dispose", args=[mine.pk])).content.decode()
    assert "The person who submitted this batch record for QA review may not also decide on it" in form
    refused = client.post(reverse("batch-dispose", args=[mine.pk]), {"decision": "release", "password": PASSWORD})
    assert refused.status_code == 400 and "production ≠ quality unit" in refused.content.decode()
    assert not Disposition.objects.filter(batch=mine).exists()
    assert client.post(reverse("batch-dispose", args=[other.pk]),
                       {"decision": "release", "password": PASSWORD}).status_code == 302
    assert client_for("helix.qa").get(reverse("batch-queue")).content.decode().count('data-lot="HLX-101-S2"') == 1


def test_release_models_shape_the_decision_form(cast, client_for):
    from agreements.catalogue import ReleaseModel
    from tests.agreements.helpers import effective

    effective(cast, "helix", "acme", release_model=ReleaseModel.SPONSOR_ONLY)
    effective(cast, "northwind", "acme", release_model=ReleaseModel.QP_CERTIFICATION)
    client = client_for("acme.qa")
    sponsor_only = submit(cast, complete(cast, register(cast, lot="HLX-101-M1")))
    form = client.get(reverse("batch-dispose", args=[sponsor_only.pk])).content.decode()
    assert "Reviewed: send to the sponsor for release" in form and "<strong>reviewed</strong>" in form
    assert 'value="conditional"' not in form  # under sponsor-only release the CMO does not release
    assert client.post(reverse("batch-dispose", args=[sponsor_only.pk]),
                       {"decision": "release", "password": PASSWORD}).status_code == 302
    assert Disposition.objects.get(batch=sponsor_only).step == Disposition.Step.CMO_SUBMIT

    qp = at_sponsor(cast, product="NWB-7", lot="NWB-7-M2")
    sponsor = client_for("northwind.qa")
    form = sponsor.get(reverse("batch-dispose", args=[qp.pk])).content.decode()
    assert "Certify (QP)" in form and "Certify the batch (Qualified Person)" in form
    response = sponsor.post(reverse("batch-dispose", args=[qp.pk]), {"decision": "release", "password": PASSWORD},
                            follow=True)
    assert "Signed by Nora Whitfield — Certified." in response.content.decode()
    certification = Disposition.objects.get(batch=qp, step=Disposition.Step.QP_CERTIFY)
    assert signatures_of(certification).get().meaning == "certified"
    assert Batch.objects.get(pk=qp.pk).state == Batch.State.RELEASED
