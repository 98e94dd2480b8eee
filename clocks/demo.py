"""Demo deadlines in every state, on the demo partnerships, relative to now (so a fresh start shows live clocks).

Loaded by ``seed_demo`` once: a deadline is a record with history, so a re-seed leaves existing ones alone and the
demo clocks run on from where they were (the sweep turns them due-soon, overdue, escalated).
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from clocks import services
from clocks.calendars import CalendarCode, Unit
from clocks.models import Deadline
from clocks.rules import FDA_483_RESPONSE, Rule, reminders
from clocks.sweep import sweep
from tenants.models import Membership, Organization, Partnership

CRITICAL_NOTICE = Rule(code="demo_critical_deviation_notice", title="Notify sponsor: critical deviation",
                       amount=24, unit=Unit.HOURS, calendar=None, start_event="deviation reported",
                       stages=reminders(4, 1, unit=Unit.HOURS, escalate=(2,)), closed_by_hand=True)
COMPARABILITY_REPORT = Rule(code="demo_tech_transfer_report", title="Tech-transfer comparability report to sponsor",
                            amount=10, unit=Unit.BUSINESS_DAYS, calendar=CalendarCode.US_FEDERAL,
                            start_event="engineering batch completed", stages=reminders(5, 1), closed_by_hand=True)
AGREEMENT_REVIEW = Rule(code="demo_agreement_review", title="Quality agreement periodic review", amount=365,
                        unit=Unit.CALENDAR_DAYS, calendar=None, start_event="last review signed",
                        stages=reminders(30, 7, unit=Unit.CALENDAR_DAYS, escalate=(7,)), time_zone="Europe/Dublin",
                        closed_by_hand=True)
AUDIT_REPORT = Rule(code="demo_audit_report", title="Supplier audit report issued to CMO", amount=30,
                    unit=Unit.CALENDAR_DAYS, calendar=None, start_event="audit closing meeting",
                    stages=reminders(7, 1, unit=Unit.CALENDAR_DAYS), closed_by_hand=True)
APR_DATA = Rule(code="demo_apr_data", title="Annual product review data package", amount=20,
                unit=Unit.BUSINESS_DAYS, calendar=CalendarCode.EU_IRELAND, start_event="sponsor request",
                stages=reminders(5, 1), closed_by_hand=True)


def seed_deadlines(orgs: dict[str, Organization]) -> int:
    """Create the demo deadlines unless they exist; then sweep once so past stages and missed states show."""
    if Deadline.objects.filter(rule_code__startswith="demo_").exists():
        return 0
    now = timezone.now()
    pair = {(p.sponsor.slug, p.cmo.slug): p for p in Partnership.objects.select_related("sponsor", "cmo")}

    def qa(username: str) -> Membership:
        return Membership.objects.get(user__username=username)

    def create(owner: str, partner: str, sponsor_cmo: tuple[str, str], rule: Rule, starts_at: dt.datetime,
               label: str) -> Deadline:
        return services.deadline_create(
            organization_id=orgs[owner].pk, record=pair[sponsor_cmo], subject_label=label, rule=rule,
            starts_at=starts_at, audience=[services.Audience(orgs[partner].pk)], now=now)

    # Due soon: a critical deviation at Acme Boston, 24 h to tell Helix, 20 h gone.
    create("acme", "helix", ("helix", "acme"), CRITICAL_NOTICE, now - dt.timedelta(hours=20),
           "DEV-2026-0042 at Acme Boston (HLX-101 lot 26B014)")
    # The 483 clock at Acme Cork, issued 12 days ago: on track or due soon depending on the weekday.
    create("acme", "northwind", ("northwind", "acme"), FDA_483_RESPONSE, now - dt.timedelta(days=12),
           "FDA 483 at Acme Cork (FEI 3009876543)")
    # Overdue: Borealis owes Northwind a comparability report for 3 weeks.
    create("borealis", "northwind", ("northwind", "borealis"), COMPARABILITY_REPORT, now - dt.timedelta(days=21),
           "NWB-9 engineering batch EB-03 at Borealis Montreal")
    # On track: Northwind's review of its agreement with Acme.
    create("northwind", "acme", ("northwind", "acme"), AGREEMENT_REVIEW, now - dt.timedelta(days=200),
           "Quality agreement Northwind ↔ Acme v3")
    # Met on time, met late, cancelled.
    met = create("helix", "acme", ("helix", "acme"), AUDIT_REPORT, now - dt.timedelta(days=20),
                 "Audit AUD-2026-05 of Acme Boston")
    services.deadline_complete(deadline=met, membership=qa("helix.qa"), at=now - dt.timedelta(days=2))
    late = create("acme", "northwind", ("northwind", "acme"), APR_DATA, now - dt.timedelta(days=40),
                  "APR 2026 data for NWB-7")
    cancelled = create("borealis", "northwind", ("northwind", "borealis"), APR_DATA, now - dt.timedelta(days=3),
                       "APR 2026 data for NWB-9 (not yet in commercial supply)")
    sweep(now=now)  # the late one is now missed; reminders due by now are in the outbox
    late.refresh_from_db()
    services.deadline_complete(deadline=late, membership=qa("acme.qa"), at=now - dt.timedelta(hours=3))
    services.deadline_cancel(deadline=cancelled, membership=qa("borealis.qa"),
                             reason="NWB-9 is in technology transfer: no commercial batches to review")
    return Deadline.objects.filter(rule_code__startswith="demo_").count() + 1
