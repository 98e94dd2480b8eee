"""Targets for the inspection route matrices (tests/inspections/route_matrix_api.py and route_matrix_pages.py).

Each builder is a function of the cast that makes, through the services, the record its route needs. Shared by the
API and page matrices: add builders, never duplicate one.
"""

from __future__ import annotations

import datetime as dt

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from inspections import services
from inspections.models import Document, Form483, ImpactAssessment, Inspection, Notice, Observation
from tenants.permissions import Role
from tests.agreements.helpers import acting
from tests.deviations.routes import member
from tests.factories import Cast
from tests.inspections.helpers import noon, observe, pai, record_483, respond, sign_483

# --- The pre-approval inspection at Borealis Montreal (Northwind's NWB-9 application), one per state -------------

#: Borealis's QA approver records and approves; a QA reviewer added to Borealis reviews (two people sign).
CMO_QA, CMO_REVIEWER, SPONSOR_QA = "borealis.qa", "borealis.reviewer", "northwind.qa"
ISSUED = dt.date(2026, 11, 6)


def inspection(cast: Cast) -> Inspection:
    """In progress since 2 Nov 2026, Northwind's BLA for NWB-9 in scope (Northwind participates)."""
    return pai(cast)


def announced(cast: Cast) -> Inspection:
    """Announced, not started: the start route's target."""
    scope = [services.ScopeLine(cast.partnership("northwind", "borealis").pk, cast.products["NWB-9"].pk,
                                "BLA 761234")]
    with acting(cast, CMO_QA):
        return services.inspection_create(membership=cast.memberships[CMO_QA], site=cast.sites["Borealis Montreal"],
                                          authority="fda", inspection_type="pre_approval", scope=scope,
                                          announced_on=timezone.localdate())


def closed_out(cast: Cast) -> Inspection:
    """Closed out on 6 Nov 2026: the outcome and a Warning Letter may be recorded."""
    target = inspection(cast)
    with acting(cast, CMO_QA):
        return services.inspection_close_out(membership=cast.memberships[CMO_QA], inspection=target,
                                             closed_out_on=ISSUED)


def warning_letter(cast: Cast) -> Inspection:
    """A Warning Letter issued after the close-out, awaiting its reply."""
    target = closed_out(cast)
    with acting(cast, CMO_QA):
        return services.warning_letter_record(membership=cast.memberships[CMO_QA], inspection=target,
                                              issued_on=ISSUED + dt.timedelta(days=14))


def warning_letter_replied(cast: Cast) -> Inspection:
    target = warning_letter(cast)
    with acting(cast, CMO_QA):
        return services.warning_letter_respond(membership=cast.memberships[CMO_QA], inspection=target)


def form483(cast: Cast) -> Form483:
    """The 483 of 6 Nov 2026 with one site-wide observation, response in preparation; Northwind not yet told."""
    target = record_483(cast, inspection(cast), ISSUED, by=CMO_QA)
    observe(cast, target, "21 CFR 211.192", by=CMO_QA, text="Investigations of unexplained discrepancies were "
                                                             "not thorough (route matrix).")
    return Form483.objects.get(pk=target.pk)


def observation(cast: Cast) -> Observation:
    return Observation.objects.get(form483=form483(cast))


def drafted(cast: Cast) -> Form483:
    """Every observation has its drafted response: ready for review."""
    target = form483(cast)
    respond(cast, Observation.objects.get(form483=target), by=CMO_QA)
    return Form483.objects.get(pk=target.pk)


def reviewed(cast: Cast) -> Form483:
    """Reviewed by Borealis's QA reviewer: its QA approver may approve."""
    member(cast, CMO_REVIEWER, Role.QA_REVIEWER, org="borealis")
    target = drafted(cast)
    sign_483(cast, target, CMO_REVIEWER, "review")
    return Form483.objects.get(pk=target.pk)


def approved(cast: Cast) -> Form483:
    target = reviewed(cast)
    sign_483(cast, target, CMO_QA, "approve")
    return Form483.objects.get(pk=target.pk)


def submitted(cast: Cast) -> Form483:
    """Submitted to FDA with its commitment open: the first periodic update is due."""
    target = approved(cast)
    with acting(cast, CMO_QA):
        services.form483_submit(membership=cast.memberships[CMO_QA], form483=target)
    return Form483.objects.get(pk=target.pk)


def committed(cast: Cast) -> Observation:
    """An observation of a submitted response, its commitment open (to be closed)."""
    return Observation.objects.get(form483=submitted(cast))


def notice(cast: Cast) -> Notice:
    """Northwind told of the 483 through the app (its notice clock met): it may acknowledge."""
    target = form483(cast)
    with acting(cast, CMO_QA):
        [told] = services.inspection_notify(membership=cast.memberships[CMO_QA], inspection=target.inspection,
                                            event="fda_483", now=noon(ISSUED))
    return told


def impact(cast: Cast) -> ImpactAssessment:
    """Borealis's assessment of the observation's direct impact on Northwind's program."""
    target = observation(cast)
    with acting(cast, CMO_QA):
        return services.impact_assess(membership=cast.memberships[CMO_QA], observation=target,
                                      partnership_id=cast.partnership("northwind", "borealis").pk, impact="direct",
                                      rationale="NWB-9 batches were investigated under the cited procedure.")


def document(cast: Cast) -> Document:
    """The 483 itself, shared with the sponsors in scope."""
    from tests.test_route_isolation import PDF

    target = inspection(cast)
    with acting(cast, CMO_QA):
        return services.document_attach(membership=cast.memberships[CMO_QA], inspection=target, kind="form_483",
                                        title="Form 483 (route matrix)", shared=True,
                                        upload=SimpleUploadedFile("form-483.pdf", PDF))
