"""Route matrix for the inspection pages (tests/inspections/routes.py hands ``ROUTES`` to the meta-test).

Borealis (the CMO) owns the pre-approval inspection of Northwind's NWB-9 application at Borealis Montreal, its 483
and the observations; Northwind, in scope, reads them and writes only its own rows that point at them: its
acknowledgement of a notice and its comments on the draft response (partner actions). Helix, Acme and Helix's
auditor see nothing (404); a grant on Northwind ↔ Borealis does not reach inspections (404 still). Who gets 403
rather than 404 follows the scoping base: an owner write page looks the record up first (a stranger gets 404, the
sponsor or an org admin 403), a partner action page checks its capability first (an org admin or an auditor 403).
"""

from __future__ import annotations

from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from inspections.models import Document, Form483, Inspection
from tests.factories import Cast
from tests.inspections import route_targets as targets
from tests.test_route_isolation import ANON, GRANTEE, PDF, SIGN, Route, detail, listing, parties, reads, sees

READERS = {"borealis.qa": 200, "borealis.admin": 200, "northwind.qa": 200, "northwind.admin": 200, "helix.qa": 404,
           "acme.qa": 404, "auditor": 404, GRANTEE: 404, ANON: 302}
LIST_READERS = {"borealis.qa": True, "borealis.admin": True, "northwind.qa": True, "northwind.admin": True,
                "helix.qa": False, "acme.qa": False, "auditor": False, GRANTEE: False, ANON: 302}
# Owner write pages: Borealis's QA approver; its org admin (no authoring role) and Northwind (read-only) 403.
FORMS = {"borealis.qa": 200, "borealis.admin": 403, "northwind.qa": 403, "northwind.admin": 403, "helix.qa": 404,
         "acme.qa": 404, "auditor": 404, GRANTEE: 404, ANON: 302}
WRITES = {**FORMS, "borealis.qa": 302}
# Partner actions (writes = False): the authoring capability first (org admins, auditors 403), then the lookup.
PARTNER_FORMS = {"borealis.admin": 403, "northwind.admin": 403, "helix.qa": 404, "acme.qa": 404, "auditor": 403,
                 GRANTEE: 403, ANON: 302}
# Recording an inspection: a CMO's QA; a sponsor (it sees the CMO's record) and roles without authoring 403.
CREATE = {"borealis.qa": 200, "acme.qa": 200, "borealis.admin": 403, "northwind.qa": 403, "helix.qa": 403,
          "auditor": 403, GRANTEE: 403, ANON: 302}
CREATE_POST = {**CREATE, "borealis.qa": 302, "acme.qa": 400}  # Borealis's site is not Acme's: refused on the site


def _today() -> str:
    return timezone.localdate().isoformat()


def _inspection(cast: Cast) -> Inspection:
    return Inspection.objects.filter(organization=cast.orgs["borealis"]).latest("created_at", "id")


def _form483(cast: Cast) -> Form483:
    return Form483.objects.filter(organization=cast.orgs["borealis"]).latest("created_at", "id")


def _line(cast: Cast) -> str:
    return f"{cast.partnership('northwind', 'borealis').pk}-{cast.products['NWB-9'].pk}"


def create_post(cast: Cast) -> dict[str, Any]:
    return {"site": cast.sites["Borealis Montreal"].pk, "authority": "fda", "inspection_type": "pre_approval",
            "announced_on": _today(), "investigators": "Route Matrix", "scope": [_line(cast)],
            "application_line": _line(cast), "application_reference": "BLA 761234"}


def edit_post(cast: Cast) -> dict[str, Any]:
    return {"authority": "fda", "inspection_type": "pre_approval", "investigators": "J. Rivera\nRoute Matrix",
            "version": _inspection(cast).version}


def scope_post(cast: Cast) -> dict[str, Any]:
    return {"scope": [_line(cast)], "application_line": _line(cast), "application_reference": "BLA 761234",
            "version": _inspection(cast).version}


def document_post(cast: Cast) -> dict[str, Any]:
    return {"kind": "eir", "title": "EIR (route matrix)", "file": SimpleUploadedFile("eir.pdf", PDF)}


def amend_post(cast: Cast) -> dict[str, Any]:
    return {"issued_on": _today(), "reason": "Route matrix: observation 1 reworded", "version": _form483(cast).version}


def observation_edit_post(cast: Cast) -> dict[str, Any]:
    return {"text": "Route matrix: investigations were not thorough.", "cited_regulation": "21 CFR 211.192",
            "accountability": "cmo", "visibility": "site_wide", "version": _form483(cast).version}


def response_post(cast: Cast) -> dict[str, Any]:
    return {"commitment": "Route matrix: retrain investigators.", "actions": "SOP revised.",
            "version": _form483(cast).version}


def impact_post(cast: Cast) -> dict[str, Any]:
    return {"partnership": cast.partnership("northwind", "borealis").pk, "impact": "direct",
            "rationale": "Route matrix: NWB-9 investigations used the cited procedure."}


def comment_post(cast: Cast) -> dict[str, Any]:
    """Northwind comments; Borealis answers in Northwind's thread (the field is ignored for the sponsor)."""
    return {"body": "Route matrix: please cite our BLA commitments.", "sponsor": cast.orgs["northwind"].pk}


def document_url(cast: Cast, document: Document) -> str:
    return reverse("inspection-document", args=[document.inspection_id, document.pk])


def _inspection_link(inspection: Inspection) -> str:
    return f'href="{reverse("inspection-detail", args=[inspection.pk])}"'


ROUTES: list[Route] = [
    Route("inspections", listing("inspections"), targets.inspection, sees(LIST_READERS), marker=_inspection_link),
    Route("inspection-dashboard", listing("inspection-dashboard"), targets.inspection, sees(LIST_READERS),
          marker=_inspection_link),
    Route("inspection-create", listing("inspection-create"), targets.inspection, [
        *reads(CREATE), *parties(CREATE_POST, "post", create_post)]),
    Route("inspection-detail", detail("inspection-detail"), targets.inspection, reads(READERS)),
    Route("inspection-edit", detail("inspection-edit"), targets.inspection, [
        *reads(FORMS), *parties(WRITES, "post", edit_post)]),
    Route("inspection-scope", detail("inspection-scope"), targets.inspection, [
        *reads(FORMS), *parties(WRITES, "post", scope_post)]),
    Route("inspection-notice", detail("inspection-notice"), targets.inspection, [
        *reads(FORMS), *parties(WRITES, "post", lambda cast: {
            "received_at": timezone.now().strftime("%Y-%m-%dT%H:%M")})]),
    Route("inspection-start", detail("inspection-start"), targets.announced, [
        *reads(FORMS), *parties(WRITES, "post", lambda cast: {"started_on": _today()})]),
    Route("inspection-close-out", detail("inspection-close-out"), targets.inspection, [
        *reads(FORMS), *parties(WRITES, "post", lambda cast: {"closed_out_on": _today()})]),
    Route("inspection-outcome", detail("inspection-outcome"), targets.closed_out, [
        *reads(FORMS), *parties(WRITES, "post", lambda cast: {"outcome": "vai", "outcome_on": _today()})]),
    # The back room: Borealis's; Northwind sees the inspection, so it gets 403 (read-only), never the log itself.
    Route("inspection-log", detail("inspection-log"), targets.inspection, [
        *reads(FORMS), *parties(WRITES, "post", {"kind": "request", "text": "Route matrix: batch records",
                                                 "who": "J. Rivera"})]),
    Route("inspection-document-upload", detail("inspection-document-upload"), targets.inspection, [
        *reads(FORMS), *parties(WRITES, "post", document_post)]),
    Route("inspection-document", document_url, targets.document, reads(READERS)),
    Route("inspection-notify", detail("inspection-notify", "inspection_id"), targets.form483, [
        *reads(FORMS), *parties(WRITES, "post", {"event": "fda_483", "message": "Route matrix"})]),
    Route("inspection-warning-letter", detail("inspection-warning-letter"), targets.closed_out, [
        *reads(FORMS), *parties(WRITES, "post", lambda cast: {"issued_on": _today()})]),
    Route("inspection-warning-letter-reply", detail("inspection-warning-letter-reply"), targets.warning_letter, [
        *reads(FORMS), *parties(WRITES, "post", {})]),
    Route("inspection-warning-letter-close", detail("inspection-warning-letter-close"),
          targets.warning_letter_replied, [
              *reads(FORMS), *parties(WRITES, "post", lambda cast: {"closed_on": _today()})]),
    Route("inspection-483-create", detail("inspection-483-create"), targets.inspection, [
        *reads(FORMS), *parties(WRITES, "post", lambda cast: {"issued_on": _today(), "update_interval_days": 30})]),
    # Northwind's own acknowledgement; Borealis sees the notice (the form opens) but may not acknowledge for it.
    Route("inspection-notice-acknowledge", detail("inspection-notice-acknowledge"), targets.notice, [
        *reads({**PARTNER_FORMS, "northwind.qa": 200, "borealis.qa": 200}),
        *parties({**PARTNER_FORMS, "northwind.qa": 302, "borealis.qa": 403}, "post", {"note": "Route matrix"})]),
    Route("inspection-483", detail("inspection-483"), targets.form483, reads(READERS)),
    Route("inspection-483-amend", detail("inspection-483-amend"), targets.form483, [
        *reads(FORMS), *parties(WRITES, "post", amend_post)]),
    Route("inspection-observation-create", detail("inspection-observation-create"), targets.form483, [
        *reads(FORMS), *parties(WRITES, "post", {"text": "Route matrix: the cleaning log was incomplete.",
                                                 "cited_regulation": "21 CFR 211.182", "accountability": "cmo",
                                                 "visibility": "site_wide"})]),
    Route("inspection-483-review", detail("inspection-483-review"), targets.drafted, [
        *reads(FORMS), *parties(WRITES, "post", SIGN)]),
    Route("inspection-483-approve", detail("inspection-483-approve"), targets.reviewed, [
        *reads(FORMS), *parties(WRITES, "post", SIGN)]),
    Route("inspection-483-submit", detail("inspection-483-submit"), targets.approved, [
        *reads(FORMS), *parties(WRITES, "post", {})]),
    Route("inspection-483-update", detail("inspection-483-update"), targets.submitted, [
        *reads(FORMS), *parties(WRITES, "post", {"summary": "Route matrix: SOP training 60% complete."})]),
    Route("inspection-483-pdf", detail("inspection-483-pdf"), targets.drafted, reads({
        **READERS, "helix.viewer": 403})),
    Route("inspection-observation-edit", detail("inspection-observation-edit"), targets.observation, [
        *reads(FORMS), *parties(WRITES, "post", observation_edit_post)]),
    Route("inspection-observation-response", detail("inspection-observation-response"), targets.observation, [
        *reads(FORMS), *parties(WRITES, "post", response_post)]),
    Route("inspection-observation-impact", detail("inspection-observation-impact"), targets.observation, [
        *reads(FORMS), *parties(WRITES, "post", impact_post)]),
    Route("inspection-observation-capa", detail("inspection-observation-capa"), targets.observation, [
        *reads(FORMS), *parties(WRITES, "post", {"title": "Route matrix: investigations",
                                                 "description": "Retrain the investigators."})]),
    # The PAI's sponsor comments; Borealis answers in its thread; the others are refused before the lookup (403)
    # or do not see the observation (404).
    Route("inspection-observation-comment", detail("inspection-observation-comment"), targets.observation, [
        *reads({**PARTNER_FORMS, "northwind.qa": 200, "borealis.qa": 200}),
        *parties({**PARTNER_FORMS, "northwind.qa": 302, "borealis.qa": 302}, "post", comment_post)]),
    Route("inspection-commitment-close", detail("inspection-commitment-close"), targets.committed, [
        *reads(FORMS), *parties(WRITES, "post", lambda cast: {"closed_on": _today(),
                                                              "evidence": "Route matrix: SOP effective"})]),
]
