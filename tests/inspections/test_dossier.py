"""The 483 response dossier PDF (inspections.pdf.render_dossier, and GET form483s/{id}/dossier.pdf): the inspection
and its 483 with the agency clock, the observations the reader may see with their category, accountability,
response, commitment status and CAPAs, the periodic updates, the sponsor notices, the review and approval
signatures manifested and the audit trail. A sponsor's dossier never names the other sponsor or its products
(asserted on the extracted text); every rendering leaves a RecordExport row."""

from __future__ import annotations

import datetime as dt
import hashlib
import re

import pytest
from django.urls import reverse

from inspections import selectors, services
from inspections.models import Form483, Observation
from inspections.pdf import render_dossier
from part11.models import RecordExport
from tests.agreements.helpers import acting
from tests.batches.test_dossier import text_of
from tests.inspections.helpers import REVIEWER, affected, inspect, observe, record_483, respond, reviewer, sign_483

pytestmark = pytest.mark.django_db

SITE_WIDE = "Cleaning of the shared granulator was not verified before use."
NWB7_ONLY = "Stability testing of NWB-7 lot 4 used an unvalidated method."
HELIX_FILING = "The filed HLX-101 process does not match the executed batch record."
HELIX_RATIONALE = "The HLX-101 filing lags the validated process."


def submitted_483(cast) -> Form483:
    """Acme's routine FDA inspection at Boston: three observations (site-wide, NWB-7 only, Helix-originated), each
    answered, a CAPA raised, impacts assessed, both sponsors told, reviewed, approved and submitted."""
    reviewer(cast)
    form483 = record_483(cast, inspect(cast, started=dt.date(2026, 11, 2)), dt.date(2026, 11, 6))
    site = observe(cast, form483, "21 CFR 211.67(a)", text=SITE_WIDE)
    observe(cast, form483, "21 CFR 211.165", text=NWB7_ONLY, visibility="product_specific",
            affected=[affected(cast, "northwind", "NWB-7")])
    observe(cast, form483, "21 CFR 211.100(a)", text=HELIX_FILING, visibility="product_specific",
            accountability="sponsor", accountability_rationale=HELIX_RATIONALE,
            affected=[affected(cast, "helix", "HLX-101")])
    for observation in Observation.objects.filter(form483=form483):
        respond(cast, observation)
    member = cast.memberships["acme.qa"]
    with acting(cast, "acme.qa"):
        services.capa_create_for(membership=member, observation=site, title="Cleaning verification programme",
                                 description="Verify cleaning before each use.")
        for sponsor, impact in (("helix", "indirect"), ("northwind", "none")):
            services.impact_assess(membership=member, observation=site, impact=impact,
                                   partnership_id=cast.partnership(sponsor, "acme").pk,
                                   rationale=f"{sponsor} impact rationale")
        services.inspection_notify(membership=member, inspection=form483.inspection, event="fda_483")
    form483 = Form483.objects.get(pk=form483.pk)
    sign_483(cast, form483, REVIEWER, "review")
    sign_483(cast, form483, "acme.qa", "approve")
    with acting(cast, "acme.qa"):
        services.form483_submit(membership=member, form483=form483)
    return Form483.objects.get(pk=form483.pk)


def dossier(cast, username: str, form483: Form483) -> str:
    member = cast.memberships[username]
    with acting(cast, username):
        visible = selectors.form483_list(membership=member).get(pk=form483.pk)
        pdf = render_dossier(membership=member, form483=visible)
    assert pdf.startswith(b"%PDF-")
    return text_of(pdf)


def test_the_cmos_dossier_carries_the_whole_response(cast):
    form483 = submitted_483(cast)
    before = RecordExport.objects.filter(record_table="inspections_form483", record_id=form483.pk).count()
    text = dossier(cast, "acme.qa", form483)
    number = form483.inspection.number
    assert f"483 response dossier: {number} at Acme Boston" in text
    assert "US FDA" in text and "Routine surveillance" in text and "J. Rivera, K. Osei" in text
    assert "HLX-101" in text and "NWB-7" in text  # the CMO sees every sponsor's lines
    assert SITE_WIDE in text and NWB7_ONLY in text and HELIX_FILING in text
    assert "D — Equipment / Facilities & equipment" in text
    assert f"Sponsor-originated: {HELIX_RATIONALE}" in text
    assert "Revise SOP-CL-004 and retrain the cleaning crew." in text and "31 Mar 2027" in text
    assert "Cleaning verification programme" in text
    assert "Helix Therapeutics: Indirect impact — helix impact rationale" in text
    assert "Response submitted (commitments open)" in text
    assert "LATE: after the 15-business-day window" in text  # due 30 Nov 2026 (Thanksgiving skipped)
    assert "15 US business days after 483 issued" in text
    assert re.search(r"Signed by Route Reviewer on .{10,30} UTC — Reviewed", text)
    assert re.search(r"Signed by Amir Castellano on .{10,30} UTC — Approved", text)
    assert "Audit trail" in text
    for label in ("Form 483", "483 observation", "Observation product line", "Program impact",
                  "Observation CAPA link", "Inspection notice"):
        assert label in text, label
    exports = RecordExport.objects.filter(record_table="inspections_form483", record_id=form483.pk)
    assert exports.count() == before + 1


def test_a_sponsors_dossier_never_names_the_other_sponsor(cast):
    form483 = submitted_483(cast)
    helix = dossier(cast, "helix.qa", form483)
    assert SITE_WIDE in helix and HELIX_FILING in helix and HELIX_RATIONALE in helix
    assert "HLX-101" in helix and "Helix Therapeutics: Indirect impact" in helix
    assert re.search(r"Signed by Amir Castellano on .{10,30} UTC — Approved", helix)
    assert NWB7_ONLY not in helix
    for other in ("NWB-7", "Northwind", "Nortumab", "northwind impact rationale"):
        assert other not in helix, other

    northwind = dossier(cast, "northwind.qa", form483)
    assert SITE_WIDE in northwind and NWB7_ONLY in northwind and "NWB-7" in northwind
    assert HELIX_FILING not in northwind and HELIX_RATIONALE not in northwind
    for other in ("HLX-101", "Helix", "Helixaparib", "helix impact rationale"):
        assert other not in northwind, other


def test_the_dossier_over_http(cast, api_for):
    reviewer(cast)
    form483 = record_483(cast, inspect(cast), dt.date(2026, 11, 6))
    respond(cast, observe(cast, form483))
    response = api_for("helix.qa").get(reverse("api:inspection-form483-dossier", args=[form483.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["X-Checksum-SHA256"] == hashlib.sha256(response.content).hexdigest()
    text = text_of(response.content)
    assert "Response in preparation" in text and "Not submitted yet" in text and "Not signed." in text
    assert api_for("helix.viewer").get(reverse("api:inspection-form483-dossier", args=[form483.pk])
                                       ).status_code == 403  # a viewer may not export
    assert api_for("borealis.qa").get(reverse("api:inspection-form483-dossier", args=[form483.pk])
                                      ).status_code == 404
