"""Demo deviations and CAPA at Acme, across both of its sponsors, in every state (issue 7's demo data):

- one deviation affecting both Helix (HLX-101) and Northwind (NWB-7), each sponsor seeing only its own line;
- a repeat pair (same granulator, same root cause, six weeks apart);
- an inconsistent cross-sponsor pair (same root cause and step, minor for Helix, major for Northwind);
- overdue investigations, a pending extension request, a cancelled one, closed ones with signatures;
- CAPAs open, with an effectiveness check scheduled, closed and cancelled.

Built through the real services, each step as the person who would take it (the operator reports, QA classifies,
investigates and signs), so the trail and the signatures read like real ones. Loaded once; a re-seed leaves them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.test import RequestFactory
from django.utils import timezone

from capa import services as capa_services
from capa.models import Capa
from clocks.sweep import sweep
from deviations import services
from deviations.models import Deviation
from tenants.demo import acting_as
from tenants.models import Membership, Product, Site

PASSWORD_HOLDER: dict[str, str] = {}


def _report(title: str, *, site: str, products: Mapping[str, tuple[str, ...]], area: str, step: str, days_ago: float,
            description: str, draft: bool = False, category: str = "manufacturing") -> Deviation:
    at = timezone.now() - dt.timedelta(days=days_ago)
    with acting_as("acme.operator") as member:
        lines = [services.Line(product_id=Product.objects.get(code=code).pk, batch_numbers=batches)
                 for code, batches in products.items()]
        deviation = services.deviation_create(
            membership=member, site=Site.objects.get(name=site), title=title, discovered_at=at - dt.timedelta(hours=1),
            discovered_by="Shift operator, line 2", description=description, area_equipment=area, process_step=step,
            category=category, immediate_actions="Line stopped; affected material quarantined.", lines=lines)
        if not draft:
            services.deviation_report(membership=member, deviation=deviation, at=at)
    return deviation


def _qa(deviation: Deviation, *, classification: str | None = None, notify: bool = False, investigate: bool = False,
        cause: str = "", outcome: str = "no_impact", conclusion: str = "", submit: bool = False,
        close: bool = False, capa_reason: str = "") -> Deviation:
    with acting_as("acme.qa") as member:
        if classification:
            services.deviation_classify(membership=member, deviation=deviation, classification=classification,
                                        rationale=f"{classification.title()}: assessed against SOP-QA-002 criteria "
                                                  "(product quality, patient safety, GMP compliance).")
        if notify:
            services.deviation_notify(membership=member, deviation=deviation,
                                      message="Initial notification; investigation under way.")
        if investigate:
            services.deviation_start_investigation(membership=member, deviation=deviation)
            if cause:
                services.investigation_update(
                    membership=member, deviation=deviation, investigation_method="ishikawa",
                    findings="Timeline reconstructed from the batch record, alarm log and interviews.",
                    root_cause_code=cause, outcome=outcome, capa_not_required_reason=capa_reason,
                    conclusion=conclusion or "Root cause confirmed; impact assessed per product below.",
                    impacts={line.pk: "Assessed against the registered specification: results within limits."
                             for line in deviation.lines.all()})
        if submit:
            services.deviation_submit(membership=member, deviation=deviation)
        if close:
            services.deviation_sign_close(request=RequestFactory().post("/"), membership=member,
                                          deviation=deviation, password=PASSWORD_HOLDER["password"])
    deviation.refresh_from_db()
    return deviation


def _capa(deviation: Deviation | None, title: str, *, source: str = "deviation", reference: str = "",
          action_done: bool = False, plan: str = "", close: bool = False, cancel: str = "",
          passed: bool = False) -> Capa:
    today = timezone.localdate()
    with acting_as("acme.qa") as member:
        capa = capa_services.capa_create(membership=member, title=title, source=source, source_deviation=deviation,
                                         source_reference=reference,
                                         description="Correct the cause found by the investigation and prevent "
                                                     "its recurrence on the other lines.")
        action = capa_services.action_add(
            membership=member, capa=capa, kind="corrective", description=f"{title}: implement and verify",
            owner=Membership.objects.get(user__username="acme.operator"), due_date=today + dt.timedelta(days=21))
        if action_done:
            capa_services.action_complete(membership=member, action=action,
                                          evidence="Work order WO-2026-4471 closed; verification attached.")
        if plan:
            capa_services.effectiveness_plan(membership=member, capa=capa, criteria=plan,
                                             due_date=today + dt.timedelta(days=90),
                                             close_before_check="" if passed else "SOP-QA-014 §6.3")
        if passed:
            capa_services.effectiveness_record(membership=member, capa=capa, passed=True,
                                               note="No recurrence in the 20 batches since implementation.")
        capa.refresh_from_db()
        if close:
            capa_services.capa_sign_close(request=RequestFactory().post("/"), membership=member, capa=capa,
                                          password=PASSWORD_HOLDER["password"])
        if cancel:
            capa_services.capa_cancel(request=RequestFactory().post("/"), membership=member, capa=capa,
                                      reason=cancel, password=PASSWORD_HOLDER["password"])
    return capa


def seed_deviations(password: str) -> int:
    """Load the demo set once (deviations are records with history: a re-seed leaves them alone)."""
    if Deviation.objects.exists():
        return 0
    PASSWORD_HOLDER["password"] = password
    made: list[Any] = []
    hlx = {"HLX-101": ("HLX-101-B2611",)}
    nwb = {"NWB-7": ("NWB-7-C0042",)}

    made.append(_report("Label roll count discrepancy", site="Acme Boston", products=hlx, area="Labeller L-3",
                        step="Labelling", days_ago=0.1, draft=True, category="packaging",
                        description="Reconciliation short by 12 labels at the end of the shift."))
    made.append(_report("Tablet hardness drift", site="Acme Boston", products=hlx, area="Press P-4",
                        step="Compression", days_ago=0.2,
                        description="In-process hardness trending to the lower limit over 40 minutes."))
    shared = _report("Purified water TOC excursion in the QC laboratory", site="Acme Boston",
                     products={"HLX-101": ("HLX-101-B2612",), "NWB-7": ("NWB-7-C0043",)}, area="PW loop 2",
                     step="QC release testing", days_ago=0.15, category="laboratory",
                     description="TOC at point-of-use PW-2-07 above alert and action limits; samples of both "
                                 "products were prepared with water from this loop.")
    with acting_as("acme.qa") as member:
        services.deviation_classify(membership=member, deviation=shared, classification="critical",
                                    rationale="Water used for release testing of two products: results may be "
                                              "invalid; potential impact on release decisions.")
        helix_notice = shared.notices.get(sponsor__slug="helix")
        services.deviation_notify(membership=member, deviation=shared, partnership_ids=[helix_notice.partnership_id],
                                  message="Release testing of HLX-101-B2612 is on hold pending retest.")
    made.append(shared)

    first = _qa(_report("Granulator G-2 torque alarm", site="Acme Boston", products={"HLX-101": ("HLX-101-B2520",)},
                        area="Granulator G-2", step="Wet granulation", days_ago=45,
                        description="Impeller torque exceeded the alarm limit for 40 s during wet massing."),
                classification="major", notify=True, investigate=True, cause="MAC-02")
    made.append(first)  # overdue: 45 days reported, 30-day target
    repeat = _qa(_report("Granulator G-2 torque alarm (recurrence)", site="Acme Boston",
                         products={"HLX-101": ("HLX-101-B2598",)}, area="Granulator G-2", step="Wet granulation",
                         days_ago=5, description="Same alarm on the same granulator, two batches later."),
                 classification="major", notify=True, investigate=True, cause="MAC-02")
    made.append(repeat)
    _capa(repeat, "Recalibrate and add G-2 torque sensor to the calibration programme")

    helix_side = _qa(_report("Blend uniformity result near limit", site="Acme Boston", products=hlx,
                             area="Bin blender BB-1", step="Blend uniformity testing", days_ago=20,
                             category="laboratory", description="One location at 92.1 % (limit 90–110 %)."),
                     classification="minor", notify=True, investigate=True, cause="MEA-01", outcome="no_impact",
                     conclusion="Analytical variability; retest within limits; no impact.", submit=True,
                     close=True)
    made.append(helix_side)
    northwind_side = _qa(_report("Blend uniformity result near limit", site="Acme Cork", products=nwb,
                                 area="Bin blender BB-7", step="Blend uniformity testing", days_ago=8,
                                 category="laboratory", description="One location at 91.8 % (limit 90–110 %)."),
                         classification="major", notify=True, investigate=True, cause="MEA-01",
                         outcome="batches_rejected", conclusion="Batch rejected as a precaution.", submit=True,
                         capa_reason="Single event; analytical variability addressed by method SOP revision.")
    made.append(northwind_side)  # pending approval; inconsistent with helix_side → consistency flag

    closed = _qa(_report("Missing second-person verification in batch record", site="Acme Cork", products=nwb,
                         area="Dispensing booth D-1", step="Dispensing", days_ago=25, category="documentation",
                         description="Weighing of excipient not verified by a second person."),
                 classification="minor", notify=True, investigate=True, cause="PEO-03", submit=True, close=True)
    made.append(closed)
    _capa(closed, "GDP refresher for dispensing staff", action_done=True, plan="No GDP deviation in dispensing "
          "for 3 months", passed=True, close=True)

    overdue = _qa(_report("Cold room temperature excursion", site="Acme Cork", products=nwb, area="Cold room CR-2",
                          step="Intermediate storage", days_ago=40, category="storage",
                          description="Temperature at 9.4 °C for 3 h (limit 2–8 °C)."),
                  classification="major", notify=True, investigate=True, cause="ENV-02")
    assert overdue.closure_deadline is not None
    with acting_as("acme.qa") as member:
        services.extension_request(membership=member, deviation=overdue,
                                   due_date=overdue.closure_deadline.due_at.date() + dt.timedelta(days=21),
                                   justification="Stability data for the exposed intermediate due in 3 weeks.")
    made.append(overdue)
    _capa(overdue, "Replace CR-2 compressor and add an alarm escalation", action_done=True,
          plan="No excursion in 6 months of monitoring")
    made.append(_qa(_report("Gowning sequence not followed", site="Acme Cork", products=nwb, area="Grade B change",
                            step="Gowning", days_ago=3, category="facility",
                            description="Operator entered grade B before donning sterile gloves."),
                    classification="minor", notify=True, investigate=True))
    reopened = _qa(_report("Foreign particle in a tablet", site="Acme Boston", products=hlx, area="Coater C-1",
                           step="Film coating", days_ago=15, description="Dark particle on one tablet surface at "
                           "AQL inspection."), classification="minor", notify=True, investigate=True,
                   cause="MAT-03", submit=True, close=True)
    with acting_as("acme.qa") as member:
        services.deviation_reopen(membership=member, deviation=reopened,
                                  reason="A market complaint on the same batch: the investigation is extended.")
    made.append(reopened)
    cancelled = _report("Duplicate entry: hardness drift", site="Acme Boston", products=hlx, area="Press P-4",
                        step="Compression", days_ago=0.2, description="Entered twice by mistake.")
    with acting_as("acme.qa") as member:
        services.deviation_cancel(request=RequestFactory().post("/"), membership=member, deviation=cancelled,
                                  reason="Duplicate of the tablet hardness drift report.",
                                  password=password)
    made.append(cancelled)
    _capa(None, "Supplier audit finding: incomplete CoA data", source="audit_finding",
          reference="Helix audit 2026-09, finding 4", cancel="Finding withdrawn after the supplier's response.")
    sweep()  # the overdue investigations show as missed at once, not after the first beat
    return len(made)
