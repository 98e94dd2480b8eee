"""Route matrix for the inspections API (tests/inspections/routes.py hands ``ROUTES`` to the meta-test).

Borealis (the CMO) owns the pre-approval inspection of Northwind's NWB-9 application at Borealis Montreal, its 483
and the observations; Northwind, in scope, reads them and writes only its own rows that point at them: its
acknowledgement of a notice and its comments on the draft response (partner actions). The live inspection log is
Borealis's back room: Northwind gets 404 on it, as everyone outside Borealis does. Helix, Acme and Helix's auditor
see nothing (404); a grant on Northwind ↔ Borealis does not reach inspections (404 still).

Payloads that depend on the target as it stands (its version) are functions of the cast.
"""

from __future__ import annotations

from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from inspections.models import Form483, Inspection
from tests.factories import Cast
from tests.inspections import route_targets as targets
from tests.test_route_isolation import ANON, GRANTEE, PDF, SIGN, Case, Route, detail, listing, parties, reads, sees

READERS = {"borealis.qa": 200, "borealis.admin": 200, "northwind.qa": 200, "northwind.admin": 200, "helix.qa": 404,
           "acme.qa": 404, "auditor": 404, GRANTEE: 404, ANON: 401}
LIST_READERS = {"borealis.qa": True, "borealis.admin": True, "northwind.qa": True, "northwind.admin": True,
                "helix.qa": False, "acme.qa": False, "auditor": False, GRANTEE: False, ANON: 401}
# Writes on Borealis's records: its QA approver; its org admin (no authoring role) and the sponsor (read-only) 403.
CMO_WRITES = {"borealis.qa": 200, "borealis.admin": 403, "northwind.qa": 403, "northwind.admin": 403,
              "helix.qa": 404, "acme.qa": 404, "auditor": 404, GRANTEE: 404, ANON: 401}
CREATES = {**CMO_WRITES, "borealis.qa": 201}
# The back room: Borealis only; a sponsor in scope gets 404 like a stranger, whatever its role.
BACK_ROOM_READS = {**READERS, "northwind.qa": 404, "northwind.admin": 404}
BACK_ROOM_WRITES = {**CREATES, "northwind.qa": 404, "northwind.admin": 404}
# Northwind's own acknowledgement: its QA approver; its org admin cannot author; Borealis may not acknowledge for it.
SPONSOR_WRITES = {"northwind.qa": 200, "northwind.admin": 403, "borealis.qa": 403, "borealis.admin": 403,
                  "helix.qa": 404, "acme.qa": 404, "auditor": 404, GRANTEE: 404, ANON: 401}
EVERY_MEMBER = {"borealis.qa": 200, "northwind.qa": 200, "helix.qa": 200, "acme.qa": 200, "auditor": 200,
                "helix.viewer": 200, ANON: 401}


def _today() -> str:
    return timezone.localdate().isoformat()


def _inspection_version(cast: Cast) -> int:
    return Inspection.objects.filter(organization=cast.orgs["borealis"]).latest("created_at", "id").version


def _form483_version(cast: Cast) -> int:
    return Form483.objects.filter(organization=cast.orgs["borealis"]).latest("created_at", "id").version


def _scope(cast: Cast) -> list[dict[str, Any]]:
    return [{"partnership": cast.partnership("northwind", "borealis").pk, "product": cast.products["NWB-9"].pk,
             "application_reference": "BLA 761234"}]


def create_post(cast: Cast) -> dict[str, Any]:
    return {"site": cast.sites["Borealis Montreal"].pk, "authority": "fda", "inspection_type": "pre_approval",
            "announced_on": _today(), "investigators": ["Route Matrix"], "scope": _scope(cast)}


def edit_patch(cast: Cast) -> dict[str, Any]:
    return {"investigators": ["J. Rivera", "Route Matrix"], "version": _inspection_version(cast)}


def scope_put(cast: Cast) -> dict[str, Any]:
    return {"scope": _scope(cast), "version": _inspection_version(cast)}


def observation_patch(cast: Cast) -> dict[str, Any]:
    return {"cited_regulation": "21 CFR 211.100(a)", "version": _form483_version(cast)}


def observation_post(cast: Cast) -> dict[str, Any]:
    return {"text": "Route matrix: the cleaning log was incomplete.", "cited_regulation": "21 CFR 211.182"}


def impact_post(cast: Cast) -> dict[str, Any]:
    return {"partnership": cast.partnership("northwind", "borealis").pk, "impact": "indirect",
            "rationale": "Route matrix: shared equipment."}


def comment_cases() -> list[Case]:
    """Northwind (the application sponsor) comments; Borealis answers in Northwind's thread."""
    body = {"body": "Route matrix: please add the trend of the last twelve investigations."}

    def answer(cast: Cast) -> dict[str, Any]:
        return {"body": "Route matrix: added as attachment 4.", "sponsor": cast.orgs["northwind"].pk}

    expect = {**CMO_WRITES, "northwind.qa": 201}
    return [Case("borealis.qa", "post", 201, answer),
            *[Case(actor, "post", status, body) for actor, status in expect.items() if actor != "borealis.qa"]]


def document_post(cast: Cast) -> dict[str, Any]:
    return {"kind": "correspondence", "title": "Route matrix: letter", "shared": "true",
            "file": SimpleUploadedFile("letter.pdf", PDF)}


def document_url(cast: Cast, document: Any) -> str:
    return reverse("api:inspection-document-content", args=[document.inspection_id, document.pk])


RESPONSE = {"commitment": "Route matrix: retrain investigators.", "actions": "SOP-INV-002 revised.",
            "target_on": "2027-03-31", "evidence": "Training records"}

ROUTES: list[Route] = [
    Route("api:inspection-list", listing("api:inspection-list"), targets.inspection, [
        *sees(LIST_READERS),
        Case("borealis.qa", "post", 201, create_post),
        Case("borealis.admin", "post", 403, create_post),  # no authoring role
        Case("northwind.qa", "post", 400, create_post),  # Borealis Montreal is not Northwind's site
        Case("acme.qa", "post", 400, create_post),
        Case("helix.qa", "post", 400, create_post),
        Case("helix.viewer", "post", 403, create_post),
        Case("auditor", "post", 403, create_post),
        Case(GRANTEE, "post", 403, create_post),
        Case(ANON, "post", 401, create_post),
    ]),
    Route("api:inspection-detail", detail("api:inspection-detail"), targets.inspection, [
        *reads(READERS), *parties(CMO_WRITES, "patch", edit_patch)]),
    Route("api:inspection-scope", detail("api:inspection-scope"), targets.inspection,
          parties(CMO_WRITES, "put", scope_put)),
    Route("api:inspection-start", detail("api:inspection-start"), targets.announced,
          parties(CMO_WRITES, "post", lambda cast: {"started_on": _today()})),
    Route("api:inspection-close-out", detail("api:inspection-close-out"), targets.inspection,
          parties(CMO_WRITES, "post", lambda cast: {"closed_out_on": _today()})),
    Route("api:inspection-outcome", detail("api:inspection-outcome"), targets.closed_out,
          parties(CMO_WRITES, "post", lambda cast: {"outcome": "vai", "outcome_on": _today()})),
    Route("api:inspection-notice-received", detail("api:inspection-notice-received"), targets.inspection,
          parties(CMO_WRITES, "post", lambda cast: {"notice_received_at": timezone.now().isoformat()})),
    Route("api:inspection-notify", detail("api:inspection-notify", "inspection_id"), targets.form483,
          parties(CMO_WRITES, "post", {"event": "fda_483", "message": "Route matrix: response in preparation."})),
    Route("api:inspection-warning-letter", detail("api:inspection-warning-letter"), targets.closed_out,
          parties(CMO_WRITES, "post", lambda cast: {"warning_letter_issued_on": _today()})),
    Route("api:inspection-warning-letter-reply", detail("api:inspection-warning-letter-reply"),
          targets.warning_letter, parties(CMO_WRITES, "post", {})),
    Route("api:inspection-warning-letter-close", detail("api:inspection-warning-letter-close"),
          targets.warning_letter_replied,
          parties(CMO_WRITES, "post", lambda cast: {"warning_letter_closed_on": _today()})),
    Route("api:inspection-record-form483", detail("api:inspection-record-form483"), targets.inspection,
          parties(CREATES, "post", {"issued_on": "2026-11-06"})),
    Route("api:inspection-log", detail("api:inspection-log"), targets.inspection, [
        *reads(BACK_ROOM_READS),
        *parties(BACK_ROOM_WRITES, "post", {"kind": "request", "text": "Route matrix: batch records of 2025.",
                                            "who": "J. Rivera"})]),
    Route("api:inspection-documents", detail("api:inspection-documents"), targets.inspection, [
        *reads(READERS), *parties(CREATES, "post", document_post)]),
    Route("api:inspection-document-content", document_url, targets.document, reads(READERS)),
    Route("api:inspection-dashboard", listing("api:inspection-dashboard"), targets.inspection, reads(EVERY_MEMBER)),
    Route("api:inspection-form483-list", listing("api:inspection-form483-list"), targets.form483,
          sees(LIST_READERS)),
    Route("api:inspection-form483-detail", detail("api:inspection-form483-detail"), targets.form483,
          reads(READERS)),
    Route("api:inspection-form483-amend", detail("api:inspection-form483-amend"), targets.form483,
          parties(CMO_WRITES, "post", {"issued_on": "2026-11-09", "reason": "Route matrix: observation 1 "
                                                                            "reworded by FDA."})),
    Route("api:inspection-form483-observations", detail("api:inspection-form483-observations"), targets.form483, [
        *reads(READERS), *parties(CREATES, "post", observation_post)]),
    Route("api:inspection-form483-review", detail("api:inspection-form483-review"), targets.drafted,
          parties(CMO_WRITES, "post", SIGN)),
    Route("api:inspection-form483-approve", detail("api:inspection-form483-approve"), targets.reviewed,
          parties(CMO_WRITES, "post", SIGN)),
    Route("api:inspection-form483-submit", detail("api:inspection-form483-submit"), targets.approved,
          parties(CMO_WRITES, "post", {})),
    Route("api:inspection-form483-updates", detail("api:inspection-form483-updates"), targets.submitted, [
        *reads(READERS), *parties(CREATES, "post", {"summary": "Route matrix: training 60 % complete."})]),
    Route("api:inspection-form483-dossier", detail("api:inspection-form483-dossier"), targets.drafted,
          reads(READERS)),
    Route("api:inspection-observation-list", listing("api:inspection-observation-list"), targets.observation,
          sees(LIST_READERS)),
    Route("api:inspection-observation-detail", detail("api:inspection-observation-detail"), targets.observation, [
        *reads(READERS), *parties(CMO_WRITES, "patch", observation_patch)]),
    Route("api:inspection-observation-response", detail("api:inspection-observation-response"),
          targets.observation, parties(CMO_WRITES, "put", RESPONSE)),
    Route("api:inspection-observation-impacts", detail("api:inspection-observation-impacts"), targets.observation, [
        *reads(READERS), *parties(CREATES, "post", impact_post)]),
    Route("api:inspection-observation-capas", detail("api:inspection-observation-capas"), targets.observation,
          parties(CREATES, "post", {"title": "Route matrix: investigation training",
                                    "description": "Retrain the investigators."})),
    Route("api:inspection-observation-comments", detail("api:inspection-observation-comments"),
          targets.observation, [*reads(READERS), *comment_cases()]),
    Route("api:inspection-observation-close-commitment", detail("api:inspection-observation-close-commitment"),
          targets.committed,
          parties(CMO_WRITES, "post", lambda cast: {"closed_on": _today(), "evidence": "Route matrix: TR-118"})),
    Route("api:inspection-notice-list", listing("api:inspection-notice-list"), targets.notice, sees(LIST_READERS)),
    Route("api:inspection-notice-detail", detail("api:inspection-notice-detail"), targets.notice, reads(READERS)),
    Route("api:inspection-notice-acknowledge", detail("api:inspection-notice-acknowledge"), targets.notice,
          parties(SPONSOR_WRITES, "post", {"note": "Route matrix: received."})),
    Route("api:inspection-impact-list", listing("api:inspection-impact-list"), targets.impact, sees(LIST_READERS)),
    Route("api:inspection-impact-detail", detail("api:inspection-impact-detail"), targets.impact, reads(READERS)),
]
