"""The change dossier PDF (changes.pdf.render_dossier): the change, its impact answers and risk, the filing
assessments with the rule that fired and the owner's decisions and overrides, the routes, the signed approvals
with their manifestations, implementation, effectiveness review, documents with their SHA-256 and the audit trail
of the change and its rows. Each party's copy shows only what that party may see: a sponsor's dossier never names
the other sponsor or its products; every rendering leaves a RecordExport row."""

from __future__ import annotations

import re

from changes import selectors, services
from changes.models import ChangeRequest
from changes.pdf import render_dossier
from part11.models import RecordExport
from tests.agreements.helpers import acting
from tests.batches.helpers import pdf_upload
from tests.batches.test_dossier import text_of
from tests.changes.helpers import (
    AUTHOR,
    assess,
    confirm_all,
    decide,
    implement,
    qa_approve,
    raise_change,
    signing_request,
    sponsor_sign,
    submit,
)
from tests.factories import PASSWORD, Cast

OVERRIDE = "Our MA lists the method in the stability protocol too: the agency asked for a Type II last time."
CONDITION = "Approved on condition that the validation report is shared before first use."
SUMMARY = "Twelve release batches tested on UHPLC: results equivalent to HPLC, no OOS, run time halved."


def dossier(cast: Cast, username: str, change: ChangeRequest) -> str:
    member = cast.memberships[username]
    with acting(cast, username):
        visible = selectors.change_list(membership=member).get(pk=change.pk)
        pdf = render_dossier(membership=member, change=visible)
    assert pdf.startswith(b"%PDF-")
    return text_of(pdf)


def closed_change(cast: Cast) -> ChangeRequest:
    """A specification change for Helix's HLX-101 and Northwind's NWB-7 at Acme, taken all the way to closure:
    Helix overrides one suggestion (with its reason) and approves with a condition; a validation report linked."""
    change = submit(cast, assess(cast, raise_change(cast, products=("HLX-101", "NWB-7"))))
    decide(cast, change, "HLX-101", "US", by="helix.qa")
    decide(cast, change, "HLX-101", "EU", by="helix.qa", category="type_ia_in", reason=OVERRIDE)
    confirm_all(cast, change, "northwind")
    sponsor_sign(cast, change, "helix.qa", comment=CONDITION)
    sponsor_sign(cast, change, "northwind.qa")
    change = qa_approve(cast, change)
    with acting(cast, AUTHOR):
        services.document_attach(membership=cast.memberships[AUTHOR], change=change, kind="validation",
                                 title="UHPLC assay validation report VR-0193",
                                 upload=pdf_upload("vr-0193.pdf", "Validation report"))
    change = implement(cast, ChangeRequest.objects.get(pk=change.pk))
    with acting(cast, AUTHOR):
        services.effectiveness_record(membership=cast.memberships[AUTHOR], change=change, summary=SUMMARY,
                                      effective=True)
    with acting(cast, "acme.qa"):
        services.change_sign_close(request=signing_request(), membership=cast.memberships["acme.qa"],
                                   change=ChangeRequest.objects.get(pk=change.pk), password=PASSWORD)
    change = ChangeRequest.objects.get(pk=change.pk)
    assert change.state == ChangeRequest.State.CLOSED
    return change


def test_the_owners_dossier_carries_the_whole_change(cast):
    change = closed_change(cast)
    before = RecordExport.objects.filter(record_table="changes_changerequest", record_id=change.pk).count()
    text = dossier(cast, "acme.qa", change)
    assert f"Change dossier: {change.number} — Replace HPLC assay method" in text
    assert "Closed" in text and "Specification" in text and "Acme Boston" in text
    # Both sponsors' lines: the owner sees the whole change.
    assert "HLX-101 · Helixaparib tablets 50 mg" in text and "NWB-7 · Nortumab injection 100 mg/mL" in text
    # The impact questionnaire's answers and the risk.
    assert "Method performance comparable or better Yes" in text
    assert "Specification change Change or replace the analytical procedure of a test" in text
    assert "risk Medium: Validated method; assay only." in text
    # Filing: suggestions with the rule that fired, the owner's confirmation and override with its reason.
    assert "US: CBE-30 supplement" in text and "US-SPEC-METHOD (rules 2026.1)" in text
    assert "EU: Type IB variation" in text and "EU-SPEC-METHOD" in text
    assert "Overridden: EU: Type IA-IN variation" in text and f"Reason: {OVERRIDE}" in text
    assert "Confirmed: US: CBE-30 supplement" in text
    # Routes from the agreement (none in force: the conservative defaults) and the signed approvals.
    assert "Sponsor approval required" in text
    assert "Helix Therapeutics — Approved" in text and CONDITION in text
    assert "Northwind Biologics — Approved" in text
    assert re.search(r"Signed by Hannah Lindqvist on \d{1,2} \w{3} \d{4} \d\d:\d\d:\d\d UTC — Approved", text)
    assert "Acme CDMO QA — approval of the change" in text
    assert re.search(r"Signed by Amir Castellano on .{10,30} UTC — Approved", text)
    # Implementation, the effectiveness review with its closure signature, the document with its hash.
    assert "Implemented" in text and "recorded by Route Author" in text
    assert "Effective" in text and SUMMARY in text
    assert re.search(r"Signed by Amir Castellano on .{10,30} UTC — Closed", text)
    assert "Validation / qualification report" in text and "UHPLC assay validation report VR-0193" in text
    document = change.documents.get()
    assert document.file.sha256 in text.replace(" ", "")
    # The audit trail covers the change's rows, not only the change itself.
    assert "Audit trail" in text
    for label in ("Change request", "Change product line", "Filing assessment", "Filing decision",
                  "Change approval", "Change effectiveness review"):
        assert label in text, label
    assert "state pending_approval → approved" in text
    exports = RecordExport.objects.filter(record_table="changes_changerequest", record_id=change.pk)
    assert exports.count() == before + 1


def test_a_sponsors_dossier_never_names_the_other_sponsor(cast):
    change = closed_change(cast)
    helix = dossier(cast, "helix.qa", change)
    assert "HLX-101" in helix and "Helix Therapeutics — Approved" in helix and f"Reason: {OVERRIDE}" in helix
    assert "UHPLC assay validation report VR-0193" in helix  # documents are shared with every sponsor that sees it
    assert "NWB-7" not in helix and "Northwind" not in helix and "Nortumab" not in helix

    northwind = dossier(cast, "northwind.qa", change)
    assert "NWB-7" in northwind and "Northwind Biologics — Approved" in northwind
    assert "NWB-7 · UK" in northwind and "(UK: assessed with the EU categories.)" in northwind
    assert "HLX-101" not in northwind and "Helix" not in northwind and "Helixaparib" not in northwind
    assert OVERRIDE not in northwind and CONDITION not in northwind and "Hannah Lindqvist" not in northwind


def test_a_blocked_change_lists_what_is_missing_for_each_reader(cast):
    change = submit(cast, assess(cast, raise_change(cast, products=("HLX-101", "NWB-7"))))
    sponsor_sign(cast, change, "northwind.qa")
    text = dossier(cast, "acme.qa", change)
    assert "Pending approval" in text and "Not implemented. Still missing before it may be:" in text
    assert "Helix Therapeutics's signed approval" in text
    assert "the Acme CDMO QA approval (signature)" in text
    assert "Northwind Biologics's signed approval" not in text  # given
    assert "Awaiting Helix Therapeutics's decision" in text
    assert "No effectiveness review recorded." in text and "No document linked." in text

    helix = dossier(cast, "helix.qa", change)
    assert "Helix Therapeutics's signed approval" in helix
    assert "Northwind" not in helix and "NWB-7" not in helix

    # Rejected, withdrawn for revision and submitted again: the first round is kept as history.
    sponsor_sign(cast, change, "helix.qa", approve=False, comment="Send the comparability data first.")
    with acting(cast, AUTHOR):
        services.change_withdraw(membership=cast.memberships[AUTHOR], change=ChangeRequest.objects.get(pk=change.pk),
                                 reason="Adding the comparability data Helix asked for.")
    change = submit(cast, ChangeRequest.objects.get(pk=change.pk))
    text = dossier(cast, "acme.qa", change)
    assert "Approval routing (round 2)" in text
    assert "Earlier approval rounds (withdrawn for revision)" in text
    assert "Rejected: Send the comparability data first." in text
    assert re.search(r"Signed by Hannah Lindqvist on .{10,30} UTC — Rejected", text)


def test_a_draft_says_what_is_not_done_yet(cast):
    change = raise_change(cast)
    text = dossier(cast, "acme.qa", change)
    assert "Draft" in text and "Not assessed yet." in text
    assert "No filing assessment yet" in text and "Not submitted for approval yet" in text
    assert "No approval signed yet." in text
    assert "Helixaparib" in text and "Not signed." in text
    # Only the parties reach it: Northwind's selector does not return Helix's change at all.
    with acting(cast, "northwind.qa"):
        assert not selectors.change_list(membership=cast.memberships["northwind.qa"]).filter(pk=change.pk).exists()
