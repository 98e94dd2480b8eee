"""The batch dossier PDF: the lot, its review-by-exception summary, the release chain with each signature manifested
(printed name, meaning, UTC time), the audit trail; each party's copy shows only what that party may see, and every
rendering leaves a RecordExport row."""

from __future__ import annotations

import io
import re

from django.test import RequestFactory
from django.urls import reverse
from pypdf import PdfReader

from batches import selectors, services
from batches.models import Batch
from batches.pdf import batch_pdf_response
from part11.models import RecordExport
from tests.agreements.helpers import acting
from tests.batches.helpers import ask, complete, dispose, register, submit
from tests.deviations.helpers import classify, report
from tests.factories import Cast

JUSTIFICATION = "Water used only for the appearance test; retested with loop 1 water, same result."


def text_of(pdf: bytes) -> str:
    """The PDF's text with line breaks and runs of spaces folded, so a phrase wrapped over two lines still matches."""
    reader = PdfReader(io.BytesIO(pdf))
    return re.sub(r"\s+", " ", " ".join(page.extract_text() or "" for page in reader.pages))


def dossier(cast: Cast, username: str, batch: Batch) -> tuple[str, object]:
    member = cast.memberships[username]
    with acting(cast, username):
        visible = selectors.batch_list(membership=member).get(pk=batch.pk)
        response = batch_pdf_response(RequestFactory().get("/"), member, visible)
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    return text_of(response.content), response


def shared_deviation_batch(cast: Cast) -> Batch:
    """HLX-101-L001, conditionally released by Acme and then by Helix while a critical deviation that also names
    Northwind's NWB-7-L001 is open."""
    deviation = classify(cast, report(cast, products=("HLX-101", "NWB-7"), title="PW loop 2 TOC excursion",
                                      step="QC release testing"), "critical")
    batch = submit(cast, complete(cast, register(cast, product="HLX-101", lot="HLX-101-L001")))
    dispose(cast, batch, "conditional", by="acme.qa", justification=JUSTIFICATION)
    batch = Batch.objects.get(pk=batch.pk)
    query = ask(cast, batch, subject="Appearance retest", body="Which water was used for the appearance retest?")
    with acting(cast, "acme.qa"):
        services.query_reply(membership=cast.memberships["acme.qa"], query=query, body="Loop 1, after the excursion.")
    with acting(cast, "helix.qa"):
        services.query_close(membership=cast.memberships["helix.qa"], query=query, note="Thanks.")
    dispose(cast, batch, "conditional", by="helix.qa", justification="Accepted pending the deviation's closure.")
    batch = Batch.objects.get(pk=batch.pk)
    assert batch.state == Batch.State.CONDITIONALLY_RELEASED and deviation.number
    return batch


def test_cmo_and_sponsor_dossiers_carry_the_lot_exceptions_signatures_and_trail(cast):
    batch = shared_deviation_batch(cast)
    for username in ("acme.qa", "helix.qa"):
        before = RecordExport.objects.filter(record_table="batches_batch", record_id=batch.pk).count()
        text, response = dossier(cast, username, batch)
        assert "HLX-101-L001" in text
        assert "Batch dossier: HLX-101 lot HLX-101-L001" in text
        # The review-by-exception summary: the open deviation is a blocker.
        assert "Review by exception" in text
        assert re.search(r"blocker Deviation DEV-\d{4}-\d{4} is open", text, re.IGNORECASE)
        # The release chain, each step with its manifestation: printed name, date/time in UTC, meaning.
        assert "CMO QA release — Conditionally released" in text
        assert "Sponsor release — Conditionally released" in text
        assert "Signed by Amir Castellano on" in text and "Signed by Hannah Lindqvist on" in text
        assert re.search(r"Signed by Amir Castellano on \d{1,2} \w{3} \d{4} \d\d:\d\d:\d\d UTC — Released", text)
        assert JUSTIFICATION in text
        # Queries with their messages, QC results, documents with their hashes.
        assert "Appearance retest" in text and "Loop 1, after the excursion." in text
        assert "Assay (HPLC)" in text and "Executed batch record" in text
        assert re.search(r"\b[0-9a-f]{64}\b", text)
        # The audit trail appended by the record PDF.
        assert "Audit trail" in text and "Batch" in text
        # (the 12-character hash prefix may be split by the table's line wrapping)
        assert re.search(r"#\d+ [0-9a-f][0-9a-f ]{11,13}…", text), "no audit-trail row in the dossier"
        assert "Olivia Park (acme.operator)" in text and "state in_production → cmo_review" in text
        export = RecordExport.objects.filter(record_table="batches_batch", record_id=batch.pk)
        assert export.count() == before + 1
        assert export.order_by("-id").first().sha256 == response["X-Checksum-SHA256"]


def test_a_sponsors_dossier_never_names_the_other_sponsor(cast):
    helix_batch = shared_deviation_batch(cast)
    text, _ = dossier(cast, "helix.qa", helix_batch)
    assert "PW loop 2 TOC excursion" in text  # the shared deviation, as Helix sees it
    assert "NWB-7" not in text and "Northwind" not in text and "Nortumab" not in text
    # The CMO sees the whole deviation, both sponsors' lines.
    cmo_text, _ = dossier(cast, "acme.qa", helix_batch)
    assert "NWB-7: NWB-7-L001" in cmo_text

    northwind_batch = complete(cast, register(cast, product="NWB-7", lot="NWB-7-L001"))
    text, _ = dossier(cast, "northwind.qa", northwind_batch)
    assert "NWB-7-L001" in text and "PW loop 2 TOC excursion" in text
    assert "HLX-101" not in text and "Helix" not in text and "Helixaparib" not in text


def test_a_rejection_prints_its_reason_and_an_unsigned_batch_says_so(cast):
    batch = submit(cast, complete(cast, register(cast, lot="HLX-101-R9")))
    text, _ = dossier(cast, "helix.qa", batch)
    assert "No step of the release chain signed yet." in text
    assert "Not signed." in text
    dispose(cast, batch, "reject", by="acme.qa", reason="Tablets chipped at AQL inspection; destroy the lot.")
    text, _ = dossier(cast, "helix.qa", Batch.objects.get(pk=batch.pk))
    assert "CMO QA rejection — Rejected" in text
    assert "Reason for rejection: Tablets chipped at AQL inspection; destroy the lot." in text
    assert re.search(r"Signed by Amir Castellano on .* UTC — Rejected", text)
    assert "Not signed." not in text


def test_the_dossier_page_serves_it_to_the_parties_only(cast, client_for):
    batch = shared_deviation_batch(cast)
    url = reverse("batch-pdf", args=[batch.pk])
    response = client_for("helix.qa").get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert "HLX-101-L001" in text_of(response.content)
    assert client_for("northwind.qa").get(url).status_code == 404
