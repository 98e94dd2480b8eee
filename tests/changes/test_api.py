"""The change-control API end to end: a specification change from draft to closure over HTTP, optimistic
concurrency, refusals that name the field or explain the transition, the sponsor's partner actions (filing
decisions, agency approval, signed approval), revision after a rejection, linked documents and their refusals, who
sees what (Helix never sees a Northwind-only change, nor Northwind's lines of a shared one), and the OpenAPI
description.

Every step goes through HTTP as the named member; only the setting (a change raised before the test's subject) is
built through the services. Acme's changes are raised by ``acme.author`` so that ``acme.qa`` may approve them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from changes.models import Approval, ChangeDocument, ChangeRequest, FilingDecision
from tenants.models import SecurityEvent, StoredFile
from tests.changes.helpers import (
    AUTHOR,
    LIKE_FOR_LIKE,
    METHOD_CHANGE,
    RELAX,
    assess,
    author,
    decide,
    qa_approve,
    raise_change,
    sponsor_sign,
    submit,
)
from tests.factories import PASSWORD
from tests.multipart import raw_multipart
from tests.test_route_isolation import PDF

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _url(name: str, change: Any, *more: Any) -> str:
    return reverse(name, args=[change if isinstance(change, int) else change.pk, *more])


def _ok(response: Any, code: int = 200) -> dict[str, Any]:
    assert response.status_code == code, response.content
    return response.json()


def _fields(response: Any) -> dict[str, Any]:
    assert response.status_code == 400, response.content
    return response.json()["error"]["fields"]


def _in_days(days: int) -> str:
    return (timezone.localdate() + dt.timedelta(days=days)).isoformat()


def _approved(cast) -> ChangeRequest:
    """An HLX-101 method change, Helix's filings confirmed and approval signed, Acme's QA approval signed."""
    change = submit(cast, assess(cast, raise_change(cast)))
    decide(cast, change, "HLX-101", "US", by="helix.qa")
    decide(cast, change, "HLX-101", "EU", by="helix.qa")
    sponsor_sign(cast, change, "helix.qa")
    return qa_approve(cast, change)


# --- The life of a change ---------------------------------------------------------------------------------------


def test_a_specification_change_from_draft_to_closure_over_the_api(cast, api_for):
    """Acme raises and assesses; Helix confirms the filings and signs its approval; Acme approves, implements,
    links its validation report, reviews the effectiveness and closes."""
    author(cast)
    raiser, qa, helix = api_for(AUTHOR), api_for("acme.qa"), api_for("helix.qa")

    questions = _ok(raiser.get(reverse("api:change-questionnaire"), {"change_type": "specification"}))
    assert {"specification_change", "method_comparable", "affects_filed_information"} <= {q["key"] for q in questions}
    spec = next(q for q in questions if q["key"] == "specification_change")
    assert spec["kind"] == "choice" and {"value": "method", "label": spec["choices"][-1]["label"]} in spec["choices"]

    created = raiser.post(reverse("api:change-list"), {
        "title": "Replace HPLC assay method", "description": "Move the assay to UHPLC.",
        "reason": "The HPLC column is discontinued.", "change_type": "specification",
        "site": cast.sites["Acme Boston"].pk, "proposed_implementation_date": _in_days(60),
        "lines": [{"product": cast.products["HLX-101"].pk}]}, format="json")
    change = _ok(created, 201)
    assert (change["state"], change["number"].startswith("CHG-"), created["ETag"]) == ("draft", True, '"1"')
    assert [(line["product_code"], line["sponsor_name"]) for line in change["lines"]] == [
        ("HLX-101", "Helix Therapeutics")]

    assessed = _ok(raiser.post(_url("api:change-impact-assessment", change["id"]), {
        "answers": METHOD_CHANGE, "risk_rating": "medium", "risk_rationale": "Validated method; assay only.",
        "version": 1}, format="json"))
    assert assessed["state"] == "assessment"
    assert {(a["market"], a["suggested_category"]) for a in assessed["assessments"]} == {
        ("US", "cbe30"), ("EU", "type_ib")}
    assert all(a["rule_text"] and a["decision"] is None for a in assessed["assessments"])
    assert "Helix Therapeutics's filing decision for HLX-101 (US)" in " ".join(assessed["implementation_blockers"])

    awaiting = _ok(helix.get(reverse("api:change-awaiting")))
    assert {(f["product_code"], f["market"]) for f in awaiting["filings"]} == {("HLX-101", "US"), ("HLX-101", "EU")}
    us, eu = (next(a for a in assessed["assessments"] if a["market"] == m) for m in ("US", "EU"))
    confirmed = _ok(helix.post(_url("api:change-filing-decisions", change["id"]),
                               {"assessment": us["id"], "category": "cbe30"}, format="json"), 201)
    assert (confirmed["decision"]["confirmed_category"], confirmed["decision"]["overridden"]) == ("cbe30", False)
    assert "override_reason" in _fields(helix.post(_url("api:change-filing-decisions", change["id"]),
                                                   {"assessment": eu["id"], "category": "type_ii"}, format="json"))
    overridden = _ok(helix.post(_url("api:change-filing-decisions", change["id"]), {
        "assessment": eu["id"], "category": "type_ia_in", "override_reason": "Pharmacopoeial method, IA-IN."},
        format="json"), 201)
    assert overridden["decision"]["overridden"] is True

    submitted = _ok(raiser.post(_url("api:change-submit", change["id"])))
    assert (submitted["state"], submitted["approval_round"]) == ("pending_approval", 1)
    [route] = submitted["routes"]
    assert (route["requirement"], route["sponsor_name"], route["round"]) == ("approval", "Helix Therapeutics", 1)
    assert [a["change"] for a in _ok(helix.get(reverse("api:change-awaiting")))["approvals"]] == [change["id"]]

    early = _fields(qa.post(_url("api:change-approve", change["id"]), {"password": PASSWORD}, format="json"))
    assert "The sponsors approve first" in early["step"][0]
    blocked = _fields(raiser.post(_url("api:change-implement", change["id"])))
    assert "cannot be implemented yet" in blocked["state"][0]
    assert "Helix Therapeutics's signed approval" in blocked["state"][0]

    signed = _ok(helix.post(_url("api:change-sponsor-approval", change["id"]), {
        "decision": "approve", "comment": "Approved; file the CBE-30 first.", "password": PASSWORD}, format="json"))
    [approval] = signed["approvals"]
    assert (approval["decision"], approval["organization_name"], approval["round"]) == (
        "approved", "Helix Therapeutics", 1)
    assert [s["meaning"] for s in approval["signatures"]] == ["approved"]
    assert _ok(helix.get(_url("api:change-approvals", change["id"])))[0]["id"] == approval["id"]

    approved = _ok(qa.post(_url("api:change-approve", change["id"]), {"password": PASSWORD}, format="json"))
    assert approved["state"] == "approved"
    assert [(s["step"], s["printed_name"]) for s in approved["signatures"]] == [("approve", "Amir Castellano")]

    implemented = _ok(raiser.post(_url("api:change-implement", change["id"])))
    assert implemented["state"] == "implemented" and implemented["effectiveness_due_at"]

    report = pdf_upload_post(raiser, change["id"], "validation", "UHPLC-validation.pdf")
    document = _ok(report, 201)
    assert (document["kind"], document["original_name"], document["sha256"]) == (
        "validation", "UHPLC-validation.pdf", hashlib.sha256(PDF).hexdigest())
    assert [d["id"] for d in _ok(helix.get(_url("api:change-documents", change["id"])))] == [document["id"]]
    download = helix.get(document["url"])
    assert download.status_code == 200 and download["Content-Disposition"].startswith("attachment")
    assert b"".join(download.streaming_content) == PDF

    reviewed = _ok(raiser.post(_url("api:change-effectiveness", change["id"]), {
        "effective": True, "summary": "Three lots assayed with both methods: equivalent."}, format="json"))
    assert reviewed["state"] == "effectiveness_review" and reviewed["effectiveness_review"]["effective"] is True
    closed = _ok(qa.post(_url("api:change-close", change["id"]), {"password": PASSWORD}, format="json"))
    assert closed["state"] == "closed"
    assert [s["meaning"] for s in closed["effectiveness_review"]["signatures"]] == ["closed"]

    dossier = helix.get(_url("api:change-dossier", change["id"]))
    assert dossier.status_code == 200 and dossier["Content-Type"] == "application/pdf"
    assert dossier.content.startswith(b"%PDF") and dossier["X-Checksum-SHA256"] == hashlib.sha256(
        dossier.content).hexdigest()


def pdf_upload_post(client: Any, change_id: int, kind: str, name: str, content: bytes = PDF) -> Any:
    return client.post(_url("api:change-documents", change_id),
                       {"kind": kind, "title": "", "file": SimpleUploadedFile(name, content)}, format="multipart")


def test_a_wrong_password_answers_400_and_the_attempt_stays_recorded(cast, api_for):
    change = submit(cast, assess(cast, raise_change(cast)))
    response = api_for("helix.qa").post(_url("api:change-sponsor-approval", change), {
        "decision": "approve", "password": "wrong"}, format="json")
    assert "password" in _fields(response)
    assert SecurityEvent.objects.filter(kind="signature_failed", actor=cast.users["helix.qa"]).count() == 1
    assert not Approval.objects.filter(change=change).exists()
    assert ChangeRequest.objects.get(pk=change.pk).state == ChangeRequest.State.PENDING_APPROVAL


def test_a_rejection_needs_its_reason_and_the_owner_revises_in_a_new_round(cast, api_for):
    change = submit(cast, assess(cast, raise_change(cast)))
    helix, raiser = api_for("helix.qa"), api_for(AUTHOR)
    assert "comment" in _fields(helix.post(_url("api:change-sponsor-approval", change), {
        "decision": "reject", "password": PASSWORD}, format="json"))
    _ok(helix.post(_url("api:change-sponsor-approval", change), {
        "decision": "reject", "comment": "Stage it after the annual campaign.", "password": PASSWORD},
        format="json"))

    assert "reason" in _fields(raiser.post(_url("api:change-withdraw", change), {"reason": " "}, format="json"))
    withdrawn = _ok(raiser.post(_url("api:change-withdraw", change), {"reason": "Staged roll-out planned."},
                                format="json"))
    assert (withdrawn["state"], withdrawn["approval_round"]) == ("assessment", 1)
    # The withdrawn round is history now: no route or approval is in force until the change is submitted again.
    assert (withdrawn["routes"], withdrawn["approvals"]) == ([], [])
    assert [(h["round"], h["approval"]["decision"]) for h in _ok(raiser.get(_url("api:change-history", change)))] == [
        (1, "rejected")]
    assert _ok(raiser.post(_url("api:change-submit", change)))["approval_round"] == 2

    history = _ok(helix.get(_url("api:change-history", change)))
    assert [(h["round"], h["approval"]["decision"], h["approval"]["comment"]) for h in history] == [
        (1, "rejected", "Stage it after the annual campaign.")]
    assert [r["round"] for r in _ok(helix.get(_url("api:change-routes", change)))] == [2]
    assert _ok(helix.get(_url("api:change-approvals", change))) == []


def test_a_notification_only_change_is_notified_over_the_api(cast, api_for):
    change = submit(cast, assess(cast, raise_change(cast, change_type="equipment_like_for_like",
                                                    title="Swap tablet press TP-3"), LIKE_FOR_LIKE))
    raiser = api_for(AUTHOR)
    [route] = _ok(raiser.get(_url("api:change-routes", change)))
    assert (route["requirement"], route["lead_days"], route["notified_at"]) == ("notify", 30, None)
    assert route["notice_due_on"] == (change.proposed_implementation_date - dt.timedelta(days=30)).isoformat()
    told = _ok(raiser.post(_url("api:change-notify", change), {"message": "Next shutdown."}, format="json"))
    assert told["routes"][0]["notified_at"] and told["routes"][0]["recipients"] >= 1
    again = _fields(raiser.post(_url("api:change-notify", change), {}, format="json"))
    assert "already been told" in again["state"][0]


def test_a_prior_approval_filing_needs_the_agency_approval_recorded_by_the_sponsor(cast, api_for):
    change = assess(cast, raise_change(cast), RELAX)
    helix = api_for("helix.qa")
    decide(cast, change, "HLX-101", "US", by="helix.qa")
    decision = FilingDecision.objects.get(change=change, assessment__market="US")
    assert decision.confirmed_category == "pas"
    assert [a["id"] for a in _ok(helix.get(reverse("api:change-awaiting")))["agency"]] == [decision.pk]

    future = _fields(helix.post(_url("api:change-agency-approvals", change), {
        "decision": decision.pk, "approved_on": _in_days(3)}, format="json"))
    assert "future" in future["approved_on"][0]
    assert "decision" in _fields(helix.post(_url("api:change-agency-approvals", change), {
        "decision": 999999, "approved_on": _in_days(0)}, format="json"))
    recorded = _ok(helix.post(_url("api:change-agency-approvals", change), {
        "decision": decision.pk, "approved_on": _in_days(-1), "reference": "S-012"}, format="json"))
    assert (recorded["decision"]["agency_approved_on"], recorded["decision"]["agency_reference"]) == (
        _in_days(-1), "S-012")
    assert api_for("acme.qa").post(_url("api:change-agency-approvals", change), {
        "decision": decision.pk, "approved_on": _in_days(0)}, format="json").status_code == 403


def test_superseded_assessments_are_listed_with_all(cast, api_for):
    change = assess(cast, raise_change(cast))
    decide(cast, change, "HLX-101", "US", by="helix.qa")
    change = assess(cast, change, RELAX)  # the answers change: new suggestions, the old ones kept
    client = api_for("helix.qa")
    current = _ok(client.get(_url("api:change-assessments", change)))
    every = _ok(client.get(_url("api:change-assessments", change), {"all": "1"}))
    assert {a["suggested_category"] for a in current} == {"pas", "type_ii"}
    assert len(every) == 4 and sum(a["superseded"] for a in every) == 2
    assert [a["decision"]["confirmed_category"] for a in every if a["decision"]] == ["cbe30"]


# --- Optimistic concurrency and refusals --------------------------------------------------------------------------


def test_stale_edits_answer_412_or_409_and_an_edit_without_a_version_428(cast, api_for):
    change = raise_change(cast)
    client = api_for(AUTHOR)
    url = _url("api:change-detail", change)
    missing = client.patch(url, {"title": "UHPLC assay"}, format="json")
    assert missing.status_code == 428 and "version" in missing.json()["error"]["fields"]
    fresh = client.patch(url, {"title": "UHPLC assay"}, format="json", HTTP_IF_MATCH='"1"')
    assert (fresh.status_code, fresh.json()["title"], fresh["ETag"]) == (200, "UHPLC assay", '"2"')

    stale = client.patch(url, {"title": "Another title"}, format="json", HTTP_IF_MATCH='"1"')
    assert stale.status_code == 412 and stale["ETag"] == '"2"'
    assert stale.json()["error"]["current_version"] == 2
    conflict = client.patch(url, {"title": "Another title", "version": 1}, format="json")
    assert conflict.status_code == 409
    lines = client.put(_url("api:change-lines", change), {"lines": [{"product": cast.products["NWB-7"].pk}]},
                       format="json", HTTP_IF_MATCH='"1"')
    assert lines.status_code == 412
    impact = client.post(_url("api:change-impact-assessment", change), {
        "answers": METHOD_CHANGE, "risk_rating": "low", "risk_rationale": "x"}, format="json")
    assert impact.status_code == 428
    change.refresh_from_db()
    assert (change.title, change.version, change.lines.count()) == ("UHPLC assay", 2, 1)

    both = client.put(_url("api:change-lines", change), {"lines": [
        {"product": cast.products["HLX-101"].pk}, {"product": cast.products["NWB-7"].pk}]}, format="json",
        HTTP_IF_MATCH='"2"')
    assert [line["product_code"] for line in _ok(both)["lines"]] == ["HLX-101", "NWB-7"]


def test_validation_errors_name_the_field(cast, api_for):
    author(cast)
    client = api_for(AUTHOR)
    base = {"title": "New granulator", "description": "d", "reason": "r", "change_type": "equipment",
            "site": cast.sites["Acme Boston"].pk, "proposed_implementation_date": _in_days(30),
            "lines": [{"product": cast.products["HLX-101"].pk}]}
    assert "lines" in _fields(client.post(reverse("api:change-list"), {**base, "lines": []}, format="json"))
    assert "lines.0" in _fields(client.post(reverse("api:change-list"), {
        **base, "lines": [{"product": cast.products["NWB-9"].pk}]}, format="json"))  # Borealis makes NWB-9
    assert "temporary_until" in _fields(client.post(reverse("api:change-list"), {**base, "permanent": False},
                                                    format="json"))
    assert "site" in _fields(client.post(reverse("api:change-list"), {
        **base, "site": cast.sites["Borealis Montreal"].pk}, format="json"))
    assert "change_type" in _fields(client.post(reverse("api:change-list"), {**base, "change_type": "magic"},
                                                format="json"))
    assert ChangeRequest.objects.count() == 0

    change = raise_change(cast, change_type="equipment")
    impact = _fields(client.post(_url("api:change-impact-assessment", change), {
        "answers": {"affects_cqa": "maybe"}, "risk_rating": "high", "risk_rationale": "", "version": 1},
        format="json"))
    assert {"answers.affects_cqa", "answers.like_for_like", "answers.validation_impact"} <= set(impact)
    assert "risk_rationale" in _fields(client.post(_url("api:change-impact-assessment", change), {
        "answers": {**LIKE_FOR_LIKE, "like_for_like": False}, "risk_rating": "high", "risk_rationale": " ",
        "version": 1}, format="json"))
    assert "risk_rating" in _fields(client.post(_url("api:change-impact-assessment", change), {
        "answers": {}, "risk_rating": "extreme", "risk_rationale": "x", "version": 1}, format="json"))
    assert "change_type" in _fields(client.get(reverse("api:change-questionnaire")))
    assert "summary" in _fields(client.post(_url("api:change-effectiveness", change), {"effective": True},
                                            format="json"))


def test_an_illegal_transition_explains_why(cast, api_for):
    change = raise_change(cast)
    client = api_for(AUTHOR)
    submit_draft = _fields(client.post(_url("api:change-submit", change)))
    assert submit_draft["state"] == [f"Cannot submit it for approval: {change.number} is draft; this needs it "
                                     "impact assessed."]
    assert "implement it" in _fields(client.post(_url("api:change-implement", change)))["state"][0]
    effectiveness = _fields(client.post(_url("api:change-effectiveness", change), {
        "effective": True, "summary": "x"}, format="json"))
    assert "record the effectiveness review" in effectiveness["state"][0]
    assert "link documents" in _fields(pdf_upload_post(client, change.pk, "validation", "v.pdf"))["state"][0]
    assert "withdraw it for revision" in _fields(client.post(_url("api:change-withdraw", change),
                                                            {"reason": "x"}, format="json"))["state"][0]
    assert "effectiveness review first" in _fields(api_for("acme.qa").post(
        _url("api:change-close", change), {"password": PASSWORD}, format="json"))["step"][0]


def test_a_cancellation_is_signed_over_its_reason(cast, api_for):
    change = raise_change(cast)
    qa = api_for("acme.qa")
    assert "reason" in _fields(qa.post(_url("api:change-cancel", change), {"password": PASSWORD}, format="json"))
    cancelled = _ok(qa.post(_url("api:change-cancel", change), {"reason": "Raised in error.", "password": PASSWORD},
                            format="json"))
    assert (cancelled["state"], cancelled["cancel_reason"]) == ("cancelled", "Raised in error.")
    assert [s["step"] for s in cancelled["signatures"]] == ["cancel"]


# --- Documents ----------------------------------------------------------------------------------------------------


def _raw_upload(client: Any, change_id: int, filename: str, content: bytes) -> Any:
    body, content_type = raw_multipart({"kind": "procedure", "title": "SOP"}, filename, content)
    return client.generic("POST", _url("api:change-documents", change_id), body, content_type=content_type)


def _stored() -> tuple[int, int]:
    return ChangeDocument.objects.count(), StoredFile.objects.count()


@pytest.mark.parametrize(("name", "message"), [
    ("../x.pdf", "may not contain paths"),
    ("..\\..\\etc\\x.pdf", "may not contain paths"),
    (".hidden.pdf", "may not start with a dot"),
    ("evil\u202efdp.pdf", "control or invisible characters"),
])
def test_a_hostile_name_is_refused_as_sent_and_stores_nothing(cast, api_for, name, message):
    change = _approved(cast)
    client = api_for(AUTHOR)
    assert _raw_upload(client, change.pk, "sop-v2.pdf", PDF).status_code == 201  # the crafted request works
    before = _stored()
    assert message in _fields(_raw_upload(client, change.pk, name, PDF))["file"][0]
    assert _stored() == before


@pytest.mark.parametrize(("name", "content", "message"), [
    ("tool.exe", b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 64, "Only PDF, PNG"),
    ("report.png", PDF, "does not end with .pdf"),
    ("empty.pdf", b"", "empty"),
])
def test_a_wrong_type_is_refused_and_stores_nothing(cast, api_for, name, content, message):
    change = _approved(cast)
    assert message in " ".join(_fields(pdf_upload_post(api_for(AUTHOR), change.pk, "other", name, content))["file"])
    assert _stored() == (0, 0)


def test_too_big_is_refused_and_stores_nothing(cast, api_for, settings, tmp_path):
    change = _approved(cast)
    settings.UPLOAD_MAX_BYTES = 16
    assert "at most" in _fields(pdf_upload_post(api_for(AUTHOR), change.pk, "filing", "letter.pdf"))["file"][0]
    assert _stored() == (0, 0) and not list(tmp_path.glob("files/??/*"))


def test_only_the_owner_links_documents(cast, api_for):
    change = _approved(cast)
    for username, expected in (("helix.qa", 403), ("acme.operator", 403), ("northwind.qa", 404)):
        assert pdf_upload_post(api_for(username), change.pk, "other", "memo.pdf").status_code == expected, username
    assert "kind" in _fields(pdf_upload_post(api_for(AUTHOR), change.pk, "invoice", "memo.pdf"))
    assert _stored() == (0, 0)


# --- Who sees what --------------------------------------------------------------------------------------------


def test_helix_never_sees_a_northwind_only_change(cast, api_for):
    change = submit(cast, assess(cast, raise_change(cast, products=("NWB-7",), site="Acme Cork")))
    helix = api_for("helix.qa")
    assert _ok(helix.get(reverse("api:change-list")))["results"] == []
    assert _ok(helix.get(reverse("api:change-awaiting")))["count"] == 0
    for name in ("api:change-detail", "api:change-assessments", "api:change-routes", "api:change-approvals",
                 "api:change-history", "api:change-documents", "api:change-dossier"):
        assert helix.get(_url(name, change)).status_code == 404, name
    for name, body in (("api:change-sponsor-approval", {"decision": "approve", "password": PASSWORD}),
                       ("api:change-submit", {}), ("api:change-filing-decisions", {"assessment": 1,
                                                                                    "category": "none"})):
        assert helix.post(_url(name, change), body, format="json").status_code == 404, name
    # The missing and the foreign change answer alike.
    assert helix.get(_url("api:change-detail", change)).content == helix.get(
        _url("api:change-detail", 999999)).content
    assert _ok(api_for("northwind.qa").get(_url("api:change-detail", change)))["number"] == change.number


def test_a_sponsor_reads_but_does_not_write_the_owners_change(cast, api_for):
    change = assess(cast, raise_change(cast))
    helix = api_for("helix.qa")
    writes = [
        helix.patch(_url("api:change-detail", change), {"title": "x", "version": change.version}, format="json"),
        helix.put(_url("api:change-lines", change), {"lines": [{"product": cast.products["HLX-101"].pk}],
                                                     "version": change.version}, format="json"),
        helix.post(_url("api:change-submit", change)),
        helix.post(_url("api:change-approve", change), {"password": PASSWORD}, format="json"),
        helix.post(_url("api:change-cancel", change), {"reason": "x", "password": PASSWORD}, format="json"),
    ]
    assert [w.status_code for w in writes] == [403] * len(writes)
    assert writes[0].json()["error"]["code"] == "permission_denied"
    assert api_for("acme.qa").post(_url("api:change-filing-decisions", change), {
        "assessment": change.assessments.first().pk, "category": "cbe30"}, format="json").status_code == 403
    viewer = api_for("helix.viewer")
    assert viewer.get(_url("api:change-detail", change)).status_code == 200
    assert viewer.get(_url("api:change-dossier", change)).status_code == 403  # may not export
    assert ChangeRequest.objects.get(pk=change.pk).state == ChangeRequest.State.ASSESSMENT


def test_a_sponsor_sees_only_its_own_product_lines_in_json(cast, api_for):
    """A change touching HLX-101 (Helix) and NWB-7 (Northwind): neither sponsor's JSON names the other."""
    change = submit(cast, assess(cast, raise_change(cast, products=("HLX-101", "NWB-7"))))
    decide(cast, change, "NWB-7", "US", by="northwind.qa")
    sponsor_sign(cast, change, "northwind.qa")
    for username, own, other in (("helix.qa", "HLX-101", ("NWB-7", "Northwind")),
                                 ("northwind.qa", "NWB-7", ("HLX-101", "Helix"))):
        client = api_for(username)
        listed = _ok(client.get(reverse("api:change-list")))["results"]
        assert [[p["product_code"] for p in c["products"]] for c in listed] == [[own]]
        detail = _ok(client.get(_url("api:change-detail", change)))
        assert {line["product_code"] for line in detail["lines"]} == {own}
        assert {a["product_code"] for a in detail["assessments"]} == {own}
        assert len(detail["routes"]) == 1
        bodies = [client.get(reverse("api:change-list")).content, client.get(_url("api:change-detail", change)).content]
        bodies += [client.get(_url(name, change)).content for name in (
            "api:change-assessments", "api:change-routes", "api:change-approvals", "api:change-history")]
        bodies.append(client.get(_url("api:change-assessments", change), {"all": "1"}).content)
        bodies.append(client.get(reverse("api:change-awaiting")).content)
        for body in bodies:
            for word in other:
                assert word.encode() not in body, (username, word)
    owner = _ok(api_for("acme.qa").get(_url("api:change-detail", change)))
    assert {line["product_code"] for line in owner["lines"]} == {"HLX-101", "NWB-7"}
    assert len(owner["routes"]) == 2 and len(owner["approvals"]) == 1


def test_list_filters(cast, api_for):
    spec = raise_change(cast)
    swap = raise_change(cast, change_type="equipment_like_for_like", products=("NWB-7",), site="Acme Cork",
                        title="Swap tablet press TP-3")
    client = api_for("acme.qa")

    def numbers(**params: Any) -> list[str]:
        return sorted(c["number"] for c in _ok(client.get(reverse("api:change-list"), params))["results"])

    assert numbers(change_type="specification") == [spec.number]
    assert numbers(product=cast.products["NWB-7"].pk) == [swap.number]
    assert numbers(partnership=cast.partnership("helix", "acme").pk) == [spec.number]
    assert numbers(site=cast.sites["Acme Cork"].pk) == [swap.number]
    assert numbers(q="press") == [swap.number]
    assert numbers(q=spec.number) == [spec.number]
    assert numbers(state="draft") == sorted([spec.number, swap.number])
    assert numbers(state="closed") == []
    helix = api_for("helix.qa")
    assert _ok(helix.get(reverse("api:change-list"), {"product": cast.products["NWB-7"].pk}))["results"] == []


def test_the_owner_awaits_no_sponsor_decision(cast, api_for):
    submit(cast, assess(cast, raise_change(cast)))
    assert _ok(api_for("acme.qa").get(reverse("api:change-awaiting"))) == {
        "count": 0, "approvals": [], "filings": [], "agency": []}


# --- The OpenAPI description ----------------------------------------------------------------------------------


def test_the_schema_describes_the_change_api(db, client):
    schema = client.get(reverse("api-schema"), {"format": "json"}).json()
    for path in ("/api/v1/changes/", "/api/v1/changes/{id}/", "/api/v1/changes/{id}/impact-assessment/",
                 "/api/v1/changes/{id}/filing-decisions/", "/api/v1/changes/{id}/sponsor-approval/",
                 "/api/v1/changes/{id}/documents/", "/api/v1/changes/{id}/documents/{document_id}/",
                 "/api/v1/changes/{id}/dossier.pdf/", "/api/v1/changes/awaiting/", "/api/v1/changes/questionnaire/"):
        assert path in schema["paths"], path
    upload = schema["paths"]["/api/v1/changes/{id}/documents/"]["post"]["requestBody"]["content"]
    assert "multipart/form-data" in upload
