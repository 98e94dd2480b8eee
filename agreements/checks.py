"""Checks of a quality agreement (shown on its page and API; must pass before approval unless overridden).

Each check returns findings with a code, the part of the agreement it concerns and a plain-language message. The
codes are stable: tests and the override justification refer to them. Drift checks (records of later modules
that disagree with the agreement) register themselves here with :func:`register_drift`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from agreements.catalogue import REGULATORY_CEILINGS, SECTION_KEYS, Window
from agreements.models import AgreementSection, NotificationWindow, QualityAgreement, RaciRow


@dataclass(frozen=True)
class Finding:
    code: str
    where: str
    message: str


DriftCheck = Callable[[QualityAgreement], Iterable[Finding]]
DRIFT_CHECKS: list[DriftCheck] = []


def register_drift(check: DriftCheck) -> DriftCheck:
    DRIFT_CHECKS.append(check)
    return check


def raci_findings(rows: list[RaciRow]) -> list[Finding]:
    findings = []
    for row in rows:
        where = f"raci:{row.activity_code}"
        letters = row.sponsor + row.cmo
        if "R" not in letters:
            findings.append(Finding("raci_no_responsible", where, f"{row.activity_name}: nobody is Responsible."))
        if "A" not in letters:
            findings.append(Finding("raci_no_accountable", where, f"{row.activity_name}: nobody is Accountable."))
        if row.critical and "A" in row.sponsor and "A" in row.cmo:
            findings.append(Finding("raci_critical_shared_accountability", where,
                                    f"{row.activity_name} is critical and both parties are Accountable: "
                                    "it needs a single owner."))
        if row.sponsor and row.sponsor == row.cmo:
            findings.append(Finding("raci_both_everywhere", where,
                                    f"{row.activity_name}: both parties hold exactly the same roles "
                                    f"({row.sponsor}); say who does what."))
    for party in ("sponsor", "cmo"):
        if len(rows) > 1 and all("R" in getattr(r, party) and "A" in getattr(r, party) for r in rows):
            name = "the sponsor" if party == "sponsor" else "the CMO"
            findings.append(Finding("raci_rubber_stamp", "raci",
                                    f"{name.capitalize()} is Responsible and Accountable for every activity: "
                                    "the other party's quality unit has no defined role (rubber-stamp agreement)."))
    return findings


def section_findings(sections: list[AgreementSection]) -> list[Finding]:
    present = {s.key: s for s in sections}
    findings = []
    for key in SECTION_KEYS:
        section = present.get(key)
        if section is None or not section.body.strip():
            title = section.title if section else key.replace("_", " ")
            findings.append(Finding("section_missing", f"section:{key}", f"Section “{title}” is empty."))
    return findings


def terms_findings(agreement: QualityAgreement, windows: list[NotificationWindow],
                   today: dt.date | None = None) -> list[Finding]:
    from agreements.catalogue import NotificationEvent

    findings = []
    if not agreement.release_model:
        findings.append(Finding("term_missing", "terms:release_model", "The release model is not chosen."))
    if agreement.audit_right and not agreement.audit_cadence_months:
        findings.append(Finding("term_missing", "terms:audit_cadence_months",
                                "The routine audit cadence is not set."))
    if not agreement.audit_right:
        findings.append(Finding("term_no_audit_right", "terms:audit_right",
                                "The sponsor has no right to audit the CMO (FDA guidance 2016, EU GMP 7.7)."))
    set_events = {w.event: w for w in windows}
    for event in NotificationEvent:
        if event not in set_events:
            findings.append(Finding("window_missing", f"window:{event.value}",
                                    f"No notification window for “{event.label}”."))
    for ceiling_event, (ceiling, why) in REGULATORY_CEILINGS.items():
        window = set_events.get(ceiling_event)
        if window is not None and Window(window.amount, window.unit, window.calendar).hours() > ceiling.hours():
            findings.append(Finding("window_too_long", f"window:{ceiling_event}",
                                    f"“{window.get_event_display()}” allows {window.amount} "
                                    f"{window.get_unit_display()}: {why}."))
    overlap = set(agreement.change_sponsor_approval) & set(agreement.change_notify_only)
    if overlap:
        findings.append(Finding("change_class_conflict", "terms:change_classes",
                                f"Change classes both approval and notification-only: {', '.join(sorted(overlap))}."))
    today = today or dt.date.today()
    if agreement.state == QualityAgreement.State.EFFECTIVE and agreement.next_review_date \
            and agreement.next_review_date < today:
        findings.append(Finding("review_overdue", "terms:next_review_date",
                                f"The periodic review was due on {agreement.next_review_date:%-d %b %Y}."))
    return findings


def run_checks(agreement: QualityAgreement, today: dt.date | None = None) -> list[Finding]:
    """Every finding for ``agreement`` (reads its sections, RACI rows and windows: three queries)."""
    findings = section_findings(list(agreement.sections.all()))
    findings += raci_findings(list(agreement.raci.all()))
    findings += terms_findings(agreement, list(agreement.windows.all()), today)
    for check in DRIFT_CHECKS:
        findings += list(check(agreement))
    return findings
