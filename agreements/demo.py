"""Demo agreements: Helix ↔ Acme effective (CMO release, then sponsor release), Northwind ↔ Borealis effective
(sponsor-only release), Northwind ↔ Acme a draft with deliberate RACI gaps (a critical activity with two
accountable parties, one with nobody responsible).

Built through the real services and signatures, each step acting as the person who would take it, so the audit
trail and the signature manifestations of the demo read like real ones. Loaded once (agreements are records).
"""

from __future__ import annotations

import datetime as dt

from django.test import RequestFactory

from agreements import services
from agreements.catalogue import SECTIONS, NotificationEvent, ReleaseModel
from agreements.models import QualityAgreement
from clocks.calendars import CalendarCode, Unit
from part11 import signatures
from tenants.demo import acting_as
from tenants.models import Partnership

SECTION_TEXT = {
    "scope": "Drug product manufacture, packaging and QC release testing of the products in scope of this "
             "partnership, at the CMO sites listed in the partnership.",
    "notifications": "The CMO notifies the sponsor's QA of the events below within the windows in the "
                     "**notification windows** table, through the QMS (in-app and e-mail).",
    "subcontracting": "The CMO uses no subcontractor for GMP activities without the sponsor's signed consent "
                      "in the subcontractor register.",
}


def _raci(agreement: QualityAgreement, gaps: bool) -> dict[str, tuple[str, str]]:
    rows = {}
    for row in agreement.raci.all():
        sponsor_owns = row.activity_code in ("batch_release", "regulatory_filings", "recall", "complaint_handling",
                                             "annual_product_review", "subcontractor_approval", "qp_certification")
        rows[row.activity_code] = ("A", "RC") if sponsor_owns else ("CI", "RA")
    if gaps:
        rows["deviation_handling"] = ("RA", "RA")  # critical, both accountable: no single owner
        rows["stability_programme"] = ("A", "C")   # nobody responsible
        rows["training"] = ("", "")                # nobody at all
    return rows


def _draft(partnership: Partnership, by: str, *, gaps: bool, effective_from: dt.date,
           release_model: str = ReleaseModel.CMO_THEN_SPONSOR) -> QualityAgreement:
    with acting_as(by) as member:
        agreement = services.agreement_create(membership=member, partnership=partnership,
                                              effective_from=effective_from)
        for spec in SECTIONS:
            body = SECTION_TEXT.get(spec.key, f"{spec.guidance} (Agreed as in the master services agreement, "
                                              "annex Q.)")
            if gaps and spec.key in ("termination_handover", "dispute_resolution"):
                body = ""
            services.section_update(membership=member, agreement=agreement, key=spec.key, body=body)
        services.raci_update(membership=member, agreement=agreement, rows=_raci(agreement, gaps))
        services.windows_update(membership=member, agreement=agreement, windows={
            NotificationEvent.FDA_483: (2, Unit.BUSINESS_DAYS, CalendarCode.US_FEDERAL),
            NotificationEvent.FIELD_ALERT: (1, Unit.BUSINESS_DAYS, CalendarCode.US_FEDERAL),
            NotificationEvent.CRITICAL_DEVIATION: (24, Unit.HOURS, ""),
        })
        services.data_sharing_set(membership=member, agreement=agreement, terms=[
            ("Executed batch records and CoA", "PDF through the QMS", "per batch"),
            ("Stability data", "CSV", "quarterly"), ("Deviation and CAPA metrics", "QMS scorecard", "monthly")])
        agreement.refresh_from_db()
        services.agreement_update(membership=member, agreement=agreement,
                                  release_model=release_model, audit_cadence_months=18)
    return agreement


def _approve(agreement: QualityAgreement, sponsor_qa: str, cmo_qa: str, password: str) -> None:
    with acting_as(cmo_qa) as member:
        services.agreement_submit(membership=member, agreement=agreement)
    for username, step in ((sponsor_qa, "approve-sponsor"), (cmo_qa, "approve-cmo")):
        with acting_as(username) as member:
            signatures.sign(request=RequestFactory().post("/"), membership=member, record=agreement, step=step,
                            password=password)


def seed_agreements(password: str) -> int:
    if QualityAgreement.objects.exists():
        return 0
    pair = {(p.sponsor.slug, p.cmo.slug): p for p in Partnership.objects.select_related("sponsor", "cmo")}
    today = dt.date.today()
    helix = _draft(pair[("helix", "acme")], "helix.qa", gaps=False, effective_from=today - dt.timedelta(days=200))
    _approve(helix, "helix.qa", "acme.qa", password)
    # Northwind releases NWB-9 itself: Borealis's QA reviews each batch record and sends it (sponsor-only release).
    borealis = _draft(pair[("northwind", "borealis")], "borealis.qa", gaps=False,
                      effective_from=today - dt.timedelta(days=60), release_model=ReleaseModel.SPONSOR_ONLY)
    _approve(borealis, "northwind.qa", "borealis.qa", password)
    _draft(pair[("northwind", "acme")], "acme.qa", gaps=True, effective_from=today + dt.timedelta(days=30))
    with acting_as("acme.qa") as member:
        services.consent_propose(membership=member, partnership=pair[("helix", "acme")],
                                 subcontractor="Keystone Analytical", site="Cambridge MA", country="US",
                                 activities=["oos_investigation"])
    return 3
