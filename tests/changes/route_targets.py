"""Targets for the change-control route matrices (tests/changes/route_matrix_api.py and route_matrix_pages.py).

Each builder is a function of the cast that makes, through the services, a change in the state its route needs.
Shared by the API and page matrices: add builders, never duplicate one.
"""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

from changes import services
from changes.models import ChangeDocument, ChangeRequest, FilingAssessment, FilingDecision
from tenants.permissions import Role
from tests.agreements.helpers import acting
from tests.changes.helpers import (
    LIKE_FOR_LIKE,
    RELAX,
    assess,
    decide,
    implement,
    qa_approve,
    raise_change,
    sponsor_sign,
    submit,
)
from tests.deviations.routes import member
from tests.factories import Cast

#: Borealis raises its changes by a QA reviewer, so that its QA approver (``borealis.qa``) may approve and close
#: them (author ≠ approver). NWB-9 is marketed in the US (assessed) and Canada (outside the rule table).
OWNER, AUTHOR, QA, SPONSOR_QA = "borealis", "borealis.author", "borealis.qa", "northwind.qa"
PRODUCT, SITE = "NWB-9", "Borealis Montreal"


def draft(cast: Cast, change_type: str = "specification") -> ChangeRequest:
    """A Borealis draft affecting Northwind's NWB-9 (no agreement in force: the conservative defaults route it)."""
    member(cast, AUTHOR, Role.QA_REVIEWER, org=OWNER)
    return raise_change(cast, change_type=change_type, products=(PRODUCT,), by=AUTHOR, site=SITE,
                        title="Replace the potency assay method")


def assessed(cast: Cast) -> ChangeRequest:
    """Impact assessed: a method change, US CBE-30 suggested for NWB-9 (Canada not assessed)."""
    return assess(cast, draft(cast), by=AUTHOR)


def pending(cast: Cast) -> ChangeRequest:
    """Submitted: a specification change needs Northwind's signed approval (round 1)."""
    return submit(cast, assessed(cast), by=AUTHOR)


def pending_notice(cast: Cast) -> ChangeRequest:
    """Submitted: a like-for-like equipment swap, notification-only (30 days' notice), Northwind not yet told."""
    change = assess(cast, draft(cast, "equipment_like_for_like"), LIKE_FOR_LIKE, by=AUTHOR)
    return submit(cast, change, by=AUTHOR)


def sponsor_approved(cast: Cast) -> ChangeRequest:
    """Pending, with Northwind's filing confirmed and its approval signed: Borealis's QA may approve."""
    change = pending(cast)
    decide(cast, change, PRODUCT, "US", by=SPONSOR_QA)
    sponsor_sign(cast, change, SPONSOR_QA)
    return ChangeRequest.objects.get(pk=change.pk)


def approved(cast: Cast) -> ChangeRequest:
    """Approved by Borealis's QA after Northwind: nothing is missing, it may be implemented."""
    return qa_approve(cast, sponsor_approved(cast), by=QA)


def implemented(cast: Cast) -> ChangeRequest:
    return implement(cast, approved(cast), by=AUTHOR)


def reviewed(cast: Cast) -> ChangeRequest:
    """Implemented and its effectiveness reviewed: Borealis's QA may close it."""
    change = implemented(cast)
    with acting(cast, AUTHOR):
        services.effectiveness_record(membership=cast.memberships[AUTHOR], change=change, effective=True,
                                      summary="Route matrix: 3 lots tested with the new method, all comparable.")
    return ChangeRequest.objects.get(pk=change.pk)


def prior_approval(cast: Cast) -> ChangeRequest:
    """Assessed as a relaxed specification (US prior-approval supplement), confirmed by Northwind: the agency's
    approval is still to be recorded."""
    change = assess(cast, draft(cast), RELAX, by=AUTHOR)
    decide(cast, change, PRODUCT, "US", by=SPONSOR_QA)
    return change


def document(cast: Cast) -> ChangeDocument:
    """A validation report linked by Borealis to an approved change."""
    from tests.test_route_isolation import PDF

    change = approved(cast)
    with acting(cast, AUTHOR):
        return services.document_attach(membership=cast.memberships[AUTHOR], change=change, kind="validation",
                                        title="Route matrix: method validation report",
                                        upload=SimpleUploadedFile("validation.pdf", PDF))


def latest(cast: Cast) -> ChangeRequest:
    """The target change as it stands (the latest Borealis raised), for payloads built after it."""
    return ChangeRequest.objects.filter(organization=cast.orgs[OWNER]).latest("created_at", "id")


def us_assessment(cast: Cast) -> FilingAssessment:
    return FilingAssessment.objects.get(change=latest(cast), product__code=PRODUCT, market="US", superseded=False)


def us_decision(cast: Cast) -> FilingDecision:
    return FilingDecision.objects.get(assessment=us_assessment(cast))
