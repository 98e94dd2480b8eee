"""Inspections for the tests: built through the services, as the member named would in a request.

The FDA routine inspection at Acme Boston has Helix (HLX-101) and Northwind (NWB-7, tested at Boston's lab) in
scope; the pre-approval inspection at Borealis Montreal reviews Northwind's application for NWB-9. The 483
response is reviewed by ``acme.reviewer`` (a QA reviewer added to the cast) and approved by ``acme.qa``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.test import RequestFactory

from agreements import services as agreement_services
from agreements.models import QualityAgreement
from inspections import services
from inspections.models import Form483, Inspection, Observation
from inspections.services import Affected, ScopeLine
from tenants.permissions import Role
from tests.agreements.helpers import acting, complete, draft, sign
from tests.deviations.routes import member
from tests.factories import PASSWORD, Cast

REVIEWER = "acme.reviewer"
SINCE = dt.date(2025, 1, 1)


def reviewer(cast: Cast) -> Any:
    return member(cast, REVIEWER, Role.QA_REVIEWER, org="acme")


def noon(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(12, 0), tzinfo=dt.UTC)


def boston_scope(cast: Cast) -> list[ScopeLine]:
    return [ScopeLine(cast.partnership("helix", "acme").pk, cast.products["HLX-101"].pk),
            ScopeLine(cast.partnership("northwind", "acme").pk, cast.products["NWB-7"].pk)]


def inspect(cast: Cast, *, site: str = "Acme Boston", by: str = "acme.qa", authority: str = "fda",
            kind: str = "routine", scope: list[ScopeLine] | None = None, started: dt.date = dt.date(2026, 11, 2),
            now: dt.datetime | None = None) -> Inspection:
    with acting(cast, by):
        inspection = services.inspection_create(
            membership=cast.memberships[by], site=cast.sites[site], authority=authority, inspection_type=kind,
            scope=boston_scope(cast) if scope is None else scope, announced_on=started - dt.timedelta(days=5),
            started_on=started, investigators=["J. Rivera", "K. Osei"], now=now or noon(started))
    return Inspection.objects.get(pk=inspection.pk)


def pai(cast: Cast) -> Inspection:
    """The pre-approval inspection at Borealis Montreal for Northwind's NWB-9 application."""
    scope = [ScopeLine(cast.partnership("northwind", "borealis").pk, cast.products["NWB-9"].pk, "BLA 761234")]
    return inspect(cast, site="Borealis Montreal", by="borealis.qa", kind="pre_approval", scope=scope)


def record_483(cast: Cast, inspection: Inspection, issued_on: dt.date, *, by: str = "acme.qa",
               now: dt.datetime | None = None) -> Form483:
    with acting(cast, by):
        form483 = services.form483_record(membership=cast.memberships[by], inspection=inspection,
                                          issued_on=issued_on, now=now or noon(issued_on))
    return Form483.objects.select_related("response_deadline", "inspection").get(pk=form483.pk)


def observe(cast: Cast, form483: Form483, cited: str = "21 CFR 211.67(a)", *, by: str = "acme.qa",
            text: str = "Equipment cleaning procedures were not followed.", **kwargs: Any) -> Observation:
    with acting(cast, by):
        return services.observation_add(membership=cast.memberships[by], form483=form483, text=text,
                                        cited_regulation=cited, **kwargs)


def affected(cast: Cast, sponsor: str, product: str | None = None) -> Affected:
    return Affected(cast.partnership(sponsor, "acme").pk, cast.products[product].pk if product else None)


def respond(cast: Cast, observation: Observation, *, by: str = "acme.qa",
            target: dt.date = dt.date(2027, 3, 31)) -> Observation:
    with acting(cast, by):
        return services.response_draft(membership=cast.memberships[by], observation=observation,
                                       commitment="Revise SOP-CL-004 and retrain the cleaning crew.",
                                       actions="SOP revised; training started.", target_on=target,
                                       evidence="SOP-CL-004 rev 5 (draft)")


def sign_483(cast: Cast, form483: Form483, username: str, step: str, password: str = PASSWORD) -> Any:
    with acting(cast, username):
        return services.form483_sign(request=RequestFactory().post("/", REMOTE_ADDR="203.0.113.9"),
                                     membership=cast.memberships[username], form483=form483, step=step,
                                     password=password)


def agreement_with_windows(cast: Cast, sponsor: str, cmo: str,
                           windows: dict[str, tuple[int, str, str]]) -> QualityAgreement:
    """An effective agreement (in force since ``SINCE``) whose notification windows are ``windows``."""
    agreement = complete(cast, draft(cast, sponsor, cmo), f"{sponsor}.qa", SINCE)
    with acting(cast, f"{sponsor}.qa"):
        agreement_services.windows_update(membership=cast.memberships[f"{sponsor}.qa"], agreement=agreement,
                                          windows=windows)
    agreement.refresh_from_db()
    with acting(cast, f"{cmo}.qa"):
        agreement_services.agreement_submit(membership=cast.memberships[f"{cmo}.qa"], agreement=agreement)
    sign(cast, agreement, f"{sponsor}.qa", "approve-sponsor")
    sign(cast, agreement, f"{cmo}.qa", "approve-cmo")
    agreement.refresh_from_db()
    return agreement

