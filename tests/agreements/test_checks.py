"""Each agreement check, with a case that trips it and one that does not."""

from __future__ import annotations

import datetime as dt

import pytest

from agreements.checks import raci_findings, run_checks, section_findings, terms_findings
from agreements.models import AgreementSection, NotificationWindow, QualityAgreement, RaciRow
from tests.agreements.helpers import complete, draft


def row(code="deviation_handling", sponsor="", cmo="", critical=True):
    return RaciRow(activity_code=code, activity_name=code.replace("_", " ").capitalize(), critical=critical,
                   sponsor=sponsor, cmo=cmo, position=0)


def codes(findings):
    return sorted({f.code for f in findings})


@pytest.mark.parametrize(("rows", "expected"), [
    ([row(sponsor="A", cmo="C")], ["raci_no_responsible"]),
    ([row(sponsor="R", cmo="C")], ["raci_no_accountable"]),
    ([row(sponsor="I", cmo="RA")], []),
    ([row(sponsor="RA", cmo="A")], ["raci_critical_shared_accountability"]),
    ([row(sponsor="RA", cmo="A", critical=False)], []),
    ([row(sponsor="RA", cmo="RA", critical=False)], ["raci_both_everywhere"]),
    ([row(sponsor="C", cmo="RA"), row("training", sponsor="I", cmo="RA")], ["raci_rubber_stamp"]),
    ([row(sponsor="C", cmo="RA"), row("batch_release", sponsor="A", cmo="R")], []),
])
def test_raci_checks(rows, expected):
    assert codes(raci_findings(rows)) == expected


def test_section_check():
    sections = [AgreementSection(key="scope", title="Scope", body="  ", position=0)]
    findings = section_findings(sections)
    assert len(findings) == 15 and findings[0].message == "Section “Scope” is empty."
    from agreements.catalogue import SECTIONS

    full = [AgreementSection(key=s.key, title=s.title, body="text", position=i) for i, s in enumerate(SECTIONS)]
    assert section_findings(full) == []


def _windows(**amounts):
    return [NotificationWindow(event=event, amount=amount, unit=unit, calendar=calendar)
            for event, (amount, unit, calendar) in amounts.items()]


def test_terms_checks_missing_terms_and_regulatory_ceilings(cast):
    agreement = QualityAgreement(release_model="", audit_right=True, audit_cadence_months=None,
                                 change_sponsor_approval=["equipment"], change_notify_only=["equipment"])
    found = terms_findings(agreement, _windows(field_alert=(3, "business_days", "us_federal"),
                                               fda_483=(10, "business_days", "us_federal")))
    assert codes(found) == ["change_class_conflict", "term_missing", "window_missing", "window_too_long"]
    too_long = {f.where: f.message for f in found if f.code == "window_too_long"}
    assert set(too_long) == {"window:field_alert", "window:fda_483"}
    assert "21 CFR 314.81(b)(1)" in too_long["window:field_alert"]
    ok = QualityAgreement(release_model="sponsor_only", audit_right=True, audit_cadence_months=12,
                          change_sponsor_approval=["process"], change_notify_only=["packaging"])
    from agreements.catalogue import DEFAULT_WINDOWS

    windows = [NotificationWindow(event=e, amount=w.amount, unit=w.unit, calendar=w.calendar or "")
               for e, w in DEFAULT_WINDOWS.items()]
    assert terms_findings(ok, windows) == []
    no_audit = QualityAgreement(release_model="sponsor_only", audit_right=False, change_sponsor_approval=[],
                                change_notify_only=[])
    assert codes(terms_findings(no_audit, windows)) == ["term_no_audit_right"]


def test_periodic_review_overdue_is_flagged_only_once_due(cast):
    agreement = QualityAgreement(state="effective", release_model="sponsor_only", audit_cadence_months=12,
                                 next_review_date=dt.date(2026, 11, 1), change_sponsor_approval=[],
                                 change_notify_only=[])
    from agreements.catalogue import DEFAULT_WINDOWS

    windows = [NotificationWindow(event=e, amount=w.amount, unit=w.unit, calendar=w.calendar or "")
               for e, w in DEFAULT_WINDOWS.items()]
    assert codes(terms_findings(agreement, windows, today=dt.date(2026, 11, 2))) == ["review_overdue"]
    assert terms_findings(agreement, windows, today=dt.date(2026, 10, 31)) == []


def test_a_template_draft_fails_and_a_completed_one_passes(cast):
    agreement = draft(cast)
    found = codes(run_checks(agreement))
    assert {"section_missing", "raci_no_responsible", "raci_no_accountable", "term_missing"} <= set(found)
    assert run_checks(complete(cast, agreement, "borealis.qa")) == []
