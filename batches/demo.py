"""Demo batches (issue 8's demo data): thirty lots across the three partnerships, in every state of the release
chain, each with an executed batch record and a certificate of analysis rendered by WeasyPrint.

- Helix ↔ Acme: HLX-101 film-coated tablets at Acme Boston (CMO release, then Helix's release);
- Northwind ↔ Acme: NWB-7 solution for injection, filled at Acme Cork (no agreement in force yet: the
  conservative default, CMO release then sponsor release);
- Northwind ↔ Borealis: NWB-9 concentrate for infusion, from cell culture to fill at Borealis Montreal
  (sponsor-only release: Borealis's QA reviews and sends, Northwind releases).

The exceptions a reviewer meets: lots named by the demo deviations (``deviations/demo.py``) and so linked to
them, released conditionally while a deviation is open or waiting in QA review; an OOS result investigated and
invalidated; a failing assay rejected by the CMO; a rejection by each sponsor; changes in effect; a missing
certificate of analysis; queries open, answered and closed; review clocks on track, due soon and overdue.

Built through the real services, each step as the person who would take it (the operator registers, enters the
results and submits; QA uploads, decides and answers; the sponsor's QA asks, releases or rejects), so production
≠ quality unit holds and the trail and the signatures read like real ones. The workflow happens when the demo is
seeded (signatures carry the real time); only the record's own dates (manufacture, expiry, delivery) and the
review clocks (with the time the batch counts as sent to the sponsor) are set in the past, the clocks through
``clocks.services.deadline_restart``, each with the reason on record. Loaded once: a re-seed leaves existing
batches alone.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import multiprocessing
import os
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.utils import timezone

from batches import pdfwork, selectors, services
from batches.models import Batch, Document
from clocks import services as clocks
from clocks.sweep import sweep
from deviations.models import Deviation
from part11.audit import reason_for_change
from qms.versioning import versioned_save
from tenants.demo import acting_as
from tenants.models import Product, Site

# --- Who does what -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Party:
    """The people of one partnership: system users for the workflow, shop-floor initials for the paper record."""

    cmo: str
    batch_size: int  # units planned when the batch is registered
    operator: str
    qa: str
    sponsor_qa: str
    site: str
    unit: str
    shelf_life_months: int
    days_to_complete: int
    mbr: str
    specification: str
    doers: tuple[str, ...]
    checkers: tuple[str, ...]
    supervisor: str
    compiler: str
    qc_signatory: str
    qc_title: str


PARTIES = {
    "HLX-101": Party("Acme CDMO", 250_000, "acme.operator", "acme.qa", "helix.qa", "Acme Boston", "tablets", 36, 2,
                     "MBR-HLX101-050 rev. 7", "SPEC-HLX101-FP rev. 4", ("OP", "JT", "MK"), ("RS", "MK", "JT"),
                     "Jamal Turner, Production Supervisor", "Olivia Park, Operator", "Dr. Mei Chen",
                     "Head of Quality Control, Acme Boston"),
    "NWB-7": Party("Acme CDMO", 12_000, "acme.operator", "acme.qa", "northwind.qa", "Acme Cork", "vials", 24, 1,
                   "MBR-NWB7-FF-012 rev. 3", "SPEC-NWB7-DP rev. 2", ("CB", "AN", "OP"), ("AN", "DF", "CB"),
                   "Ciarán Byrne, Fill-Finish Supervisor", "Olivia Park, Operator", "Siobhán Murphy",
                   "QC Manager, Acme Cork"),
    "NWB-9": Party("Borealis Pharma Services", 9_000, "borealis.operator", "borealis.qa", "northwind.qa",
                   "Borealis Montreal", "vials", 24, 18, "MBR-NWB9-2000L-004 rev. 1", "SPEC-NWB9-DP rev. 1 (clinical)",
                   ("ML", "SG", "JB"), ("SG", "JB", "ML"), "Sophie Gauthier, Manufacturing Supervisor",
                   "Mathieu Lavoie, Operator", "Dr. Karim Haddad", "QC Director, Borealis Montreal"),
}


# --- The lots ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Test:
    """One line of a certificate of analysis (and of the QC results summary)."""

    test: str
    method: str
    specification: str
    result: str
    passed: bool = True
    oos: bool = False
    note: str = ""


@dataclass(frozen=True)
class Ask:
    """A sponsor's query: asked, then maybe answered by the CMO's QA, then maybe closed by the sponsor."""

    subject: str
    question: str
    answer: str = ""
    close_note: str = ""


@dataclass(frozen=True)
class Report:
    """A supporting document (kind "other"), e.g. an OOS investigation report."""

    reference: str
    title: str
    intro: str
    tests: tuple[Test, ...]
    paragraphs: tuple[str, ...]
    conclusion: str


@dataclass(frozen=True)
class Plan:
    """One demo lot and how far it goes. ``to``: production (registered only), record (documents and results, not
    submitted), cmo_review, sponsor_review, released, conditional, cmo_reject, sponsor_reject."""

    product: str
    lot: str
    made: int  # days ago manufacture started
    to: str
    coa: bool = True
    results: dict[str, Test] = field(default_factory=dict)  # replaces the profile's line of that test
    changes: tuple[tuple[str, str], ...] = ()
    cmo_conditional: str = ""
    sponsor_conditional: str = ""
    reject: str = ""
    ask: Ask | None = None
    clock: str = ""  # "", "due_soon" or "overdue"
    delivered: int | None = None  # days after completion
    comments: tuple[str, ...] = ()
    report: Report | None = None
    corrected: str = ""  # the executed batch record was re-issued (the first copy stays, superseded)


OOS_DISSOLUTION = Report(
    "OOS-2026-031", "Out-of-specification investigation report OOS-2026-031",
    "Phase Ia laboratory investigation of the dissolution result of HLX-101-B2561 (stage S1, one unit below Q).",
    (Test("Dissolution, stage S1 (original)", "USP <711>", "Each unit ≥ Q + 5 % (85 %)", "71 % (unit 4)",
          passed=False, oos=True),
     Test("Dissolution, stage S2 (retest, n = 12)", "USP <711>", "Mean ≥ Q (80 %), no unit < Q − 15 %",
          "Mean 84 %, min 78 %", oos=True)),
    ("Root cause: the sinker of vessel 4 was deformed (found at the post-run apparatus check); the tablet "
     "adhered to the vessel wall. Assignable laboratory error; the original S1 result is invalidated.",
     "Corrective action: sinker set SNK-12 withdrawn; sinker inspection added before each run (SOP-QC-118 rev. 6)."),
    "Original result invalidated (assignable laboratory cause); retest result reportable and within specification.")

OOS_ENDOTOXIN = Report(
    "OOS-2026-044", "Out-of-specification investigation report OOS-2026-044",
    "Laboratory investigation of the bacterial endotoxin result of NWB-7-C0040.",
    (Test("Bacterial endotoxins (original)", "Ph. Eur. 2.6.14 (kinetic chromogenic)", "≤ 0.50 EU/mg",
          "0.62 EU/mg", passed=False, oos=True),
     Test("Bacterial endotoxins (retest, fresh vials)", "Ph. Eur. 2.6.14 (kinetic chromogenic)", "≤ 0.50 EU/mg",
          "0.08 EU/mg", oos=True)),
    ("Positive product control recovery of the original run was 212 % (valid range 50–200 %); the depyrogenated "
     "tube rack used for dilutions was from a lot later found with an incomplete depyrogenation cycle.",
     "The original run is invalid; the retest on two fresh vials, with new consumables, is reportable."),
    "Original result invalidated (invalid test system); lot complies.")

PLANS: tuple[Plan, ...] = (
    # --- Helix ↔ Acme: HLX-101 film-coated tablets at Acme Boston --------------------------------------------
    Plan("HLX-101", "HLX-101-B2501", 150, "released", delivered=24),
    Plan("HLX-101", "HLX-101-B2502", 140, "released", delivered=21),
    Plan("HLX-101", "HLX-101-B2515", 62, "cmo_reject",
         results={"Assay": Test("Assay", "HPLC, TM-HLX-003", "95.0–105.0 % of label claim", "93.1 %",
                                passed=False, oos=True, note="Confirmed by OOS-2026-027 (no laboratory error).")},
         reject="Assay 93.1 % of label claim against 95.0–105.0 %. OOS-2026-027 found no laboratory error and "
                "confirmed the result: the potency factor of API lot API-26-0117 was not applied at dispensing. "
                "The lot is rejected and will be destroyed; CAPA on the dispensing calculation in the MES."),
    Plan("HLX-101", "HLX-101-B2518", 55, "sponsor_reject",
         reject="Helix's supplier qualification withdrew the API lot used (API-26-0121): the API manufacturer's "
                "nitrosamine risk assessment for that lot is not closed. The lot meets its specification but "
                "cannot be released for Helix's markets; Acme to destroy it on Helix's written instruction."),
    Plan("HLX-101", "HLX-101-B2520", 47, "conditional",
         cmo_conditional="{deviations} (granulator G-2 torque alarm, 40 s during wet massing) is still under "
                         "investigation. Granule LOD, particle size and blend uniformity were within limits and "
                         "every finished-product result meets the specification, so the alarm did not affect this "
                         "lot. Released on condition that the investigation closes with no product impact; Acme "
                         "sends Helix the closure report.",
         sponsor_conditional="Released to Helix's 3PL under a distribution block: shipment to the warehouse "
                             "permitted, sale blocked until {numbers} is closed with no product impact. CoA, "
                             "IPC data and the granulation parameters reviewed."),
    Plan("HLX-101", "HLX-101-B2544", 38, "released",
         ask=Ask("Compression weight trend",
                 "The in-process tablet weights trend upward during the second hour of compression. Was the press "
                 "re-adjusted, and are all weights within the limits?",
                 "Yes: at 10:40 the fill depth was reduced by 0.05 mm (recorded in the compression section). All "
                 "individual weights were within 190–210 mg; the mean stayed within 197–203 mg.",
                 "Answered; the adjustment is within the validated range.")),
    Plan("HLX-101", "HLX-101-B2561", 30, "sponsor_review", clock="overdue", report=OOS_DISSOLUTION,
         results={"Dissolution": Test("Dissolution (30 min)", "USP <711>, paddle 50 rpm", "Q = 80 % at 30 min",
                                      "84 % (S2, n = 12)", oos=True,
                                      note="S1 unit at 71 % invalidated by OOS-2026-031 (deformed sinker).")},
         ask=Ask("Dissolution OOS invalidation",
                 "Please send the OOS investigation report OOS-2026-031 and the sinker check records for the "
                 "dissolution retest of this lot.",
                 "The report is attached to the batch record (OOS-2026-031, phase Ia): the S1 unit at 71 % was run "
                 "with a deformed sinker, found at the post-run apparatus check. The S2 retest of 12 units gave a "
                 "mean of 84 %, all units ≥ 78 %. The sinker set was withdrawn and the sinker check now precedes "
                 "every run (SOP-QC-118 rev. 6).")),
    Plan("HLX-101", "HLX-101-B2574", 22, "sponsor_review", clock="due_soon",
         changes=(("CC-2026-014", "Second supplier of magnesium stearate (Peter Greven, lot MGS-PG-26-0412)"),),
         ask=Ask("Second magnesium stearate supplier",
                 "Was the new magnesium stearate supplier of CC-2026-014 used in this lot, and is the comparison "
                 "of dissolution profiles available?",
                 "Yes, Peter Greven lot MGS-PG-26-0412. The f2 comparison against three lots made with the current "
                 "supplier gave f2 = 71; the report is in CC-2026-014, section 6.",
                 "f2 acceptable; no further questions.")),
    Plan("HLX-101", "HLX-101-B2598", 7, "sponsor_review",
         changes=(("CC-2026-009", "Granulator G-2 torque sensor replaced like-for-like"),),
         cmo_conditional="{deviations} (recurrence of the G-2 torque alarm) is under investigation, with a CAPA "
                         "on the torque sensor calibration. The granule and finished-product results of this lot "
                         "are within limits; released on condition that the investigation closes with no product "
                         "impact.",
         ask=Ask("G-2 torque alarm recurrence",
                 "This is the second torque alarm on G-2 in six weeks (see HLX-101-B2520). Please send the granule "
                 "LOD and particle size results of this lot, and tell us whether the replaced torque sensor "
                 "(CC-2026-009) was calibrated before the run.")),
    Plan("HLX-101", "HLX-101-B2603", 6, "cmo_review",
         corrected="Re-issued after the production review: page 5 (film coating) was missing from the first scan. "
                   "No entry was changed."),
    Plan("HLX-101", "HLX-101-B2611", 3, "cmo_review"),
    Plan("HLX-101", "HLX-101-B2612", 2, "record", coa=False,
         comments=("QC release testing on hold: the purified water used for the test solutions came from PW loop "
                   "2 during its TOC excursion. Tests will be repeated; the certificate of analysis follows.",)),
    Plan("HLX-101", "HLX-101-B2614", 2, "record"),
    Plan("HLX-101", "HLX-101-B2615", 1, "production"),
    # --- Northwind ↔ Acme: NWB-7 solution for injection, filled at Acme Cork ---------------------------------
    Plan("NWB-7", "NWB-7-C0038", 120, "released", delivered=35),
    Plan("NWB-7", "NWB-7-C0039", 90, "released",
         ask=Ask("Visual inspection reject rate",
                 "The 100 % visual inspection rejected 1.4 % of the vials, above your usual 0.8 %. Which defect "
                 "category drove it?",
                 "Cosmetic defects (glass scratches) from one tray of vials, supplier lot SCH-2R-25-3341; no "
                 "particles or closure defects above the trend. A complaint was raised with the vial supplier.",
                 "Explained; thank you.")),
    Plan("NWB-7", "NWB-7-C0040", 70, "released", report=OOS_ENDOTOXIN,
         results={"Bacterial endotoxins": Test("Bacterial endotoxins", "Ph. Eur. 2.6.14", "≤ 0.50 EU/mg",
                                               "0.08 EU/mg (retest)", oos=True,
                                               note="Original 0.62 EU/mg invalidated by OOS-2026-044.")}),
    Plan("NWB-7", "NWB-7-C0041", 55, "released"),
    Plan("NWB-7", "NWB-7-C0042", 42, "cmo_reject",
         reject="Rejected as a precaution: {deviations} concern this lot, among them the cold-room excursion of "
                "the intermediate (9.4 °C for 3 h). Stability data for the exposed material will not be available "
                "before the lot's use date, so its quality cannot be assured."),
    Plan("NWB-7", "NWB-7-C0043", 21, "sponsor_review",
         cmo_conditional="{deviations} (TOC excursion on purified water loop 2) is open. The release tests of this "
                         "lot prepared with loop 2 water (pH, osmolality, polysorbate 80) were repeated with loop 1 "
                         "water and match the original results. Released on condition that the deviation closes "
                         "with no impact on this lot.",
         ask=Ask("Retest data for the TOC excursion",
                 "Your release is conditional on the purified water TOC deviation. Please send the original and "
                 "repeated results of the tests prepared with loop 2 water, and the TOC trend for the week.")),
    Plan("NWB-7", "NWB-7-C0044", 16, "sponsor_review", clock="due_soon"),
    Plan("NWB-7", "NWB-7-C0045", 8, "cmo_review",
         changes=(("CC-2026-022", "Stoppers: West 4023/50 FluroTec replaces 4432/50 on filling line L2"),)),
    Plan("NWB-7", "NWB-7-C0046", 1, "production"),
    # --- Northwind ↔ Borealis: NWB-9, cell culture to fill at Borealis Montreal ------------------------------
    Plan("NWB-9", "NWB-9-M0100", 95, "sponsor_reject",
         reject="Technology-transfer comparability: acidic charge variants 31.2 %, outside the range agreed in "
                "protocol TT-NW9-004 (≤ 28 %), although within the clinical specification (report only). Not "
                "released for clinical supply; kept for characterisation."),
    Plan("NWB-9", "NWB-9-M0101", 80, "released", delivered=30),
    Plan("NWB-9", "NWB-9-M0102", 60, "released"),
    Plan("NWB-9", "NWB-9-M0103", 45, "sponsor_review", clock="overdue",
         ask=Ask("Bioreactor day-9 viability dip",
                 "Viability fell to 88 % on day 9, below the other runs. Was it investigated, and did the glycan "
                 "profile shift?",
                 "It followed a 2-hour DO controller fault on day 8 (dissolved oxygen at 18 %, recorded in the "
                 "cell culture section); the culture recovered within 24 h. Afucosylated glycans 8.9 % (range "
                 "6–12 %), within the comparability range. Event assessed under the run's minor event log, no "
                 "deviation.")),
    Plan("NWB-9", "NWB-9-M0104", 25, "sponsor_review",
         ask=Ask("Viral filter integrity",
                 "Please confirm the post-use integrity test of the Planova 20N filter for this lot.",
                 "Post-use gold particle test passed (LRV ≥ 4.0); recorded in the viral filtration section.",
                 "Confirmed.")),
    Plan("NWB-9", "NWB-9-M0105", 21, "cmo_review"),
    Plan("NWB-9", "NWB-9-M0106", 6, "production"),
)

DISPOSED = ("released", "conditional", "sponsor_reject")
AT_SPONSOR = ("sponsor_review", *DISPOSED)


# --- Record content, per product ---------------------------------------------------------------------------------


class _Clock:
    """Times of the paper record: a shift starting at 07:00 on the day manufacture started."""

    def __init__(self, day: dt.date, rng: random.Random) -> None:
        self.at = dt.datetime.combine(day, dt.time(7, 0))
        self.rng = rng

    def tick(self, minutes: int) -> str:
        self.at += dt.timedelta(minutes=minutes + self.rng.randint(0, 6))
        return f"{self.at:%d %b %H:%M}"


def _pick(rng: random.Random, options: tuple[str, ...]) -> str:
    return rng.choice(options)


def _who(party: Party, rng: random.Random) -> tuple[str, str]:
    doer = _pick(rng, party.doers)
    checker = _pick(rng, tuple(c for c in party.checkers if c != doer))
    return doer, checker


def _flag(deviations: list[Deviation], word: str) -> str:
    for deviation in deviations:
        if word in deviation.title.lower():
            return f"Excursion: deviation {deviation.number} raised"
    return ""


def _equipment(party: Party, rng: random.Random, started: dt.date, items: tuple[tuple[str, str], ...]
               ) -> list[tuple[Any, ...]]:
    rows = []
    for code, description in items:
        doer, checker = _who(party, rng)
        rows.append((code, description, f"Clean, label CL-{rng.randint(10000, 99999)}",
                     started + dt.timedelta(days=rng.randint(20, 160)), doer, checker))
    return rows


def _materials(party: Party, rng: random.Random, clock: _Clock, items: tuple[tuple[str, str, str, float, str, str],
               ...]) -> list[tuple[Any, ...]]:
    rows = []
    for name, code, prefix, required, unit, balance in items:
        doer, checker = _who(party, rng)
        dispensed = required * (1 + rng.uniform(-0.0006, 0.0006))
        digits = 0 if unit in ("pcs", "vial") else 3 if required < 100 else 1
        rows.append((name, code, f"{prefix}{rng.randint(1000, 9999)}", f"{required:,.{digits}f} {unit}",
                     f"{dispensed:,.{digits}f} {unit}", balance, doer, checker, clock.tick(9)))
    return rows


def _steps(party: Party, rng: random.Random, clock: _Clock, lines: tuple[tuple[str, str, str, int, str], ...],
           first: int = 1) -> list[tuple[Any, ...]]:
    rows = []
    for number, (instruction, target, recorded, minutes, flag) in enumerate(lines, start=first):
        doer, checker = _who(party, rng)
        rows.append((number, instruction, target, recorded, doer, checker, clock.tick(minutes), flag))
    return rows


def _hlx_record(party: Party, rng: random.Random, started: dt.date, deviations: list[Deviation]) -> dict[str, Any]:
    clock = _Clock(started, rng)
    torque = _flag(deviations, "torque")
    hardness = _flag(deviations, "hardness")
    equipment = _equipment(party, rng, started, (
        ("G-2", "High-shear granulator, 300 L"), ("FBD-1", "Fluid-bed dryer, 200 kg"),
        ("BB-1", "Bin blender, 300 L"), ("P-4", "Rotary tablet press, 36 stations, 8 mm round tooling"),
        ("C-1", "Perforated pan coater, 150 kg"), ("BAL-07", "Floor balance 60 kg (d = 1 g)")))
    materials = _materials(party, rng, clock, (
        ("Helixaparib (API)", "RM-1001", "API-26-0", 12.5, "kg", "BAL-07"),
        ("Microcrystalline cellulose PH-102", "RM-2014", "MCC-", 22.5, "kg", "BAL-07"),
        ("Lactose monohydrate 200M", "RM-2031", "LAC-", 10.0, "kg", "BAL-07"),
        ("Croscarmellose sodium", "RM-2045", "CCS-", 2.0, "kg", "BAL-03"),
        ("Povidone K30", "RM-2052", "PVP-", 2.5, "kg", "BAL-03"),
        ("Magnesium stearate", "RM-2060", "MGS-", 0.5, "kg", "BAL-03"),
        ("Opadry II white 85F18422", "RM-3010", "OPD-", 1.5, "kg", "BAL-03")))
    lod = rng.uniform(1.1, 1.7)
    stages: list[dict[str, Any]] = [
        {"title": "Wet granulation (granulator G-2)", "steps": _steps(party, rng, clock, (
            ("Dry mix API, MCC, lactose and half the croscarmellose; impeller 150 rpm, chopper off", "5 min",
             "5 min 00 s", 15, ""),
            ("Prepare binder: povidone K30 in 6.0 kg purified water, stir until clear", "Clear solution",
             "Clear", 25, ""),
            ("Add binder at 1.5 kg/min, impeller 150 rpm", "3.5–4.5 min", f"4 min {rng.randint(0, 25):02d} s", 10,
             ""),
            ("Wet massing: impeller 250 rpm, chopper 1500 rpm; end-point torque", "18–24 N·m",
             "26.4 N·m (peak)" if torque else f"{rng.uniform(19.5, 22.8):.1f} N·m", 8, torque),
            ("Discharge through wet mill (6 mm screen) to FBD-1 bowl", "Complete", "Complete", 12, ""),
        ))},
        {"title": "Drying (fluid-bed dryer FBD-1)", "steps": _steps(party, rng, clock, (
            ("Inlet air temperature", "60 ± 5 °C", f"{rng.uniform(58.5, 61.5):.1f} °C", 20, ""),
            ("Product temperature at end of drying", "≤ 42 °C", f"{rng.uniform(38.0, 41.0):.1f} °C", 55, ""),
            ("Loss on drying (IPC, 105 °C)", "≤ 2.0 %", f"{lod:.1f} %", 15, ""),
        ))},
        {"title": "Milling, blending and lubrication (Comil, BB-1)", "steps": _steps(party, rng, clock, (
            ("Mill dried granules: Comil 1.0 mm screen, 1200 rpm", "Complete", "Complete", 35, ""),
            ("Blend with extragranular croscarmellose, 12 rpm", "10 min", "10 min", 12, ""),
            ("Lubricate with magnesium stearate, 12 rpm", "3 min", "3 min", 5, ""),
            ("Blend uniformity, 10 locations (IPC)", "Mean 90–110 %, RSD ≤ 5.0 %",
             f"Mean {rng.uniform(98.5, 101.5):.1f} %, RSD {rng.uniform(1.2, 2.6):.1f} %", 45, ""),
        ))},
    ]
    setup = _steps(party, rng, clock, (
        ("Set-up: 8 mm round biconvex tooling, turret 40 rpm", "Per MBR", "Verified", 20, ""),))
    weights = [(clock.tick(30), rng.uniform(197.5, 202.5)) for _ in range(6)]
    stages.append({
        "title": "Compression (press P-4)",
        "steps": setup + _steps(party, rng, clock, (
            ("Friability (IPC, 100 rotations)", "≤ 0.8 %", f"{rng.uniform(0.1, 0.3):.1f} %", 40, ""),
            ("Disintegration (IPC, water 37 °C)", "≤ 15 min", f"{rng.randint(3, 6)} min", 20, ""),
            ("Hardness trend over the run", "8–12 kP",
             "7.6 kP at 11:20 (low)" if hardness else "Within limits", 10, hardness),
        ), first=2),
        "table": {"columns": ("Time", "Mean weight of 20 (mg)", "Min (mg)", "Max (mg)", "Hardness (kP)",
                              "Thickness (mm)"),
                  "rows": [(t, f"{w:.1f}", f"{w - rng.uniform(2, 4):.1f}", f"{w + rng.uniform(2, 4):.1f}",
                            f"{rng.uniform(9.2, 10.8):.1f}", f"{rng.uniform(4.02, 4.14):.2f}") for t, w in weights]},
    })
    stages.append({"title": "Film coating (pan coater C-1)", "steps": _steps(party, rng, clock, (
        ("Opadry II suspension, 15 % w/w solids", "Homogeneous", "Homogeneous", 45, ""),
        ("Inlet air temperature", "55–65 °C", f"{rng.uniform(58, 62):.0f} °C", 20, ""),
        ("Spray rate", "120–180 g/min", f"{rng.randint(140, 160)} g/min", 90, ""),
        ("Weight gain", "2.5–3.5 %", f"{rng.uniform(2.8, 3.3):.1f} %", 30, ""),
        ("Bulk into HDPE drums with double PE liners and desiccant; drums labelled", "Per MBR",
         f"{rng.randint(9, 10)} drums", 40, ""),
    ))})
    theoretical = 250_000
    compressed = rng.randint(246_500, 248_600)
    coated = compressed - rng.randint(350, 900)
    samples = 320
    rejects = theoretical - coated - samples - rng.randint(50, 400)
    return {
        "materials_title": "Dispensing (room D-102)", "equipment": equipment, "materials": materials,
        "stages": stages, "batch_size": "250,000 tablets (50.0 kg compression blend)",
        "yield_lines": (("Theoretical quantity (tablets)", f"{theoretical:,}"),
                        ("Tablets compressed (by weight)", f"{compressed:,}"),
                        ("Coated tablets, bulk (by weight)", f"{coated:,}"),
                        ("QC and retention samples", f"{samples:,}"),
                        ("Rejects (start-up, weight checks, coating)", f"{rejects:,}")),
        "yield_limits": "95.0–101.0 %", "yield_pct": f"{100 * coated / theoretical:.1f} %",
        "accountability": f"{100 * (coated + samples + rejects) / theoretical:.1f} %", "output": coated,
    }


def _nwb7_record(party: Party, rng: random.Random, started: dt.date, deviations: list[Deviation]
                 ) -> dict[str, Any]:
    clock = _Clock(started, rng)
    cold = _flag(deviations, "cold room")
    gowning = _flag(deviations, "gowning")
    equipment = _equipment(party, rng, started, (
        ("CV-3", "Compounding vessel 50 L, single-use bag"), ("FL-2", "Filling line L2 in isolator I-2"),
        ("CR-2", "Cold room, intermediate storage 2–8 °C"), ("CP-2", "Capping machine"),
        ("VI-1", "Semi-automated visual inspection"), ("IT-4", "Filter integrity tester")))
    materials = _materials(party, rng, clock, (
        ("Nortumab drug substance, 120 mg/mL", "DS-NW7", "DS-NW7-26-", 13.33, "L", "BAL-C2"),
        ("Formulation buffer (histidine, sucrose, PS80)", "FB-NW7", "FB-", 2.67, "L", "BAL-C2"),
        ("2R type I glass vials", "PK-1102", "SCH-2R-26-", 12600, "pcs", "count"),
        ("13 mm FluroTec stoppers", "PK-1210", "WST-", 12600, "pcs", "count"),
        ("13 mm flip-off seals", "PK-1320", "FOS-", 12600, "pcs", "count")))
    stages: list[dict[str, Any]] = [
        {"title": "Drug substance thaw and compounding (CV-3)", "steps": _steps(party, rng, clock, (
            ("Thaw drug substance bags at 2–8 °C", "48–72 h", f"{rng.randint(56, 66)} h", 10, ""),
            ("Intermediate hold in cold room CR-2", "2–8 °C",
             "9.4 °C for 3 h" if cold else f"{rng.uniform(3.8, 5.6):.1f} °C (max)", 10, cold),
            ("Pool and dilute with formulation buffer; mix 100 rpm", "15 min", "15 min", 30, ""),
            ("Protein concentration (A280, IPC)", "98–102 mg/mL", f"{rng.uniform(99.2, 101.0):.1f} mg/mL", 40,
             ""),
            ("pH (IPC)", "5.8–6.2", f"{rng.uniform(5.92, 6.08):.2f}", 10, ""),
            ("Bioburden before filtration", "≤ 10 CFU/100 mL", "0 CFU/100 mL", 15, ""),
        ))},
        {"title": "Sterile filtration", "steps": _steps(party, rng, clock, (
            ("Pre-use post-sterilisation integrity test, 0.2 µm PVDF (bubble point)", "≥ 3450 mbar",
             f"{rng.randint(3580, 3700)} mbar", 25, ""),
            ("Filtration pressure", "≤ 2.0 bar", f"{rng.uniform(0.8, 1.4):.1f} bar", 45, ""),
            ("Post-use integrity test (bubble point)", "≥ 3450 mbar", f"{rng.randint(3560, 3690)} mbar", 20, ""),
        ))},
    ]
    before = _steps(party, rng, clock, (
        ("Isolator decontamination (VHP) cycle", "Cycle VHP-07 passed", "Passed", 15, ""),
        ("Gowning and glove integrity of operators", "Per SOP-AS-021",
         "Sequence not followed (1 entry)" if gowning else "Compliant", 5, gowning)))
    fills = [(clock.tick(30), rng.uniform(1.228, 1.244)) for _ in range(6)]
    stages.append({
        "title": "Aseptic filling and stoppering (isolator I-2, line L2)",
        "intro": "Fill 1.2 mL (1.236 g at 1.03 g/mL) into 2R vials; fill weight checks every 30 minutes, 10 vials.",
        "steps": before + _steps(party, rng, clock, (
            ("Viable air sampling, grade A (active), over the fill", "< 1 CFU/m³", "0 CFU/m³", 10, ""),
            ("Settle plates and glove prints, grade A", "< 1 CFU/plate", "0 CFU", 20, ""),
        ), first=3),
        "table": {"columns": ("Time", "Mean fill weight of 10 (g)", "Min (g)", "Max (g)", "Rejected vials"),
                  "rows": [(t, f"{w:.3f}", f"{w - rng.uniform(0.004, 0.008):.3f}",
                            f"{w + rng.uniform(0.004, 0.008):.3f}", str(rng.randint(0, 3))) for t, w in fills]},
    })
    stages.append({"title": "Capping and 100 % visual inspection", "steps": _steps(party, rng, clock, (
        ("Capping: residual seal force (IPC)", "50–90 N", f"{rng.randint(62, 78)} N", 60, ""),
        ("100 % visual inspection (VI-1)", "Reject rate ≤ 2.0 %", f"{rng.uniform(0.5, 1.1):.1f} %", 240, ""),
        ("AQL inspection of accepted vials (critical / major / minor)", "0.065 / 0.65 / 2.5", "Passed", 60, ""),
    ))})
    theoretical = 12_000
    filled = rng.randint(11_920, 11_985)
    rejects = rng.randint(70, 140)
    samples = 180
    accepted = filled - rejects - samples
    return {
        "materials_title": "Materials issue (room C-104)", "equipment": equipment, "materials": materials,
        "stages": stages, "batch_size": "12,000 vials of 1 mL (100 mg) — 16.0 L formulated bulk",
        "yield_lines": (("Theoretical quantity (vials)", f"{theoretical:,}"), ("Vials filled", f"{filled:,}"),
                        ("Rejected at visual inspection", f"{rejects:,}"),
                        ("QC, sterility and retention samples", f"{samples:,}"),
                        ("Accepted vials", f"{accepted:,}")),
        "yield_limits": "95.0–101.0 %", "yield_pct": f"{100 * accepted / theoretical:.1f} %",
        "accountability": f"{100 * (accepted + rejects + samples) / filled:.1f} %", "output": accepted,
    }


def _nwb9_record(party: Party, rng: random.Random, started: dt.date, deviations: list[Deviation]
                 ) -> dict[str, Any]:
    clock = _Clock(started, rng)
    equipment = _equipment(party, rng, started, (
        ("BR-2000", "Single-use bioreactor 2000 L"), ("BR-400", "Seed bioreactor 400 L (N-1)"),
        ("AKTA-P3", "Chromatography skid, process scale"), ("VF-1", "Viral filtration skid (Planova 20N)"),
        ("TFF-2", "Tangential flow filtration skid"), ("FL-M1", "Filling line M1, RABS")))
    materials = _materials(party, rng, clock, (
        ("Working cell bank vial WCB-NW9-02", "CB-NW9", "WCB-02-", 1, "vial", "—"),
        ("Production medium CD-CHO-NW9", "MED-201", "MED-", 1400, "L", "load cell"),
        ("Feed medium F-NW9", "MED-310", "FEED-", 320, "L", "load cell"),
        ("MabSelect SuRe resin (column PA-450)", "RES-010", "MSS-", 45, "L", "—"),
        ("20R type I glass vials", "PK-2020", "SCH-20R-26-", 9400, "pcs", "count")))
    days = []
    vcd, viability, titer = 0.6, 98.5, 0.0
    for day in range(0, 15, 2):
        vcd = min(vcd * rng.uniform(1.9, 2.4), rng.uniform(17, 21)) if day else vcd
        viability = 98.5 - max(0, day - 6) * rng.uniform(0.6, 1.2)
        titer = 0.0 if day < 2 else titer + rng.uniform(0.25, 0.55)
        days.append((f"Day {day}", f"{vcd:.1f}", f"{viability:.1f}", f"{rng.uniform(6.95, 7.10):.2f}",
                     f"{rng.randint(35, 45)}", f"{rng.uniform(2.5, 6.0):.1f}", f"{titer:.2f}"))
    stages: list[dict[str, Any]] = [
        {"title": "Seed train and production bioreactor (BR-2000)", "steps": _steps(party, rng, clock, (
            ("Thaw WCB vial; viability at thaw", "≥ 90 %", f"{rng.uniform(95, 98.5):.1f} %", 30, ""),
            ("N-1 seed (BR-400) viability at transfer", "≥ 95 %", f"{rng.uniform(96.5, 99):.1f} %", 60, ""),
            ("Inoculation density, BR-2000", "0.5–0.8 × 10⁶ cells/mL", f"{rng.uniform(0.55, 0.72):.2f} × 10⁶",
             30, ""),
            ("Temperature shift on day 5", "36.5 → 33.0 °C", "Done", 60, ""),
            ("Bolus feeds, days 3, 5, 7, 9, 11", "3 % v/v each", "5 of 5", 30, ""),
        )), "table": {"columns": ("Culture day", "VCD (10⁶/mL)", "Viability (%)", "pH", "DO (%)",
                                  "Glucose (g/L)", "Titer (g/L)"), "rows": days}},
        {"title": "Harvest and purification", "steps": _steps(party, rng, clock, (
            ("Harvest on day 14; depth filtration; clarified volume", "1800–2000 L",
             f"{rng.randint(1840, 1960)} L", 240, ""),
            ("Protein A capture (4 cycles); step yield", "≥ 85 %", f"{rng.uniform(89, 95):.1f} %", 480, ""),
            ("Low-pH viral inactivation", "pH 3.5–3.7, 60–90 min",
             f"pH {rng.uniform(3.55, 3.65):.2f}, {rng.randint(65, 85)} min", 120, ""),
            ("Cation exchange (bind-elute) and anion exchange (flow-through)", "Per MBR", "Complete", 600, ""),
            ("Viral filtration, Planova 20N; post-use integrity (gold particle)", "LRV ≥ 4.0", "Passed", 360, ""),
            ("UF/DF into formulation buffer; concentration", "19.0–21.0 mg/mL",
             f"{rng.uniform(19.6, 20.4):.1f} mg/mL", 300, ""),
        ))},
        {"title": "Sterile filtration and fill (line M1)", "steps": _steps(party, rng, clock, (
            ("Post-use filter integrity (bubble point)", "≥ 3450 mbar", f"{rng.randint(3560, 3690)} mbar", 90, ""),
            ("Fill volume 20.6 mL into 20R vials (IPC, every 30 min)", "20.3–20.9 mL",
             f"{rng.uniform(20.52, 20.68):.2f} mL (mean)", 300, ""),
            ("Environmental monitoring, grade A", "< 1 CFU", "0 CFU", 30, ""),
        ))},
    ]
    theoretical = 9_000
    filled = rng.randint(8_930, 8_990)
    rejects = rng.randint(40, 90)
    samples = 120
    accepted = filled - rejects - samples
    return {
        "materials_title": "Materials and cell bank issue", "equipment": equipment, "materials": materials,
        "stages": stages, "batch_size": "9,000 vials of 400 mg / 20 mL (2000 L bioreactor run)",
        "yield_lines": (("Theoretical quantity (vials)", f"{theoretical:,}"), ("Vials filled", f"{filled:,}"),
                        ("Rejected at inspection", f"{rejects:,}"), ("QC and retention samples", f"{samples:,}"),
                        ("Accepted vials", f"{accepted:,}")),
        "yield_limits": "90.0–101.0 %", "yield_pct": f"{100 * accepted / theoretical:.1f} %",
        "accountability": f"{100 * (accepted + rejects + samples) / filled:.1f} %", "output": accepted,
    }


def _hlx_tests(rng: random.Random) -> list[Test]:
    return [
        Test("Appearance", "Visual", "White, round, biconvex film-coated tablets debossed \"HX 50\"", "Complies"),
        Test("Identification", "HPLC (RT), UV", "Conforms to reference standard", "Conforms"),
        Test("Assay", "HPLC, TM-HLX-003", "95.0–105.0 % of label claim", f"{rng.uniform(98.2, 101.6):.1f} %"),
        Test("Related substances, largest unspecified", "HPLC, TM-HLX-004", "≤ 0.20 %",
             f"{rng.uniform(0.04, 0.09):.2f} %"),
        Test("Related substances, total", "HPLC, TM-HLX-004", "≤ 1.0 %", f"{rng.uniform(0.2, 0.4):.2f} %"),
        Test("Dissolution (30 min)", "USP <711>, paddle 50 rpm", "Q = 80 % at 30 min",
             f"{rng.randint(89, 96)} % (S1, min {rng.randint(85, 88)} %)"),
        Test("Uniformity of dosage units", "USP <905>, content uniformity", "AV ≤ 15.0",
             f"AV {rng.uniform(2.8, 5.5):.1f}"),
        Test("Water content", "Karl Fischer", "≤ 5.0 %", f"{rng.uniform(2.6, 3.6):.1f} %"),
        Test("Microbial enumeration (TAMC / TYMC)", "USP <61>", "≤ 1000 / ≤ 100 CFU/g", "< 10 / < 10 CFU/g"),
        Test("Escherichia coli", "USP <62>", "Absent in 1 g", "Absent"),
    ]


def _nwb7_tests(rng: random.Random) -> list[Test]:
    return [
        Test("Appearance", "Visual, Ph. Eur. 2.2.1/2.2.2", "Clear to slightly opalescent, colourless to slightly "
             "yellow", "Clear, colourless"),
        Test("pH", "Ph. Eur. 2.2.3", "5.5–6.5", f"{rng.uniform(5.92, 6.08):.2f}"),
        Test("Protein concentration", "UV A280", "95–105 mg/mL", f"{rng.uniform(98.6, 101.4):.1f} mg/mL"),
        Test("Identity", "Peptide mapping", "Conforms to reference standard", "Conforms"),
        Test("Purity, monomer", "SE-HPLC", "≥ 95.0 %", f"{rng.uniform(98.4, 99.3):.1f} %"),
        Test("Purity, HC + LC", "CE-SDS (reduced)", "≥ 95.0 %", f"{rng.uniform(97.5, 98.9):.1f} %"),
        Test("Charge variants, main peak", "icIEF", "55–75 %", f"{rng.uniform(62, 68):.1f} %"),
        Test("Potency", "Cell-based bioassay", "70–130 % of reference", f"{rng.randint(91, 112)} %"),
        Test("Bacterial endotoxins", "Ph. Eur. 2.6.14", "≤ 0.50 EU/mg", f"< {rng.choice((0.05, 0.1))} EU/mg"),
        Test("Sterility", "Ph. Eur. 2.6.1", "No growth", "No growth"),
        Test("Subvisible particles ≥ 10 µm / ≥ 25 µm", "Ph. Eur. 2.9.19 (LO)", "≤ 6000 / ≤ 600 per container",
             f"{rng.randint(40, 180)} / {rng.randint(0, 12)}"),
        Test("Osmolality", "Ph. Eur. 2.2.35", "270–330 mOsm/kg", f"{rng.randint(288, 305)} mOsm/kg"),
        Test("Polysorbate 80", "HPLC-CAD", "0.10–0.30 mg/mL", f"{rng.uniform(0.18, 0.22):.2f} mg/mL"),
    ]


def _nwb9_tests(rng: random.Random) -> list[Test]:
    return [
        Test("Appearance", "Visual", "Clear to slightly opalescent, colourless to pale yellow", "Complies"),
        Test("pH", "Ph. Eur. 2.2.3", "5.7–6.3", f"{rng.uniform(5.95, 6.05):.2f}"),
        Test("Protein content", "UV A280", "19.0–21.0 mg/mL", f"{rng.uniform(19.6, 20.4):.1f} mg/mL"),
        Test("Identity", "Peptide mapping, icIEF", "Conforms to reference standard", "Conforms"),
        Test("Purity, monomer", "SE-HPLC", "≥ 96.0 %", f"{rng.uniform(98.1, 99.0):.1f} %"),
        Test("Charge variants, acidic", "CEX-HPLC", "Report (clinical)", f"{rng.uniform(22.5, 26.5):.1f} %"),
        Test("Afucosylated glycans", "HILIC-FLD", "6–12 %", f"{rng.uniform(7.5, 10.5):.1f} %"),
        Test("Potency (ADCC)", "Reporter-gene bioassay", "70–130 % of reference", f"{rng.randint(88, 116)} %"),
        Test("Host cell protein", "ELISA", "≤ 100 ng/mg", f"{rng.randint(8, 35)} ng/mg"),
        Test("Residual DNA", "qPCR", "≤ 10 pg/mg", f"< {rng.choice((1, 2))} pg/mg"),
        Test("Residual Protein A", "ELISA", "≤ 10 ng/mg", f"{rng.uniform(0.5, 2.4):.1f} ng/mg"),
        Test("Bacterial endotoxins", "Ph. Eur. 2.6.14", "≤ 0.20 EU/mg", "< 0.02 EU/mg"),
        Test("Sterility", "Ph. Eur. 2.6.1", "No growth", "No growth"),
    ]


RECORDS: dict[str, Callable[..., dict[str, Any]]] = {"HLX-101": _hlx_record, "NWB-7": _nwb7_record,
                                                      "NWB-9": _nwb9_record}
TESTS: dict[str, Callable[[random.Random], list[Test]]] = {"HLX-101": _hlx_tests, "NWB-7": _nwb7_tests,
                                                           "NWB-9": _nwb9_tests}


def results_for(plan: Plan, rng: random.Random) -> list[Test]:
    """The product's certificate lines, with the plan's exceptional lines in place of the ordinary ones."""
    lines = TESTS[plan.product](rng)
    for name, special in plan.results.items():
        lines = [special if line.test.startswith(name) else line for line in lines]
    return lines


# --- Rendering ---------------------------------------------------------------------------------------------------


#: Rendered documents by the SHA-256 of their HTML: a process that seeds more than once (the test suite) lays out
#: each identical document once. The first seed of ``make run`` renders everything.
_RENDERED: dict[str, bytes] = {}


def _key(html: str) -> str:
    return hashlib.sha256(html.encode()).hexdigest()


def render_all(htmls: list[str]) -> None:
    """Lay out every document not rendered yet, on all cores: WeasyPrint's layout is most of the seed's time, and
    it needs nothing from the database, so it runs before any service call, in spawned workers."""
    todo = {_key(html): html for html in htmls if _key(html) not in _RENDERED}
    workers = min(len(todo), os.cpu_count() or 1, 4)
    pdfs: list[bytes] | None = None
    if workers > 1:
        try:
            with multiprocessing.get_context("spawn").Pool(workers) as pool:
                pdfs = pool.map(pdfwork.render, list(todo.values()), chunksize=1)
        except OSError:  # no process can be started here: render in this process instead
            pdfs = None
    if pdfs is None:
        pdfs = [pdfwork.render(html) for html in todo.values()]
    _RENDERED.update(zip(todo, pdfs, strict=True))


def _pdf(html: str) -> bytes:
    if _key(html) not in _RENDERED:
        render_all([html])
    return _RENDERED[_key(html)]


def _upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    return dt.date(day.year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)


@dataclass(frozen=True)
class _File:
    kind: str
    name: str
    title: str
    html: str


@dataclass
class _Lot:
    """One lot as the seed prepares it: its record's content and its documents' HTML, before any service call."""

    plan: Plan
    party: Party
    product: Product
    site: Site
    started: dt.date
    completed: dt.date | None
    record: dict[str, Any] = field(default_factory=dict)
    tests: list[Test] = field(default_factory=list)
    deviations: list[Deviation] = field(default_factory=list)
    files: list[_File] = field(default_factory=list)

    @property
    def common(self) -> dict[str, Any]:
        return {"cmo": self.party.cmo, "site": self.site, "product": self.product, "lot": self.plan.lot,
                "started": self.started, "completed": self.completed, "batch_size": self.record["batch_size"],
                "expiry": add_months(self.started, self.party.shelf_life_months), "mbr": self.party.mbr,
                "sponsor": self.product.organization.name}


def _prepare(plan: Plan, today: dt.date) -> _Lot:
    party = PARTIES[plan.product]
    started = today - dt.timedelta(days=plan.made)
    completed = None if plan.to == "production" else started + dt.timedelta(days=party.days_to_complete)
    product = Product.objects.select_related("organization").get(code=plan.product)
    lot = _Lot(plan, party, product, Site.objects.get(name=party.site), started, completed)
    if plan.to == "production":
        return lot
    rng = random.Random(f"{plan.lot}/record")
    lot.tests = results_for(plan, rng)
    with acting_as(party.qa):  # the lot's deviations, as its CMO numbered them (deviations/demo.py names the lots)
        lot.deviations = list(Deviation.objects.filter(
            lines__product__code=plan.product, lines__batch_numbers__contains=[plan.lot]).distinct()
            .order_by("number"))
    lot.record = RECORDS[plan.product](party, rng, started, lot.deviations)
    ebr_title = f"Executed batch record {plan.lot} ({party.mbr})"
    if plan.corrected:
        lot.files.append(_File(Document.Kind.EXECUTED_BATCH_RECORD, f"EBR_{plan.lot}_scan1.pdf", ebr_title,
                               _ebr(lot)))
    lot.files.append(_File(Document.Kind.EXECUTED_BATCH_RECORD, f"EBR_{plan.lot}.pdf",
                           ebr_title + (" — re-issued" if plan.corrected else ""), _ebr(lot, plan.corrected)))
    if plan.coa:
        lot.files.append(_File(Document.Kind.CERTIFICATE_OF_ANALYSIS, f"CoA_{plan.lot}.pdf",
                               f"Certificate of analysis {plan.lot}", _coa(lot, today)))
    if plan.report:
        lot.files.append(_File(Document.Kind.OTHER, f"{plan.report.reference}.pdf", plan.report.title,
                               _report(lot, plan.report, today)))
    return lot


def _ebr(lot: _Lot, revision_note: str = "") -> str:
    return render_to_string("batches/ebr_pdf.html", {
        **lot.common, **lot.record, "deviations": lot.deviations, "comments": lot.plan.comments,
        "revision_note": revision_note,
        "signoff": (("Record compiled", lot.party.compiler, lot.completed, "All entries made at the time of the "
                     "activity; blanks struck through."),
                    ("Production review", lot.party.supervisor, lot.completed,
                     "Record complete and reviewed; exceptions listed in the deviations section.")),
    })


def _coa(lot: _Lot, today: dt.date) -> str:
    complies = all(t.passed for t in lot.tests)
    assert lot.completed is not None
    signed = min(lot.completed + dt.timedelta(days=9), today)
    conclusion = ("The lot complies with the specification." if complies else
                  "The lot DOES NOT comply with the specification: "
                  + ", ".join(t.test for t in lot.tests if not t.passed) + ".")
    return render_to_string("batches/coa_pdf.html", {
        **lot.common, "title": "Certificate of analysis", "tests": lot.tests, "complies": complies,
        "conclusion": conclusion, "specification": lot.party.specification,
        "reference": f"CoA-{lot.plan.lot}", "signatory": lot.party.qc_signatory,
        "signatory_title": lot.party.qc_title, "signed_on": signed, "paragraphs": [],
    })


def _report(lot: _Lot, report: Report, today: dt.date) -> str:
    assert lot.completed is not None
    return render_to_string("batches/coa_pdf.html", {
        **lot.common, "title": report.title, "intro": report.intro, "tests": report.tests, "complies": True,
        "conclusion": report.conclusion, "specification": lot.party.specification, "reference": report.reference,
        "signatory": lot.party.qc_signatory, "signatory_title": lot.party.qc_title,
        "signed_on": min(lot.completed + dt.timedelta(days=7), today), "paragraphs": report.paragraphs,
    })


# --- Building one lot through the services -----------------------------------------------------------------------

SECRET: dict[str, str] = {}


def _request() -> Any:
    return RequestFactory().post("/batches/sign/", REMOTE_ADDR="198.51.100.20")


def _fresh(batch: Batch) -> Batch:
    return Batch.objects.select_related("product", "site", "partnership", "organization", "sponsor",
                                        "review_deadline").get(pk=batch.pk)


def _mention(text: str, deviations: list[Deviation]) -> str:
    """Fill ``{deviations}`` ("Deviation DEV-…", to begin a sentence) and ``{numbers}`` ("DEV-…") in a
    justification or reason with the lot's open deviations as the CMO numbered them."""
    numbers = [d.number for d in deviations if d.state not in selectors.CLOSED_DEVIATION]
    named = f"Deviation{'s' if len(numbers) > 1 else ''} {', '.join(numbers)}" if numbers else "The deviation"
    return text.format(deviations=named, numbers=", ".join(numbers) or "the deviation")


def _register(lot: _Lot) -> Batch:
    plan, party = lot.plan, lot.party
    with acting_as(party.operator) as operator:
        batch = services.batch_create(
            membership=operator, product=lot.product, site=lot.site, lot_number=plan.lot,
            manufactured_on=lot.started, completed_on=lot.completed,
            expiry_date=add_months(lot.started, party.shelf_life_months) if lot.completed else None,
            quantity=Decimal(lot.record.get("output") or party.batch_size),
            unit=party.unit,
            planned_delivery_date=(lot.completed or lot.started + dt.timedelta(days=party.days_to_complete))
            + dt.timedelta(days=30))
    return batch


def _build(lot: _Lot, today: dt.date) -> Batch:
    plan, party, deviations = lot.plan, lot.party, lot.deviations
    batch = _register(lot)
    if plan.to == "production":
        return batch
    with acting_as(party.qa) as qa:
        for file in lot.files:
            services.document_add(membership=qa, batch=batch, kind=file.kind, title=file.title,
                                  upload=_upload(file.name, _pdf(file.html)))
        if plan.changes:
            services.changes_set(membership=qa, batch=_fresh(batch),
                                 changes=[services.ChangeLine(ref, title) for ref, title in plan.changes])
    with acting_as(party.operator) as operator:
        if plan.coa:
            services.qc_results_set(membership=operator, batch=_fresh(batch), results=[
                services.QcLine(t.test, t.specification, t.result, t.passed, t.oos) for t in lot.tests])
        if plan.to == "record":
            return batch
        services.batch_submit(membership=operator, batch=_fresh(batch))
    if plan.to == "cmo_review":
        return batch
    _cmo_decides(lot, batch, deviations)
    if plan.to == "cmo_reject":
        return batch
    if plan.clock:
        _age_review_clock(party, _fresh(batch), plan.clock)
    if plan.ask:
        _queries(party, _fresh(batch), plan.ask)
    if plan.to == "sponsor_review":
        return batch
    _sponsor_decides(lot, batch, deviations)
    if plan.delivered is not None and plan.to != "sponsor_reject":
        assert lot.completed is not None
        with acting_as(party.operator) as operator:
            services.batch_record_delivery(membership=operator, batch=_fresh(batch),
                                           actual_delivery_date=min(lot.completed + dt.timedelta(days=plan.delivered),
                                                                    today))
    return batch


def _cmo_decides(lot: _Lot, batch: Batch, deviations: list[Deviation]) -> None:
    plan = lot.plan
    choice = "reject" if plan.to == "cmo_reject" else "conditional" if plan.cmo_conditional else "release"
    with acting_as(lot.party.qa) as qa:
        services.batch_dispose(
            request=_request(), membership=qa, batch=_fresh(batch), choice=choice, password=SECRET["password"],
            justification=_mention(plan.cmo_conditional, deviations),
            reason=_mention(plan.reject, deviations) if plan.to == "cmo_reject" else "")


def _sponsor_decides(lot: _Lot, batch: Batch, deviations: list[Deviation]) -> None:
    plan = lot.plan
    choice = ("reject" if plan.to == "sponsor_reject" else "conditional" if plan.sponsor_conditional
              else "release")
    with acting_as(lot.party.sponsor_qa) as sponsor:
        services.batch_dispose(
            request=_request(), membership=sponsor, batch=_fresh(batch), choice=choice,
            password=SECRET["password"], justification=_mention(plan.sponsor_conditional, deviations),
            reason=plan.reject if plan.to == "sponsor_reject" else "")


def _queries(party: Party, batch: Batch, ask: Ask) -> None:
    with acting_as(party.sponsor_qa) as sponsor:
        query = services.query_raise(membership=sponsor, batch=batch, subject=ask.subject, body=ask.question)
    if ask.answer:
        with acting_as(party.qa) as qa:
            services.query_reply(membership=qa, query=query, body=ask.answer)
    if ask.close_note:
        with acting_as(party.sponsor_qa) as sponsor:
            query.refresh_from_db()
            services.query_close(membership=sponsor, query=query, note=ask.close_note)


def _starts(deadline: Any, target: str, now: dt.datetime) -> Iterator[dt.datetime]:
    """Candidate starts, latest first, that put the review clock in ``target`` (due soon, or two days overdue)."""
    rule = deadline.rule()
    for days in range(1, 60):
        start = now - dt.timedelta(days=days)
        plan = clocks.schedule_for(deadline.organization_id, rule, start)
        if target == "due_soon" and plan.due_soon_at <= now < plan.due_at:
            yield start
        if target == "overdue" and plan.due_at < now - dt.timedelta(days=2):
            yield start


def _age_review_clock(party: Party, batch: Batch, target: str) -> None:
    """The demo is loaded in one go, so every review clock would start now: count some from earlier days instead,
    through the clock's own service, with the reason on record."""
    deadline = batch.review_deadline
    assert deadline is not None
    start = next(_starts(deadline, target, timezone.now()))
    reason = (f"Demo data: the sponsor's review window counts from {start:%d %b %Y}, as if {batch} had been sent "
              "to the sponsor that day (the demo is loaded in one go).")
    with acting_as(party.qa):
        clocks.deadline_restart(deadline=deadline, starts_at=start, reason=reason)
        # The queue's age counts from the sending: the day the clock now starts, submitted the day before.
        batch.sent_to_sponsor_at = start
        batch.submitted_at = min(batch.submitted_at or start, start - dt.timedelta(days=1))
        with reason_for_change(reason):
            versioned_save(batch, ["sent_to_sponsor_at", "submitted_at"], None, False)


def seed_batches(password: str) -> int:
    """Load the demo lots once (batches are records with history: a re-seed leaves them alone)."""
    if Batch.objects.exists():
        return 0
    SECRET["password"] = password
    today = timezone.localdate()
    lots = [_prepare(plan, today) for plan in PLANS]
    render_all([file.html for lot in lots for file in lot.files])
    for lot in lots:
        _build(lot, today)
    sweep()  # overdue review clocks show as missed at once, due-soon reminders are in the outbox
    return len(PLANS)
