"""The fixed demo cast (DESIGN.md §5 "A fixed test cast"), as data.

``manage.py seed_demo`` loads it into a running system; ``tests/conftest.py`` builds the same cast with
factories. Two sponsors, two CMOs, one CMO (Acme) serving both sponsors, one sponsor (Northwind) using both
CMOs, and an auditor.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tenants.permissions import Role


@dataclass(frozen=True)
class OrgSpec:
    slug: str
    name: str
    kind: str


@dataclass(frozen=True)
class SiteSpec:
    org: str
    name: str
    country: str
    fei_number: str
    address: str
    activities: tuple[str, ...]


@dataclass(frozen=True)
class ProductSpec:
    org: str
    code: str
    name: str
    dosage_form: str
    modality: str
    markets: tuple[str, ...]


@dataclass(frozen=True)
class PartnershipSpec:
    sponsor: str
    cmo: str
    sites: tuple[str, ...]
    products: tuple[str, ...]
    stage: str
    tier: int
    start_date: dt.date


@dataclass(frozen=True)
class UserSpec:
    username: str
    org: str
    role: str
    first_name: str
    last_name: str
    extra_orgs: tuple[tuple[str, str], ...] = field(default=())

    @property
    def email(self) -> str:
        return f"{self.username}@example.com"


ORGANIZATIONS = (
    OrgSpec("helix", "Helix Therapeutics", "sponsor"),
    OrgSpec("northwind", "Northwind Biologics", "sponsor"),
    OrgSpec("acme", "Acme CDMO", "cmo"),
    OrgSpec("borealis", "Borealis Pharma Services", "cmo"),
)

SITES = (
    SiteSpec("acme", "Acme Boston", "US", "3004567890", "200 Harbor Way, Boston, MA 02210, USA",
             ("api", "drug_product", "packaging", "testing")),
    SiteSpec("acme", "Acme Cork", "IE", "3009876543", "Ringaskiddy, Co. Cork, P43 X000, Ireland",
             ("biologics", "sterile_fill", "testing")),
    SiteSpec("borealis", "Borealis Montreal", "CA", "3012345678", "1200 Rue Sherbrooke, Montréal, QC, Canada",
             ("biologics", "sterile_fill", "testing", "storage")),
)

PRODUCTS = (
    ProductSpec("helix", "HLX-101", "Helixaparib tablets 50 mg", "Film-coated tablet", "small_molecule",
                ("US", "EU")),
    ProductSpec("northwind", "NWB-7", "Nortumab injection 100 mg/mL", "Solution for injection", "biologic",
                ("US", "EU", "UK")),
    ProductSpec("northwind", "NWB-9", "Borvacimab for infusion 400 mg", "Concentrate for infusion", "biologic",
                ("US", "CA")),
)

PARTNERSHIPS = (
    PartnershipSpec("helix", "acme", ("Acme Boston",), ("HLX-101",), "routine", 1, dt.date(2021, 3, 1)),
    PartnershipSpec("northwind", "acme", ("Acme Cork",), ("NWB-7",), "routine", 2, dt.date(2023, 6, 15)),
    PartnershipSpec("northwind", "borealis", ("Borealis Montreal",), ("NWB-9",), "tech_transfer", 2,
                    dt.date(2025, 9, 1)),
)

USERS = (
    UserSpec("helix.qa", "helix", Role.QA_APPROVER, "Hannah", "Lindqvist"),
    UserSpec("helix.viewer", "helix", Role.VIEWER, "Victor", "Hale"),
    UserSpec("helix.admin", "helix", Role.ORG_ADMIN, "Ada", "Helmer"),
    UserSpec("northwind.qa", "northwind", Role.QA_APPROVER, "Nora", "Whitfield"),
    UserSpec("northwind.admin", "northwind", Role.ORG_ADMIN, "Nils", "Ward"),
    UserSpec("acme.qa", "acme", Role.QA_APPROVER, "Amir", "Castellano"),
    UserSpec("acme.operator", "acme", Role.OPERATOR, "Olivia", "Park"),
    UserSpec("acme.admin", "acme", Role.ORG_ADMIN, "Arthur", "Mendes"),
    UserSpec("borealis.qa", "borealis", Role.QA_APPROVER, "Béatrice", "Tremblay"),
    UserSpec("borealis.operator", "borealis", Role.OPERATOR, "Mathieu", "Lavoie"),
    UserSpec("borealis.admin", "borealis", Role.ORG_ADMIN, "Bruno", "Gagnon"),
    UserSpec("auditor", "helix", Role.AUDITOR, "Aurelia", "Quinn"),
)

SUPERUSER = "admin"


def demo_password(var_dir: Path, env_value: str | None) -> str:
    """DEMO_PASSWORD if given; otherwise one generated password, kept under var/ so restarts keep it."""
    if env_value:
        return env_value
    path = var_dir / "demo_password"
    if path.exists():
        return path.read_text().strip()
    password = "demo-" + secrets.token_urlsafe(9)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(password)
    path.chmod(0o600)
    return password


@contextlib.contextmanager
def acting_as(username: str) -> Iterator[Any]:
    """Run demo service calls as ``username`` would in a request (its row-level security context, its name in the
    audit trail), inside the seeding transaction; the demo loaders of every app use it."""
    from tenants import rls
    from tenants.models import Membership

    member = Membership.objects.select_related("user", "organization").get(user__username=username)
    with rls.scoped(rls.Context(user_id=member.user_id, organization_id=member.organization_id,
                                membership_id=member.pk)):
        yield member
