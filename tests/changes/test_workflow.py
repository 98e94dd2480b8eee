"""Change control through the services (changes.services): filing assessment and the sponsor's decision, approval
routing from the agreement, the implementation gate, the notification clock, effectiveness review and closure.

The cast: Acme makes HLX-101 (US, EU) for Helix and NWB-7 (US, EU, UK) for Northwind. Without an effective
agreement the conservative defaults apply (specification changes need sponsor approval; like-for-like equipment
is notification-only, 30 days ahead). Each test acts as the named member would in a request.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, transaction
from django.utils import timezone

from agreements.catalogue import ChangeClass
from changes import selectors, services
from changes.filing_rules import FilingCategory
from changes.models import Approval, ChangeRequest, FilingAssessment, FilingDecision, SponsorRoute
from clocks.models import Deadline, Notification
from part11.signatures import signatures_of, verify
from qms.errors import StaleWrite
from tenants.models import SecurityEvent
from tenants.permissions import Role
from tests.agreements.helpers import acting, effective
from tests.changes.helpers import (
    AUTHOR,
    RELAX,
    assess,
    assessment,
    confirm_all,
    decide,
    implement,
    notify,
    qa_approve,
    raise_change,
    signing_request,
    sponsor_sign,
    submit,
)
from tests.deviations.routes import member
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

F = FilingCategory
State = ChangeRequest.State


def _both(cast, **kwargs) -> ChangeRequest:
    return assess(cast, raise_change(cast, products=("HLX-101", "NWB-7"), **kwargs))


def _refused(call, *args, **kwargs) -> str:
    with pytest.raises(ValidationError) as refused:
        call(*args, **kwargs)
    return " ".join(refused.value.messages)


# --- Filing assessment --------------------------------------------------------------------------------------


def test_assessment_suggests_per_product_and_market_and_recomputes_before_approval(cast):
    change = _both(cast)
    assert change.state == State.ASSESSMENT
    got = {(a.product.code, a.market): (a.suggested_category, a.rule_id)
           for a in FilingAssessment.objects.filter(change=change, superseded=False)}
    assert got == {("HLX-101", "US"): (F.CBE30, "US-SPEC-METHOD"), ("HLX-101", "EU"): (F.TYPE_IB, "EU-SPEC-METHOD"),
                   ("NWB-7", "US"): (F.CBE30, "US-SPEC-METHOD"), ("NWB-7", "EU"): (F.TYPE_IB, "EU-SPEC-METHOD"),
                   ("NWB-7", "UK"): (F.TYPE_IB, "EU-SPEC-METHOD")}
    assert all(a.rules_version == "2026.1" and a.rule_text for a in FilingAssessment.objects.filter(change=change))
    decide(cast, change, "HLX-101", "US", by="helix.qa")

    change = assess(cast, change, RELAX)  # answers change before approval: suggestions follow, history is kept
    current = FilingAssessment.objects.filter(change=change, superseded=False)
    assert {a.suggested_category for a in current} == {F.PAS, F.TYPE_II}
    assert FilingAssessment.objects.filter(change=change, superseded=True).count() == 5
    assert FilingDecision.objects.get().assessment.superseded  # the old decision stays, on the old suggestion
    assert "HLX-101 (US)" in " ".join(services.implementation_blockers(change))


def test_the_cmo_cannot_confirm_a_filing_and_an_override_needs_a_reason(cast):
    change = _both(cast)
    row = assessment(change, "HLX-101", "US")
    with acting(cast, "acme.qa"), pytest.raises(PermissionDenied):
        services.filing_decide(membership=cast.memberships["acme.qa"], assessment=row, category=F.CBE30)
    with acting(cast, "northwind.qa"), pytest.raises(PermissionDenied):
        services.filing_decide(membership=cast.memberships["northwind.qa"], assessment=row, category=F.CBE30)
    # Nor can it write the sponsor's row behind the service's back: row-level security refuses the insert.
    with acting(cast, "acme.qa"), pytest.raises(DatabaseError), transaction.atomic():
        FilingDecision.objects.create(assessment=row, change=change, organization=cast.orgs["acme"],
                                      cmo=cast.orgs["acme"], partnership=row.partnership, confirmed_category=F.CBE30,
                                      decided_by=cast.users["acme.qa"], decided_by_name="x")
    assert "reason for overriding" in _refused(decide, cast, change, "HLX-101", "US", by="helix.qa", category=F.PAS)
    assert "Choose a US category" in _refused(decide, cast, change, "HLX-101", "US", by="helix.qa",
                                              category=F.TYPE_II, reason="x")
    decision = decide(cast, change, "HLX-101", "US", by="helix.qa", category=F.PAS, reason="Our NDA lists the "
                      "method in the stability protocol too: FDA asked for a PAS last time.")
    assert (decision.organization_id, decision.cmo_id, decision.overridden) == (
        cast.orgs["helix"].pk, cast.orgs["acme"].pk, True)
    assert "already decided" in _refused(decide, cast, change, "HLX-101", "US", by="helix.qa")
    confirmed = decide(cast, change, "HLX-101", "EU", by="helix.qa")
    assert (confirmed.confirmed_category, confirmed.override_reason, confirmed.overridden) == (F.TYPE_IB, "", False)


# --- Routing and the implementation gate -------------------------------------------------------------------


def test_implementation_is_blocked_until_every_approval_and_filing_decision_is_in(cast):
    change = submit(cast, _both(cast))
    assert {(r.sponsor_id, r.requirement) for r in SponsorRoute.objects.filter(change=change)} == {
        (cast.orgs["helix"].pk, SponsorRoute.Requirement.APPROVAL),
        (cast.orgs["northwind"].pk, SponsorRoute.Requirement.APPROVAL)}
    message = _refused(implement, cast, change)
    for item in ("the Acme CDMO QA approval (signature)", "Helix Therapeutics's signed approval",
                 "Northwind Biologics's signed approval", "Helix Therapeutics's filing decision for HLX-101 (US)",
                 "Northwind Biologics's filing decision for NWB-7 (UK)"):
        assert item in message
    # The owner's QA approves only after the sponsors: the refusal names who is missing.
    assert "Helix Therapeutics's signed approval" in _refused(qa_approve, cast, change)

    sponsor_sign(cast, change, "helix.qa")
    confirm_all(cast, change, "helix")
    message = _refused(implement, cast, change)
    assert "Helix" not in message and "Northwind Biologics's signed approval" in message
    sponsor_sign(cast, change, "northwind.qa", comment="Agreed; send the validation report.")
    change = qa_approve(cast, change)
    assert change.state == State.APPROVED
    message = _refused(implement, cast, change)
    assert message.endswith("Missing: Northwind Biologics's filing decision for NWB-7 (EU); Northwind Biologics's "
                            "filing decision for NWB-7 (UK); Northwind Biologics's filing decision for NWB-7 (US).")
    confirm_all(cast, change, "northwind")
    change = implement(cast, change)
    assert change.state == State.IMPLEMENTED
    clock = change.effectiveness_deadline
    assert clock.due_at.date() == (change.implemented_at + dt.timedelta(days=90)).date()
    assert set(clock.audience.values_list("organization_id", flat=True)) == {
        cast.orgs["acme"].pk, cast.orgs["helix"].pk, cast.orgs["northwind"].pk}


def test_a_prior_approval_filing_blocks_implementation_until_the_agency_approval_is_recorded(cast):
    change = assess(cast, raise_change(cast), RELAX)
    change = submit(cast, change)
    confirm_all(cast, change, "helix")
    sponsor_sign(cast, change, "helix.qa")
    change = qa_approve(cast, change)
    message = _refused(implement, cast, change)
    assert ("the agency's approval of the US: prior-approval supplement for HLX-101 (US), recorded by "
            "Helix Therapeutics") in message
    assert "EU: Type II variation for HLX-101 (EU)" in message
    for decision in FilingDecision.objects.filter(change=change):
        with acting(cast, "acme.qa"), pytest.raises(PermissionDenied):
            services.filing_approval_record(membership=cast.memberships["acme.qa"], decision=decision,
                                            approved_on=timezone.localdate())
        with acting(cast, "helix.qa"):
            services.filing_approval_record(membership=cast.memberships["helix.qa"], decision=decision,
                                            approved_on=timezone.localdate(), reference="S-042")
    assert implement(cast, change).state == State.IMPLEMENTED


def test_notification_only_change_gets_a_clock_due_lead_days_before_implementation(cast):
    effective(cast, "helix", "acme", change_notify_only=[ChangeClass.EQUIPMENT_LIKE_FOR_LIKE],
              change_sponsor_approval=[ChangeClass.SPECIFICATION], change_notice_lead_days=14)
    change = assess(cast, raise_change(cast, change_type="equipment_like_for_like", in_days=40,
                                       title="Replace tablet press TP-3 with the same model"))
    assert {(a.market, a.suggested_category) for a in FilingAssessment.objects.filter(change=change)} == {
        ("US", F.NONE), ("EU", F.NONE)}
    change = submit(cast, change)
    route = SponsorRoute.objects.get(change=change)
    assert (route.requirement, route.lead_days) == (SponsorRoute.Requirement.NOTIFY, 14)
    assert "notification-only, 14 days before implementation" in route.source
    clock = route.deadline
    assert clock.due_at.date() == change.proposed_implementation_date - dt.timedelta(days=14)
    assert (clock.organization_id, clock.state) == (cast.orgs["acme"].pk, Deadline.State.OPEN)
    assert set(clock.audience.values_list("organization_id", flat=True)) == {cast.orgs["acme"].pk,
                                                                               cast.orgs["helix"].pk}
    with acting(cast, "helix.qa"), pytest.raises(PermissionDenied):
        services.approval_sign(request=signing_request(), membership=cast.memberships["helix.qa"], change=change,
                               approve=True, password=PASSWORD)
    change = qa_approve(cast, change)  # no sponsor approval needed
    confirm_all(cast, change, "helix")
    assert "notification of Helix Therapeutics (due" in _refused(implement, cast, change)
    notify(cast, change)
    route.refresh_from_db()
    route.deadline.refresh_from_db()
    assert route.notified_at is not None and route.deadline.state == Deadline.State.MET
    assert implement(cast, change).state == State.IMPLEMENTED


def test_a_change_proposed_too_soon_for_the_notice_is_refused(cast):
    effective(cast, "helix", "acme", change_notify_only=[ChangeClass.EQUIPMENT_LIKE_FOR_LIKE],
              change_sponsor_approval=[], change_notice_lead_days=14)
    change = assess(cast, raise_change(cast, change_type="equipment_like_for_like", in_days=10))
    message = _refused(submit, cast, change)
    assert "must be notified 14 days before" in message
    assert ChangeRequest.objects.get(pk=change.pk).state == State.ASSESSMENT


def test_a_change_class_the_agreement_does_not_list_needs_sponsor_approval(cast):
    effective(cast, "helix", "acme", change_notify_only=[], change_sponsor_approval=[], change_notice_lead_days=14)
    change = submit(cast, assess(cast, raise_change(cast)))
    route = SponsorRoute.objects.get(change=change)
    assert route.requirement == SponsorRoute.Requirement.APPROVAL
    assert "does not classify specification changes: sponsor approval required" in route.source


# --- Signatures -------------------------------------------------------------------------------------------------


def test_the_author_may_not_approve_or_close(cast):
    change = submit(cast, assess(cast, raise_change(cast, by="acme.qa"), by="acme.qa"), by="acme.qa")
    sponsor_sign(cast, change, "helix.qa")
    assert "author ≠ approver" in _refused(qa_approve, cast, change)
    assert not signatures_of(change).exists()
    member(cast, "acme.qa2", Role.QA_APPROVER, org="acme")
    assert qa_approve(cast, change, by="acme.qa2").state == State.APPROVED


def test_a_wrong_password_signs_nothing_and_is_recorded(cast):
    change = submit(cast, assess(cast, raise_change(cast)))
    # As in a request: the refusal is answered, not raised out of the transaction, so the attempt is kept.
    with acting(cast, "helix.qa"):
        try:
            services.approval_sign(request=signing_request(), membership=cast.memberships["helix.qa"], change=change,
                                   approve=True, password="not-my-password")
        except ValidationError as exc:
            refused = exc
    assert "password" in refused.message_dict
    assert not Approval.objects.exists()
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.SIGNATURE_FAILED,
                                        actor=cast.users["helix.qa"]).count() == 1
    signature = sponsor_sign(cast, change, "helix.qa")
    approval = Approval.objects.get()
    assert (signature.meaning, signature.organization_id, approval.decision) == (
        "approved", cast.orgs["helix"].pk, Approval.Decision.APPROVED)


def test_a_rejection_needs_its_reason_blocks_approval_and_the_change_can_be_cancelled(cast):
    change = submit(cast, assess(cast, raise_change(cast)))
    assert "reason for rejecting" in _refused(sponsor_sign, cast, change, "helix.qa", approve=False)
    signature = sponsor_sign(cast, change, "helix.qa", approve=False, comment="Not before the annual campaign.")
    assert signature.meaning == "rejected"
    assert "it rejected the change: Not before the annual campaign." in _refused(qa_approve, cast, change)
    with acting(cast, "acme.qa"):
        services.change_cancel(request=signing_request(), membership=cast.memberships["acme.qa"], change=change,
                               reason="Sponsor rejected; revisit next year.", password=PASSWORD)
    assert ChangeRequest.objects.get(pk=change.pk).state == State.CANCELLED


def test_stale_version_is_refused(cast):
    change = raise_change(cast)
    with acting(cast, AUTHOR):
        services.change_update(membership=cast.memberships[AUTHOR], change=change, expected_version=1,
                               title="Replace HPLC assay with UHPLC")
    stale = ChangeRequest.objects.get(pk=change.pk)
    stale.version = 1
    with acting(cast, AUTHOR), pytest.raises(StaleWrite):
        services.change_update(membership=cast.memberships[AUTHOR], change=stale, expected_version=1, title="Other")
    assert ChangeRequest.objects.get(pk=change.pk).title == "Replace HPLC assay with UHPLC"


def test_effectiveness_review_and_signed_closure(cast):
    change = submit(cast, assess(cast, raise_change(cast)))
    sponsor_sign(cast, change, "helix.qa")
    confirm_all(cast, change, "helix")
    change = implement(cast, qa_approve(cast, change))
    with acting(cast, "acme.qa"), pytest.raises(ValidationError):
        services.change_sign_close(request=signing_request(), membership=cast.memberships["acme.qa"], change=change,
                                   password=PASSWORD)
    with acting(cast, AUTHOR):
        services.effectiveness_record(membership=cast.memberships[AUTHOR], change=change, effective=True,
                                      summary="Six batches assayed on UHPLC; results comparable.")
    change.refresh_from_db()
    assert change.state == State.EFFECTIVENESS_REVIEW
    assert Deadline.objects.get(pk=change.effectiveness_deadline_id).state == Deadline.State.MET
    with acting(cast, "acme.qa"):
        signature = services.change_sign_close(request=signing_request(), membership=cast.memberships["acme.qa"],
                                               change=change, password=PASSWORD)
    change.refresh_from_db()
    assert (change.state, signature.meaning) == (State.CLOSED, "closed")
    assert signature.content["change"]["number"] == change.number and signature.content["effective"] is True
    # The approval still matches the change as approved: the review is a row of its own.
    assert verify(signatures_of(change).get(step="approve"), change).matches


def test_a_sponsor_raises_a_change_to_its_own_product_and_confirms_its_own_filing(cast):
    member(cast, "helix.author", Role.QA_REVIEWER, org="helix")
    change = raise_change(cast, by="helix.author", site=None)
    change = submit(cast, assess(cast, change, by="helix.author"), by="helix.author")
    assert not SponsorRoute.objects.filter(change=change).exists()  # no approval of itself
    # Acme, which makes HLX-101, is told and sees the change read-only (row-level security and the selector agree);
    # Northwind, which has nothing on it, sees nothing.
    assert Notification.objects.filter(organization=cast.orgs["acme"], record_id=change.pk,
                                       subject__contains=f"submitted change {change.number}").exists()
    with acting(cast, "acme.qa"):
        assert [c.pk for c in selectors.change_list(membership=cast.memberships["acme.qa"])] == [change.pk]
        assert [line.product.code for line in selectors.lines_of(membership=cast.memberships["acme.qa"],
                                                                  change=change)] == ["HLX-101"]
    with acting(cast, "northwind.qa"):
        assert not ChangeRequest.objects.filter(pk=change.pk).exists()
    confirm_all(cast, change, "helix")
    change = qa_approve(cast, change, by="helix.qa")
    assert implement(cast, change, by="helix.author").state == State.IMPLEMENTED
    with acting(cast, "acme.qa"), pytest.raises(PermissionDenied):
        services.change_notify(membership=cast.memberships["acme.qa"], change=change)


def test_only_products_the_owner_makes_or_owns_can_be_affected(cast):
    message = _refused(raise_change, cast, products=("HLX-101", "NWB-9"))  # NWB-9 is made by Borealis
    assert "not one your organization makes" in message
    change = assess(cast, raise_change(cast))
    read = change.version
    with acting(cast, AUTHOR):
        services.lines_set(membership=cast.memberships[AUTHOR], change=change, expected_version=read,
                           product_ids=[cast.products["HLX-101"].pk, cast.products["NWB-7"].pk])
    assert {(a.product.code, a.market) for a in FilingAssessment.objects.filter(change=change, superseded=False)} == {
        ("HLX-101", "US"), ("HLX-101", "EU"), ("NWB-7", "US"), ("NWB-7", "EU"), ("NWB-7", "UK")}
    assert ChangeRequest.objects.get(pk=change.pk).version == read + 1
