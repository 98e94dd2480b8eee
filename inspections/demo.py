"""Demo inspections (issue 10's demo data): three inspections, one per way an inspection concerns a sponsor.

- FDA routine surveillance at **Acme Boston** (Helix's HLX-101 and Northwind's NWB-7 in scope), its Form 483 of
  five observations in the middle of the response: one facilities & equipment (cleaning of shared equipment),
  one sponsor-originated for Helix (the filed process does not match the executed batch record), one specific to
  NWB-7 (an unvalidated stability method), and two site-wide (investigations, training). Some responses are
  drafted, a CAPA is raised from observation 1, program impacts are assessed per sponsor; both sponsors were told
  of the Form 482 and of the 483, Helix acknowledged the 483, Northwind has not yet. The back room has its log.
- MHRA routine inspection at **Acme Cork** (NWB-7), performed under the US–UK Mutual Recognition Agreement and
  closed months ago NAI (no deficiencies; GMP certificate issued).
- FDA pre-approval inspection at **Borealis Montreal** for Northwind's NWB-9 application (BLA 761234): a 483 of
  two observations, responses drafted, and Northwind taking part in the response with a comment that Borealis
  answers in its thread.

Built through the real services, each step as the person who would take it: the CMO's QA approver records the
inspection and drafts the response, its operator keeps the back-room log, each sponsor's QA acknowledges or
comments. The record's own dates (notice, start, close-out, 483 issue) lie in the past relative to the seeding
day, so the clocks run from those dates (the response clocks are live, one of them due soon); notifications are
sent at the time they would have been. Loaded once: a re-seed leaves existing inspections alone.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from inspections import services
from inspections.models import Form483, Inspection, Observation
from inspections.services import Affected, ScopeLine
from tenants.demo import acting_as
from tenants.models import Partnership, Product, Site

ACME_QA, ACME_OPERATOR, BOREALIS_QA = "acme.qa", "acme.operator", "borealis.qa"


def _partnership(sponsor: str, cmo: str) -> Partnership:
    return Partnership.objects.get(sponsor__slug=sponsor, cmo__slug=cmo)


def _product(code: str) -> Product:
    return Product.objects.get(code=code)


def _site(name: str) -> Site:
    return Site.objects.get(name=name)


def _noon(day: dt.date, hours: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(12, 0), tzinfo=dt.UTC) + dt.timedelta(hours=hours)


def _observe(form483: Form483, by: str, text: str, cited: str, **kwargs: Any) -> Observation:
    with acting_as(by) as member:
        return services.observation_add(membership=member, form483=form483, text=text, cited_regulation=cited,
                                        **kwargs)


def _respond(observation: Observation, by: str, commitment: str, actions: str, target_on: dt.date,
             evidence: str = "") -> None:
    with acting_as(by) as member:
        services.response_draft(membership=member, observation=observation, commitment=commitment,
                                actions=actions, target_on=target_on, evidence=evidence)


def seed_boston(today: dt.date) -> Inspection:
    helix, northwind = _partnership("helix", "acme"), _partnership("northwind", "acme")
    started, issued = today - dt.timedelta(days=16), today - dt.timedelta(days=10)
    scope = [ScopeLine(helix.pk, _product("HLX-101").pk), ScopeLine(northwind.pk, _product("NWB-7").pk)]
    with acting_as(ACME_QA) as qa:
        inspection = services.inspection_create(
            membership=qa, site=_site("Acme Boston"), authority="fda", inspection_type="routine", scope=scope,
            announced_on=started - dt.timedelta(days=5),
            investigators=["Jordan Rivera (ORA, New England District)", "Kwame Osei (ORA)"])
        services.notice_of_inspection_record(membership=qa, inspection=inspection,
                                             received_at=_noon(started - dt.timedelta(days=5)))
        services.inspection_notify(membership=qa, inspection=inspection, event="form_482",
                                   message="FDA announced a routine surveillance inspection of Acme Boston.",
                                   now=_noon(started - dt.timedelta(days=5), 3))
        services.inspection_start(membership=qa, inspection=inspection, started_on=started)
    with acting_as(ACME_OPERATOR) as operator:
        for day, kind, text, who in (
                (0, "request", "Cleaning logs of the shared granulator GR-2, January to March.", "J. Rivera"),
                (0, "document_provided", "SOP-CL-004 rev 4 and the GR-2 cleaning logs provided.", "QA document room"),
                (1, "interview", "QC manager interviewed on the NWB-7 stability method transfer.", "Dr. Mei Chen"),
                (2, "request", "Deviation investigations closed in the last 12 months.", "K. Osei"),
                (3, "note", "Investigators signalled observations on cleaning and on investigations.", "")):
            services.log_add(membership=operator, inspection=inspection, kind=kind, text=text, who=who,
                             at=_noon(started + dt.timedelta(days=day), -2))
    with acting_as(ACME_QA) as qa:
        services.inspection_close_out(membership=qa, inspection=inspection, closed_out_on=issued)
        form483 = services.form483_record(membership=qa, inspection=inspection, issued_on=issued)
    cleaning = _observe(
        form483, ACME_QA, "Procedures for the cleaning and maintenance of equipment were not followed: the "
                          "shared granulator GR-2 was used for a new product campaign without a documented "
                          "cleaning verification.", "21 CFR 211.67(a)")
    filing = _observe(
        form483, ACME_QA, "The manufacturing process for HLX-101 described in the application does not match "
                          "the executed batch records: the granulation end point is set by torque in production and by "
                          "time in the filing.", "21 CFR 211.100(a)", accountability="sponsor",
                          accountability_rationale="The sponsor's filing was not updated after the validated process "
                                                   "change the sponsor approved in 2025.",
                          visibility="product_specific", affected=[Affected(helix.pk, _product("HLX-101").pk)])
    stability = _observe(
        form483, ACME_QA, "Stability testing of NWB-7 lots was performed with an HPLC method that was not "
                          "validated at this site after its transfer.", "21 CFR 211.165(e)",
                          visibility="product_specific", affected=[Affected(northwind.pk, _product("NWB-7").pk)])
    investigations = _observe(
        form483, ACME_QA, "Investigations of unexplained discrepancies did not extend to other "
                          "batches that may have been associated with the discrepancy.", "21 CFR 211.192")
    training = _observe(
        form483, ACME_QA, "Employees were not trained in the current revision of the procedures for their "
                          "functions before performing them.", "21 CFR 211.25(a)")
    _respond(cleaning, ACME_QA, "Acme will verify the cleaning of shared equipment before every product change.",
             "SOP-CL-004 revised to require a documented cleaning verification; GR-2 cleaning re-verified; "
             "operators retrained.", issued + dt.timedelta(days=45), "SOP-CL-004 rev 5 (draft); GR-2 swab results")
    _respond(filing, ACME_QA, "Acme and Helix will align the filing with the validated process.",
             "Helix files a CBE-30 supplement with the torque end point; Acme supplies the validation report.",
             issued + dt.timedelta(days=60))
    _respond(investigations, ACME_QA, "Every investigation will assess the other batches that may be affected.",
             "Investigation template revised with an impact-on-other-batches section; 12 months re-reviewed.",
             issued + dt.timedelta(days=90))
    with acting_as(ACME_QA) as qa:
        services.inspection_notify(membership=qa, inspection=inspection, event="fda_483",
                                   message="The response to FDA is in preparation; observation 1 concerns the "
                                           "shared granulator.", now=_noon(issued, 6))
        for observation, partnership, impact, rationale in (
                (cleaning, helix, "indirect", "GR-2 also granulates HLX-101; no HLX-101 batch followed the "
                                              "unverified cleaning."),
                (cleaning, northwind, "none", "NWB-7 is not made on GR-2; it is only tested in Boston's laboratory."),
                (filing, helix, "direct", "The HLX-101 filing must be supplemented before the next annual report."),
                (stability, northwind, "direct", "NWB-7 stability results since the transfer need re-testing with "
                                                 "the validated method."),
                (investigations, helix, "indirect", "Two HLX-101 deviations are in the 12-month re-review."),
                (investigations, northwind, "indirect", "One NWB-7 laboratory investigation is in the re-review."),
                (training, helix, "none", "No HLX-101 operation was performed by the untrained employees."),
                (training, northwind, "none", "The untrained employees work in packaging, not in the laboratory.")):
            services.impact_assess(membership=qa, observation=observation, partnership_id=partnership.pk,
                                   impact=impact, rationale=rationale)
        services.capa_create_for(membership=qa, observation=cleaning,
                                 title="Cleaning verification of shared equipment before product changes",
                                 description="From FDA 483 observation 1: GR-2 used without documented cleaning "
                                             "verification.")
    with acting_as("helix.qa") as helix_qa:
        notice = inspection.notices.get(sponsor__slug="helix", event="fda_483")
        services.notice_acknowledge(membership=helix_qa, notice=notice,
                                    note="Received. Our regulatory team prepares the CBE-30 for observation 2.")
    return inspection


def seed_cork(today: dt.date) -> Inspection:
    northwind = _partnership("northwind", "acme")
    started = today - dt.timedelta(days=130)
    with acting_as(ACME_QA) as qa:
        inspection = services.inspection_create(
            membership=qa, site=_site("Acme Cork"), authority="mhra", inspection_type="routine",
            scope=[ScopeLine(northwind.pk, _product("NWB-7").pk)], announced_on=started - dt.timedelta(days=30),
            under_mra=True,
            investigators=["Fiona Gallagher (MHRA GMP Inspectorate)"])
        services.notice_of_inspection_record(membership=qa, inspection=inspection,
                                             received_at=_noon(started - dt.timedelta(days=30)))
        services.inspection_notify(membership=qa, inspection=inspection, event="form_482",
                                   now=_noon(started - dt.timedelta(days=30), 4))
        services.inspection_start(membership=qa, inspection=inspection, started_on=started)
        services.inspection_close_out(membership=qa, inspection=inspection,
                                      closed_out_on=started + dt.timedelta(days=3))
        services.outcome_record(membership=qa, inspection=inspection, outcome="nai",
                                outcome_on=started + dt.timedelta(days=60),
                                note="No action indicated: no deficiencies; GMP certificate issued for sterile "
                                     "filling. Performed under the MRA: classified NAI.")
    with acting_as("northwind.qa") as northwind_qa:
        services.notice_acknowledge(membership=northwind_qa, notice=inspection.notices.get())
    return inspection


def seed_pai(today: dt.date) -> Inspection:
    northwind = _partnership("northwind", "borealis")
    started, issued = today - dt.timedelta(days=21), today - dt.timedelta(days=17)
    with acting_as(BOREALIS_QA) as qa:
        inspection = services.inspection_create(
            membership=qa, site=_site("Borealis Montreal"), authority="fda", inspection_type="pre_approval",
            scope=[ScopeLine(northwind.pk, _product("NWB-9").pk, "BLA 761234")],
            announced_on=started - dt.timedelta(days=20), investigators=["Dr. Alan Brooks (CDER OPQ)"])
        services.inspection_start(membership=qa, inspection=inspection, started_on=started)
        services.inspection_close_out(membership=qa, inspection=inspection, closed_out_on=issued)
        form483 = services.form483_record(membership=qa, inspection=inspection, issued_on=issued)
    media = _observe(
        form483, BOREALIS_QA, "The aseptic process simulation did not include the maximum number of interventions "
                              "made in routine NWB-9 fills.", "21 CFR 211.113(b)")
    viability = _observe(
        form483, BOREALIS_QA, "The cell bank viability specification in the batch record differs from the one "
                              "in the application.", "21 CFR 211.100(a)", accountability="shared",
                              accountability_rationale="The application was written from the development process; "
                                                       "Borealis did not flag the difference at tech transfer.",
                              visibility="product_specific", affected=[Affected(northwind.pk, _product("NWB-9").pk)])
    _respond(media, BOREALIS_QA, "A new media fill with the worst-case interventions will be run.",
             "Media fill protocol MF-2026-07 approved; three runs scheduled.", issued + dt.timedelta(days=40))
    _respond(viability, BOREALIS_QA, "The batch record will follow the application's specification.",
             "Batch record BR-NWB9 revised; Northwind confirms the application value.", issued + dt.timedelta(days=20))
    with acting_as(BOREALIS_QA) as qa:
        services.inspection_notify(membership=qa, inspection=inspection, event="fda_483",
                                   message="Your BLA 761234 is in scope: please review the draft responses.",
                                   now=_noon(issued, 4))
    with acting_as("northwind.qa") as northwind_qa:
        services.notice_acknowledge(membership=northwind_qa, notice=inspection.notices.get(event="fda_483"))
        services.comment_add(membership=northwind_qa, observation=viability,
                             body="Please state that the application value (≥ 90 % viability) is the validated "
                                  "one and cite the comparability report CR-NWB9-03.")
    with acting_as(BOREALIS_QA) as qa:
        services.comment_add(membership=qa, observation=viability, sponsor_id=northwind.sponsor_id,
                             body="Added to the response, with CR-NWB9-03 as evidence.")
    return inspection


def seed_inspections() -> int:
    """Seed the three demo inspections once (the demo users exist already); returns how many were created."""
    if Inspection.objects.exists():
        return 0
    today = timezone.localdate()
    created = [seed_cork(today), seed_pai(today), seed_boston(today)]
    return len(created)
