"""Agreements for the tests: a template draft, and one filled in so that every check passes."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator

from django.db import transaction
from django.test import RequestFactory

from agreements import services
from agreements.catalogue import SECTIONS, NotificationEvent, ReleaseModel
from agreements.models import QualityAgreement
from clocks.calendars import CalendarCode, Unit
from part11 import signatures
from tenants import rls
from tests.factories import PASSWORD, Cast


@contextlib.contextmanager
def acting(cast: Cast, username: str) -> Iterator[None]:
    """Run service calls as ``username`` would in a request: its row-level security context, its name in the trail."""
    member = cast.memberships[username]
    with transaction.atomic(), rls.scoped(rls.Context(user_id=member.user_id, organization_id=member.organization_id,
                                                      membership_id=member.pk)):
        yield

def clean_raci(agreement: QualityAgreement) -> dict[str, tuple[str, str]]:
    """(sponsor, cmo) letters with one Responsible and one Accountable party per activity, no shared A."""
    rows = {}
    for row in agreement.raci.all():
        if row.activity_code in ("batch_release", "regulatory_filings", "recall", "complaint_handling",
                                 "annual_product_review", "subcontractor_approval", "qp_certification"):
            rows[row.activity_code] = ("A", "RC")
        else:
            rows[row.activity_code] = ("CI", "RA")
    return rows


def draft(cast: Cast, sponsor: str = "northwind", cmo: str = "borealis", by: str | None = None) -> QualityAgreement:
    by = by or f"{sponsor}.qa"
    with acting(cast, by):
        return services.agreement_create(membership=cast.memberships[by], partnership=cast.partnership(sponsor, cmo))


def complete(cast: Cast, agreement: QualityAgreement, by: str, effective_from: dt.date | None = None,
             **terms) -> QualityAgreement:
    """Fill every section and term so that no check fails (``terms`` override typed terms, e.g. release_model)."""
    member = cast.memberships[by]
    with acting(cast, by):
        return _complete(member, agreement, effective_from, **terms)


def _complete(member, agreement, effective_from, **terms):
    for spec in SECTIONS:
        services.section_update(membership=member, agreement=agreement, key=spec.key,
                                body=f"## {spec.title}\n\nAgreed text for {spec.title.lower()}.")
    services.raci_update(membership=member, agreement=agreement, rows=clean_raci(agreement))
    services.windows_update(membership=member, agreement=agreement, windows={
        NotificationEvent.FDA_483: (2, Unit.BUSINESS_DAYS, CalendarCode.US_FEDERAL),
        NotificationEvent.FIELD_ALERT: (1, Unit.BUSINESS_DAYS, CalendarCode.US_FEDERAL),
    })
    agreement.refresh_from_db()
    return services.agreement_update(membership=member, agreement=agreement,
                                     **{"release_model": ReleaseModel.CMO_THEN_SPONSOR, "audit_cadence_months": 12,
                                        "effective_from": effective_from or dt.date.today(), **terms})


def sign(cast: Cast, agreement: QualityAgreement, username: str, step: str):
    with acting(cast, username):
        return signatures.sign(request=RequestFactory().post("/"), membership=cast.memberships[username],
                               record=agreement, step=step, password=PASSWORD)


def effective(cast: Cast, sponsor: str = "northwind", cmo: str = "borealis",
              effective_from: dt.date | None = None, **terms) -> QualityAgreement:
    """An agreement in force, signed by both quality units (``terms``: e.g. release_model, batch_review_days)."""
    agreement = complete(cast, draft(cast, sponsor, cmo), f"{sponsor}.qa", effective_from, **terms)
    with acting(cast, f"{cmo}.qa"):
        services.agreement_submit(membership=cast.memberships[f"{cmo}.qa"], agreement=agreement)
    sign(cast, agreement, f"{sponsor}.qa", "approve-sponsor")
    sign(cast, agreement, f"{cmo}.qa", "approve-cmo")
    agreement.refresh_from_db()
    return agreement


# --- Targets for the route matrix (tests/test_route_isolation.py): all on Northwind ↔ Borealis -------------------


def route_draft(cast: Cast) -> QualityAgreement:
    return draft(cast)


def route_complete(cast: Cast) -> QualityAgreement:
    return complete(cast, draft(cast), "northwind.qa")


def route_in_review(cast: Cast) -> QualityAgreement:
    agreement = route_complete(cast)
    with acting(cast, "borealis.qa"):
        services.agreement_submit(membership=cast.memberships["borealis.qa"], agreement=agreement)
    agreement.refresh_from_db()
    return agreement


def route_effective(cast: Cast) -> QualityAgreement:
    return effective(cast)


def route_second_version(cast: Cast) -> QualityAgreement:
    effective(cast, effective_from=dt.date.today() - dt.timedelta(days=30))
    with acting(cast, "borealis.qa"):
        return services.agreement_create(membership=cast.memberships["borealis.qa"],
                                         partnership=cast.partnership("northwind", "borealis"))


def route_consent(cast: Cast):
    with acting(cast, "borealis.qa"):
        return services.consent_propose(membership=cast.memberships["borealis.qa"],
                                        partnership=cast.partnership("northwind", "borealis"),
                                        subcontractor="Nordic Sterility Labs", site="Uppsala", country="SE",
                                        activities=["environmental_monitoring"])


def route_activity(cast: Cast):
    with acting(cast, "borealis.qa"):
        return services.activity_create(membership=cast.memberships["borealis.qa"], code="media_fill",
                                        name="Aseptic process simulation (media fill)", critical=True)
