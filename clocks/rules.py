"""Deadline rules and the schedule they produce: due time, rule text, reminder and escalation stages.

A :class:`Rule` is data ("15 US business days after 483 issued; remind 10, 5, 2, 1 business days before; escalate
1 business day after"). The quality agreement supplies most rules at run time (its notification windows), the
regulations a few fixed ones (below). :func:`schedule` is pure: the same rule, start and calendar always give the
same due time and stages, which is what lets a recompute (an amended 483, an added closure day) be trusted.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db import models

from clocks.calendars import (
    BusinessCalendar,
    CalendarCode,
    Unit,
    at_local_time,
    count_label,
    end_of_day,
    join_names,
    local_date,
)

#: Reminders fire at the start of the working day they name, in the deadline's time zone.
REMINDER_TIME = dt.time(8, 0)


class StageKind(models.TextChoices):
    REMINDER = "reminder", "Reminder"
    DUE = "due", "Due"
    ESCALATION = "escalation", "Escalation"


@dataclass(frozen=True)
class StageSpec:
    """A notification point relative to the due time: negative amounts are before it, positive after."""

    kind: str
    amount: int = 0
    unit: str = Unit.BUSINESS_DAYS

    def label(self, calendar: str | None) -> str:
        if self.kind == StageKind.DUE:
            return "due now"
        unit = self.unit if self.unit != Unit.BUSINESS_DAYS or calendar else Unit.CALENDAR_DAYS
        span = count_label(abs(self.amount), unit, calendar if unit == Unit.BUSINESS_DAYS else None)
        return f"{span} left" if self.kind == StageKind.REMINDER else f"overdue by {span}"


def reminders(*amounts: int, unit: str = Unit.BUSINESS_DAYS, escalate: tuple[int, ...] = (1,)) -> tuple[StageSpec, ...]:
    """Reminders ``amounts`` before due (positive numbers), the due stage, escalations after it."""
    return (*(StageSpec(StageKind.REMINDER, -abs(a), unit) for a in amounts), StageSpec(StageKind.DUE),
            *(StageSpec(StageKind.ESCALATION, abs(a), unit) for a in escalate))


@dataclass(frozen=True)
class Rule:
    code: str
    title: str
    amount: int
    unit: str
    calendar: str | None
    #: What starts the clock, as the rule text names it: "483 issued", "deviation reported".
    start_event: str
    stages: tuple[StageSpec, ...] = field(default_factory=lambda: reminders(1))
    #: The regulator's or the organization's zone; None takes the calendar's (UTC for calendar days and hours).
    time_zone: str | None = None
    #: Whether a QA approver may move the due date (an agency's clock cannot be extended by us).
    extendable: bool = True
    #: Whether the deadline may be marked met by hand; otherwise only its record's workflow closes it.
    closed_by_hand: bool = False

    def __post_init__(self) -> None:
        if self.amount < 0:
            raise ValueError("a deadline rule counts forward: amount must be 0 or more")
        if self.unit == Unit.BUSINESS_DAYS and not self.calendar:
            raise ValueError("a business-day rule needs a calendar")

    @property
    def zone(self) -> str:
        from clocks.calendars import default_time_zone

        return self.time_zone or default_time_zone(self.calendar)

    def describe(self) -> str:
        return f"{count_label(self.amount, self.unit, self.calendar)} after {self.start_event}"


@dataclass(frozen=True)
class PlannedStage:
    kind: str
    label: str
    fire_at: dt.datetime


@dataclass(frozen=True)
class Schedule:
    due_at: dt.datetime
    rule_text: str
    stages: tuple[PlannedStage, ...]

    @property
    def due_soon_at(self) -> dt.datetime:
        """When the deadline turns "due soon": its earliest reminder, else its due time."""
        times = [s.fire_at for s in self.stages if s.kind == StageKind.REMINDER]
        return min(times) if times else self.due_at


def schedule(rule: Rule, start: dt.datetime, calendar: BusinessCalendar | None = None, *,
             due_date: dt.date | None = None) -> Schedule:
    """Due time, spelled-out rule and stages for ``rule`` started at ``start``.

    ``due_date`` overrides the computed date (an approved extension); the stages then follow the new date.
    """
    if start.tzinfo is None:
        raise ValueError("start must be an aware datetime")
    zone = rule.zone
    start_day = local_date(start, zone)
    cal = _calendar(rule, calendar)
    text = rule.describe() + f" {start_day:%-d %b %Y}"
    if rule.unit == Unit.HOURS:
        due_at = start + dt.timedelta(hours=rule.amount)
        text = rule.describe() + f" {start.astimezone(dt.UTC):%-d %b %Y %H:%M} UTC"
    elif rule.unit == Unit.CALENDAR_DAYS:
        due_at = end_of_day(start_day + dt.timedelta(days=rule.amount), zone)
    else:
        assert cal is not None
        due_day = cal.add_business_days(start_day, rule.amount)
        due_at = end_of_day(due_day, zone)
        skipped = cal.excluded_days(start_day, due_day)
        if skipped:
            text += f"; {join_names(name for _, name in skipped)} excluded"
    if due_date is not None:
        due_at = end_of_day(due_date, zone) if rule.unit != Unit.HOURS else dt.datetime.combine(
            due_date, due_at.astimezone(dt.UTC).time(), tzinfo=dt.UTC)
    stages = tuple(_plan(stage, rule, due_at, cal) for stage in rule.stages)
    return Schedule(due_at=due_at, rule_text=text, stages=tuple(sorted(stages, key=lambda s: s.fire_at)))


def _calendar(rule: Rule, calendar: BusinessCalendar | None) -> BusinessCalendar | None:
    if rule.calendar is None:
        return None
    if calendar is not None and calendar.code != rule.calendar:
        raise ValueError(f"rule {rule.code} counts on {rule.calendar}, not {calendar.code}")
    return calendar or BusinessCalendar(rule.calendar)


def _plan(stage: StageSpec, rule: Rule, due_at: dt.datetime, cal: BusinessCalendar | None) -> PlannedStage:
    zone = rule.zone
    label = stage.label(rule.calendar)
    if stage.kind == StageKind.DUE or stage.amount == 0:
        return PlannedStage(stage.kind, label, due_at)
    if stage.unit == Unit.HOURS:
        return PlannedStage(stage.kind, label, due_at + dt.timedelta(hours=stage.amount))
    due_day = local_date(due_at, zone)
    if stage.unit == Unit.BUSINESS_DAYS and cal is not None:
        day = cal.add_business_days(due_day, stage.amount)
    else:
        day = due_day + dt.timedelta(days=stage.amount)
    if stage.kind == StageKind.REMINDER:
        return PlannedStage(stage.kind, label, at_local_time(day, REMINDER_TIME, zone))
    return PlannedStage(stage.kind, label, end_of_day(day, zone))


# --- Regulatory clocks that do not depend on an agreement (DESIGN.md §4) -------------------------------------

FDA_483_RESPONSE = Rule(
    code="fda_483_response", title="Response to FDA Form 483", amount=15, unit=Unit.BUSINESS_DAYS,
    calendar=CalendarCode.US_FEDERAL, start_event="483 issued", stages=reminders(10, 5, 2, 1, escalate=(1, 5)),
    extendable=False,
)
WARNING_LETTER_RESPONSE = Rule(
    code="warning_letter_response", title="Response to FDA Warning Letter", amount=15, unit=Unit.BUSINESS_DAYS,
    calendar=CalendarCode.US_FEDERAL, start_event="Warning Letter issued", stages=reminders(10, 5, 2, 1),
    extendable=False,
)
FIELD_ALERT_REPORT = Rule(
    code="field_alert_report", title="Field Alert Report (21 CFR 314.81(b)(1))", amount=3, unit=Unit.BUSINESS_DAYS,
    calendar=CalendarCode.US_FEDERAL, start_event="information received", stages=reminders(2, 1), extendable=False,
)
BIOLOGIC_DEVIATION_REPORT = Rule(
    code="bpdr", title="Biological product deviation report (21 CFR 600.14)", amount=45,
    unit=Unit.CALENDAR_DAYS, calendar=None, start_event="information discovered",
    stages=reminders(14, 7, 1, unit=Unit.CALENDAR_DAYS, escalate=(1,)), extendable=False,
)
