"""Track 1 and Track 2 clocks: the 483 response due date on the US federal calendar (Thanksgiving, Christmas and
New Year), an amended 483 restarting it, reminders fired once each by the sweep, and each sponsor's notification
window taken from its own agreement."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from agreements.catalogue import NotificationEvent
from clocks.calendars import CalendarCode, Unit
from clocks.models import Deadline, DeadlineStage, Notification
from clocks.sweep import sweep
from inspections import services
from inspections.models import Notice
from part11.models import AuditEvent
from tests.agreements.helpers import acting, effective
from tests.inspections.helpers import SINCE, agreement_with_windows, inspect, noon, record_483, reviewer

NEW_YORK = ZoneInfo("America/New_York")


def due_day(deadline: Deadline) -> dt.date:
    return deadline.due_at.astimezone(NEW_YORK).date()


@pytest.mark.parametrize("issued, due, excluded", [
    (dt.date(2026, 11, 20), dt.date(2026, 12, 14), "Thanksgiving Day"),  # Fri before Thanksgiving
    (dt.date(2026, 11, 25), dt.date(2026, 12, 17), "Thanksgiving Day"),  # the eve: day 1 is Fri 27 Nov
    (dt.date(2026, 11, 26), dt.date(2026, 12, 17), None),  # issued on Thanksgiving: day 1 is still Fri 27 Nov
    (dt.date(2026, 12, 18), dt.date(2027, 1, 12), "Christmas Day"),
    (dt.date(2026, 12, 24), dt.date(2027, 1, 19), "Martin Luther King Jr. Day"),  # Christmas, New Year, MLK
])
def test_response_due_date_counts_15_us_business_days(cast, issued, due, excluded):
    form483 = record_483(cast, inspect(cast, started=issued - dt.timedelta(days=3)), issued)
    deadline = form483.response_deadline
    assert due_day(deadline) == due
    assert deadline.due_at.astimezone(NEW_YORK).time() == dt.time(23, 59, 59)
    assert deadline.rule_text.startswith(f"15 US business days after 483 issued {issued:%-d %b %Y}")
    if excluded:
        assert excluded in deadline.rule_text
    assert deadline.rule_code == "fda_483_response" and not deadline.extendable


def test_christmas_and_new_year_are_both_skipped(cast):
    form483 = record_483(cast, inspect(cast, started=dt.date(2026, 12, 21)), dt.date(2026, 12, 24))
    text = form483.response_deadline.rule_text
    assert "Christmas Day" in text and "New Year's Day" in text


def test_an_amended_483_restarts_the_clock_with_the_reason_on_record(cast):
    inspection = inspect(cast, started=dt.date(2026, 11, 16))
    form483 = record_483(cast, inspection, dt.date(2026, 11, 20))
    assert due_day(form483.response_deadline) == dt.date(2026, 12, 14)
    with acting(cast, "acme.qa"):
        services.form483_amend(membership=cast.memberships["acme.qa"], form483=form483,
                               issued_on=dt.date(2026, 11, 25), reason="FDA corrected observation 2",
                               now=noon(dt.date(2026, 11, 25)))
    form483.refresh_from_db()
    deadline = Deadline.objects.get(pk=form483.response_deadline_id)
    assert (form483.amended, form483.issued_on, form483.original_issued_on) == (
        True, dt.date(2026, 11, 25), dt.date(2026, 11, 20))
    assert due_day(deadline) == dt.date(2026, 12, 17) and due_day(deadline) == deadline.original_due_at.astimezone(
        NEW_YORK).date()
    assert deadline.starts_at == noon(dt.date(2026, 11, 25))
    restart = AuditEvent.objects.filter(record_table="clocks_deadline", record_id=deadline.pk,
                                        action="update").latest("seq")
    assert restart.reason == "amended 483 issued 25 Nov 2026: FDA corrected observation 2"
    assert "due_at" in restart.changes
    amended = AuditEvent.objects.filter(record_table="inspections_form483", record_id=form483.pk,
                                        action="update").latest("seq")
    assert amended.reason == "483 amended: FDA corrected observation 2"
    assert amended.changes["issued_on"] == ["2026-11-20", "2026-11-25"]


def test_an_amendment_needs_a_reason_and_cannot_go_back_in_time(cast):
    form483 = record_483(cast, inspect(cast, started=dt.date(2026, 11, 16)), dt.date(2026, 11, 20))
    member = cast.memberships["acme.qa"]
    with acting(cast, "acme.qa"), pytest.raises(ValidationError) as refused:
        services.form483_amend(membership=member, form483=form483, issued_on=dt.date(2026, 11, 25), reason=" ")
    assert "amendment_reason" in refused.value.message_dict
    with acting(cast, "acme.qa"), pytest.raises(ValidationError) as refused:
        services.form483_amend(membership=member, form483=form483, issued_on=dt.date(2026, 11, 19), reason="typo")
    assert "issued_on" in refused.value.message_dict


def test_reminders_fire_once_each_through_the_sweep(cast):
    reviewer(cast)
    issued = dt.date(2026, 12, 18)
    form483 = record_483(cast, inspect(cast, started=dt.date(2026, 12, 14)), issued)
    deadline = form483.response_deadline
    stages = list(DeadlineStage.objects.filter(deadline=deadline).order_by("fire_at"))
    assert [(s.kind, s.label) for s in stages] == [
        ("reminder", "10 US business days left"), ("reminder", "5 US business days left"),
        ("reminder", "2 US business days left"), ("reminder", "1 US business day left"), ("due", "due now"),
        ("escalation", "overdue by 1 US business day"), ("escalation", "overdue by 5 US business days")]
    assert [s.fire_at.astimezone(NEW_YORK).date() for s in stages[:4]] == [
        dt.date(2026, 12, 28), dt.date(2027, 1, 5), dt.date(2027, 1, 8), dt.date(2027, 1, 11)]  # New Year skipped
    for stage in stages[:4]:
        for _ in range(3):  # a second and third sweep (or beat) at the same moment writes nothing more
            sweep(now=stage.fire_at + dt.timedelta(seconds=1))
    for stage in stages[:4]:
        stage.refresh_from_db()
        told = Notification.objects.filter(stage=stage)
        assert stage.state == "fired"
        # The CMO's QA roles hear each reminder exactly once; the routine inspection's sponsors see the clock
        # (audience without roles) but are not reminded of a response that is not theirs to write.
        assert sorted(n.recipient.user.username for n in told) == ["acme.qa", "acme.reviewer"]
    assert DeadlineStage.objects.filter(deadline=deadline, state="pending").count() == 3
    assert set(deadline.audience.values_list("organization__slug", flat=True)) == {"acme", "helix", "northwind"}


def test_each_sponsor_gets_its_own_agreements_notification_window(cast):
    effective(cast, "helix", "acme", effective_from=SINCE)  # its 483 window: 2 US business days
    agreement_with_windows(cast, "northwind", "acme", {
        NotificationEvent.FDA_483: (24, Unit.HOURS, ""),
        NotificationEvent.FORM_482: (3, Unit.BUSINESS_DAYS, CalendarCode.US_FEDERAL)})
    inspection = inspect(cast, started=dt.date(2026, 11, 16))
    with acting(cast, "acme.qa"):
        services.notice_of_inspection_record(membership=cast.memberships["acme.qa"], inspection=inspection,
                                             received_at=dt.datetime(2026, 11, 16, 14, 0, tzinfo=dt.UTC),
                                             now=dt.datetime(2026, 11, 16, 15, 0, tzinfo=dt.UTC))
    record_483(cast, inspection, dt.date(2026, 11, 20))
    notices = {(n.sponsor.slug, n.event): n for n in Notice.objects.select_related("sponsor", "deadline")}
    assert set(notices) == {(s, e) for s in ("helix", "northwind") for e in ("form_482", "fda_483")}
    helix_483, northwind_483 = notices["helix", "fda_483"], notices["northwind", "fda_483"]
    assert due_day(helix_483.deadline) == dt.date(2026, 11, 24)  # Mon 23, Tue 24
    assert northwind_483.deadline.due_at == dt.datetime(2026, 11, 21, 12, 0, tzinfo=dt.UTC)  # 24 hours
    assert "Quality agreement" in helix_483.source or "QA-" in helix_483.source
    assert "defaults" not in northwind_483.source
    # The Form 482 window: Helix's agreement leaves the conservative 1 business day; Northwind's says 3.
    assert due_day(notices["helix", "form_482"].deadline) == dt.date(2026, 11, 17)
    assert due_day(notices["northwind", "form_482"].deadline) == dt.date(2026, 11, 19)
    # Each sponsor's clock has only that sponsor in its audience.
    assert list(helix_483.deadline.audience.values_list("organization__slug", flat=True)) == ["acme", "helix"]


def test_notifying_meets_each_sponsors_clock_and_the_sponsor_acknowledges(cast):
    inspection = inspect(cast, started=dt.date(2026, 11, 30))
    record_483(cast, inspection, dt.date(2026, 12, 2), now=noon(dt.date(2026, 12, 2)))
    with acting(cast, "acme.qa"):
        told = services.inspection_notify(membership=cast.memberships["acme.qa"], inspection=inspection,
                                          event=NotificationEvent.FDA_483, message="Response due 23 Dec.",
                                          partnership_ids=[cast.partnership("helix", "acme").pk],
                                          now=dt.datetime(2026, 12, 2, 18, 0, tzinfo=dt.UTC))
    notice = told[0]
    notice.deadline.refresh_from_db()
    assert notice.deadline.state == "met" and notice.recipients >= 1
    body = Notification.objects.filter(record_table="inspections_inspection", recipient__organization__slug="helix",
                                       stage__isnull=True).latest("id").body
    assert "HLX-101" in body and "NWB-7" not in body and "Northwind" not in body
    # The agency's due time as the pages show it: the day FDA counts, in its zone (not UTC's next morning).
    assert "the response to FDA is due 23 Dec 2026 23:59 America/New_York." in body
    with acting(cast, "helix.qa"):
        ack = services.notice_acknowledge(membership=cast.memberships["helix.qa"], notice=notice, note="Received.")
    assert ack.organization_id == cast.orgs["helix"].pk and ack.cmo_id == cast.orgs["acme"].pk
    northwind = Notice.objects.get(sponsor=cast.orgs["northwind"], event="fda_483")
    with acting(cast, "northwind.qa"), pytest.raises(ValidationError) as refused:
        services.notice_acknowledge(membership=cast.memberships["northwind.qa"], notice=northwind)
    assert "not been sent" in str(refused.value)
    with acting(cast, "northwind.qa"), pytest.raises(PermissionDenied):
        services.notice_acknowledge(membership=cast.memberships["northwind.qa"], notice=notice)
