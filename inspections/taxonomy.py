"""The observation taxonomy (DESIGN.md §4 "Observation taxonomy"): 21 CFR 211 subparts and FDA's six systems.

A 483 observation cites a section ("21 CFR 211.22(d)"); the section's subpart follows from its number, and the
subpart suggests one of the six systems of FDA's drug-manufacturing inspection programme (CP 7356.002). A few
sections of subpart J belong to another system than "quality" in that programme (batch production records to
production, laboratory records to laboratory, equipment logs to facilities & equipment, component records to
materials), so they are named explicitly. The suggestion is only a suggestion: the CMO may choose another, and
the observation keeps both, with the taxonomy version it was suggested from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db import models

VERSION = "2026.1"


class Subpart(models.TextChoices):
    A = "A", "A — General provisions"
    B = "B", "B — Organization and personnel"
    C = "C", "C — Buildings and facilities"
    D = "D", "D — Equipment"
    E = "E", "E — Components, containers and closures"
    F = "F", "F — Production and process controls"
    G = "G", "G — Packaging and labeling control"
    H = "H", "H — Holding and distribution"
    I = "I", "I — Laboratory controls"  # noqa: E741  (the regulation's own letter)
    J = "J", "J — Records and reports"
    K = "K", "K — Returned and salvaged drug products"


class System(models.TextChoices):
    QUALITY = "quality", "Quality"
    FACILITIES_EQUIPMENT = "facilities_equipment", "Facilities & equipment"
    MATERIALS = "materials", "Materials"
    PRODUCTION = "production", "Production"
    PACKAGING_LABELLING = "packaging_labelling", "Packaging & labelling"
    LABORATORY = "laboratory", "Laboratory"


#: (first section, last section, subpart, system): the section ranges of 21 CFR 211 in order.
RANGES: tuple[tuple[int, int, str, str], ...] = (
    (1, 3, Subpart.A, System.QUALITY),
    (22, 34, Subpart.B, System.QUALITY),
    (42, 58, Subpart.C, System.FACILITIES_EQUIPMENT),
    (63, 72, Subpart.D, System.FACILITIES_EQUIPMENT),
    (80, 94, Subpart.E, System.MATERIALS),
    (100, 115, Subpart.F, System.PRODUCTION),
    (122, 137, Subpart.G, System.PACKAGING_LABELLING),
    (142, 150, Subpart.H, System.MATERIALS),
    (160, 176, Subpart.I, System.LABORATORY),
    (180, 198, Subpart.J, System.QUALITY),
    (204, 208, Subpart.K, System.QUALITY),
)

#: Sections whose system differs from their subpart's usual one (CP 7356.002).
SYSTEM_BY_SECTION: dict[int, str] = {
    182: System.FACILITIES_EQUIPMENT,  # equipment cleaning and use log
    184: System.MATERIALS,  # component, container, closure and labeling records
    186: System.PRODUCTION,  # master production and control records
    188: System.PRODUCTION,  # batch production and control records
    194: System.LABORATORY,  # laboratory records
}

SECTION = re.compile(r"\b211\.(\d{1,3})")


@dataclass(frozen=True)
class Suggestion:
    section: str
    subpart: str
    system: str

    @property
    def label(self) -> str:
        return f"{Subpart(self.subpart).label} / {System(self.system).label}"


def suggest(cited_regulation: str) -> Suggestion | None:
    """The subpart and system for the first 21 CFR 211 section cited, or None (another part, or no section)."""
    match = SECTION.search(cited_regulation or "")
    if match is None:
        return None
    number = int(match.group(1))
    for first, last, subpart, system in RANGES:
        if first <= number <= last:
            return Suggestion(section=f"211.{number}", subpart=subpart,
                              system=SYSTEM_BY_SECTION.get(number, system))
    return None
