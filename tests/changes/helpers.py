"""Change requests for the tests: built through the services, as the member named would in a request.

Acme's changes are raised by ``acme.author`` (a QA reviewer added to the cast) so that ``acme.qa`` may approve them
(author ≠ approver)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.test import RequestFactory
from django.utils import timezone

from changes import services
from changes.models import ChangeRequest, FilingAssessment
from tenants.permissions import Role
from tests.agreements.helpers import acting
from tests.deviations.routes import member
from tests.factories import PASSWORD, Cast

AUTHOR = "acme.author"

#: Answers that make each demo case come out (changes.filing_rules).
NO_IMPACT = {"affects_filed_information": False, "affects_cqa": False, "validation_impact": False,
             "stability_impact": False, "comparability_needed": False, "sterility_assurance": False}
LIKE_FOR_LIKE = {**NO_IMPACT, "validation_impact": True, "like_for_like": True}
METHOD_CHANGE = {**NO_IMPACT, "affects_filed_information": True, "validation_impact": True,
                 "specification_change": "method", "method_comparable": True}
RELAX = {**NO_IMPACT, "affects_filed_information": True, "affects_cqa": True, "specification_change": "relax",
         "method_comparable": True}
ANSWERS = {"equipment_like_for_like": LIKE_FOR_LIKE, "specification": METHOD_CHANGE}


def signing_request() -> Any:
    return RequestFactory().post("/changes/sign/", REMOTE_ADDR="203.0.113.9")


def author(cast: Cast) -> Any:
    return member(cast, AUTHOR, Role.QA_REVIEWER, org="acme")


def raise_change(cast: Cast, *, change_type: str = "specification", products: tuple[str, ...] = ("HLX-101",),
                 by: str = AUTHOR, site: str | None = "Acme Boston", in_days: int = 60,
                 title: str = "Replace HPLC assay method") -> ChangeRequest:
    if by == AUTHOR:
        author(cast)
    with acting(cast, by):
        change = services.change_create(
            membership=cast.memberships[by], title=title, description="Move the assay to UHPLC.",
            reason="The HPLC column is discontinued.", change_type=change_type,
            proposed_implementation_date=timezone.localdate() + dt.timedelta(days=in_days),
            product_ids=[cast.products[code].pk for code in products], site=cast.sites[site] if site else None)
    return ChangeRequest.objects.get(pk=change.pk)


def assess(cast: Cast, change: ChangeRequest, answers: dict[str, Any] | None = None, *, by: str = AUTHOR,
           risk: str = "medium") -> ChangeRequest:
    with acting(cast, by):
        services.impact_assess(membership=cast.memberships[by], change=change,
                               answers=answers if answers is not None else ANSWERS[change.change_type],
                               risk_rating=risk, risk_rationale="Validated method; assay only.")
    return ChangeRequest.objects.get(pk=change.pk)


def submit(cast: Cast, change: ChangeRequest, by: str = AUTHOR) -> ChangeRequest:
    with acting(cast, by):
        services.change_submit(membership=cast.memberships[by], change=change)
    return ChangeRequest.objects.get(pk=change.pk)


def assessment(change: ChangeRequest, product: str, market: str) -> FilingAssessment:
    return FilingAssessment.objects.get(change=change, product__code=product, market=market, superseded=False)


def decide(cast: Cast, change: ChangeRequest, product: str, market: str, *, by: str, category: str | None = None,
           reason: str = "") -> Any:
    row = assessment(change, product, market)
    with acting(cast, by):
        return services.filing_decide(membership=cast.memberships[by], assessment=row,
                                      category=category or row.suggested_category, override_reason=reason)


def confirm_all(cast: Cast, change: ChangeRequest, sponsor: str) -> None:
    for row in FilingAssessment.objects.filter(change=change, sponsor=cast.orgs[sponsor], superseded=False):
        decide(cast, change, row.product.code, row.market, by=f"{sponsor}.qa")


def sponsor_sign(cast: Cast, change: ChangeRequest, by: str, *, approve: bool = True, comment: str = "",
                 password: str = PASSWORD) -> Any:
    with acting(cast, by):
        return services.approval_sign(request=signing_request(), membership=cast.memberships[by], change=change,
                                      approve=approve, comment=comment, password=password)


def qa_approve(cast: Cast, change: ChangeRequest, by: str = "acme.qa", password: str = PASSWORD) -> ChangeRequest:
    with acting(cast, by):
        services.change_sign_approve(request=signing_request(), membership=cast.memberships[by], change=change,
                                     password=password)
    return ChangeRequest.objects.get(pk=change.pk)


def implement(cast: Cast, change: ChangeRequest, by: str = AUTHOR) -> ChangeRequest:
    with acting(cast, by):
        services.change_implement(membership=cast.memberships[by], change=change)
    return ChangeRequest.objects.get(pk=change.pk)


def notify(cast: Cast, change: ChangeRequest, by: str = AUTHOR) -> Any:
    with acting(cast, by):
        return services.change_notify(membership=cast.memberships[by], change=change, message="FYI")
