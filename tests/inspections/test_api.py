"""The inspections API end to end: Acme records an FDA inspection and its 483 over HTTP, both clocks start, Helix is
told and acknowledges, the response is drafted, reviewed and approved by two people and submitted, then updates
and commitment closures; field-named refusals, illegal transitions that say why, optimistic concurrency, uploads
and their refusals, the back room, PAI comments, the sponsor dashboard, and who sees what (asserted on content).

Every step goes through HTTP as the named member; only the setting is built through the services.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from inspections.models import Document, Form483, LogEntry, Observation
from part11.models import Signature
from tenants.models import SecurityEvent, StoredFile
from tests.factories import PASSWORD
from tests.inspections.helpers import REVIEWER, affected, inspect, observe, pai, record_483, respond, reviewer
from tests.multipart import raw_multipart
from tests.test_route_isolation import PDF

pytestmark = pytest.mark.django_db

NWB7_ONLY = "Stability testing of NWB-7 lot 4 used an unvalidated method."
HELIX_FILING = "The filed HLX-101 process does not match the executed batch record."
SITE_WIDE = "Cleaning of the shared granulator was not verified before use."


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _ok(response: Any, code: int = 200) -> Any:
    assert response.status_code == code, response.content
    return response.json()


def _fields(response: Any) -> dict[str, Any]:
    assert response.status_code == 400, response.content
    return response.json()["error"]["fields"]


def _url(name: str, *args: Any) -> str:
    return reverse(name, args=[a if isinstance(a, int) else a.pk for a in args])


def _boston_483(cast: Any, issued: dt.date) -> Form483:
    """The FDA routine inspection at Acme Boston (Helix HLX-101, Northwind NWB-7) with three observations: one
    site-wide, one NWB-7 only, one Helix-originated (its filing)."""
    form483 = record_483(cast, inspect(cast, started=issued - dt.timedelta(days=3)), issued)
    observe(cast, form483, "21 CFR 211.67(a)", text=SITE_WIDE)
    observe(cast, form483, "21 CFR 211.165", text=NWB7_ONLY, visibility="product_specific",
            affected=[affected(cast, "northwind", "NWB-7")])
    observe(cast, form483, "21 CFR 211.100(a)", text=HELIX_FILING, visibility="product_specific",
            accountability="sponsor", accountability_rationale="The filing lags the validated process.",
            affected=[affected(cast, "helix", "HLX-101")])
    return Form483.objects.get(pk=form483.pk)


# --- The journey ------------------------------------------------------------------------------------------------


def test_acme_records_a_483_helix_acknowledges_and_the_response_is_signed_and_submitted(cast, api_for):
    reviewer(cast)
    qa, helix = api_for("acme.qa"), api_for("helix.qa")
    issued = timezone.localdate() - dt.timedelta(days=2)
    created = _ok(qa.post(reverse("api:inspection-list"), {
        "site": cast.sites["Acme Boston"].pk, "authority": "fda", "inspection_type": "routine",
        "started_on": (issued - dt.timedelta(days=3)).isoformat(), "investigators": ["J. Rivera"],
        "scope": [{"partnership": cast.partnership("helix", "acme").pk, "product": cast.products["HLX-101"].pk},
                  {"partnership": cast.partnership("northwind", "acme").pk,
                   "product": cast.products["NWB-7"].pk}]}, format="json"), 201)
    assert (created["state"], created["site_name"], created["form483"]) == ("in_progress", "Acme Boston", None)
    assert [line["product_code"] for line in created["scope"]] == ["HLX-101", "NWB-7"]

    form483 = _ok(qa.post(_url("api:inspection-record-form483", created["id"]), {"issued_on": issued.isoformat()},
                          format="json"), 201)
    clock = form483["response_deadline"]
    assert clock["state"] == "open" and "15 US business days" in clock["rule_text"]
    observations_url = _url("api:inspection-form483-observations", form483["id"])
    first = _ok(qa.post(observations_url, {"text": SITE_WIDE, "cited_regulation": "21 CFR 211.67(a)"},
                        format="json"), 201)
    assert (first["number"], first["subpart"], first["system"]) == (1, "D", "facilities_equipment")
    assert first["suggestion"] == "D — Equipment / Facilities & equipment" and first["is_repeat"] is False
    sponsor_line = {"partnership": cast.partnership("helix", "acme").pk, "product": cast.products["HLX-101"].pk}
    second = _ok(qa.post(observations_url, {
        "text": HELIX_FILING, "cited_regulation": "21 CFR 211.100(a)", "system": "quality",
        "accountability": "sponsor", "accountability_rationale": "The filing lags the validated process.",
        "visibility": "product_specific", "affected": [sponsor_line]}, format="json"), 201)
    assert (second["suggested_system"], second["system"], second["accountability"]) == (
        "production", "quality", "sponsor")
    assert [a["product_code"] for a in second["affected"]] == ["HLX-101"]

    # Track 2: Helix's clock is from its own agreement (none in force: the conservative defaults); told, it
    # acknowledges its own notice.
    told = _ok(qa.post(_url("api:inspection-notify", created["id"]), {"event": "fda_483"}, format="json"))
    assert sorted(n["sponsor_name"] for n in told) == ["Helix Therapeutics", "Northwind Biologics"]
    assert all(n["notified_at"] and n["deadline"]["completed_at"] for n in told)  # met (late if late)
    [notice] = _ok(helix.get(reverse("api:inspection-notice-list")))["results"]
    assert notice["sponsor_name"] == "Helix Therapeutics" and notice["acknowledged_at"] is None
    acknowledged = _ok(helix.post(_url("api:inspection-notice-acknowledge", notice["id"]),
                                  {"note": "Our regulatory team is on it."}, format="json"))
    assert acknowledged["acknowledged_by"] == "Hannah Lindqvist"
    assert acknowledged["acknowledgement_note"] == "Our regulatory team is on it."
    impact = _ok(qa.post(_url("api:inspection-observation-impacts", second["id"]), {
        "partnership": cast.partnership("helix", "acme").pk, "impact": "direct",
        "rationale": "HLX-101 filing must be amended."}, format="json"), 201)
    assert impact["sponsor_name"] == "Helix Therapeutics"

    # Track 1: drafts, two signatures, submission before the due date.
    for observation in (first, second):
        drafted = _ok(qa.put(_url("api:inspection-observation-response", observation["id"]), {
            "commitment": "Revise the SOP and retrain.", "actions": "SOP revised.", "target_on": "2027-03-31",
            "evidence": "SOP rev 5"}, format="json"))
        assert drafted["response_commitment"] == "Revise the SOP and retrain."
    approve_url = _url("api:inspection-form483-approve", form483["id"])
    too_early = _fields(qa.post(approve_url, {"password": PASSWORD}, format="json"))
    assert too_early  # the review comes first
    reviewed = _ok(api_for(REVIEWER).post(_url("api:inspection-form483-review", form483["id"]),
                                          {"password": PASSWORD}, format="json"))
    assert [s["meaning"] for s in reviewed["signatures"]] == ["reviewed"]
    approved = _ok(qa.post(approve_url, {"password": PASSWORD}, format="json"))
    assert [(s["meaning"], s["printed_name"]) for s in approved["signatures"]][1] == ("approved", "Amir Castellano")
    submitted = _ok(qa.post(_url("api:inspection-form483-submit", form483["id"]), {}, format="json"))
    assert (submitted["state"], submitted["submitted_late"]) == ("submitted", False)
    assert submitted["response_deadline"]["state"] == "met"
    [update] = submitted["updates"]
    assert update["sequence"] == 1 and update["deadline"]["state"] == "open"

    # Periodic update, then each commitment closed: the 483 closes.
    recorded = _ok(qa.post(_url("api:inspection-form483-updates", form483["id"]),
                           {"summary": "Training 60 % complete."}, format="json"), 201)
    assert recorded["submitted_late"] is False and recorded["deadline"]["state"] == "met"
    for observation in (first, second):
        closed = _ok(qa.post(_url("api:inspection-observation-close-commitment", observation["id"]),
                             {"closed_on": timezone.localdate().isoformat(), "evidence": "TR-2026-118"},
                             format="json"))
        assert closed["closure"]["evidence"] == "TR-2026-118"
    assert _ok(qa.get(_url("api:inspection-form483-detail", form483["id"])))["state"] == "closed"


def test_a_late_submission_is_recorded_as_late(cast, api_for):
    reviewer(cast)
    form483 = record_483(cast, inspect(cast, started=timezone.localdate() - dt.timedelta(days=45)),
                         timezone.localdate() - dt.timedelta(days=40))
    respond(cast, observe(cast, form483))
    api_for(REVIEWER).post(_url("api:inspection-form483-review", form483), {"password": PASSWORD}, format="json")
    qa = api_for("acme.qa")
    _ok(qa.post(_url("api:inspection-form483-approve", form483), {"password": PASSWORD}, format="json"))
    submitted = _ok(qa.post(_url("api:inspection-form483-submit", form483), {}, format="json"))
    assert submitted["submitted_late"] is True
    assert (submitted["response_deadline"]["state"], submitted["response_deadline"]["completed_late"]) == (
        "missed", True)


def test_a_wrong_password_answers_400_and_the_failed_attempt_stays_recorded(cast, api_for):
    reviewer(cast)
    form483 = record_483(cast, inspect(cast), dt.date(2026, 11, 6))
    respond(cast, observe(cast, form483))
    before = SecurityEvent.objects.filter(kind=SecurityEvent.Kind.SIGNATURE_FAILED).count()
    refused = api_for(REVIEWER).post(_url("api:inspection-form483-review", form483), {"password": "wrong"},
                                     format="json")
    assert "password" in _fields(refused)
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.SIGNATURE_FAILED).count() == before + 1
    assert not Signature.objects.filter(record_table="inspections_form483", record_id=form483.pk).exists()


def test_amending_the_483_restarts_the_clock_and_needs_a_reason(cast, api_for):
    form483 = record_483(cast, inspect(cast, started=dt.date(2026, 11, 2)), dt.date(2026, 11, 6))
    qa = api_for("acme.qa")
    url = _url("api:inspection-form483-amend", form483)
    assert "reason" in _fields(qa.post(url, {"issued_on": "2026-11-20"}, format="json"))
    assert "issued_on" in _fields(qa.post(url, {"issued_on": "2026-11-01", "reason": "Reworded."}, format="json"))
    assert form483.response_deadline is not None
    before = form483.response_deadline.due_at
    amended = _ok(qa.post(url, {"issued_on": "2026-11-20", "reason": "FDA reworded observation 1."},
                          format="json"))
    assert (amended["amended"], amended["issued_on"], amended["original_issued_on"]) == (
        True, "2026-11-20", "2026-11-06")
    assert amended["amendment_reason"] == "FDA reworded observation 1."
    assert dt.datetime.fromisoformat(amended["response_deadline"]["due_at"]) > before


# --- Refusals by field, illegal transitions, concurrency --------------------------------------------------------


def test_refusals_name_the_field(cast, api_for):
    qa = api_for("acme.qa")
    create = {"site": cast.sites["Borealis Montreal"].pk, "authority": "fda", "inspection_type": "routine"}
    assert _fields(qa.post(reverse("api:inspection-list"), create, format="json"))["site"] == [
        "Choose one of your organization's sites."]
    pai_without_application = {**create, "site": cast.sites["Acme Boston"].pk, "inspection_type": "pre_approval",
                               "scope": [{"partnership": cast.partnership("helix", "acme").pk}]}
    assert "pre-approval" in _fields(qa.post(reverse("api:inspection-list"), pai_without_application,
                                             format="json"))["scope"][0]
    form483 = record_483(cast, inspect(cast), dt.date(2026, 11, 6))
    url = _url("api:inspection-form483-observations", form483)
    sponsor_without_rationale = {"text": HELIX_FILING, "accountability": "sponsor",
                                 "affected": [{"partnership": cast.partnership("helix", "acme").pk}]}
    assert "accountability_rationale" in _fields(qa.post(url, sponsor_without_rationale, format="json"))
    product_without_product = {"text": NWB7_ONLY, "visibility": "product_specific"}
    assert "affected" in _fields(qa.post(url, product_without_product, format="json"))
    outside_scope = {"text": NWB7_ONLY, "affected": [{"partnership": cast.partnership("northwind", "borealis").pk}]}
    assert "affected.0" in _fields(qa.post(url, outside_scope, format="json"))
    observation = observe(cast, form483)
    assert "commitment" in _fields(qa.put(_url("api:inspection-observation-response", observation),
                                          {"commitment": " ", "actions": "x"}, format="json"))
    assert "capa" in _fields(qa.post(_url("api:inspection-observation-capas", observation), {"capa": 999999},
                                     format="json"))
    assert "title" in _fields(qa.post(_url("api:inspection-observation-capas", observation), {}, format="json"))


def test_an_illegal_transition_says_why(cast, api_for):
    inspection = inspect(cast)
    qa = api_for("acme.qa")
    refused = _fields(qa.post(_url("api:inspection-outcome", inspection),
                              {"outcome": "vai", "outcome_on": timezone.localdate().isoformat()}, format="json"))
    assert refused["state"] == [f"Cannot record its outcome: {inspection.number} is in progress; this needs it "
                                "closed out (awaiting outcome)."]
    _ok(qa.post(_url("api:inspection-close-out", inspection), {"closed_out_on": "2026-11-06"}, format="json"))
    wrong_scheme = _fields(qa.post(_url("api:inspection-outcome", inspection),
                                   {"outcome": "compliant", "outcome_on": "2026-11-20"}, format="json"))
    assert "NAI" in wrong_scheme["outcome"][0]
    closed = _ok(qa.post(_url("api:inspection-outcome", inspection), {"outcome": "oai", "outcome_on": "2026-11-20"},
                         format="json"))
    assert (closed["state"], closed["outcome"]) == ("closed", "oai")
    letter = _ok(qa.post(_url("api:inspection-warning-letter", inspection),
                         {"warning_letter_issued_on": "2026-11-25"}, format="json"))
    assert letter["warning_letter_deadline"]["state"] in ("open", "missed")
    form483 = _fields(qa.post(_url("api:inspection-record-form483", inspection), {"issued_on": "2026-11-06"},
                              format="json"))
    assert "closed" in form483["state"][0]
    mhra = inspect(cast, site="Acme Cork", authority="mhra", scope=[])
    assert "FDA" in _fields(qa.post(_url("api:inspection-record-form483", mhra), {"issued_on": "2026-11-06"},
                                    format="json"))["issued_on"][0]


def test_edits_need_the_version_read(cast, api_for):
    inspection = inspect(cast)
    qa = api_for("acme.qa")
    url = _url("api:inspection-detail", inspection)
    assert qa.patch(url, {"investigators": ["A"]}, format="json").status_code == 428
    fresh = qa.get(url)
    assert fresh["ETag"] == f'"{inspection.version}"'
    edited = qa.patch(url, {"investigators": ["J. Rivera", "A. Chen"]}, format="json", HTTP_IF_MATCH=fresh["ETag"])
    assert _ok(edited)["investigators"] == ["J. Rivera", "A. Chen"] and edited["ETag"] == f'"{inspection.version + 1}"'
    stale = qa.patch(url, {"under_mra": True}, format="json", HTTP_IF_MATCH=fresh["ETag"])
    assert stale.status_code == 412 and stale.json()["error"]["current_version"] == inspection.version + 1
    assert qa.patch(url, {"under_mra": True, "version": inspection.version}, format="json").status_code == 409

    form483 = record_483(cast, inspection, dt.date(2026, 11, 6))
    observation = observe(cast, form483)
    obs_url = _url("api:inspection-observation-detail", observation)
    etag = qa.get(obs_url)["ETag"]
    assert qa.patch(obs_url, {"text": "Reworded."}, format="json").status_code == 428
    changed = _ok(qa.patch(obs_url, {"cited_regulation": "21 CFR 211.192"}, format="json", HTTP_IF_MATCH=etag))
    assert (changed["subpart"], changed["suggested_subpart"]) == ("J", "J")  # the choice followed the suggestion
    assert qa.patch(obs_url, {"text": "Again."}, format="json", HTTP_IF_MATCH=etag).status_code == 412


# --- Who sees what --------------------------------------------------------------------------------------------


def test_a_northwind_only_observation_is_invisible_to_helix(cast, api_for):
    form483 = _boston_483(cast, dt.date(2026, 11, 6))
    nwb7 = Observation.objects.get(form483=form483, text=NWB7_ONLY)
    helix, northwind = api_for("helix.qa"), api_for("northwind.qa")
    seen = _ok(helix.get(_url("api:inspection-form483-detail", form483)))
    assert [o["text"] for o in seen["observations"]] == [SITE_WIDE, HELIX_FILING]
    listed = _ok(helix.get(reverse("api:inspection-observation-list")))["results"]
    assert {o["text"] for o in listed} == {SITE_WIDE, HELIX_FILING}
    assert "NWB-7" not in str(seen) and "Northwind" not in str(seen) and "NWB-7" not in str(listed)
    for name in ("api:inspection-observation-detail", "api:inspection-observation-impacts",
                 "api:inspection-observation-comments"):
        assert helix.get(_url(name, nwb7)).status_code == 404, name
    assert helix.get(_url("api:inspection-observation-detail", nwb7)).content == helix.get(
        _url("api:inspection-observation-detail", 999999)).content
    inspection = _ok(helix.get(_url("api:inspection-detail", form483.inspection)))
    assert [line["product_code"] for line in inspection["scope"]] == ["HLX-101"]
    assert "Northwind" not in str(inspection)

    mine = _ok(northwind.get(_url("api:inspection-form483-detail", form483)))
    assert [o["text"] for o in mine["observations"]] == [SITE_WIDE, NWB7_ONLY]
    assert "HLX-101" not in str(mine) and "Helix" not in str(mine)
    assert _ok(api_for("borealis.qa").get(reverse("api:inspection-list")))["results"] == []
    assert api_for("borealis.qa").get(_url("api:inspection-form483-detail", form483)).status_code == 404


def test_a_sponsor_reads_but_may_not_write_the_cmos_records(cast, api_for):
    form483 = _boston_483(cast, dt.date(2026, 11, 6))
    site_wide = Observation.objects.get(form483=form483, number=1)
    helix = api_for("helix.qa")
    inspection_url = _url("api:inspection-detail", form483.inspection)
    assert helix.patch(inspection_url, {"under_mra": True, "version": 1}, format="json").status_code == 403
    for name, target, body in (
            ("api:inspection-form483-observations", form483, {"text": "x"}),
            ("api:inspection-form483-submit", form483, {}),
            ("api:inspection-observation-impacts", site_wide, {"partnership": 1, "impact": "none",
                                                               "rationale": "x"}),
            ("api:inspection-notify", form483.inspection, {"event": "fda_483"})):
        assert helix.post(_url(name, target), body, format="json").status_code == 403, name
    assert helix.put(_url("api:inspection-observation-response", site_wide),
                     {"commitment": "x", "actions": "x"}, format="json").status_code == 403
    assert api_for("acme.operator").post(_url("api:inspection-form483-observations", form483), {"text": "x"},
                                         format="json").status_code == 403


def test_the_back_room_log_answers_404_to_a_sponsor(cast, api_for):
    inspection = inspect(cast)
    qa = api_for("acme.operator")
    url = _url("api:inspection-log", inspection)
    entry = _ok(qa.post(url, {"kind": "interview", "text": "QC manager interviewed on OOS handling.",
                              "who": "QC manager"}, format="json"), 201)
    assert (entry["kind"], entry["author"]) == ("interview", "Olivia Park")
    assert [e["who"] for e in _ok(api_for("acme.qa").get(url))] == ["QC manager"]
    for username in ("helix.qa", "northwind.qa", "northwind.admin", "borealis.qa"):
        client = api_for(username)
        assert client.get(url).status_code == 404, username
        assert client.post(url, {"kind": "note", "text": "x"}, format="json").status_code == 404, username
    assert LogEntry.objects.count() == 1


def test_only_the_pai_application_sponsor_comments(cast, api_for):
    inspection = pai(cast)
    form483 = record_483(cast, inspection, dt.date(2026, 11, 6), by="borealis.qa")
    observation = observe(cast, form483, "21 CFR 211.192", by="borealis.qa", text="Media fill failure not "
                                                                                 "investigated thoroughly.")
    northwind = api_for("northwind.qa")
    url = _url("api:inspection-observation-comments", observation)
    assert _ok(northwind.get(_url("api:inspection-detail", inspection)))["participates"] is True
    comment = _ok(northwind.post(url, {"body": "Our BLA commits to three media fills."}, format="json"), 201)
    assert comment["party"] == "sponsor"
    answer = _ok(api_for("borealis.qa").post(url, {"body": "Added.", "sponsor": cast.orgs["northwind"].pk},
                                             format="json"), 201)
    assert answer["party"] == "cmo"
    assert [c["body"] for c in _ok(northwind.get(url))] == ["Our BLA commits to three media fills.", "Added."]

    routine = _boston_483(cast, dt.date(2026, 11, 6))
    site_wide = Observation.objects.get(form483=routine, number=1)
    refused = _fields(api_for("helix.qa").post(_url("api:inspection-observation-comments", site_wide),
                                               {"body": "We disagree."}, format="json"))
    assert "routine surveillance inspection" in refused["observation"][0]


def test_the_sponsor_dashboard(cast, api_for):
    form483 = _boston_483(cast, dt.date(2026, 11, 6))
    helix_filing = Observation.objects.get(form483=form483, number=3)
    qa = api_for("acme.qa")
    qa.post(_url("api:inspection-notify", form483.inspection), {"event": "fda_483"}, format="json")
    qa.post(_url("api:inspection-observation-impacts", helix_filing), {
        "partnership": cast.partnership("helix", "acme").pk, "impact": "direct", "rationale": "Filing."},
        format="json")
    board = _ok(api_for("helix.qa").get(reverse("api:inspection-dashboard")))
    assert [i["number"] for i in board["inspections"]] == [form483.inspection.number]
    [open_483] = board["open_483s"]
    assert open_483["response_deadline"]["due_at"] and open_483["state"] == "drafting"
    [notice] = open_483["my_notices"]
    assert (notice["event"], notice["acknowledged_at"]) == ("fda_483", None)
    # Told weeks after the 483: the clock is met late, and shown so.
    assert (notice["deadline"]["state"], notice["deadline"]["completed_late"]) == ("missed", True)
    assert [(i["observation_number"], i["impact"]) for i in board["impacts"]] == [(3, "direct")]
    assert board["commitments"] == {"total": 0, "closed": 0, "open": 0, "overdue": 0}
    assert "Northwind" not in str(board) and "NWB-7" not in str(board)
    assert _ok(api_for("borealis.qa").get(reverse("api:inspection-dashboard")))["inspections"] == []


def test_the_list_filters(cast, api_for):
    inspect(cast)
    inspect(cast, site="Acme Cork", authority="mhra", scope=[])
    qa = api_for("acme.qa")

    def numbers(query: str) -> list[str]:
        return [i["authority"] for i in _ok(qa.get(reverse("api:inspection-list") + query))["results"]]

    assert sorted(numbers("")) == ["fda", "mhra"]
    assert numbers("?authority=mhra") == ["mhra"]
    assert numbers(f"?site={cast.sites['Acme Boston'].pk}") == ["fda"]
    assert numbers("?type=routine&state=in_progress") == ["mhra", "fda"]
    assert numbers("?outcome=nai") == []
    assert qa.get(reverse("api:inspection-list") + "?type=bogus").status_code == 400


def test_a_capa_is_raised_from_an_observation_and_linked_to_another(cast, api_for):
    form483 = _boston_483(cast, dt.date(2026, 11, 6))
    first, second = Observation.objects.filter(form483=form483).order_by("number")[:2]
    qa = api_for("acme.qa")
    raised = _ok(qa.post(_url("api:inspection-observation-capas", first), {
        "title": "Cleaning verification", "description": "Verify cleaning before use."}, format="json"), 201)
    linked = _ok(qa.post(_url("api:inspection-observation-capas", second), {"capa": raised["capa"]},
                         format="json"), 201)
    assert linked["capa_number"] == raised["capa_number"]
    assert "already linked" in _fields(qa.post(_url("api:inspection-observation-capas", second),
                                               {"capa": raised["capa"]}, format="json"))["capa"][0]
    seen = _ok(api_for("helix.qa").get(_url("api:inspection-observation-detail", first)))
    assert [c["capa_number"] for c in seen["capas"]] == [raised["capa_number"]]


# --- Documents ----------------------------------------------------------------------------------------------------


def _upload(client: Any, inspection: Any, name: str, content: bytes, shared: bool = False) -> Any:
    return client.post(_url("api:inspection-documents", inspection), {
        "kind": "form_483", "title": "Form 483", "shared": shared, "file": SimpleUploadedFile(name, content)},
        format="multipart")


def _raw_upload(client: Any, inspection: Any, filename: str, content: bytes) -> Any:
    body, content_type = raw_multipart({"kind": "correspondence", "title": "Letter"}, filename, content)
    return client.generic("POST", _url("api:inspection-documents", inspection), body, content_type=content_type)


def _stored() -> tuple[int, int]:
    return Document.objects.count(), StoredFile.objects.count()


def test_documents_shared_with_the_sponsors_and_the_rest_kept_by_the_cmo(cast, api_for):
    inspection = inspect(cast)
    qa, helix = api_for("acme.qa"), api_for("helix.qa")
    shared = _ok(_upload(qa, inspection, "form-483.pdf", PDF, shared=True), 201)
    internal = _ok(_upload(qa, inspection, "eir-draft.pdf", PDF), 201)
    assert shared["mime"] == "application/pdf" and shared["shared"] is True
    assert [d["id"] for d in _ok(helix.get(_url("api:inspection-documents", inspection)))] == [shared["id"]]
    download = helix.get(shared["url"])
    assert download.status_code == 200 and download["X-Checksum-SHA256"] == shared["sha256"]
    assert b"".join(download.streaming_content) == PDF
    assert helix.get(internal["url"]).status_code == 404
    assert api_for("borealis.qa").get(shared["url"]).status_code == 404
    assert _upload(helix, inspection, "mine.pdf", PDF).status_code == 403


@pytest.mark.parametrize(("name", "message"), [
    ("../x.pdf", "may not contain paths"),
    ("..\\..\\etc\\x.pdf", "may not contain paths"),
    (".hidden.pdf", "may not start with a dot"),
    ("evil\u202efdp.pdf", "control or invisible characters"),
])
def test_a_hostile_name_is_refused_as_sent_and_stores_nothing(cast, api_for, name, message):
    inspection = inspect(cast)
    client = api_for("acme.qa")
    assert _raw_upload(client, inspection, "letter.pdf", PDF).status_code == 201  # the crafted request works
    before = _stored()
    assert message in _fields(_raw_upload(client, inspection, name, PDF))["file"][0]
    assert _stored() == before


@pytest.mark.parametrize(("name", "content", "message"), [
    ("tool.exe", b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 64, "Only PDF, PNG"),
    ("report.png", PDF, "does not end with .pdf"),
    ("empty.pdf", b"", "empty"),
])
def test_a_wrong_type_is_refused_and_stores_nothing(cast, api_for, name, content, message):
    inspection = inspect(cast)
    assert message in " ".join(_fields(_upload(api_for("acme.qa"), inspection, name, content))["file"])
    assert _stored() == (0, 0)


def test_too_big_is_refused_and_stores_nothing(cast, api_for, settings, tmp_path):
    inspection = inspect(cast)
    settings.UPLOAD_MAX_BYTES = 16
    assert "at most" in _fields(_upload(api_for("acme.qa"), inspection, "form-483.pdf", PDF))["file"][0]
    assert _stored() == (0, 0) and not list(tmp_path.glob("files/??/*"))
