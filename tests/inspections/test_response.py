"""Track 1 end to end: drafted responses, review and approval signatures by two people, submission (late recorded
as late), periodic updates as clocks until every commitment is closed; a CAPA raised from an observation."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import RequestFactory
from django.utils import timezone

from capa.models import Capa
from clocks.models import Deadline
from inspections import services
from inspections.models import Form483, UpdateCommitment
from part11.models import Signature
from tenants.models import SecurityEvent
from tests.agreements.helpers import acting
from tests.inspections.helpers import REVIEWER, inspect, observe, record_483, respond, reviewer, sign_483


def drafted(cast, issued: dt.date):
    reviewer(cast)
    form483 = record_483(cast, inspect(cast, started=issued - dt.timedelta(days=4)), issued)
    observations = [observe(cast, form483, "21 CFR 211.67(a)"), observe(cast, form483, "21 CFR 211.192")]
    for observation in observations:
        respond(cast, observation)
    return Form483.objects.get(pk=form483.pk), observations


def submit(cast, form483, at=None):
    with acting(cast, "acme.qa"):
        services.form483_submit(membership=cast.memberships["acme.qa"], form483=form483, submitted_at=at)
    return Form483.objects.get(pk=form483.pk)


def test_two_people_sign_then_a_late_submission_is_recorded_as_late(cast):
    form483, _ = drafted(cast, dt.date(2026, 11, 2))  # due 23 Nov 2026; today is later
    with pytest.raises(ValidationError):
        submit(cast, form483)  # no approval yet
    with pytest.raises(ValidationError):
        sign_483(cast, form483, "acme.qa", "approve")  # the review comes first
    sign_483(cast, form483, REVIEWER, "review")
    sign_483(cast, form483, "acme.qa", "approve")
    form483 = submit(cast, form483)
    deadline = Deadline.objects.get(pk=form483.response_deadline_id)
    assert form483.state == "submitted" and form483.submitted_late is True
    assert (deadline.state, deadline.completed_late) == ("missed", True)
    update = UpdateCommitment.objects.get(form483=form483)
    assert update.sequence == 1 and update.deadline.amount == 30


def test_the_reviewer_may_not_approve_and_a_wrong_password_is_recorded(cast):
    form483, _ = drafted(cast, dt.date(2026, 11, 25))
    sign_483(cast, form483, "acme.qa", "review")
    with pytest.raises(ValidationError) as refused:
        sign_483(cast, form483, "acme.qa", "approve")
    assert "two-person" in str(refused.value)
    before = SecurityEvent.objects.filter(kind=SecurityEvent.Kind.SIGNATURE_FAILED).count()
    with acting(cast, REVIEWER):  # as in a request: the refusal answers 400 and the transaction commits
        with pytest.raises(ValidationError) as wrong:
            services.form483_sign(request=RequestFactory().post("/", REMOTE_ADDR="203.0.113.9"),
                                  membership=cast.memberships[REVIEWER], form483=form483, step="review",
                                  password="not-the-password")
        assert "password" in wrong.value.message_dict
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.SIGNATURE_FAILED).count() == before + 1
    assert not Signature.objects.filter(record_table="inspections_form483", record_id=form483.pk,
                                        signer=cast.users[REVIEWER]).exists()


def test_editing_a_signed_response_voids_its_signatures(cast):
    form483, observations = drafted(cast, dt.date(2026, 11, 25))
    sign_483(cast, form483, REVIEWER, "review")
    respond(cast, observations[0], target=dt.date(2027, 4, 30))
    signature = Signature.objects.get(record_table="inspections_form483", record_id=form483.pk)
    assert signature.voided_at is not None


def test_on_time_submission_then_updates_until_every_commitment_is_closed(cast):
    form483, observations = drafted(cast, dt.date(2026, 11, 25))  # due 17 Dec 2026
    sign_483(cast, form483, REVIEWER, "review")
    sign_483(cast, form483, "acme.qa", "approve")
    form483 = submit(cast, form483)
    assert form483.submitted_late is False
    assert Deadline.objects.get(pk=form483.response_deadline_id).state == "met"
    with acting(cast, "acme.qa"):
        first = services.update_record(membership=cast.memberships["acme.qa"], form483=form483,
                                       summary="SOP revised; training 60 % complete.")
    assert first.submitted_late is False and Deadline.objects.get(pk=first.deadline_id).state == "met"
    second = UpdateCommitment.objects.get(form483=form483, sequence=2)
    assert second.due_on == first.due_on + dt.timedelta(days=30)
    with acting(cast, "acme.qa"):
        for observation in observations:
            services.commitment_close(membership=cast.memberships["acme.qa"], observation=observation,
                                      closed_on=timezone.localdate(), evidence="Training records TR-2026-118")
    form483.refresh_from_db()
    second.refresh_from_db()
    assert form483.state == "closed" and second.cancelled_reason.startswith("All commitments closed")
    assert Deadline.objects.get(pk=second.deadline_id).state == "cancelled"


def test_a_capa_is_raised_from_an_observation_and_an_existing_one_linked(cast):
    form483, observations = drafted(cast, dt.date(2026, 11, 25))
    with acting(cast, "acme.qa"):
        link = services.capa_create_for(membership=cast.memberships["acme.qa"], observation=observations[0],
                                        title="Cleaning verification", description="Verify cleaning before use.")
        again = pytest.raises(ValidationError)
        with again:
            services.capa_link(membership=cast.memberships["acme.qa"], observation=observations[0],
                               capa=link.capa)
        services.capa_link(membership=cast.memberships["acme.qa"], observation=observations[1], capa=link.capa)
    capa = Capa.objects.get(pk=link.capa_id)
    assert capa.source == "observation_483" and capa.source_reference.endswith("483 observation 1")
    assert link.capa_number == capa.number


def test_a_483_only_from_fda_and_only_the_cmo_records_it(cast):
    mhra = inspect(cast, site="Acme Cork", authority="mhra", scope=[], started=dt.date(2026, 11, 2))
    with pytest.raises(ValidationError) as refused:
        record_483(cast, mhra, dt.date(2026, 11, 6))
    assert "FDA" in refused.value.message_dict["issued_on"][0]
    fda = inspect(cast, started=dt.date(2026, 11, 2))
    with pytest.raises(PermissionDenied):
        record_483(cast, fda, dt.date(2026, 11, 6), by="helix.qa")
