"""Calendar tables worked out by hand (a 2026/2027 wall calendar and the OPM holiday list), not by the code."""

from __future__ import annotations

import datetime as dt

import pytest

from clocks.calendars import BusinessCalendar, CalendarCode, Unit, end_of_day, join_names
from clocks.rules import FDA_483_RESPONSE, Rule, StageKind, StageSpec, reminders, schedule

US = BusinessCalendar(CalendarCode.US_FEDERAL)
UK = BusinessCalendar(CalendarCode.UK_ENGLAND_WALES)
IE = BusinessCalendar(CalendarCode.EU_IRELAND)
D = dt.date


@pytest.mark.parametrize(("start", "count", "expected"), [
    # The two cases: Thanksgiving (Thu 26 Nov 2026) skipped; Christmas and New Year (both Fridays) skipped.
    (D(2026, 11, 20), 15, D(2026, 12, 14)),
    (D(2026, 12, 18), 15, D(2027, 1, 12)),
    # Day 1 is the first business day after the start, even when the start is a weekend or holiday.
    (D(2026, 11, 21), 1, D(2026, 11, 23)),   # Saturday → Monday
    (D(2026, 11, 26), 1, D(2026, 11, 27)),   # Thanksgiving → the Friday after (not a federal holiday)
    (D(2026, 11, 25), 1, D(2026, 11, 27)),   # Wednesday → Friday, Thanksgiving skipped
    # Observed holidays: Independence Day 2026 is a Saturday, observed Friday 3 July.
    (D(2026, 7, 2), 1, D(2026, 7, 6)),
    # 2027: 4 July is a Sunday, observed Monday 5 July; Juneteenth a Saturday, observed Friday 18 June.
    (D(2027, 7, 2), 1, D(2027, 7, 6)),
    (D(2027, 6, 17), 1, D(2027, 6, 21)),
    # New Year's Day 2028 is a Saturday: observed Friday 31 Dec 2027 (across the year end).
    (D(2027, 12, 30), 1, D(2028, 1, 3)),
    # Leap years: 29 Feb 2028 is a Tuesday and a business day.
    (D(2028, 2, 25), 2, D(2028, 2, 29)),
    (D(2028, 2, 28), 2, D(2028, 3, 1)),
    (D(2024, 2, 28), 1, D(2024, 2, 29)),
    # Zero is the start itself; negative counts walk back (reminders "5 business days before").
    (D(2026, 12, 14), 0, D(2026, 12, 14)),
    (D(2026, 12, 14), -5, D(2026, 12, 7)),
    (D(2027, 1, 12), -10, D(2026, 12, 28)),  # 11, 8, 7, 6, 5, 4 Jan; 1 Jan out; 31, 30, 29, 28 Dec
])
def test_us_federal_add_business_days(start, count, expected):
    assert US.add_business_days(start, count) == expected


@pytest.mark.parametrize(("start", "end", "expected"), [
    (D(2026, 11, 20), D(2026, 12, 14), 15),
    (D(2026, 12, 18), D(2027, 1, 12), 15),
    (D(2026, 11, 20), D(2026, 11, 20), 0),
    (D(2026, 12, 14), D(2026, 11, 20), -15),
    (D(2026, 12, 24), D(2027, 1, 4), 5),       # 28, 29, 30, 31 Dec, 4 Jan (25 Dec and 1 Jan out)
    (D(2028, 2, 27), D(2028, 3, 1), 3),        # Mon 28, Tue 29, Wed 1 Mar
])
def test_us_federal_count_between(start, end, expected):
    assert US.business_days_between(start, end) == expected


@pytest.mark.parametrize(("day", "expected"), [
    (D(2026, 11, 26), False),  # Thanksgiving
    (D(2026, 11, 27), True),   # day after Thanksgiving: not a federal holiday
    (D(2026, 7, 3), False),    # Independence Day observed
    (D(2026, 7, 4), False),    # Saturday
    (D(2027, 12, 31), False),  # New Year's Day 2028 observed
    (D(2027, 12, 24), False),  # Christmas 2027 (Saturday) observed
    (D(2026, 12, 24), True),   # Christmas Eve: a business day unless closed by executive order
    (D(2028, 2, 29), True),
    (D(2026, 11, 11), False),  # Veterans Day
    (D(2026, 10, 12), False),  # Columbus Day
])
def test_us_federal_is_business_day(day, expected):
    assert US.is_business_day(day) is expected


@pytest.mark.parametrize(("calendar", "start", "count", "expected"), [
    # England & Wales 2026: Boxing Day is a Saturday, substitute Monday 28 Dec.
    (UK, D(2026, 12, 24), 1, D(2026, 12, 29)),
    (UK, D(2026, 4, 2), 1, D(2026, 4, 7)),       # Good Friday 3 Apr, Easter Monday 6 Apr
    (UK, D(2026, 11, 26), 1, D(2026, 11, 27)),   # no Thanksgiving in England
    # Ireland 2026: St Brigid's Day Monday 2 Feb, St Patrick's Day Tuesday 17 Mar.
    (IE, D(2026, 1, 30), 1, D(2026, 2, 3)),
    (IE, D(2026, 3, 16), 1, D(2026, 3, 18)),
    (IE, D(2026, 12, 24), 2, D(2026, 12, 29)),   # 25 Dec Fri out; 28 Dec Monday is a working day
])
def test_uk_and_ireland_working_days(calendar, start, count, expected):
    assert calendar.add_business_days(start, count) == expected


def test_closure_days_of_an_organization_do_not_count():
    closed = BusinessCalendar(CalendarCode.US_FEDERAL, {D(2026, 12, 24): "Executive Order: federal closure"})
    assert not closed.is_business_day(D(2026, 12, 24))
    assert closed.add_business_days(D(2026, 12, 18), 15) == D(2027, 1, 13)
    assert closed.excluded_days(D(2026, 12, 18), D(2027, 1, 13)) == [
        (D(2026, 12, 24), "Executive Order: federal closure"), (D(2026, 12, 25), "Christmas Day"),
        (D(2027, 1, 1), "New Year's Day")]


def test_due_time_is_end_of_day_in_the_deadline_zone_stored_in_utc():
    assert end_of_day(D(2026, 12, 14), "America/New_York") == dt.datetime(2026, 12, 15, 4, 59, 59, tzinfo=dt.UTC)
    assert end_of_day(D(2026, 7, 14), "America/New_York") == dt.datetime(2026, 7, 15, 3, 59, 59, tzinfo=dt.UTC)
    assert end_of_day(D(2026, 7, 14), "Europe/London") == dt.datetime(2026, 7, 14, 22, 59, 59, tzinfo=dt.UTC)


def test_483_schedule_spells_out_the_rule_and_names_skipped_holidays():
    issued = dt.datetime(2026, 11, 20, 15, 0, tzinfo=dt.UTC)
    plan = schedule(FDA_483_RESPONSE, issued)
    assert plan.due_at == end_of_day(D(2026, 12, 14), "America/New_York")
    assert plan.rule_text == "15 US business days after 483 issued 20 Nov 2026; Thanksgiving Day excluded"
    reminders_ = [(s.label, s.fire_at.astimezone(dt.UTC)) for s in plan.stages if s.kind == StageKind.REMINDER]
    # 10, 5, 2, 1 business days before Mon 14 Dec: Mon 30 Nov, Mon 7 Dec, Thu 10 Dec, Fri 11 Dec, at 08:00 New York.
    assert reminders_ == [
        ("10 US business days left", dt.datetime(2026, 11, 30, 13, 0, tzinfo=dt.UTC)),
        ("5 US business days left", dt.datetime(2026, 12, 7, 13, 0, tzinfo=dt.UTC)),
        ("2 US business days left", dt.datetime(2026, 12, 10, 13, 0, tzinfo=dt.UTC)),
        ("1 US business day left", dt.datetime(2026, 12, 11, 13, 0, tzinfo=dt.UTC)),
    ]
    escalations = [(s.label, s.fire_at) for s in plan.stages if s.kind == StageKind.ESCALATION]
    assert escalations == [("overdue by 1 US business day", end_of_day(D(2026, 12, 15), "America/New_York")),
                           ("overdue by 5 US business days", end_of_day(D(2026, 12, 21), "America/New_York"))]
    assert plan.due_soon_at == reminders_[0][1]


def test_483_issued_before_christmas_names_both_holidays():
    plan = schedule(FDA_483_RESPONSE, dt.datetime(2026, 12, 18, 17, 0, tzinfo=dt.UTC))
    assert plan.due_at == end_of_day(D(2027, 1, 12), "America/New_York")
    assert plan.rule_text.endswith("; Christmas Day and New Year's Day excluded")


def test_an_extension_moves_the_due_date_and_its_stages():
    plan = schedule(FDA_483_RESPONSE, dt.datetime(2026, 11, 20, 15, 0, tzinfo=dt.UTC), due_date=D(2026, 12, 21))
    assert plan.due_at == end_of_day(D(2026, 12, 21), "America/New_York")
    assert [s.fire_at for s in plan.stages if s.kind == StageKind.REMINDER][-1] == dt.datetime(
        2026, 12, 18, 13, 0, tzinfo=dt.UTC)


def test_hours_and_calendar_days():
    hours = Rule(code="crit", title="Critical deviation notice", amount=24, unit=Unit.HOURS, calendar=None,
                 start_event="deviation reported", stages=reminders(4, unit=Unit.HOURS, escalate=(2,)))
    start = dt.datetime(2026, 11, 25, 22, 30, tzinfo=dt.UTC)
    plan = schedule(hours, start)
    assert plan.due_at == start + dt.timedelta(hours=24)
    assert [s.label for s in plan.stages] == ["4 hours left", "due now", "overdue by 2 hours"]
    assert plan.rule_text == "24 hours after deviation reported 25 Nov 2026 22:30 UTC"
    days = Rule(code="close", title="Investigation closure", amount=30, unit=Unit.CALENDAR_DAYS, calendar=None,
                start_event="deviation reported", time_zone="Europe/Dublin")
    plan = schedule(days, dt.datetime(2026, 12, 31, 23, 30, tzinfo=dt.UTC))  # 31 Dec in Dublin too
    assert plan.due_at == end_of_day(D(2027, 1, 30), "Europe/Dublin")


def test_invalid_rules_and_runaway_counts_are_refused():
    with pytest.raises(ValueError, match="needs a calendar"):
        Rule(code="x", title="x", amount=3, unit=Unit.BUSINESS_DAYS, calendar=None, start_event="x")
    with pytest.raises(ValueError, match="amount"):
        Rule(code="x", title="x", amount=-1, unit=Unit.HOURS, calendar=None, start_event="x")
    with pytest.raises(ValueError, match="beyond"):
        US.add_business_days(D(2026, 1, 1), 5000)
    with pytest.raises(ValueError, match="unknown calendar"):
        BusinessCalendar("mars")
    with pytest.raises(ValueError, match="aware"):
        schedule(FDA_483_RESPONSE, dt.datetime(2026, 11, 20))
    assert StageSpec(StageKind.DUE).label(None) == "due now"


def test_join_names():
    assert join_names([]) == ""
    assert join_names(["A", "A"]) == "A"
    assert join_names(["A", "B", "C"]) == "A, B and C"
