"""Deviation workflow: each transition, each refusal with its reason, signatures (author ≠ approver), extensions,
reopen voiding signatures, and the clocks each step starts or stops."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import RequestFactory
from django.utils import timezone

from clocks.models import Deadline
from deviations import services
from deviations.models import Deviation, Notice, TimelineEntry
from part11.models import AuditEvent, Signature
from tests.agreements.helpers import acting
from tests.deviations.helpers import capa_for, classify, close, investigate, notify, ready_to_close, report, submit
from tests.factories import PASSWORD

State = Deviation.State


def test_report_numbers_the_deviation_and_starts_the_closure_clock(cast):
    draft = report(cast, draft=True)
    assert draft.state == State.DRAFT and draft.number.startswith(f"DEV-{timezone.localdate().year}-")
    assert Deadline.objects.filter(record_table="deviations_deviation", record_id=draft.pk).count() == 0
    second = report(cast)
    assert int(second.number[-4:]) == int(draft.number[-4:]) + 1
    assert second.state == State.OPEN and second.reported_at is not None
    clock = second.closure_deadline
    assert clock.title == "Deviation investigation closure" and clock.amount == 30  # no agreement: the default
    assert "30 calendar days after deviation reported" in clock.rule_text
    assert set(clock.audience.values_list("organization_id", flat=True)) == {cast.orgs["acme"].pk,
                                                                            cast.orgs["helix"].pk}


def test_illegal_transitions_say_why(cast):
    deviation = report(cast)
    with acting(cast, "acme.qa"):
        with pytest.raises(ValidationError, match="Classify the deviation before investigating"):
            services.deviation_start_investigation(membership=cast.memberships["acme.qa"], deviation=deviation)
        with pytest.raises(ValidationError, match=r"is open \(reported\); this needs it under investigation"):
            services.deviation_submit(membership=cast.memberships["acme.qa"], deviation=deviation)
        with pytest.raises(ValidationError, match="this needs it draft"):
            services.deviation_report(membership=cast.memberships["acme.qa"], deviation=deviation)
        with pytest.raises(ValidationError, match="this needs it closed or cancelled"):
            services.deviation_reopen(membership=cast.memberships["acme.qa"], deviation=deviation, reason="x")
    deviation = investigate(cast, classify(cast, deviation))
    with acting(cast, "acme.qa"):
        deviation.findings = ""
        services.investigation_update(membership=cast.memberships["acme.qa"], deviation=deviation, findings="")
        with pytest.raises(ValidationError, match="Before QA approval, add: findings"):
            services.deviation_submit(membership=cast.memberships["acme.qa"], deviation=deviation)


def test_operators_report_but_do_not_classify_and_sponsors_never_write(cast):
    deviation = report(cast)
    with acting(cast, "acme.operator"), pytest.raises(PermissionDenied):
        services.deviation_classify(membership=cast.memberships["acme.operator"], deviation=deviation,
                                    classification="minor", rationale="x")
    with acting(cast, "helix.qa"), pytest.raises(PermissionDenied, match="read-only"):
        services.deviation_classify(membership=cast.memberships["helix.qa"], deviation=deviation,
                                    classification="minor", rationale="x")
    with acting(cast, "helix.qa"), pytest.raises(ValidationError, match="recorded by the CMO"):
        services.deviation_create(membership=cast.memberships["helix.qa"], site=cast.sites["Acme Boston"],
                                  title="x", discovered_at=timezone.now(), discovered_by="x", description="x")


def test_close_needs_a_different_person_than_the_reporter_and_everyone_notified(cast):
    deviation = classify(cast, report(cast, by="acme.qa"))
    deviation = submit(cast, investigate(cast, deviation))
    with pytest.raises(ValidationError, match="Notify the affected sponsor first"):
        close(cast, deviation)
    notify(cast, deviation)
    with pytest.raises(ValidationError, match="author ≠ approver"):
        close(cast, deviation)  # acme.qa reported it


def test_close_signs_completes_the_clock_and_reopen_voids_the_signature(cast):
    deviation = close(cast, ready_to_close(cast))
    assert deviation.state == State.CLOSED and deviation.closed_at is not None
    signature = Signature.objects.get(record_table="deviations_deviation", record_id=deviation.pk, step="close")
    assert signature.voided_at is None and signature.printed_name == cast.users["acme.qa"].printed_name
    clock = Deadline.objects.get(pk=deviation.closure_deadline_id)
    assert clock.state == Deadline.State.MET and clock.completed_at == signature.signed_at
    with acting(cast, "acme.qa"):
        services.deviation_reopen(membership=cast.memberships["acme.qa"], deviation=deviation,
                                  reason="New stability data")
    signature.refresh_from_db()
    assert signature.voided_at is not None and "changed after signing" in signature.void_reason
    deviation.refresh_from_db()
    assert deviation.state == State.UNDER_INVESTIGATION and deviation.closure_deadline_id != clock.pk
    assert AuditEvent.objects.filter(record_table="deviations_deviation", record_id=deviation.pk,
                                     reason__contains="reopened: New stability data").exists()


def test_cancel_is_signed_over_its_reason_and_cancels_open_clocks(cast):
    deviation = classify(cast, report(cast))
    with acting(cast, "acme.qa"):
        with pytest.raises(ValidationError, match="reason for cancelling"):
            services.deviation_cancel(request=RequestFactory().post("/"), membership=cast.memberships["acme.qa"],
                                      deviation=deviation, reason=" ", password=PASSWORD)
        services.deviation_cancel(request=RequestFactory().post("/"), membership=cast.memberships["acme.qa"],
                                  deviation=deviation, reason="Duplicate of DEV-1", password=PASSWORD)
    deviation.refresh_from_db()
    assert deviation.state == State.CANCELLED
    sig = Signature.objects.get(record_table="deviations_deviation", record_id=deviation.pk, step="cancel")
    assert sig.content["cancel_reason"] == "Duplicate of DEV-1" and sig.voided_at is None
    assert not Deadline.objects.filter(record_table="deviations_deviation", record_id=deviation.pk,
                                       state=Deadline.State.OPEN).exists()


def test_return_for_rework_needs_a_reason(cast):
    deviation = ready_to_close(cast)
    with acting(cast, "acme.qa"):
        with pytest.raises(ValidationError, match="Give the reason"):
            services.deviation_return(membership=cast.memberships["acme.qa"], deviation=deviation, reason="")
        services.deviation_return(membership=cast.memberships["acme.qa"], deviation=deviation,
                                  reason="Root cause not supported by data")
    deviation.refresh_from_db()
    assert deviation.state == State.UNDER_INVESTIGATION
    assert TimelineEntry.objects.filter(deviation=deviation, text__contains="Root cause not supported").exists()


def test_extension_is_approved_by_another_qa_approver_and_moves_the_clock(cast, django_user_model):
    from tests.factories import MembershipFactory, UserFactory

    second = MembershipFactory(user=UserFactory(username="acme.qa2"), organization=cast.orgs["acme"],
                               role="qa_approver")
    cast.memberships["acme.qa2"] = second
    deviation = classify(cast, report(cast))
    due = deviation.closure_deadline.due_at.date()
    with acting(cast, "acme.qa"):
        with pytest.raises(ValidationError, match="after the current target"):
            services.extension_request(membership=cast.memberships["acme.qa"], deviation=deviation, due_date=due,
                                       justification="x")
        request = services.extension_request(membership=cast.memberships["acme.qa"], deviation=deviation,
                                             due_date=due + dt.timedelta(days=14),
                                             justification="Supplier data awaited")
        with pytest.raises(ValidationError, match="other than the requester"):
            services.extension_decide(membership=cast.memberships["acme.qa"], extension=request, approve=True)
    with acting(cast, "acme.qa2"):
        services.extension_decide(membership=second, extension=request, approve=True, note="OK")
    clock = Deadline.objects.get(pk=deviation.closure_deadline_id)
    assert clock.due_at.date() == due + dt.timedelta(days=14)
    assert "Supplier data awaited" in clock.extension_note


def test_a_critical_or_repeat_deviation_needs_a_capa_or_a_reason(cast):
    deviation = investigate(cast, classify(cast, report(cast), "critical"))
    with acting(cast, "acme.qa"), pytest.raises(ValidationError, match="a linked CAPA or the reason none is needed"):
        services.deviation_submit(membership=cast.memberships["acme.qa"], deviation=deviation)
    capa_for(cast, deviation)
    assert submit(cast, deviation).state == State.PENDING_APPROVAL


def test_stale_edit_is_refused(cast):
    from qms.errors import StaleWrite

    deviation = report(cast)
    with acting(cast, "acme.qa"):
        services.deviation_update(membership=cast.memberships["acme.qa"], deviation=deviation,
                                  expected_version=deviation.version, title="Renamed")
        stale = Deviation.objects.get(pk=deviation.pk)
        with pytest.raises(StaleWrite):
            services.deviation_update(membership=cast.memberships["acme.qa"], deviation=stale,
                                      expected_version=stale.version - 1, title="Again")


def test_reclassification_supersedes_unsent_notices_and_restarts_their_clocks(cast):
    deviation = classify(cast, report(cast), "minor")
    first = Notice.objects.get(deviation=deviation)
    deviation = classify(cast, deviation, "critical")
    first.refresh_from_db()
    assert first.superseded and first.deadline.state == Deadline.State.CANCELLED
    live = Notice.objects.get(deviation=deviation, superseded=False)
    assert live.classification == "critical" and live.deadline.amount == 24 and live.deadline.unit == "hours"
