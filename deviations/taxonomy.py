"""The standard root-cause taxonomy: a versioned tree kept in code (so every environment, test database and
restored backup has the same one), which an organization extends with sub-codes of its own (``RootCauseCode``).

The six categories are the Ishikawa "6M" used across GMP investigations (people, method, machine, material,
measurement, environment). A deviation stores the code and the taxonomy version it was coded against, so a later
version of the tree never silently re-labels an old investigation.
"""

from __future__ import annotations

from dataclasses import dataclass

VERSION = "2026.1"


@dataclass(frozen=True)
class CauseSpec:
    code: str
    name: str
    parent: str = ""


CATEGORIES: tuple[CauseSpec, ...] = (
    CauseSpec("PEO", "People"),
    CauseSpec("MET", "Method"),
    CauseSpec("MAC", "Machine"),
    CauseSpec("MAT", "Material"),
    CauseSpec("MEA", "Measurement"),
    CauseSpec("ENV", "Environment"),
)

CODES: tuple[CauseSpec, ...] = (
    CauseSpec("PEO-01", "Procedure not followed", "PEO"),
    CauseSpec("PEO-02", "Training inadequate or not effective", "PEO"),
    CauseSpec("PEO-03", "Documentation error (GDP)", "PEO"),
    CauseSpec("PEO-04", "Communication / hand-over failure", "PEO"),
    CauseSpec("MET-01", "Procedure unclear or incorrect", "MET"),
    CauseSpec("MET-02", "Process parameter not robust", "MET"),
    CauseSpec("MET-03", "Batch record instruction missing or wrong", "MET"),
    CauseSpec("MET-04", "Change not implemented as approved", "MET"),
    CauseSpec("MAC-01", "Equipment failure or breakdown", "MAC"),
    CauseSpec("MAC-02", "Preventive maintenance / calibration overdue", "MAC"),
    CauseSpec("MAC-03", "Equipment design or qualification gap", "MAC"),
    CauseSpec("MAC-04", "Computerized system / automation fault", "MAC"),
    CauseSpec("MAT-01", "Raw material out of specification", "MAT"),
    CauseSpec("MAT-02", "Supplier change or supplier quality", "MAT"),
    CauseSpec("MAT-03", "Component / container-closure defect", "MAT"),
    CauseSpec("MAT-04", "Material mix-up or mislabelling", "MAT"),
    CauseSpec("MEA-01", "Analytical method variability", "MEA"),
    CauseSpec("MEA-02", "Instrument out of calibration", "MEA"),
    CauseSpec("MEA-03", "Sampling error", "MEA"),
    CauseSpec("MEA-04", "Laboratory error (confirmed)", "MEA"),
    CauseSpec("ENV-01", "Environmental monitoring excursion", "ENV"),
    CauseSpec("ENV-02", "HVAC / differential pressure failure", "ENV"),
    CauseSpec("ENV-03", "Water / utility system excursion", "ENV"),
    CauseSpec("ENV-04", "Pest or contamination event", "ENV"),
    CauseSpec("UND-01", "Root cause not determined (justified)", ""),
)

STANDARD: dict[str, CauseSpec] = {c.code: c for c in (*CATEGORIES, *CODES)}
CATEGORY_CODES = frozenset(c.code for c in CATEGORIES)


def is_category(code: str) -> bool:
    return code in CATEGORY_CODES


def label(code: str, own: dict[str, str] | None = None) -> str:
    """``MAC-02 Preventive maintenance / calibration overdue`` (the organization's own names included)."""
    if not code:
        return ""
    spec = STANDARD.get(code)
    name = spec.name if spec else (own or {}).get(code, "")
    return f"{code} {name}".strip()
