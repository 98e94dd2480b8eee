"""Agreement life cycle: template, joint drafting, review, two-party approval, effect by date, supersession."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from agreements import selectors, services
from agreements.catalogue import SECTION_KEYS, NotificationEvent
from agreements.models import QualityAgreement
from clocks.calendars import CalendarCode, Unit, end_of_day
from clocks.models import Deadline
from part11.models import AuditEvent, Signature
from tests.agreements.helpers import acting, complete, draft, effective, sign

State = QualityAgreement.State


def test_a_first_agreement_starts_from_the_template(cast):
    agreement = draft(cast)
    assert agreement.number == 1 and agreement.state == State.DRAFT
    assert [s.key for s in agreement.sections.all()] == list(SECTION_KEYS)
    assert agreement.raci.count() == 26 and agreement.raci.filter(critical=True).count() >= 15
    assert agreement.windows.count() == len(NotificationEvent)
    with pytest.raises(ValidationError, match="still draft"):
        draft(cast)
    with pytest.raises(PermissionDenied):
        draft(cast, by="helix.qa")


def test_both_parties_edit_the_draft_and_the_trail_names_who_changed_what(cast):
    agreement = draft(cast)
    with acting(cast, "northwind.qa"):
        services.section_update(membership=cast.memberships["northwind.qa"], agreement=agreement, key="scope",
                                body="NWB-9 drug substance at Borealis Montreal.")
    with acting(cast, "borealis.qa"):
        services.section_update(membership=cast.memberships["borealis.qa"], agreement=agreement, key="materials",
                                body="Borealis qualifies excipient suppliers.")
    events = AuditEvent.objects.filter(record_table="agreements_agreementsection", action="update")
    actors = {e.actor_user_id for e in events}
    assert actors == {cast.users["northwind.qa"].pk, cast.users["borealis.qa"].pk}
    assert {e.organization_id for e in events} == {cast.orgs["northwind"].pk}  # the sponsor's chain...
    assert {e.partner_organization_id for e in events} == {cast.orgs["borealis"].pk}  # ...readable by the CMO
    agreement.refresh_from_db()
    assert agreement.version == 3  # each part's change bumps the agreement: stale editors get 409/412


def test_two_party_approval_then_effect_and_a_periodic_review_clock(cast):
    agreement = effective(cast)
    assert agreement.state == State.EFFECTIVE and agreement.next_review_date == dt.date.today().replace(
        year=dt.date.today().year + 2)
    steps = set(Signature.objects.filter(record_table="agreements_qualityagreement", record_id=agreement.pk)
                .values_list("step", flat=True))
    assert steps == {"approve-sponsor", "approve-cmo"}
    review = Deadline.objects.get(record_table="agreements_qualityagreement", record_id=agreement.pk)
    assert review.organization_id == cast.orgs["northwind"].pk and review.title == "Quality agreement periodic review"
    assert selectors.effective_agreement(cast.partnership("northwind", "borealis")) == agreement


def test_approval_needs_both_quality_units_and_passing_checks(cast):
    agreement = draft(cast)
    services.agreement_update(membership=cast.memberships["northwind.qa"], agreement=agreement,
                              effective_from=dt.date.today())
    services.agreement_submit(membership=cast.memberships["northwind.qa"], agreement=agreement)
    with pytest.raises(ValidationError, match="check"):
        sign(cast, agreement, "northwind.qa", "approve-sponsor")
    with pytest.raises(PermissionDenied, match="other party"):
        sign(cast, agreement, "northwind.qa", "approve-cmo")
    # A QA approver overrides the failed checks with a signed justification; then both approve.
    with acting(cast, "northwind.qa"):
        services.agreement_record_override(membership=cast.memberships["northwind.qa"], agreement=agreement,
                                           justification="Tech-transfer stage: sections follow at routine supply.")
    sign(cast, agreement, "northwind.qa", "override-checks")
    sign(cast, agreement, "northwind.qa", "approve-sponsor")
    agreement.refresh_from_db()
    assert agreement.state == State.IN_REVIEW  # one party is not enough
    sign(cast, agreement, "borealis.qa", "approve-cmo")
    agreement.refresh_from_db()
    assert agreement.state == State.EFFECTIVE
    override = AuditEvent.objects.filter(record_table="agreements_qualityagreement", record_id=agreement.pk,
                                         reason__startswith="checks overridden").get()
    assert override.actor_user_id == cast.users["northwind.qa"].pk


def test_returning_to_draft_voids_signatures_and_edits_are_draft_only(cast):
    agreement = complete(cast, draft(cast), "northwind.qa")
    services.agreement_submit(membership=cast.memberships["borealis.qa"], agreement=agreement)
    with pytest.raises(ValidationError, match="only a draft"):
        services.section_update(membership=cast.memberships["borealis.qa"], agreement=agreement, key="scope",
                                body="changed in review")
    signature = sign(cast, agreement, "northwind.qa", "approve-sponsor")
    services.agreement_return_to_draft(membership=cast.memberships["borealis.qa"], agreement=agreement,
                                       reason="Borealis wants to reword materials")
    signature.refresh_from_db()
    assert signature.voided_at is not None


def test_effective_version_by_date_and_supersession(cast):
    first = effective(cast, effective_from=dt.date.today() - dt.timedelta(days=400))
    second = services.agreement_create(membership=cast.memberships["borealis.qa"],
                                       partnership=cast.partnership("northwind", "borealis"))
    assert second.number == 2 and second.supersedes_id == first.pk
    assert second.sections.get(key="scope").body == first.sections.get(key="scope").body  # copied
    future = dt.date.today() + dt.timedelta(days=10)
    services.agreement_update(membership=cast.memberships["borealis.qa"], agreement=second, effective_from=future)
    services.agreement_submit(membership=cast.memberships["borealis.qa"], agreement=second)
    sign(cast, second, "northwind.qa", "approve-sponsor")
    sign(cast, second, "borealis.qa", "approve-cmo")
    second.refresh_from_db()
    assert second.state == State.APPROVED  # not before its date
    partnership = cast.partnership("northwind", "borealis")
    assert selectors.effective_agreement(partnership) == first
    assert services.activate_due(today=future) == 1
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.state, first.effective_until, second.state) == (State.SUPERSEDED, future, State.EFFECTIVE)
    assert selectors.effective_agreement(partnership, on=future - dt.timedelta(days=1)) == first
    assert selectors.effective_agreement(partnership, on=future) == second
    assert selectors.effective_agreement(partnership, on=first.effective_from - dt.timedelta(days=1)) is None
    assert QualityAgreement.objects.filter(partnership=partnership, state=State.EFFECTIVE).count() == 1


def test_terms_feed_a_deadline(cast):
    """A 483 notification window of 2 US business days: a 483 issued Friday 20 Nov 2026 must reach the sponsor by
    the end of Tuesday 24 Nov (Monday 23 is day 1)."""
    effective(cast, sponsor="northwind", cmo="acme")
    terms = selectors.effective_terms(cast.partnership("northwind", "acme"))
    assert not terms.is_default and terms.windows[NotificationEvent.FDA_483].amount == 2
    rule = terms.notification_rule(NotificationEvent.FDA_483, start_event="483 issued")
    from clocks.rules import schedule

    plan = schedule(rule, dt.datetime(2026, 11, 20, 18, 0, tzinfo=dt.UTC))
    assert plan.due_at == end_of_day(dt.date(2026, 11, 24), "America/New_York")
    assert plan.rule_text == "2 US business days after 483 issued 20 Nov 2026"


def test_no_effective_agreement_means_conservative_defaults_and_a_warning(cast):
    terms = selectors.effective_terms(cast.partnership("helix", "acme"))
    assert terms.is_default and terms.warning == "No effective quality agreement: conservative default terms apply."
    assert terms.windows[NotificationEvent.CRITICAL_DEVIATION].unit == Unit.HOURS
    assert terms.deviation_closure_days == 30


def test_windows_validation_names_the_field(cast):
    agreement = draft(cast)
    with pytest.raises(ValidationError) as error:
        services.windows_update(membership=cast.memberships["northwind.qa"], agreement=agreement,
                                windows={NotificationEvent.OOS: (2, Unit.BUSINESS_DAYS, ""),
                                         "bogus": (1, Unit.HOURS, "")})
    assert set(error.value.message_dict) == {"windows.oos.calendar", "windows.bogus"}
    services.windows_update(membership=cast.memberships["northwind.qa"], agreement=agreement,
                            windows={NotificationEvent.OOS: (2, Unit.BUSINESS_DAYS, CalendarCode.EU_IRELAND)})
    assert agreement.windows.get(event="oos").calendar == "eu_ireland"


def test_the_beat_task_activates_due_versions(cast):
    from agreements.tasks import activate_due

    agreement = complete(cast, draft(cast), "northwind.qa", effective_from=dt.date.today() + dt.timedelta(days=3))
    with acting(cast, "northwind.qa"):
        services.agreement_submit(membership=cast.memberships["northwind.qa"], agreement=agreement)
    sign(cast, agreement, "northwind.qa", "approve-sponsor")
    sign(cast, agreement, "borealis.qa", "approve-cmo")
    assert activate_due() == 0  # not yet
    QualityAgreement.objects.filter(pk=agreement.pk).update(effective_from=dt.date.today())
    assert activate_due() == 1
    assert QualityAgreement.objects.get(pk=agreement.pk).state == State.EFFECTIVE
