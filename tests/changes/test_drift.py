"""Drift flags for the agreement page (changes.drift).

The services refuse to implement what these flags catch, so the drift is built here with direct ORM writes in the
system context, as history loaded before a rule applied (or an import) would leave it.
"""

from __future__ import annotations

import pytest
from django.utils import timezone

from changes.drift import drift_flags
from changes.models import AffectedProduct, ChangeRequest, FilingAssessment, SponsorRoute
from tests.changes.helpers import assess, confirm_all, implement, qa_approve, raise_change, sponsor_sign, submit

pytestmark = pytest.mark.django_db


def _implemented(cast, change_type: str, product: str = "HLX-101") -> ChangeRequest:
    """An implemented change recorded straight into the database: no route, approval or filing assessment."""
    today = timezone.localdate()
    change = ChangeRequest.objects.create(
        organization=cast.orgs["acme"], number=f"CHG-HIST-{change_type[:8]}", title="Loaded from paper",
        description="x", reason="x", change_type=change_type, site=cast.sites["Acme Boston"],
        proposed_implementation_date=today, state=ChangeRequest.State.IMPLEMENTED, implemented_at=timezone.now(),
        created_by=cast.users["acme.qa"])
    partnership = cast.partnership("helix", "acme")
    AffectedProduct.objects.create(change=change, organization=cast.orgs["acme"], partnership=partnership,
                                   sponsor=cast.orgs["helix"], product=cast.products[product])
    return change


def test_implemented_without_approval_or_filing_assessment_is_flagged(cast):
    change = _implemented(cast, "specification")
    flags = drift_flags(cast.partnership("helix", "acme"))
    assert {(f.code, f.number) for f in flags} == {("approval_missing", change.number),
                                                   ("filing_missing", change.number)}
    assert "without the sponsor's signed approval" in flags[0].text
    assert drift_flags(cast.partnership("northwind", "acme")) == []


def test_an_undecided_filing_assessment_is_flagged(cast):
    change = _implemented(cast, "packaging")  # notification-only by default: no approval flag
    line = AffectedProduct.objects.get(change=change)
    FilingAssessment.objects.create(change=change, line=line, organization=cast.orgs["acme"],
                                    partnership=line.partnership, sponsor=line.sponsor, product=line.product,
                                    market="US", suggested_category="annual_report", rule_text="x",
                                    rules_version="2026.1")
    flags = drift_flags(cast.partnership("helix", "acme"))
    assert [(f.code, f.text) for f in flags] == [
        ("filing_missing", f"{change.number} was implemented with the filing for HLX-101 never decided by the "
                           "sponsor.")]


def test_a_like_for_like_equipment_change_never_notified_is_flagged(cast):
    change = _implemented(cast, "equipment_like_for_like")
    codes = {f.code for f in drift_flags(cast.partnership("helix", "acme"))}
    assert codes == {"never_notified", "filing_missing"}
    SponsorRoute.objects.create(change=change, organization=cast.orgs["acme"],
                                partnership=cast.partnership("helix", "acme"), sponsor=cast.orgs["helix"],
                                requirement=SponsorRoute.Requirement.NOTIFY, source="history", lead_days=30)
    assert "never_notified" in {f.code for f in drift_flags(cast.partnership("helix", "acme"))}


def test_a_change_implemented_through_the_services_raises_no_flag(cast):
    change = submit(cast, assess(cast, raise_change(cast)))
    sponsor_sign(cast, change, "helix.qa")
    confirm_all(cast, change, "helix")
    implement(cast, qa_approve(cast, change))
    assert drift_flags(cast.partnership("helix", "acme")) == []
