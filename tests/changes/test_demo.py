"""The demo change requests: every state for each partnership, built through the services by the demo cast, with
the cases issue 9 names (a like-for-like equipment swap classed notification-only, a specification change needing a
CBE-30 and a Type IB, a change blocked at implementation for a missing sponsor approval), and each sponsor seeing
only its own lines."""

from __future__ import annotations

import io
import re
from collections import defaultdict

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from pypdf import PdfReader

from changes import selectors, services
from changes.demo import PLANS
from changes.filing_rules import FilingCategory
from changes.models import AffectedProduct, Approval, ChangeDocument, ChangeRequest, FilingDecision, SponsorRoute
from changes.pdf import render_dossier
from part11.signatures import signatures_of
from tenants import files
from tenants.demo import acting_as

State = ChangeRequest.State
F = FilingCategory
PAIRS = {("helix", "acme"), ("northwind", "acme"), ("northwind", "borealis")}


def test_demo_changes(db, tmp_path, settings, monkeypatch):
    """One seed (twice, to show it converges), then every check below: seeding takes long enough that each check
    having its own would multiply the suite's time."""
    settings.VAR_DIR = tmp_path
    settings.MEDIA_ROOT = tmp_path / "media"
    monkeypatch.setenv("DEMO_PASSWORD", "seed-test-password")
    call_command("seed_demo", "--quiet-logins")
    first = ChangeRequest.objects.count()
    call_command("seed_demo", "--quiet-logins")  # converges: no second set
    assert ChangeRequest.objects.count() == first == len(PLANS)
    every_state_for_each_partnership()
    like_for_like_swaps_are_notification_only()
    the_specification_change_needs_a_cbe30_and_a_type_ib()
    one_change_is_blocked_for_a_missing_sponsor_approval()
    signatures_and_documents()
    each_sponsor_sees_only_its_own_lines()


def every_state_for_each_partnership() -> None:
    states: dict[tuple[str, str], set[str]] = defaultdict(set)
    for line in AffectedProduct.objects.select_related("change", "partnership__sponsor", "partnership__cmo"):
        states[(line.partnership.sponsor.slug, line.partnership.cmo.slug)].add(line.change.state)
    assert set(states) == PAIRS
    for pair, seen in states.items():
        assert seen == set(State.values), (pair, set(State.values) - seen)
    assert not ChangeRequest.objects.filter(title="").exists()
    # Raised by each CMO's QA reviewer; approved and closed by its QA approver (author ≠ approver).
    for change in ChangeRequest.objects.exclude(state__in=[State.DRAFT]).select_related("created_by"):
        for signature in signatures_of(change):
            assert signature.signer_id != change.created_by_id


def like_for_like_swaps_are_notification_only() -> None:
    swaps = ChangeRequest.objects.filter(change_type="equipment_like_for_like").exclude(state=State.DRAFT)
    assert swaps.count() == 3
    for change in swaps:
        routes = SponsorRoute.objects.filter(change=change)
        assert [r.requirement for r in routes] == [SponsorRoute.Requirement.NOTIFY]
        assert not Approval.objects.filter(change=change).exists()
    press = swaps.get(title__startswith="Replace tablet press P-4")
    route = SponsorRoute.objects.get(change=press)
    assert press.state == State.PENDING_APPROVAL and route.notified_at is None
    assert route.lead_days == 30 and route.deadline is not None and not route.deadline.is_closed
    assert "Quality agreement" in route.source and "notification-only" in route.source
    capper = swaps.get(title__startswith="Replace capping machine CM-1")
    route = SponsorRoute.objects.get(change=capper)
    assert capper.state == State.APPROVED and route.notified_at is not None and route.deadline.completed_at


def the_specification_change_needs_a_cbe30_and_a_type_ib() -> None:
    change = ChangeRequest.objects.get(title__startswith="Replace the HPLC assay")
    assert change.state == State.APPROVED and change.change_type == "specification"
    got = {(a.product.code, a.market): (a.suggested_category, a.rule_id, a.decision.confirmed_category)
           for a in change.assessments.filter(superseded=False).select_related("product", "decision")}
    assert got == {("HLX-101", "US"): (F.CBE30, "US-SPEC-METHOD", F.CBE30),
                   ("HLX-101", "EU"): (F.TYPE_IB, "EU-SPEC-METHOD", F.TYPE_IB)}
    approval = Approval.objects.get(change=change)
    assert approval.decision == Approval.Decision.APPROVED and approval.organization.slug == "helix"
    assert [s.printed_name for s in signatures_of(approval)] == ["Hannah Lindqvist"]
    assert [s.printed_name for s in signatures_of(change)] == ["Amir Castellano"]
    assert services.implementation_blockers(change) == []  # Acme may implement it now
    # A prior-approval filing: Northwind recorded the agencies' approvals before implementation.
    filters = ChangeRequest.objects.get(title__startswith="Add a second supplier of 0.22")
    decisions = FilingDecision.objects.filter(change=filters)
    assert {d.confirmed_category for d in decisions} == {F.PAS, F.TYPE_II}
    assert all(d.agency_approved_on is not None for d in decisions)
    assert filters.state == State.EFFECTIVENESS_REVIEW


def one_change_is_blocked_for_a_missing_sponsor_approval() -> None:
    change = ChangeRequest.objects.get(title__startswith="Rapid microbial method")
    assert change.state == State.PENDING_APPROVAL
    assert {line.product.code for line in change.lines.select_related("product")} == {"HLX-101", "NWB-7"}
    blockers = services.implementation_blockers(change)
    assert "Helix Therapeutics's signed approval" in blockers
    assert not any("Northwind" in b for b in blockers)  # Northwind approved and decided its filings
    with acting_as("acme.reviewer") as member, pytest.raises(ValidationError) as refused:
        services.change_implement(membership=member, change=change)
    assert "Helix Therapeutics's signed approval" in " ".join(refused.value.messages)
    rejected = ChangeRequest.objects.get(title__startswith="Switch the cell-culture basal medium")
    assert rejected.state == State.CANCELLED
    assert Approval.objects.get(change=rejected).decision == Approval.Decision.REJECTED


def signatures_and_documents() -> None:
    for change in ChangeRequest.objects.filter(state=State.CLOSED):
        review = change.effectiveness_review
        assert [s.meaning for s in signatures_of(review)] == ["closed"]
    for change in ChangeRequest.objects.filter(state=State.CANCELLED):
        assert change.cancel_reason and [s.step for s in signatures_of(change)][-1] == "cancel"
    documents = list(ChangeDocument.objects.select_related("file", "change"))
    assert {d.kind for d in documents} == {"validation", "implementation", "procedure", "filing"}
    for document in documents:
        content = b"".join(files.file_response(document.file).streaming_content)
        assert content.startswith(b"%PDF-") and document.file.mime_type == "application/pdf"
        text = " ".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(content)).pages)
        assert document.change.number in text


def each_sponsor_sees_only_its_own_lines() -> None:
    shared = ChangeRequest.objects.get(title__startswith="Rapid microbial method")
    for username, own, foreign in (("helix.qa", {"HLX-101"}, ("NWB", "Northwind", "Nortumab")),
                                   ("northwind.qa", {"NWB-7", "NWB-9"}, ("HLX", "Helix", "Helixaparib"))):
        with acting_as(username) as member:
            changes = list(selectors.change_list(membership=member))
            codes = {line.product.code for change in changes for line in change.visible_lines}
            assert codes <= own and codes
            assert not selectors.change_list(membership=member).filter(
                lines__product__code__in=[c for c in ("HLX-101", "NWB-7", "NWB-9") if c not in own]).exclude(
                lines__product__code__in=own).exists()
            text = re.sub(r"\s+", " ", " ".join(
                page.extract_text() or "" for page in PdfReader(io.BytesIO(render_dossier(
                    membership=member, change=selectors.change_list(membership=member).get(pk=shared.pk)))).pages))
        assert shared.number in text
        for word in foreign:
            assert word not in text, (username, word)
    with acting_as("helix.qa") as member:
        assert not selectors.change_list(membership=member).filter(organization__slug="borealis").exists()
