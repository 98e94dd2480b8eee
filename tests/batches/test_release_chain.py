"""The release chain per release model, and the rules that refuse a release (DESIGN.md §4 "Release models").

Each test builds through the services as the named member would act in a request; the outcomes are read back
from the database (states, dispositions, signatures, the review clock, the notices each party got).
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, connection, transaction
from django.db.models import F
from django.utils import timezone

from agreements.catalogue import ReleaseModel
from batches import services
from batches.models import Batch, Disposition, Document
from clocks.calendars import CalendarCode, local_date
from clocks.models import Deadline, DeadlineStage, Notification
from clocks.services import calendar_for
from part11.signatures import signatures_of, verify
from tenants.models import SecurityEvent
from tests.agreements.helpers import acting, effective
from tests.batches.helpers import (
    ask,
    at_sponsor,
    complete,
    dispose,
    register,
    results,
    signing_request,
    submit,
    upload,
)
from tests.deviations.helpers import classify, close, investigate, notify
from tests.deviations.helpers import report as report_deviation
from tests.deviations.helpers import submit as submit_deviation

pytestmark = pytest.mark.django_db

Step, Decision = Disposition.Step, Disposition.Decision


def _signature(disposition: Disposition):
    return signatures_of(disposition).get()


def _notices(cast, org: str, batch: Batch) -> list[str]:
    return list(Notification.objects.filter(organization=cast.orgs[org], record_table="batches_batch",
                                            record_id=batch.pk).values_list("subject", flat=True))


# --- Each release model end to end ----------------------------------------------------------------------------


def test_cmo_release_then_sponsor_release(cast):
    """No agreement in force: the conservative default chain, with the default 10-business-day review window."""
    batch = complete(cast, register(cast))
    assert batch.release_model == ReleaseModel.CMO_THEN_SPONSOR
    batch = submit(cast, batch)
    assert batch.state == Batch.State.CMO_REVIEW
    dispose(cast, batch, by="acme.qa")
    batch.refresh_from_db()
    cmo = Disposition.objects.get(batch=batch)
    assert (batch.state, cmo.step, cmo.decision, cmo.organization_id) == (
        Batch.State.SPONSOR_REVIEW, Step.CMO_RELEASE, Decision.RELEASED, cast.orgs["acme"].pk)
    assert (_signature(cmo).meaning, _signature(cmo).printed_name) == ("released", "Amir Castellano")
    clock = batch.review_deadline
    sent = local_date(batch.sent_to_sponsor_at, "America/New_York")
    due = calendar_for(cast.orgs["acme"].pk, CalendarCode.US_FEDERAL).add_business_days(sent, 10)
    assert (clock.organization_id, clock.state, local_date(clock.due_at, clock.time_zone)) == (
        cast.orgs["acme"].pk, Deadline.State.OPEN, due)
    assert set(clock.audience.values_list("organization_id", flat=True)) == {cast.orgs["acme"].pk,
                                                                               cast.orgs["helix"].pk}
    assert any("awaits your release" in subject for subject in _notices(cast, "helix", batch))

    dispose(cast, batch, by="helix.qa")
    batch.refresh_from_db()
    sponsor = Disposition.objects.get(batch=batch, step=Step.SPONSOR_RELEASE)
    assert (batch.state, sponsor.organization_id, _signature(sponsor).meaning) == (
        Batch.State.RELEASED, cast.orgs["helix"].pk, "released")
    assert batch.disposed_at == sponsor.decided_at
    clock.refresh_from_db()
    assert (clock.state, clock.completed_late, clock.completed_by_id) == (Deadline.State.MET, False,
                                                                          cast.users["helix.qa"].pk)
    assert not clock.stages.filter(state="pending").exists()
    assert any("released by Helix" in subject for subject in _notices(cast, "acme", batch))
    # The sponsor signed exactly the record the CMO released, and both signatures still verify.
    assert _signature(sponsor).content["batch"] == _signature(cmo).content["batch"]
    assert verify(_signature(cmo), cmo).matches and verify(_signature(sponsor), sponsor).matches


def test_sponsor_only_release(cast):
    """Under sponsor-only release the CMO's QA reviews and sends (signed "reviewed"); only the sponsor releases."""
    effective(cast, "helix", "acme", release_model=ReleaseModel.SPONSOR_ONLY, batch_review_days=5)
    batch = submit(cast, complete(cast, register(cast)))
    assert batch.release_model == ReleaseModel.SPONSOR_ONLY
    with pytest.raises(ValidationError, match="sponsor-only release the CMO does not release"):
        dispose(cast, batch, "conditional", by="acme.qa", justification="x")
    dispose(cast, batch, by="acme.qa")
    batch.refresh_from_db()
    cmo = Disposition.objects.get(batch=batch)
    assert (batch.state, cmo.step, cmo.decision, _signature(cmo).meaning) == (
        Batch.State.SPONSOR_REVIEW, Step.CMO_SUBMIT, Decision.SUBMITTED, "reviewed")
    assert batch.review_deadline.amount == 5
    dispose(cast, batch, by="helix.qa")
    batch.refresh_from_db()
    assert batch.state == Batch.State.RELEASED
    assert list(batch.dispositions.values_list("step", flat=True)) == [Step.CMO_SUBMIT, Step.SPONSOR_RELEASE]


def test_qp_certification_after_cmo_release(cast):
    """EU: the CMO's release is necessary but not sufficient; the sponsor's QP certifies (signed "certified").
    Acme Cork is in Ireland, so the review window counts Irish working days."""
    effective(cast, "northwind", "acme", release_model=ReleaseModel.QP_CERTIFICATION)
    batch = submit(cast, complete(cast, register(cast, product="NWB-7")))
    dispose(cast, batch, by="acme.qa")
    batch.refresh_from_db()
    assert batch.review_deadline.calendar == CalendarCode.EU_IRELAND
    assert any("awaits your certification" in s for s in _notices(cast, "northwind", batch))
    dispose(cast, batch, by="northwind.qa")
    batch.refresh_from_db()
    qp = Disposition.objects.get(batch=batch, step=Step.QP_CERTIFY)
    assert (batch.state, qp.decision, _signature(qp).meaning) == (Batch.State.RELEASED, Decision.CERTIFIED,
                                                                  "certified")


def test_without_an_agreement_the_review_window_is_the_configured_default(cast, settings):
    settings.DEFAULT_BATCH_REVIEW_DAYS = 3
    batch = at_sponsor(cast)
    assert (batch.review_deadline.amount, batch.review_deadline.unit) == (3, "business_days")
    assert "3 US business days after batch sent for the sponsor's disposition" in batch.review_deadline.rule_text


def test_the_sweep_reminds_the_sponsor_once_and_marks_the_review_missed(cast):
    """The review clock runs on the worker's sweep like every clock: reminders and the overdue notice reach the
    sponsor's QA (and the CMO's) once each, whatever the number of sweeps."""
    from clocks.sweep import sweep

    batch = at_sponsor(cast)
    clock = batch.review_deadline
    # Ten business days pass: move the clock back so that its due time was a minute ago.
    shift = clock.due_at - (timezone.now() - dt.timedelta(minutes=1))
    Deadline.objects.filter(pk=clock.pk).update(due_at=F("due_at") - shift, due_soon_at=F("due_soon_at") - shift)
    DeadlineStage.objects.filter(deadline=clock).update(fire_at=F("fire_at") - shift)
    after_due = timezone.now()
    first = sweep(now=after_due)
    assert first.missed == 1 and first.stages == 3  # two reminders and the due point
    assert sweep(now=after_due).stages == 0
    told = Notification.objects.filter(deadline=clock, recipient=cast.memberships["helix.qa"])
    assert told.count() == 3
    clock.refresh_from_db()
    assert clock.state == Deadline.State.MISSED
    dispose(cast, batch, by="helix.qa")
    clock.refresh_from_db()
    assert (clock.state, clock.completed_late) == (Deadline.State.MISSED, True)


def test_a_late_sponsor_decision_is_recorded_as_missed(cast):
    batch = at_sponsor(cast)
    Deadline.objects.filter(pk=batch.review_deadline_id).update(due_at=batch.sent_to_sponsor_at)
    dispose(cast, batch, by="helix.qa")
    clock = Deadline.objects.get(pk=batch.review_deadline_id)
    assert (clock.state, clock.completed_late) == (Deadline.State.MISSED, True)


# --- What refuses a release -------------------------------------------------------------------------------------


def _deviation_on(cast, batch: Batch):
    """A reported deviation at Acme Boston naming the batch (the deviation helpers name lot <code>-L001)."""
    assert batch.lot_number == "HLX-101-L001"
    return report_deviation(cast)


def test_an_open_deviation_blocks_release_and_a_justified_conditional_release_is_signed(cast):
    batch = submit(cast, complete(cast, register(cast, lot="HLX-101-L001")))
    deviation = _deviation_on(cast, batch)
    with pytest.raises(ValidationError) as refused:
        dispose(cast, batch, by="acme.qa")
    assert f"Deviation {deviation.number} is open on this batch" in refused.value.message_dict["decision"][0]
    with pytest.raises(ValidationError) as refused:
        dispose(cast, batch, "conditional", by="acme.qa")
    assert "justification" in refused.value.message_dict
    assert not Disposition.objects.exists()

    why = "Torque excursion confined to sub-lot 3, quarantined; investigation to close before shipment."
    dispose(cast, batch, "conditional", by="acme.qa", justification=why)
    batch.refresh_from_db()
    cmo = Disposition.objects.get(batch=batch)
    assert (batch.state, cmo.decision, cmo.justification, cmo.open_deviations) == (
        Batch.State.SPONSOR_REVIEW, Decision.CONDITIONAL, why, [deviation.number])
    signed = _signature(cmo).content
    assert (signed["decision"], signed["justification"], signed["open_deviations"]) == (
        "conditional", why, [deviation.number])
    # The sponsor meets the same rule: still open, so only a conditional release of its own.
    with pytest.raises(ValidationError, match=deviation.number):
        dispose(cast, batch, by="helix.qa")
    dispose(cast, batch, "conditional", by="helix.qa", justification="Accepted pending DEV closure; QA hold on "
                                                                      "sub-lot 3.")
    batch.refresh_from_db()
    assert batch.state == Batch.State.CONDITIONALLY_RELEASED


def test_a_closed_deviation_does_not_block_and_stays_in_the_exception_summary(cast):
    from batches.selectors import exceptions_of

    batch = submit(cast, complete(cast, register(cast, lot="HLX-101-L001")))
    deviation = _deviation_on(cast, batch)
    deviation = classify(cast, deviation)
    notify(cast, deviation)
    close(cast, submit_deviation(cast, investigate(cast, deviation)))
    dispose(cast, batch, by="acme.qa")
    batch.refresh_from_db()
    assert batch.state == Batch.State.SPONSOR_REVIEW
    summary = exceptions_of(membership=cast.memberships["helix.qa"], batch=batch)
    assert [(e.kind, e.severity) for e in summary] == [("deviation_closed", "info")]
    assert deviation.number in summary[0].text


def test_a_failing_result_refuses_release_even_conditionally_but_the_batch_can_be_rejected(cast):
    batch = complete(cast, register(cast))
    results(cast, batch, services.QcLine("Assay (HPLC)", "95.0–105.0 %", "93.1 %", passed=False, oos=True))
    batch = submit(cast, batch)
    for choice in ("release", "conditional"):
        with pytest.raises(ValidationError, match="failing result"):
            dispose(cast, batch, choice, by="acme.qa", justification="We would like to.")
    with pytest.raises(ValidationError) as refused:
        dispose(cast, batch, "reject", by="acme.qa")
    assert "reason" in refused.value.message_dict
    dispose(cast, batch, "reject", by="acme.qa", reason="Assay OOS confirmed (OOS-2026-014): below 95.0 %.")
    batch.refresh_from_db()
    rejection = Disposition.objects.get(batch=batch)
    assert (batch.state, rejection.step, rejection.reason, _signature(rejection).meaning) == (
        Batch.State.REJECTED, Step.CMO_REJECT, "Assay OOS confirmed (OOS-2026-014): below 95.0 %.", "rejected")
    assert batch.review_deadline is None
    assert any("rejected by Acme" in s for s in _notices(cast, "helix", batch))


def test_missing_documents_refuse_submission_and_release(cast):
    batch = register(cast)
    with pytest.raises(ValidationError, match="Upload the executed batch record"):
        submit(cast, batch)
    upload(cast, batch, Document.Kind.EXECUTED_BATCH_RECORD)
    batch = submit(cast, batch)
    with pytest.raises(ValidationError, match="certificate of analysis is missing"):
        dispose(cast, batch, by="acme.qa")
    # Rejection is never blocked by what is missing.
    dispose(cast, batch, "reject", by="acme.qa", reason="Record incomplete beyond repair.")
    assert Batch.objects.get(pk=batch.pk).state == Batch.State.REJECTED


def test_the_sponsors_open_queries_block_its_release_until_closed(cast):
    batch = at_sponsor(cast)
    query = ask(cast, batch)
    with pytest.raises(ValidationError, match="Close your open queries first"):
        dispose(cast, batch, by="helix.qa")
    with acting(cast, "helix.qa"):
        services.query_close(membership=cast.memberships["helix.qa"], query=query, note="Answered in the thread.")
    dispose(cast, batch, by="helix.qa")
    assert Batch.objects.get(pk=batch.pk).state == Batch.State.RELEASED


def test_a_new_document_supersedes_the_old_and_changes_what_is_signed(cast):
    batch = complete(cast, register(cast))
    first = Document.objects.get(batch=batch, kind=Document.Kind.EXECUTED_BATCH_RECORD)
    second = upload(cast, batch, Document.Kind.EXECUTED_BATCH_RECORD, name="ebr-corrected.pdf")
    first.refresh_from_db()
    assert first.superseded and not second.superseded
    batch = submit(cast, batch)
    dispose(cast, batch, by="acme.qa")
    signed = _signature(Disposition.objects.get(batch=batch)).content["batch"]["documents"]
    assert ["ebr", second.file.sha256] in signed and ["ebr", first.file.sha256] not in signed


# --- Who may do what, and when ----------------------------------------------------------------------------------


def test_the_submitter_may_not_decide_production_is_not_the_quality_unit(cast):
    batch = submit(cast, complete(cast, register(cast, by="acme.qa")), by="acme.qa")
    with pytest.raises(ValidationError, match="production ≠ quality unit"):
        dispose(cast, batch, by="acme.qa")


def test_roles_and_turns(cast):
    batch = submit(cast, complete(cast, register(cast)))
    with pytest.raises(PermissionDenied):
        dispose(cast, batch, by="acme.operator")  # production signs no release
    with pytest.raises(ValidationError, match="once the CMO has sent it"):
        dispose(cast, batch, by="helix.qa")  # not the sponsor's turn yet
    with pytest.raises(PermissionDenied):
        dispose(cast, batch, by="northwind.qa")  # not a party to this batch
    dispose(cast, batch, by="acme.qa")
    batch.refresh_from_db()
    with pytest.raises(ValidationError, match="in CMO QA review"):
        dispose(cast, batch, by="acme.qa")  # the CMO has decided
    with pytest.raises(PermissionDenied):
        dispose(cast, batch, by="helix.viewer")


def test_a_wrong_password_signs_nothing_and_counts_toward_lockout(cast):
    batch = submit(cast, complete(cast, register(cast)))
    # As in a request: the refusal is answered, not raised out of the transaction, so the attempt is kept.
    with acting(cast, "acme.qa"):
        try:
            services.batch_dispose(request=signing_request(), membership=cast.memberships["acme.qa"], batch=batch,
                                   choice="release", password="not-my-password")
        except ValidationError as exc:
            refused = exc
    assert "password" in refused.message_dict
    assert not Disposition.objects.exists()
    assert Batch.objects.get(pk=batch.pk).state == Batch.State.CMO_REVIEW
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.SIGNATURE_FAILED,
                                        actor=cast.users["acme.qa"]).count() == 1


def test_the_record_is_locked_once_the_cmo_has_decided(cast):
    batch = at_sponsor(cast)
    for call in (lambda m: services.qc_results_set(membership=m, batch=batch, results=[]),
                 lambda m: services.changes_set(membership=m, batch=batch, changes=[]),
                 lambda m: services.batch_update(membership=m, batch=batch, unit="vials")):
        with pytest.raises(ValidationError, match="record is locked"), acting(cast, "acme.qa"):
            call(cast.memberships["acme.qa"])
    with pytest.raises(ValidationError, match="record is locked"):
        upload(cast, batch, Document.Kind.OTHER)


def test_return_to_production_needs_a_reason_and_reopens_the_record(cast):
    batch = submit(cast, complete(cast, register(cast)))
    with pytest.raises(ValidationError) as refused, acting(cast, "acme.qa"):
        services.batch_return(membership=cast.memberships["acme.qa"], batch=batch, reason=" ")
    assert "reason" in refused.value.message_dict
    with acting(cast, "acme.qa"):
        services.batch_return(membership=cast.memberships["acme.qa"], batch=batch,
                              reason="Page 14 missing the verifier's initials.")
    batch.refresh_from_db()
    assert (batch.state, batch.return_reason) == (Batch.State.IN_PRODUCTION,
                                                  "Page 14 missing the verifier's initials.")
    upload(cast, batch, Document.Kind.OTHER)  # the record is open again


def test_delivery_is_recorded_after_release_only(cast):
    batch = at_sponsor(cast)
    with pytest.raises(ValidationError, match="record its delivery"), acting(cast, "acme.operator"):
        services.batch_record_delivery(membership=cast.memberships["acme.operator"], batch=batch,
                                       actual_delivery_date=dt.date.today())
    dispose(cast, batch, by="helix.qa")
    batch.refresh_from_db()
    with acting(cast, "acme.operator"):
        services.batch_record_delivery(membership=cast.memberships["acme.operator"], batch=batch,
                                       actual_delivery_date=dt.date.today())
    assert Batch.objects.get(pk=batch.pk).actual_delivery_date == dt.date.today()


def test_registration_rules(cast):
    with pytest.raises(ValidationError) as refused:
        register(cast, site="Acme Cork")  # HLX-101 is made at Acme Boston under the Helix partnership
    assert "not a site of the partnership" in refused.value.message_dict["site"][0]
    register(cast, lot="L7")
    with pytest.raises(ValidationError) as refused:
        register(cast, lot="L7")
    assert "already registered" in refused.value.message_dict["lot_number"][0]
    with pytest.raises(PermissionDenied), acting(cast, "helix.qa"):
        services.batch_create(membership=cast.memberships["helix.qa"], product=cast.products["HLX-101"],
                              site=cast.sites["Acme Boston"], lot_number="X", manufactured_on=dt.date.today(),
                              quantity=1, unit="kg")
    with pytest.raises(ValidationError) as refused:
        register(cast, product="NWB-9", by="acme.qa")  # Acme does not make NWB-9
    assert "product" in refused.value.message_dict


# --- The sponsor's one way into the CMO's row ------------------------------------------------------------------


def test_only_a_signed_disposition_of_the_acting_sponsor_settles_the_batch(cast):
    batch = at_sponsor(cast)
    cmo_release = Disposition.objects.get(batch=batch)
    for who, disposition_id in (("helix.qa", cmo_release.pk), ("northwind.qa", cmo_release.pk),
                                ("helix.qa", 999_999)):
        with pytest.raises(DatabaseError, match="not a disposition of the acting sponsor"), acting(cast, who), \
                transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT qms_batch_sponsor_disposed(%s)", [disposition_id])
    # And the sponsor cannot write the CMO's row directly.
    with acting(cast, "helix.qa"), connection.cursor() as cursor:
        cursor.execute("UPDATE batches_batch SET state = 'released' WHERE id = %s", [batch.pk])
        assert cursor.rowcount == 0
    assert Batch.objects.get(pk=batch.pk).state == Batch.State.SPONSOR_REVIEW
