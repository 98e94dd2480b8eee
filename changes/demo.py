"""Demo change requests (issue 9's demo data): every state of change control for each partnership.

- Helix ↔ Acme (HLX-101 at Acme Boston; an agreement in force): among others, the specification change that
  replaces the HPLC assay with a UHPLC method, suggested as a **CBE-30** (US) and a **Type IB** (EU) variation,
  confirmed by Helix and approved with signatures, waiting for Acme to implement it; a like-for-like tablet-press
  swap, **notification-only** under the agreement, with its notice clock running.
- Northwind ↔ Acme (NWB-7 at Acme Cork; no agreement in force, so the conservative defaults): a like-for-like
  capper swap, notified and approved; a sterilising-filter supplier change that needs prior approval (PAS, Type
  II), with the agencies' approvals recorded by Northwind before implementation.
- Northwind ↔ Borealis (NWB-9 at Borealis Montreal): a process change rejected by Northwind and then cancelled,
  among others.
- One change at Acme Boston touches both sponsors (HLX-101 and NWB-7): Northwind approved it, Helix has not, so
  it is **blocked at implementation** for the missing sponsor approval; each sponsor sees only its own line.

Built through the real services, each step as the person who would take it: each CMO's QA reviewer raises and
assesses the change (``REVIEWERS``: the demo cast has one QA approver per CMO, who may not approve a change they
raised), the sponsor's QA decides the filing and signs its approval, the CMO's QA approver signs the approval and
the closure. The workflow happens when the demo is seeded (signatures carry the real time). Loaded once: a re-seed
leaves existing changes alone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import RequestFactory
from django.utils import timezone
from django.utils.html import escape

from agreements.catalogue import ChangeClass
from batches import pdfwork
from changes import questionnaire, services
from changes.models import ChangeDocument, ChangeRequest, FilingAssessment, SponsorRoute
from tenants.demo import UserSpec, acting_as
from tenants.models import Membership, Organization, Product, Site, User
from tenants.permissions import Role

C = ChangeClass
State = ChangeRequest.State
SECRET: dict[str, str] = {}

#: Who raises and assesses each CMO's changes (a QA reviewer), so that its QA approver may approve and close them.
REVIEWERS = (
    UserSpec("acme.reviewer", "acme", Role.QA_REVIEWER, "Priya", "Raman"),
    UserSpec("borealis.reviewer", "borealis", Role.QA_REVIEWER, "Louis", "Fortin"),
)
PEOPLE = {"acme": ("acme.reviewer", "acme.qa"), "borealis": ("borealis.reviewer", "borealis.qa")}
SITE_OF = {"HLX-101": "Acme Boston", "NWB-7": "Acme Cork", "NWB-9": "Borealis Montreal"}

#: The order the workflow runs in; a plan stops at its ``to`` state (cancelled: see ``Plan.cancel``).
ORDER = (State.DRAFT, State.ASSESSMENT, State.PENDING_APPROVAL, State.APPROVED, State.IMPLEMENTED,
         State.EFFECTIVENESS_REVIEW, State.CLOSED)

#: Defaults per change type for the questions beyond the common six (changes.questionnaire).
TYPE_DEFAULTS: dict[str, dict[str, Any]] = {
    C.EQUIPMENT: {"like_for_like": False}, C.EQUIPMENT_LIKE_FOR_LIKE: {"like_for_like": True},
    C.SPECIFICATION: {"specification_change": "none", "method_comparable": True},
    C.ANALYTICAL_METHOD: {"method_comparable": True},
    C.BATCH_SIZE: {"scale_within_10x": True, "process_change": False},
    C.PROCESS: {"outside_proven_ranges": False}, C.SITE: {"new_site": False, "secondary_packaging_only": False},
    C.PACKAGING: {"product_contact": False}, C.MATERIALS: {"new_supplier_qualified": True},
    C.SUBCONTRACTOR: {"new_supplier_qualified": True},
}
COMMON = {"affects_filed_information": False, "affects_cqa": False, "validation_impact": False,
          "stability_impact": False, "comparability_needed": False, "sterility_assurance": False}


def answers(change_type: str, **given: Any) -> dict[str, Any]:
    """A full answer set for ``change_type``: no impact unless ``given`` says otherwise."""
    wanted = {q.key for q in questionnaire.questions_for(change_type)}
    out = {**COMMON, **TYPE_DEFAULTS.get(change_type, {}), **given}
    return {key: value for key, value in out.items() if key in wanted}


@dataclass(frozen=True)
class Doc:
    kind: str
    title: str
    name: str
    body: str


@dataclass(frozen=True)
class Plan:
    title: str
    change_type: str
    products: tuple[str, ...]
    to: str
    description: str
    reason: str
    answers: Mapping[str, Any] = field(default_factory=dict)
    risk: str = "low"
    rationale: str = ""
    in_days: int = 45
    temporary_days: int | None = None
    #: (product, market) → (category, reason): the sponsor overrides the suggestion.
    overrides: Mapping[tuple[str, str], tuple[str, str]] = field(default_factory=dict)
    #: Sponsors (slugs) whose filing decisions and approval are still to come.
    waiting: frozenset[str] = frozenset()
    approval_comment: str = ""
    #: A sponsor rejects with this reason (and the CMO then cancels, with ``cancel``).
    reject: str = ""
    #: Cancelled at the state reached before it (``to``), with this reason.
    cancel: str = ""
    notify: bool = True
    #: (days ago, reference): the agency's approval of a prior-approval filing, recorded by the sponsor.
    agency: tuple[int, str] | None = None
    documents: tuple[Doc, ...] = ()
    effectiveness: str = ""

    @property
    def cmo(self) -> str:
        return "borealis" if self.products == ("NWB-9",) else "acme"


VALIDATION = Doc(ChangeDocument.Kind.VALIDATION_REPORT, "UHPLC assay method validation report VR-0193",
                 "VR-0193-uhplc-assay-validation.pdf",
                 "Specificity, linearity (50–150 %), accuracy (98.7–100.9 %), repeatability (RSD 0.4 %) and "
                 "intermediate precision met the protocol's criteria; equivalence to the HPLC method shown on six "
                 "commercial batches (TOST, ±2.0 %).")
IMPLEMENTATION = Doc(ChangeDocument.Kind.IMPLEMENTATION_RECORD, "Batch-size change implementation record IR-0412",
                     "IR-0412-batch-size.pdf",
                     "Master batch record MBR-HLX101-050 revised to rev. 8 (500,000 tablets); blender BB-2 "
                     "(same design, 2× capacity) qualified under IQ/OQ-2291; first three batches on enhanced "
                     "sampling.")
PROCEDURE = Doc(ChangeDocument.Kind.PROCEDURE, "SOP-QC-117 rev. 5: sterilising filter integrity testing",
                "SOP-QC-117-r5.pdf",
                "Bubble-point limits for the second supplier's 0.22 µm filter added; post-use integrity test "
                "unchanged.")
FILING = Doc(ChangeDocument.Kind.FILING, "FDA approval letter, PAS S-031 (second filter supplier)",
             "FDA-PAS-S031-approval.pdf",
             "The prior-approval supplement for the addition of a second sterilising-grade filter supplier is "
             "approved.")

PLANS: tuple[Plan, ...] = (
    # --- Helix ↔ Acme -------------------------------------------------------------------------------------------
    Plan("Extend the film-coating suspension hold time from 24 h to 48 h", C.PROCESS, ("HLX-101",), State.DRAFT,
         "Hold-time study HT-2026-04 supports holding the Opadry suspension for 48 h under agitation.",
         "Weekend campaigns discard suspension prepared on Friday.", temporary_days=120, in_days=30),
    Plan("Add a second approved supplier of microcrystalline cellulose", C.MATERIALS, ("HLX-101",), State.ASSESSMENT,
         "Qualify a second Ph. Eur./USP microcrystalline cellulose (PH-102 grade) source; same specification.",
         "Single-source risk: the current supplier's plant is on allocation until Q3.",
         answers(C.MATERIALS, affects_filed_information=True, validation_impact=True, stability_impact=True),
         risk="medium", rationale="Compendial excipient, same grade; three-batch comparability and stability on "
                                  "the first commercial batches."),
    Plan("Replace tablet press P-4 with the same model (like-for-like)", C.EQUIPMENT_LIKE_FOR_LIKE, ("HLX-101",),
         State.PENDING_APPROVAL,
         "Press P-4 (Fette 2090i, 36 stations) is replaced by a new Fette 2090i with the same tooling, feeder and "
         "controls; IQ/OQ before use, PQ on the first three batches.",
         "The turret of P-4 is worn beyond repair.", answers(C.EQUIPMENT_LIKE_FOR_LIKE, validation_impact=True,
                                                              affects_filed_information=True),
         rationale="Same design and operating principle; requalification only.", in_days=40, notify=False,
         waiting=frozenset({"helix"})),
    Plan("Replace the HPLC assay and related-substances method with UHPLC", C.SPECIFICATION, ("HLX-101",),
         State.APPROVED,
         "SPEC-HLX101-FP rev. 4 → rev. 5: the assay and related-substances test procedure moves from HPLC "
         "(C18, 250 mm) to UHPLC (C18, 100 mm, 1.7 µm); acceptance criteria unchanged.",
         "The HPLC column is discontinued by its manufacturer; UHPLC halves the run time.",
         answers(C.SPECIFICATION, affects_filed_information=True, validation_impact=True,
                 specification_change="method", method_comparable=True),
         risk="medium", rationale="Validated method with equivalence shown; acceptance criteria unchanged.",
         in_days=35, approval_comment="Approved. Implement after the CBE-30 is filed and 30 days have passed; "
                                      "retain HPLC as the referee method until then.", documents=(VALIDATION,)),
    Plan("Increase the HLX-101 batch size from 250,000 to 500,000 tablets", C.BATCH_SIZE, ("HLX-101",),
         State.IMPLEMENTED,
         "Blending in BB-2 (same design, twice the working volume); compression and coating in sub-lots as today.",
         "Annual demand forecast up 80 %.", answers(C.BATCH_SIZE, affects_filed_information=True,
                                                      validation_impact=True, scale_within_10x=True),
         risk="medium", rationale="Within 10× the registered batch, same process; blend uniformity verified on "
                                  "three validation batches.", documents=(IMPLEMENTATION,)),
    Plan("Carton artwork: add the 2D DataMatrix serialisation code", C.PACKAGING, ("HLX-101",),
         State.EFFECTIVENESS_REVIEW,
         "Secondary carton artwork revised to print the GS1 DataMatrix with GTIN, serial, lot and expiry.",
         "EU FMD and DSCSA serialisation requirements.", answers(C.PACKAGING, affects_filed_information=True),
         rationale="Secondary packaging, no product contact.",
         effectiveness="Code grade A/B on 100 % camera inspection over 12 batches; no rejects attributable to "
                       "the new artwork."),
    Plan("Upgrade the HVAC air handling unit AHU-3 serving the compression suite", C.FACILITY, ("HLX-101",),
         State.CLOSED, "AHU-3 fan and controls replaced; room classification and pressure cascade unchanged.",
         "End-of-life fan motor; energy savings.", answers(C.FACILITY, validation_impact=True),
         rationale="Requalification of airflow, pressure differentials and particle counts; no product impact.",
         effectiveness="Pressure cascade and particle counts within limits for 90 days; no EM excursion."),
    Plan("Switch the film coating to a ready-mix from a new supplier", C.MATERIALS, ("HLX-101",), State.APPROVED,
         "Replace the in-house coating formulation by a ready-mix of the same composition.",
         "Reduce weighing steps.", answers(C.MATERIALS, affects_filed_information=True, stability_impact=True),
         risk="medium", rationale="Same composition; stability commitment needed.",
         cancel="The supplier could not commit to the registered colourant grade; the change is dropped."),
    # --- Northwind ↔ Acme ---------------------------------------------------------------------------------------
    Plan("Raise the NWB-7 vial fill-volume target from 1.05 mL to 1.08 mL", C.PROCESS, ("NWB-7",), State.DRAFT,
         "Fill-weight target and in-process limits adjusted; label claim unchanged (1 mL).",
         "Extractable-volume results trend towards the lower limit.", in_days=60),
    Plan("Ready-to-use stoppers from a second supplier", C.PACKAGING, ("NWB-7",), State.ASSESSMENT,
         "Add ready-to-sterilise bromobutyl stoppers (same formulation class) from a second supplier.",
         "Supply continuity.", answers(C.PACKAGING, affects_filed_information=True, product_contact=True,
                                       stability_impact=True, sterility_assurance=True),
         risk="high", rationale="Product-contact closure of a sterile product: container-closure integrity, "
                                "extractables and stability data needed."),
    Plan("Replace capping machine CM-1 with the same model (like-for-like)", C.EQUIPMENT_LIKE_FOR_LIKE, ("NWB-7",),
         State.APPROVED, "Capper CM-1 replaced by the same model and configuration; residual seal force "
                         "verified in OQ.", "Obsolete controller with no spare parts.",
         answers(C.EQUIPMENT_LIKE_FOR_LIKE, validation_impact=True),
         rationale="Same design and operating principle; container-closure integrity unaffected (RSF verified)."),
    Plan("Tighten the sub-visible particle limit for NWB-7", C.SPECIFICATION, ("NWB-7",), State.IMPLEMENTED,
         "≥10 µm particles: NMT 6000 → NMT 3000 per container; ≥25 µm unchanged.",
         "Align with process capability and the sponsor's global specification.",
         answers(C.SPECIFICATION, affects_filed_information=True, specification_change="tighten"),
         rationale="Tightening only; all released batches meet the new limit."),
    Plan("Add a second supplier of 0.22 µm sterilising-grade filters", C.MATERIALS, ("NWB-7",),
         State.EFFECTIVENESS_REVIEW,
         "Filters from a second supplier, validated for bacterial retention (ASTM F838) with NWB-7.",
         "Supply shortage of the current filters.",
         answers(C.MATERIALS, affects_filed_information=True, validation_impact=True, sterility_assurance=True),
         risk="high", rationale="Sterility assurance: bacterial-retention and extractables studies completed.",
         agency=(12, "FDA PAS S-031 approved; EMA/UK Type II variations approved"), documents=(PROCEDURE, FILING),
         effectiveness="Pre- and post-use integrity tests passed on 15 batches; no sterility-test failure."),
    Plan("Upgrade the Cork environmental-monitoring system to version 5", C.COMPUTERIZED_SYSTEM, ("NWB-7",),
         State.CLOSED, "EM data system upgraded; validated per GAMP 5 category 4; audit trail migrated.",
         "Vendor support of version 4 ends.", answers(C.COMPUTERIZED_SYSTEM, validation_impact=True),
         rationale="Computerized system validation; no product impact.",
         effectiveness="Three months of EM data reviewed: alarms, trends and audit trail complete."),
    Plan("Move NWB-7 labelling to Acme Boston", C.SITE, ("NWB-7",), State.ASSESSMENT,
         "Label and pack NWB-7 vials at Acme Boston instead of Cork.", "Capacity at Cork.",
         answers(C.SITE, affects_filed_information=True, new_site=True), risk="medium",
         rationale="New site for a step of a sterile product.",
         cancel="Cork packaging capacity freed by the new line; the move is no longer needed."),
    # --- Northwind ↔ Borealis -----------------------------------------------------------------------------------
    Plan("Scale the NWB-9 production bioreactor from 2,000 L to 5,000 L", C.BATCH_SIZE, ("NWB-9",), State.DRAFT,
         "Transfer the N stage to the 5,000 L single-use bioreactor; seed train unchanged.",
         "Phase III and launch demand.", in_days=180),
    Plan("Change the Protein A resin to a higher-capacity grade", C.MATERIALS, ("NWB-9",), State.ASSESSMENT,
         "Capture step moves to the supplier's high-capacity Protein A resin; load ratio raised.",
         "Throughput at 5,000 L scale.", answers(C.MATERIALS, affects_filed_information=True, affects_cqa=True,
                                                   comparability_needed=True, validation_impact=True),
         risk="high", rationale="Capture step of a biologic: comparability (ICH Q5E) and resin lifetime studies."),
    Plan("Extend the NWB-9 harvest from day 14 to day 16", C.PROCESS, ("NWB-9",), State.PENDING_APPROVAL,
         "Fed-batch culture extended by two days; feed schedule unchanged.", "Titre gain of 12 % at day 16.",
         answers(C.PROCESS, affects_filed_information=True, affects_cqa=True, comparability_needed=True,
                 outside_proven_ranges=True), risk="high",
         rationale="Glycosylation and charge variants may shift: comparability on three batches.",
         waiting=frozenset({"northwind"})),
    Plan("Add an in-process bioburden test before viral filtration", C.SPECIFICATION, ("NWB-9",), State.APPROVED,
         "New in-process control: bioburden NMT 10 CFU/100 mL before the viral filter.",
         "Sponsor's request after the 2026 audit.", answers(C.SPECIFICATION, affects_filed_information=True,
                                                              specification_change="add_test"),
         rationale="An added test increases assurance."),
    Plan("Replace the fill-line peristaltic pump heads (like-for-like)", C.EQUIPMENT_LIKE_FOR_LIKE, ("NWB-9",),
         State.IMPLEMENTED, "Pump heads replaced by the same model; fill-weight accuracy verified.",
         "Preventive maintenance: wear.", answers(C.EQUIPMENT_LIKE_FOR_LIKE, validation_impact=True),
         rationale="Same design; fill-weight verification only."),
    Plan("Upgrade the Borealis electronic logbook system", C.COMPUTERIZED_SYSTEM, ("NWB-9",),
         State.EFFECTIVENESS_REVIEW, "Equipment and room logbooks move to the validated e-logbook release 3.2.",
         "Vendor upgrade.", answers(C.COMPUTERIZED_SYSTEM, validation_impact=True),
         rationale="Computerized system validation; no product impact.",
         effectiveness="Logbook entries complete and reviewed for 60 days; no data-integrity finding."),
    Plan("Replace the WFI loop heat exchanger in Montreal", C.FACILITY, ("NWB-9",), State.CLOSED,
         "Double-tube-sheet heat exchanger replaced by the same design; loop requalified.",
         "Leak found at the annual inspection.", answers(C.FACILITY, validation_impact=True),
         rationale="WFI loop requalification (3 phases shortened under the risk assessment).",
         effectiveness="WFI conductivity, TOC and endotoxin within limits for 12 weeks."),
    Plan("Switch the cell-culture basal medium to a new chemically defined supplier", C.MATERIALS, ("NWB-9",),
         State.PENDING_APPROVAL,
         "Basal medium from a second supplier, same formulation claimed.", "Cost and supply.",
         answers(C.MATERIALS, affects_filed_information=True, affects_cqa=True, comparability_needed=True),
         risk="high", rationale="Medium change for a biologic: comparability needed.",
         reject="Comparability plan does not cover glycan profile and charge variants; not approved.",
         cancel="Northwind rejected the change; the medium switch is abandoned."),
    # --- Both sponsors at Acme Boston ---------------------------------------------------------------------------
    Plan("Rapid microbial method for bioburden testing in the Boston QC laboratory", C.ANALYTICAL_METHOD,
         ("HLX-101", "NWB-7"), State.PENDING_APPROVAL,
         "Microbial enumeration moves from plate count (USP <61>) to the automated growth-detection method, "
         "validated per USP <1223> / Ph. Eur. 5.1.6.", "Results in 3 days instead of 5.",
         answers(C.ANALYTICAL_METHOD, affects_filed_information=True, validation_impact=True, method_comparable=True),
         risk="medium", rationale="Alternative method validated as equivalent or better.",
         waiting=frozenset({"helix-approval"})),
)


def _ensure_reviewers(password: str) -> None:
    for spec in REVIEWERS:
        user, _ = User.objects.update_or_create(
            username=spec.username, defaults={"first_name": spec.first_name, "last_name": spec.last_name,
                                              "email": spec.email, "is_active": True})
        user.set_password(password)
        user.save(update_fields=["password"])
        Membership.objects.update_or_create(user=user, organization=Organization.objects.get(slug=spec.org),
                                            defaults={"role": spec.role, "is_active": True})


def _request() -> Any:
    return RequestFactory().post("/changes/sign/", REMOTE_ADDR="198.51.100.21")


def _fresh(change: ChangeRequest) -> ChangeRequest:
    return ChangeRequest.objects.get(pk=change.pk)


def _reached(plan: Plan, state: str) -> bool:
    return ORDER.index(plan.to) >= ORDER.index(state)


def _document(doc: Doc, change: ChangeRequest) -> SimpleUploadedFile:
    html = (f"<html><body style='font-family: DejaVu Sans, sans-serif'><h1>{escape(doc.title)}</h1>"
            f"<p>Change {escape(change.number)}: {escape(change.title)}</p><p>{escape(doc.body)}</p></body></html>")
    return SimpleUploadedFile(doc.name, pdfwork.render(html), content_type="application/pdf")


def _decide_filings(plan: Plan, change: ChangeRequest, sponsor: str, today: dt.date) -> None:
    with acting_as(f"{sponsor}.qa") as member:
        for row in (FilingAssessment.objects.filter(change=change, sponsor__slug=sponsor, superseded=False)
                    .exclude(suggested_category="not_assessed").select_related("product")):
            category, reason = plan.overrides.get((row.product.code, row.market), (row.suggested_category, ""))
            decision = services.filing_decide(membership=member, assessment=row, category=category,
                                              override_reason=reason)
            if decision.needs_agency_approval and plan.agency and _reached(plan, State.APPROVED):
                days, reference = plan.agency
                services.filing_approval_record(membership=member, decision=decision,
                                                approved_on=today - dt.timedelta(days=days), reference=reference)


def _cancel(plan: Plan, change: ChangeRequest) -> ChangeRequest:
    with acting_as(PEOPLE[plan.cmo][1]) as member:
        services.change_cancel(request=_request(), membership=member, change=_fresh(change), reason=plan.cancel,
                               password=SECRET["password"])
    return _fresh(change)


def _submit(plan: Plan, change: ChangeRequest, sponsors: list[str], today: dt.date) -> None:
    """Filing decisions by each sponsor not waiting, submission, notification of notify-only sponsors, and each
    approval-required sponsor's signed decision (unless it is still to come)."""
    reviewer = PEOPLE[plan.cmo][0]
    for sponsor in sponsors:
        if sponsor not in plan.waiting:
            _decide_filings(plan, _fresh(change), sponsor, today)
    with acting_as(reviewer) as member:
        services.change_submit(membership=member, change=_fresh(change))
        if plan.notify and SponsorRoute.objects.filter(change=change,
                                                       requirement=SponsorRoute.Requirement.NOTIFY).exists():
            services.change_notify(membership=member, change=_fresh(change),
                                   message="Planned under our change control; details in the change record.")
    for route in SponsorRoute.objects.filter(change=change, requirement=SponsorRoute.Requirement.APPROVAL
                                             ).select_related("sponsor"):
        slug = route.sponsor.slug
        if slug in plan.waiting or f"{slug}-approval" in plan.waiting:
            continue
        with acting_as(f"{slug}.qa") as member:
            services.approval_sign(request=_request(), membership=member, change=_fresh(change),
                                   approve=not plan.reject, comment=plan.reject or plan.approval_comment,
                                   password=SECRET["password"])


def _build(plan: Plan, today: dt.date) -> ChangeRequest:
    """Take one change through the workflow up to ``plan.to``; then cancel it if the plan says so."""
    reviewer, qa = PEOPLE[plan.cmo]
    sponsors = sorted({Product.objects.get(code=code).organization.slug for code in plan.products})
    with acting_as(reviewer) as member:
        change = services.change_create(
            membership=member, title=plan.title, description=plan.description, reason=plan.reason,
            change_type=plan.change_type, proposed_implementation_date=today + dt.timedelta(days=plan.in_days),
            product_ids=[Product.objects.get(code=code).pk for code in plan.products],
            site=Site.objects.get(name=SITE_OF[plan.products[0]]), permanent=plan.temporary_days is None,
            temporary_until=(today + dt.timedelta(days=plan.in_days + plan.temporary_days)
                             if plan.temporary_days else None))
        if plan.to != State.DRAFT:
            services.impact_assess(membership=member, change=change, answers=plan.answers, risk_rating=plan.risk,
                                   risk_rationale=plan.rationale or plan.reason)
    if _reached(plan, State.PENDING_APPROVAL):
        _submit(plan, change, sponsors, today)
    if _reached(plan, State.APPROVED):
        with acting_as(qa) as member:
            services.change_sign_approve(request=_request(), membership=member, change=_fresh(change),
                                         password=SECRET["password"])
    if plan.cancel:
        return _cancel(plan, change)
    with acting_as(reviewer) as member:
        if _reached(plan, State.APPROVED):
            for doc in plan.documents:
                services.document_attach(membership=member, change=_fresh(change), upload=_document(doc, change),
                                         kind=doc.kind, title=doc.title)
        if _reached(plan, State.IMPLEMENTED):
            services.change_implement(membership=member, change=_fresh(change))
        if _reached(plan, State.EFFECTIVENESS_REVIEW):
            services.effectiveness_record(membership=member, change=_fresh(change), effective=True,
                                          summary=plan.effectiveness)
    if _reached(plan, State.CLOSED):
        with acting_as(qa) as member:
            services.change_sign_close(request=_request(), membership=member, change=_fresh(change),
                                       password=SECRET["password"])
    return _fresh(change)


def seed_changes(password: str) -> int:
    """Load the demo change requests once (records with history: a re-seed leaves them alone)."""
    _ensure_reviewers(password)
    if ChangeRequest.objects.exists():
        return 0
    SECRET["password"] = password
    today = timezone.localdate()
    for plan in PLANS:
        _build(plan, today)
    return len(PLANS)
