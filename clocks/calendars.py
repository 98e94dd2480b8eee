"""Business-day arithmetic on named calendars (DESIGN.md §3.4, §4 "483 response window").

Every regulatory clock in the application counts here, so the rules live in one place:

- "N business days after D" counts day 1 as the first business day *after* D (74 FR 40211: the 483 response
  window); D itself never counts, whatever day it is.
- A business day is a weekday that is neither a public holiday of the calendar (the ``holidays`` package, with
  its observed-day rules: for the US federal calendar 5 U.S.C. 6103 and EO 11582, a Saturday holiday is observed
  on the Friday before and a Sunday one on the Monday after) nor a closure day the organization recorded (e.g.
  a federal closure by executive order, which no package can know in advance).
- A deadline falls due at the end of its due day in the deadline's time zone (the regulator's for regulatory
  clocks), and is stored in UTC.

Calendar days and hours need no calendar: they are plain ``timedelta`` arithmetic, kept here for one vocabulary.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import holidays
from django.db import models

#: How far business-day arithmetic may walk before it refuses (a runaway count is a bug, not a deadline).
MAX_SPAN_DAYS = 3 * 366


class CalendarCode(models.TextChoices):
    US_FEDERAL = "us_federal", "US federal business days"
    UK_ENGLAND_WALES = "uk_england_wales", "UK (England & Wales) working days"
    EU_IRELAND = "eu_ireland", "EU (Ireland) working days"


class Unit(models.TextChoices):
    BUSINESS_DAYS = "business_days", "business days"
    CALENDAR_DAYS = "calendar_days", "calendar days"
    HOURS = "hours", "hours"


@dataclass(frozen=True)
class CalendarSpec:
    code: str
    country: str
    subdivision: str | None
    time_zone: str
    #: How a count on this calendar reads in a rule: "15 US business days".
    days_label: str


SPECS: dict[str, CalendarSpec] = {
    CalendarCode.US_FEDERAL: CalendarSpec(CalendarCode.US_FEDERAL, "US", None, "America/New_York",
                                          "US business days"),
    CalendarCode.UK_ENGLAND_WALES: CalendarSpec(CalendarCode.UK_ENGLAND_WALES, "GB", "ENG", "Europe/London",
                                                "UK working days"),
    CalendarCode.EU_IRELAND: CalendarSpec(CalendarCode.EU_IRELAND, "IE", None, "Europe/Dublin",
                                          "Irish working days"),
}


@functools.cache
def _public_holidays(code: str) -> holidays.HolidayBase:
    """The package's holidays for a calendar; it fills in years lazily as dates are asked about."""
    spec = SPECS[code]
    return holidays.country_holidays(spec.country, subdiv=spec.subdivision, observed=True)


@dataclass(frozen=True)
class BusinessCalendar:
    """One named calendar plus the closure days of one organization (``{date: reason}``)."""

    code: str
    closures: dict[dt.date, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.code not in SPECS:
            raise ValueError(f"unknown calendar {self.code!r}; choose one of {', '.join(SPECS)}")

    @property
    def spec(self) -> CalendarSpec:
        return SPECS[self.code]

    def holiday_name(self, day: dt.date) -> str | None:
        """Why ``day`` is not worked, if it is a holiday or closure (weekends are not named)."""
        if day in self.closures:
            return self.closures[day]
        name = _public_holidays(self.code).get(day)
        return str(name) if name else None

    def is_business_day(self, day: dt.date) -> bool:
        return day.weekday() < 5 and self.holiday_name(day) is None

    def add_business_days(self, start: dt.date, count: int) -> dt.date:
        """The ``count``-th business day after ``start`` (before it, for a negative count); 0 gives ``start``."""
        step = 1 if count >= 0 else -1
        remaining, day = abs(count), start
        for _ in range(MAX_SPAN_DAYS):
            if remaining == 0:
                return day
            day += dt.timedelta(days=step)
            if self.is_business_day(day):
                remaining -= 1
        raise ValueError(f"{count} business days from {start} is beyond {MAX_SPAN_DAYS} days")

    def business_days_between(self, start: dt.date, end: dt.date) -> int:
        """Business days in (start, end]: the inverse of :meth:`add_business_days` (negative if end < start)."""
        if end < start:
            return -self.business_days_between(end, start)
        if (end - start).days > MAX_SPAN_DAYS:
            raise ValueError(f"{start}..{end} is longer than {MAX_SPAN_DAYS} days")
        return sum(1 for day in _days(start, end) if self.is_business_day(day))

    def excluded_days(self, start: dt.date, end: dt.date) -> list[tuple[dt.date, str]]:
        """Weekday holidays and closures in (start, end]: the days a count skipped, named, for the rule text."""
        return [(day, name) for day in _days(start, end)
                if day.weekday() < 5 and (name := self.holiday_name(day)) is not None]

    def holidays_in_year(self, year: int) -> list[tuple[dt.date, str, bool]]:
        """(date, name, is closure) for the year, weekends included (a Saturday holiday shows its observed day)."""
        public = _public_holidays(self.code)
        public.get(dt.date(year, 1, 1))  # populate the year
        days = {day: (str(name), False) for day, name in public.items() if day.year == year}
        days.update({day: (reason, True) for day, reason in self.closures.items() if day.year == year})
        return [(day, name, closure) for day, (name, closure) in sorted(days.items())]


def _days(start: dt.date, end: dt.date) -> Iterator[dt.date]:
    day = start
    while day < end:
        day += dt.timedelta(days=1)
        yield day


def end_of_day(day: dt.date, time_zone: str) -> dt.datetime:
    """The last second of ``day`` in ``time_zone``, as an aware UTC datetime (how due times are stored)."""
    local = dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=ZoneInfo(time_zone))
    return local.astimezone(dt.UTC)


def at_local_time(day: dt.date, time: dt.time, time_zone: str) -> dt.datetime:
    return dt.datetime.combine(day, time, tzinfo=ZoneInfo(time_zone)).astimezone(dt.UTC)


def local_date(moment: dt.datetime, time_zone: str) -> dt.date:
    return moment.astimezone(ZoneInfo(time_zone)).date()


def default_time_zone(calendar: str | None) -> str:
    return SPECS[calendar].time_zone if calendar else "UTC"


def count_label(amount: int, unit: str, calendar: str | None) -> str:
    """'15 US business days', '30 calendar days', '24 hours' (singular for 1)."""
    if unit == Unit.BUSINESS_DAYS:
        if not calendar:
            raise ValueError("a business-day count needs a calendar")
        label = SPECS[calendar].days_label
    else:
        label = Unit(unit).label
    if amount == 1:
        label = label[:-1] if label.endswith("s") else label
    return f"{amount} {label}"


def join_names(names: Iterable[str]) -> str:
    """'Thanksgiving Day', 'Christmas Day and New Year's Day', 'A, B and C' (each name once, in order)."""
    unique = list(dict.fromkeys(names))
    if len(unique) <= 1:
        return "".join(unique)
    return ", ".join(unique[:-1]) + " and " + unique[-1]
