"""The demo batches: thirty lots across the three partnerships in every state, built through the services by the
demo cast, with real executed-batch-record and CoA PDFs, linked to the demo deviations, and each sponsor seeing only
its own lots."""

from __future__ import annotations

import io
from collections import Counter

from django.core.management import call_command
from django.utils import timezone
from pypdf import PdfReader

from agreements.catalogue import ReleaseModel
from batches import selectors
from batches.demo import PLANS
from batches.models import Batch, Disposition, Document, Query
from clocks.models import Deadline
from part11.signatures import signatures_of
from tenants import files
from tenants.demo import acting_as
from tenants.models import Membership

EXPECTED = {"in_production": 5, "cmo_review": 4, "sponsor_review": 7, "released": 9, "conditionally_released": 1,
            "rejected": 4}


def test_demo_batches(db, tmp_path, settings, monkeypatch):
    """One seed (twice, to show it converges), then every check below: seeding takes long enough that each check
    having its own would multiply the suite's time."""
    settings.VAR_DIR = tmp_path
    settings.MEDIA_ROOT = tmp_path / "media"
    monkeypatch.setenv("DEMO_PASSWORD", "seed-test-password")
    call_command("seed_demo", "--quiet-logins")
    first = Batch.objects.count()
    call_command("seed_demo", "--quiet-logins")  # converges: no second set
    assert Batch.objects.count() == first == len(PLANS) == 30
    every_state_across_the_three_partnerships()
    production_is_not_the_quality_unit_and_every_step_is_signed()
    documents_are_real_pdfs_naming_their_lot()
    exceptions_deviations_and_queries()
    review_clocks_on_track_due_soon_and_overdue()
    each_sponsor_sees_only_its_own_lots()


def pdf_text(document: Document) -> str:
    content = b"".join(files.file_response(document.file).streaming_content)
    assert content.startswith(b"%PDF-") and document.file.mime_type == "application/pdf"
    return " ".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(content)).pages)


def every_state_across_the_three_partnerships() -> None:
    batches = list(Batch.objects.select_related("partnership__sponsor", "partnership__cmo", "product"))
    assert Counter(b.state for b in batches) == EXPECTED
    assert set(EXPECTED) == set(Batch.State.values)
    pairs = Counter((b.partnership.sponsor.slug, b.partnership.cmo.slug) for b in batches)
    assert pairs == {("helix", "acme"): 14, ("northwind", "acme"): 9, ("northwind", "borealis"): 7}
    # The release model comes from each agreement: Northwind ↔ Borealis is sponsor-only, the others CMO then sponsor.
    submitted = [b for b in batches if b.submitted_at]
    assert {b.release_model for b in submitted if b.product.code == "NWB-9"} == {ReleaseModel.SPONSOR_ONLY}
    assert {b.release_model for b in submitted if b.product.code != "NWB-9"} == {ReleaseModel.CMO_THEN_SPONSOR}
    released = Batch.objects.get(lot_number="NWB-9-M0101")
    assert [d.step for d in Disposition.objects.filter(batch=released)] == ["cmo_submit", "sponsor_release"]
    assert released.actual_delivery_date is not None


def production_is_not_the_quality_unit_and_every_step_is_signed() -> None:
    for disposition in Disposition.objects.select_related("batch"):
        signatures = list(signatures_of(disposition))
        assert len(signatures) == 1 and not signatures[0].is_void
        assert signatures[0].signer_id == disposition.decided_by_id
        if not disposition.by_sponsor:
            assert disposition.decided_by_id != disposition.batch.submitted_by_id
    operators = {m.user_id for m in Membership.objects.filter(role="operator")}
    assert {b.submitted_by_id for b in Batch.objects.exclude(submitted_by=None)} <= operators
    conditional = Disposition.objects.filter(decision=Disposition.Decision.CONDITIONAL)
    assert conditional.count() == 4  # B2520 (both parties), B2598 and C0043 (the CMO)
    assert all(d.justification and d.open_deviations for d in conditional)
    rejections = Disposition.objects.filter(decision=Disposition.Decision.REJECTED)
    assert sorted(d.step for d in rejections) == ["cmo_reject", "cmo_reject", "sponsor_reject", "sponsor_reject"]
    assert all(d.reason for d in rejections)
    assert "DEV-" in rejections.get(batch__lot_number="NWB-7-C0042").reason


def documents_are_real_pdfs_naming_their_lot() -> None:
    documents = list(Document.objects.select_related("batch", "file").filter(superseded=False))
    kinds = Counter(d.kind for d in documents)
    assert kinds == {"ebr": 27, "coa": 26, "other": 2}
    for document in documents:
        text = pdf_text(document)
        if document.kind != Document.Kind.OTHER:
            assert document.batch.lot_number in text, document
    ebr = next(d for d in documents if d.batch.lot_number == "HLX-101-B2520" and d.kind == "ebr")
    text = pdf_text(ebr)
    assert "Executed batch record" in text and "MBR-HLX101-050 rev. 7" in text and "Yield reconciliation" in text
    assert "Wet granulation" in text and "26.4 N·m" in text
    biologic = next(d for d in documents if d.batch.lot_number == "NWB-9-M0103" and d.kind == "ebr")
    assert "BR-2000" in pdf_text(biologic) and "Viability" in pdf_text(biologic)
    coa = next(d for d in documents if d.batch.lot_number == "HLX-101-B2515" and d.kind == "coa")
    assert "DOES NOT comply" in pdf_text(coa) and "Dr. Mei Chen" in pdf_text(coa)
    superseded = Document.objects.get(batch__lot_number="HLX-101-B2603", superseded=True)
    assert superseded.kind == "ebr" and superseded.file.sha256 != Document.objects.get(
        batch__lot_number="HLX-101-B2603", kind="ebr", superseded=False).file.sha256


def exceptions_deviations_and_queries() -> None:
    with acting_as("helix.qa") as helix:
        batch = selectors.batch_list(membership=helix).get(lot_number="HLX-101-B2520")
        kinds = [e.kind for e in selectors.exceptions_of(membership=helix, batch=batch)]
        assert "deviation_open" in kinds
        assert batch.deviation_count >= 1 and batch.open_deviation_count >= 1 and batch.has_exceptions
        missing = selectors.batch_list(membership=helix).get(lot_number="HLX-101-B2612")
        assert not missing.has_coa and "missing_document" in [
            e.kind for e in selectors.exceptions_of(membership=helix, batch=missing)]
        oos = selectors.batch_list(membership=helix).get(lot_number="HLX-101-B2561")
        assert oos.flagged_result_count == 1
        assert selectors.batch_list(membership=helix).get(lot_number="HLX-101-B2574").change_count == 1
        failed = selectors.batch_list(membership=helix).get(lot_number="HLX-101-B2515")
        assert [e.severity for e in selectors.exceptions_of(membership=helix, batch=failed)
                if e.kind == "result"] == ["blocker"]
        clean = selectors.batch_list(membership=helix).get(lot_number="HLX-101-B2501")
        assert not clean.has_exceptions
        queries = list(selectors.query_list(membership=helix))
    states = Counter((q.state, q.awaiting_cmo) for q in queries)
    assert states[("open", True)] == 1 and states[("open", False)] == 1 and states[("closed", False)] == 2
    assert Query.objects.filter(state="open").count() == 4


def review_clocks_on_track_due_soon_and_overdue() -> None:
    now = timezone.now()
    at_sponsor = Batch.objects.filter(state="sponsor_review").select_related("review_deadline")
    deadlines = [b.review_deadline for b in at_sponsor]
    assert all(d is not None for d in deadlines)
    overdue = [d for d in deadlines if d.state == Deadline.State.MISSED]
    due_soon = [d for d in deadlines if d.state == Deadline.State.OPEN and d.due_soon_at <= now < d.due_at]
    on_track = [d for d in deadlines if d.state == Deadline.State.OPEN and now < d.due_soon_at]
    assert len(overdue) == 2 and len(due_soon) == 2 and len(on_track) == 3
    for batch in at_sponsor:  # a clock counted from earlier days never starts before the lot was made
        assert batch.review_deadline.starts_at.date() >= batch.completed_on
    # A sponsor's signed disposition met the clock of every disposed lot.
    for batch in Batch.objects.filter(state__in=["released", "conditionally_released"]):
        assert batch.review_deadline.state == Deadline.State.MET


def each_sponsor_sees_only_its_own_lots() -> None:
    with acting_as("northwind.qa") as northwind:
        seen = list(selectors.batch_list(membership=northwind).values_list("product__code", flat=True))
        assert set(seen) == {"NWB-7", "NWB-9"} and len(seen) == 16
        assert not selectors.batch_list(membership=northwind).filter(lot_number__startswith="HLX-101").exists()
        assert not selectors.document_list(membership=northwind).filter(batch__product__code="HLX-101").exists()
    with acting_as("helix.qa") as helix:
        assert set(selectors.batch_list(membership=helix).values_list("product__code", flat=True)) == {"HLX-101"}
        # The shared water deviation names NWB-7-C0043 too; Helix's view of HLX-101-B2612 shows only its line.
        batch = selectors.batch_list(membership=helix).get(lot_number="HLX-101-B2612")
        lines = [line for d in selectors.linked_deviations(membership=helix, batch=batch) for line in d.visible_lines]
        assert {line.product.code for line in lines} == {"HLX-101"}
    with acting_as("borealis.qa") as borealis:
        assert set(selectors.batch_list(membership=borealis).values_list("product__code", flat=True)) == {"NWB-9"}
