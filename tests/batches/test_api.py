"""The batch API end to end: the release chain per release model, optimistic concurrency, document uploads and
their refusals, bulk import with its row report, who sees what (Northwind never an HLX-101 lot; the grantee
reads, never writes), and the OpenAPI description.

Every step goes through HTTP as the named member; only the setting (an agreement in force, a deviation at the
CMO) is built through the services.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from agreements.catalogue import ReleaseModel
from batches.models import Batch, Disposition, Document, Query
from tenants.models import SecurityEvent, StoredFile
from tests.agreements.helpers import effective
from tests.batches import routes
from tests.batches.helpers import ask, at_sponsor, complete, pdf_bytes, register, submit
from tests.deviations.helpers import report as report_deviation
from tests.factories import PASSWORD
from tests.multipart import raw_multipart
from tests.platform.test_uploads import png_bytes
from tests.test_route_isolation import live_grant

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _detail(client: Any, batch_id: int) -> dict[str, Any]:
    response = client.get(reverse("api:batch-detail", args=[batch_id]))
    assert response.status_code == 200, response.content
    return response.json()


def _upload(client: Any, batch_id: int, kind: str, name: str, content: bytes, title: str = "") -> Any:
    return client.post(reverse("api:batch-documents", args=[batch_id]),
                       {"kind": kind, "title": title, "file": SimpleUploadedFile(name, content)}, format="multipart")


def _dispose(client: Any, batch_id: int, decision: str = "release", **extra: str) -> Any:
    return client.post(reverse("api:batch-dispose", args=[batch_id]),
                       {"decision": decision, "password": PASSWORD, **extra}, format="json")


def _stored_count() -> tuple[int, int]:
    return Document.objects.count(), StoredFile.objects.count()


# --- The release chain, per release model -------------------------------------------------------------------


CHAINS = {
    # model: (CMO step, CMO decision, CMO meaning), (sponsor step, sponsor decision, sponsor meaning)
    ReleaseModel.CMO_THEN_SPONSOR: (("cmo_release", "released", "released"),
                                    ("sponsor_release", "released", "released")),
    ReleaseModel.SPONSOR_ONLY: (("cmo_submit", "submitted", "reviewed"), ("sponsor_release", "released", "released")),
    ReleaseModel.QP_CERTIFICATION: (("cmo_release", "released", "released"), ("qp_certify", "certified", "certified")),
}


@pytest.mark.parametrize("model", list(CHAINS))
def test_the_release_chain_over_the_api(cast, api_for, model):
    """Helix and Acme agree on the model; Acme registers, documents, submits and decides; Helix decides last."""
    effective(cast, "helix", "acme", release_model=model)
    operator, qa, sponsor = api_for("acme.operator"), api_for("acme.qa"), api_for("helix.qa")
    (cmo_step, cmo_decision, cmo_meaning), (sponsor_step, sponsor_decision, sponsor_meaning) = CHAINS[model]

    created = operator.post(reverse("api:batch-list"), {
        "product": cast.products["HLX-101"].pk, "site": cast.sites["Acme Boston"].pk, "lot_number": "HLX-101-A7",
        "manufactured_on": (timezone.localdate() - dt.timedelta(days=12)).isoformat(),
        "completed_on": (timezone.localdate() - dt.timedelta(days=10)).isoformat(), "quantity": "250000",
        "unit": "tablets", "planned_delivery_date": (timezone.localdate() + dt.timedelta(days=20)).isoformat()},
        format="json")
    assert created.status_code == 201, created.content
    batch = created.json()
    assert (batch["state"], batch["release_model"], batch["sponsor_name"]) == ("in_production", model,
                                                                                "Helix Therapeutics")
    assert created["ETag"] == '"1"'

    ebr = _upload(qa, batch["id"], "ebr", "ebr-a7.pdf", pdf_bytes("EBR A7"), "Executed batch record A7")
    assert ebr.status_code == 201, ebr.content
    assert ebr.json()["sha256"] == hashlib.sha256(pdf_bytes("EBR A7")).hexdigest()
    assert (ebr.json()["mime"], ebr.json()["size"], ebr.json()["url"]) == (
        "application/pdf", len(pdf_bytes("EBR A7")), reverse("api:batch-document-content", args=[ebr.json()["id"]]))
    assert _upload(qa, batch["id"], "coa", "coa-a7.pdf", pdf_bytes("CoA A7")).status_code == 201
    version = _detail(qa, batch["id"])["version"]
    put = qa.put(reverse("api:batch-results", args=[batch["id"]]), {"version": version, "results": [
        {"test": "Assay (HPLC)", "specification": "95.0–105.0 %", "result": "99.4 %"},
        {"test": "Dissolution", "specification": "Q ≥ 80 %", "result": "91 %", "passed": True, "oos": True}]},
        format="json")
    assert put.status_code == 200, put.content
    assert [r["test"] for r in put.json()["qc_results"]] == ["Assay (HPLC)", "Dissolution"]
    assert {"kind": "result", "severity": "attention", "text": "Dissolution: OOS investigated, result 91 % "
                                                              "against Q ≥ 80 %"} in put.json()["exceptions"]

    submitted = operator.post(reverse("api:batch-submit", args=[batch["id"]]))
    assert (submitted.status_code, submitted.json()["state"], submitted.json()["release_model"]) == (
        200, "cmo_review", model)
    assert [b["id"] for b in qa.get(reverse("api:batch-queue")).json()["results"]] == [batch["id"]]

    cmo = _dispose(qa, batch["id"])
    assert cmo.status_code == 200, cmo.content
    assert cmo.json()["state"] == "sponsor_review" and cmo.json()["review_due_at"]
    [first] = cmo.json()["dispositions"]
    assert (first["step"], first["decision"], first["organization_name"]) == (cmo_step, cmo_decision, "Acme CDMO")
    [signature] = first["signatures"]
    assert (signature["meaning"], signature["printed_name"]) == (cmo_meaning, "Amir Castellano")
    assert signature["signed_at"] and "Signed by Amir Castellano" in signature["manifestation"]

    queue = sponsor.get(reverse("api:batch-queue")).json()["results"]
    assert [(b["id"], b["age_days"]) for b in queue] == [(batch["id"], 0)]
    assert queue[0]["waiting_since"] and queue[0]["review_due_at"] == cmo.json()["review_due_at"]

    released = _dispose(sponsor, batch["id"])
    assert released.status_code == 200, released.content
    assert released.json()["state"] == "released"
    second = released.json()["dispositions"][1]
    assert (second["step"], second["decision"], second["organization_name"]) == (
        sponsor_step, sponsor_decision, "Helix Therapeutics")
    assert [(s["meaning"], s["printed_name"]) for s in second["signatures"]] == [
        (sponsor_meaning, "Hannah Lindqvist")]
    assert sponsor.get(reverse("api:batch-queue")).json()["results"] == []

    listed = sponsor.get(reverse("api:batch-disposition-list"), {"batch": batch["id"]}).json()["results"]
    assert [d["step"] for d in listed] == [cmo_step, sponsor_step]
    one = sponsor.get(reverse("api:batch-disposition-detail", args=[listed[1]["id"]])).json()
    assert [s["meaning"] for s in one["signatures"]] == [sponsor_meaning]

    delivered = operator.post(reverse("api:batch-delivery", args=[batch["id"]]), {
        "actual_delivery_date": timezone.localdate().isoformat(), "version": released.json()["version"]},
        format="json")
    assert (delivered.status_code, delivered.json()["actual_delivery_date"]) == (
        200, timezone.localdate().isoformat())


def test_an_open_deviation_needs_a_justified_conditional_release(cast, api_for):
    """The sponsor's review shows the deviation on its own lines; releasing outright is refused by field."""
    batch = submit(cast, complete(cast, register(cast, lot="HLX-101-L001")))
    deviation = report_deviation(cast)  # names lot HLX-101-L001
    qa = api_for("acme.qa")
    refused = _dispose(qa, batch.pk)
    assert refused.status_code == 400
    assert deviation.number in refused.json()["error"]["fields"]["decision"][0]
    assert "justification" in _dispose(qa, batch.pk, "conditional").json()["error"]["fields"]
    assert not Disposition.objects.exists()

    why = "Torque excursion confined to sub-lot 3, quarantined."
    signed = _dispose(qa, batch.pk, "conditional", justification=why)
    assert signed.status_code == 200, signed.content
    [cmo] = signed.json()["dispositions"]
    assert (cmo["decision"], cmo["justification"], cmo["open_deviations"]) == ("conditional", why,
                                                                               [deviation.number])
    review = _detail(api_for("helix.qa"), batch.pk)
    assert review["deviations"] == [{"id": deviation.pk, "number": deviation.number, "title": deviation.title,
                                     "state": "open"}]
    assert any(e["kind"] == "deviation_open" and e["severity"] == "blocker" for e in review["exceptions"])
    done = _dispose(api_for("helix.qa"), batch.pk, "conditional", justification="Accept with CMO's containment.")
    assert (done.status_code, done.json()["state"]) == (200, "conditionally_released")


def test_a_wrong_password_answers_400_and_the_attempt_stays_recorded(cast, api_for):
    batch = at_sponsor(cast)
    response = api_for("helix.qa").post(reverse("api:batch-dispose", args=[batch.pk]),
                                        {"decision": "release", "password": "wrong"}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid" and "password" in response.json()["error"]["fields"]
    assert SecurityEvent.objects.filter(kind="signature_failed", actor=cast.users["helix.qa"]).count() == 1
    batch.refresh_from_db()
    assert batch.state == Batch.State.SPONSOR_REVIEW
    assert Disposition.objects.filter(batch=batch).count() == 1  # the CMO's only


def test_a_rejection_needs_its_reason(cast, api_for):
    batch = at_sponsor(cast)
    client = api_for("helix.qa")
    assert "reason" in _dispose(client, batch.pk, "reject").json()["error"]["fields"]
    rejected = _dispose(client, batch.pk, "reject", reason="Label artwork does not match the approved version.")
    assert (rejected.status_code, rejected.json()["state"]) == (200, "rejected")
    assert rejected.json()["dispositions"][-1]["reason"] == "Label artwork does not match the approved version."


# --- Optimistic concurrency -------------------------------------------------------------------------------------


def test_stale_writes_answer_409_or_412_and_a_write_without_a_version_428(cast, api_for):
    batch = register(cast)
    client = api_for("acme.qa")
    url = reverse("api:batch-detail", args=[batch.pk])
    missing = client.patch(url, {"unit": "blisters"}, format="json")
    assert missing.status_code == 428 and "version" in missing.json()["error"]["fields"]
    fresh = client.patch(url, {"unit": "blisters", "version": 1}, format="json")
    assert (fresh.status_code, fresh.json()["unit"], fresh["ETag"]) == (200, "blisters", '"2"')

    stale = client.patch(url, {"unit": "bottles", "version": 1}, format="json")
    assert stale.status_code == 409
    assert (stale.json()["error"]["code"], stale.json()["error"]["current_version"]) == ("conflict", 2)
    precondition = client.patch(url, {"unit": "bottles"}, format="json", HTTP_IF_MATCH='"1"')
    assert precondition.status_code == 412 and precondition["ETag"] == '"2"'
    stale_results = client.put(reverse("api:batch-results", args=[batch.pk]), {"version": 1, "results": [
        {"test": "pH", "specification": "6.8–7.2", "result": "7.0"}]}, format="json")
    assert stale_results.status_code == 409
    batch.refresh_from_db()
    assert (batch.unit, batch.version, batch.qc_results.count()) == ("blisters", 2, 0)

    matched = client.patch(url, {"unit": "bottles"}, format="json", HTTP_IF_MATCH='"2"')
    assert (matched.status_code, matched.json()["unit"], matched.json()["version"]) == (200, "bottles", 3)
    changes = client.put(reverse("api:batch-changes", args=[batch.pk]), {"changes": [
        {"reference": "CC-2026-014", "title": "New granulator"}]}, format="json", HTTP_IF_MATCH='"3"')
    assert changes.status_code == 200 and changes.json()["changes"] == [
        {"reference": "CC-2026-014", "title": "New granulator"}]


# --- Documents ----------------------------------------------------------------------------------------------------


def _raw_upload(client: Any, batch_id: int, filename: str, content: bytes) -> Any:
    body, content_type = raw_multipart({"kind": "ebr", "title": "EBR"}, filename, content)
    return client.generic("POST", reverse("api:batch-documents", args=[batch_id]), body, content_type=content_type)


def test_a_good_pdf_is_stored_and_served_inline_or_as_a_download(cast, api_for):
    batch = register(cast)
    client = api_for("acme.qa")
    first = _upload(client, batch.pk, "ebr", "ebr-v1.pdf", pdf_bytes("EBR v1"))
    assert first.status_code == 201, first.content
    second = _upload(client, batch.pk, "ebr", "ebr-v2.pdf", pdf_bytes("EBR v2"))
    assert second.status_code == 201
    listed = client.get(reverse("api:batch-documents", args=[batch.pk])).json()
    assert {(d["original_name"], d["superseded"]) for d in listed} == {("ebr-v1.pdf", True), ("ebr-v2.pdf", False)}

    for reader in ("acme.qa", "helix.qa"):
        inline = api_for(reader).get(second.json()["url"])
        assert inline.status_code == 200, reader
        assert inline["Content-Disposition"].startswith("inline") and "frame-ancestors 'self'" in inline[
            "Content-Security-Policy"]
        assert inline["X-Checksum-SHA256"] == hashlib.sha256(pdf_bytes("EBR v2")).hexdigest()
        assert b"".join(inline.streaming_content) == pdf_bytes("EBR v2")
    download = api_for("helix.qa").get(second.json()["url"], {"download": "1"})
    assert download["Content-Disposition"].startswith('attachment; filename="ebr-v2.pdf"')
    assert download["Content-Security-Policy"] == "default-src 'none'; sandbox"
    b"".join(download.streaming_content)

    # The crafted request the refusal test below relies on is accepted with a clean name.
    assert _raw_upload(client, batch.pk, "ebr-v3.pdf", pdf_bytes("EBR v3")).status_code == 201


@pytest.mark.parametrize(("kind", "name", "content", "message"), [
    ("ebr", "scan.png", png_bytes(), "must be a PDF"),
    ("coa", "results.csv", b"test,result\nassay,99.4 %\n", "must be a PDF"),  # text is allowed, not as a CoA
    ("coa", "notes.txt", b"Hello, this is not a certificate.", "name does not end with .csv"),
    ("ebr", "ebr.exe", b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 64, "Only PDF, PNG"),
    ("ebr", "ebr.pdf", b"", "empty"),
])
def test_a_wrong_type_is_refused_naming_the_file_and_stores_nothing(cast, api_for, kind, name, content, message):
    batch = register(cast)
    before = _stored_count()
    response = _upload(api_for("acme.qa"), batch.pk, kind, name, content)
    assert response.status_code == 400
    assert message in " ".join(response.json()["error"]["fields"]["file"])
    assert _stored_count() == before


def test_too_big_is_refused_naming_the_file_and_stores_nothing(cast, api_for, settings, tmp_path):
    settings.UPLOAD_MAX_BYTES = 1024
    batch = register(cast)
    response = _upload(api_for("acme.qa"), batch.pk, "ebr", "ebr.pdf", pdf_bytes())
    assert len(pdf_bytes()) > 1024 and response.status_code == 400
    assert "at most" in response.json()["error"]["fields"]["file"][0]
    assert _stored_count() == (0, 0) and not list(tmp_path.glob("files/??/*"))


@pytest.mark.parametrize(("name", "message"), [
    ("../x.pdf", "may not contain paths"),
    ("..\\..\\etc\\x.pdf", "may not contain paths"),
    (".hidden.pdf", "may not start with a dot"),
    ("evil\u202efdp.pdf", "control or invisible characters"),
])
def test_a_hostile_name_is_refused_as_sent_and_stores_nothing(cast, api_for, tmp_path, name, message):
    batch = register(cast)
    response = _raw_upload(api_for("acme.qa"), batch.pk, name, pdf_bytes())
    assert response.status_code == 400, response.content
    assert message in response.json()["error"]["fields"]["file"][0]
    assert _stored_count() == (0, 0) and not list(tmp_path.glob("files/??/*"))


def test_only_the_cmo_quality_unit_attaches_documents(cast, api_for):
    batch = register(cast)
    for username, expected in (("helix.qa", 403), ("acme.operator", 403), ("northwind.qa", 404)):
        assert _upload(api_for(username), batch.pk, "ebr", "ebr.pdf", pdf_bytes()).status_code == expected, username
    assert _stored_count() == (0, 0)


# --- Import -----------------------------------------------------------------------------------------------------


def _rows() -> list[dict[str, Any]]:
    made = (timezone.localdate() - dt.timedelta(days=4)).isoformat()
    return [{"product": "HLX-101", "lot_number": "HLX-I-001", "site": "Acme Boston", "manufactured_on": made,
             "quantity": 250000, "unit": "tablets"},
            {"product": "NWB-7", "lot_number": "NWB7-I-001", "site": "Acme Cork", "manufactured_on": made,
             "quantity": "1200.5", "unit": "L", "planned_delivery_date": ""}]


def test_import_json_rows(cast, api_for):
    response = api_for("acme.operator").post(reverse("api:batch-import"), {"rows": _rows()}, format="json")
    assert response.status_code == 201, response.content
    assert [(b["product_code"], b["lot_number"], b["sponsor_name"], b["quantity"]) for b in response.json()] == [
        ("HLX-101", "HLX-I-001", "Helix Therapeutics", "250000.000"),
        ("NWB-7", "NWB7-I-001", "Northwind Biologics", "1200.500")]
    assert Batch.objects.count() == 2


def test_import_a_csv_file(cast, api_for):
    made = (timezone.localdate() - dt.timedelta(days=4)).isoformat()
    csv = (f"product,lot_number,site,manufactured_on,quantity,unit\r\n"
           f"HLX-101,HLX-C-001,Acme Boston,{made},1000,tablets\r\nHLX-101,HLX-C-002,Acme Boston,{made},900,tablets\r\n")
    response = api_for("acme.qa").post(reverse("api:batch-import"), {
        "file": SimpleUploadedFile("mes-export.csv", csv.encode())}, format="multipart")
    assert response.status_code == 201, response.content
    assert sorted(b["lot_number"] for b in response.json()) == ["HLX-C-001", "HLX-C-002"]


def test_bad_rows_refuse_the_whole_import_with_a_row_report(cast, api_for):
    rows = _rows() + [{"product": "XYZ-9", "lot_number": "X-1", "site": "Acme Boston",
                       "manufactured_on": "03/01/2026", "quantity": "many", "unit": "tablets"},
                      {**_rows()[0]}]  # the same lot twice in one import
    response = api_for("acme.operator").post(reverse("api:batch-import"), {"rows": rows}, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], error["fields"]) == ("invalid", {"rows": [error["message"]]})
    assert "2 of 4 rows have errors; nothing was imported" in error["message"]
    assert [r["row"] for r in error["rows"]] == [3, 4]
    assert set(error["rows"][0]["fields"]) == {"product", "manufactured_on", "quantity"}
    assert "also on row 1" in error["rows"][1]["fields"]["lot_number"][0]
    assert Batch.objects.count() == 0


def test_a_bad_csv_file_is_refused_naming_the_file(cast, api_for):
    response = api_for("acme.qa").post(reverse("api:batch-import"), {
        "file": SimpleUploadedFile("mes.csv", b"product,lot\r\nHLX-101,A\r\n")}, format="multipart")
    assert response.status_code == 400 and "missing" in response.json()["error"]["fields"]["file"][0]
    assert Batch.objects.count() == 0


def test_a_sponsor_or_a_viewer_cannot_import(cast, api_for):
    for username in ("helix.qa", "northwind.qa", "helix.viewer", "acme.admin"):
        response = api_for(username).post(reverse("api:batch-import"), {"rows": _rows()}, format="json")
        assert response.status_code == 403, username
        assert response.json()["error"]["code"] == "permission_denied"
    assert Batch.objects.count() == 0


# --- Queries ------------------------------------------------------------------------------------------------------


def test_a_query_thread_over_the_api(cast, api_for):
    batch = at_sponsor(cast)
    sponsor, cmo = api_for("helix.qa"), api_for("acme.qa")
    raised = sponsor.post(reverse("api:batch-query-list"), {
        "batch": batch.pk, "subject": "Granulation end point", "body": "Why 4 minutes later than validated?"},
        format="json")
    assert raised.status_code == 201, raised.content
    query = raised.json()
    assert (query["state"], query["awaiting_cmo"], [m["party"] for m in query["messages"]]) == (
        "open", True, ["sponsor"])
    assert any(e["kind"] == "query" for e in _detail(cmo, batch.pk)["exceptions"])
    assert "state" in _dispose(sponsor, batch.pk).json()["error"]["fields"]  # open query: no release yet

    answer = cmo.post(reverse("api:batch-query-reply", args=[query["id"]]),
                      {"body": "Ambient humidity was 4 % higher; the end point is by torque."}, format="json")
    assert (answer.status_code, answer.json()["party"], answer.json()["author_name"]) == (201, "cmo",
                                                                                          "Amir Castellano")
    assert cmo.post(reverse("api:batch-query-close", args=[query["id"]]), {}, format="json").status_code == 403
    thread = sponsor.get(reverse("api:batch-query-detail", args=[query["id"]])).json()
    assert (thread["awaiting_cmo"], thread["message_count"]) == (False, 2)
    closed = sponsor.post(reverse("api:batch-query-close", args=[query["id"]]), {"note": "Understood."},
                          format="json")
    assert (closed.status_code, closed.json()["state"], closed.json()["close_note"]) == (200, "closed",
                                                                                         "Understood.")
    assert cmo.post(reverse("api:batch-query-reply", args=[query["id"]]), {"body": "x"},
                    format="json").status_code == 400
    assert _dispose(sponsor, batch.pk).status_code == 200


# --- Who sees what --------------------------------------------------------------------------------------------


def test_northwind_never_sees_hlx_101_lots(cast, api_for):
    helix_batch = at_sponsor(cast, "HLX-101", "HLX-101-L001")
    helix_query = ask(cast, helix_batch, by="helix.qa")
    own = at_sponsor(cast, "NWB-7", "NWB-7-L001")
    client = api_for("northwind.qa")

    assert [b["lot_number"] for b in client.get(reverse("api:batch-list")).json()["results"]] == ["NWB-7-L001"]
    assert [b["lot_number"] for b in client.get(reverse("api:batch-queue")).json()["results"]] == ["NWB-7-L001"]
    csv = client.get(reverse("api:batch-export")).content.decode()
    assert "NWB-7-L001" in csv and "HLX-101" not in csv
    for name in ("api:batch-detail", "api:batch-documents", "api:batch-exceptions", "api:batch-pdf"):
        assert client.get(reverse(name, args=[helix_batch.pk])).status_code == 404, name
    assert _dispose(client, helix_batch.pk).status_code == 404

    documents = client.get(reverse("api:batch-document-list")).json()["results"]
    assert documents and {d["product_code"] for d in documents} == {"NWB-7"}
    helix_doc = Document.objects.filter(batch=helix_batch).first()
    for name in ("api:batch-document-detail", "api:batch-document-content"):
        assert client.get(reverse(name, args=[helix_doc.pk])).status_code == 404, name
    assert client.get(reverse("api:batch-query-list")).json()["results"] == []
    assert client.get(reverse("api:batch-query-detail", args=[helix_query.pk])).status_code == 404
    assert client.post(reverse("api:batch-query-reply", args=[helix_query.pk]), {"body": "x"},
                       format="json").status_code == 404
    dispositions = client.get(reverse("api:batch-disposition-list")).json()["results"]
    assert [d["batch"] for d in dispositions] == [own.pk]
    foreign = client.post(reverse("api:batch-query-list"), {"batch": helix_batch.pk, "subject": "x", "body": "y"},
                          format="json")
    assert foreign.status_code == 400 and foreign.json()["error"]["fields"] == {
        "batch": ["No such batch that you can see."]}
    assert Query.objects.filter(batch=helix_batch).count() == 1
    # The missing and the foreign batch answer alike.
    assert client.get(reverse("api:batch-detail", args=[helix_batch.pk])).content == client.get(
        reverse("api:batch-detail", args=[999999])).content


def test_the_grantee_reads_the_partnership_batches_and_writes_nothing(cast, api_for):
    batch = routes.at_sponsor(cast)
    query = ask(cast, batch, by="northwind.qa", subject="Fill weights", body="Why the drift after hour 6?")
    auditor = api_for("auditor")
    assert auditor.get(reverse("api:batch-detail", args=[batch.pk])).status_code == 404  # no grant yet
    live_grant(cast)

    assert batch.pk in [b["id"] for b in auditor.get(reverse("api:batch-list")).json()["results"]]
    review = _detail(auditor, batch.pk)
    assert {d["kind"] for d in review["documents"]} == {"ebr", "coa"}
    assert [d["step"] for d in review["dispositions"]] == ["cmo_release"]
    assert [q["subject"] for q in review["queries"]] == ["Fill weights"]
    assert review["deviations"] == []  # grants do not reach deviations
    content = auditor.get(review["documents"][0]["url"])
    assert content.status_code == 200
    b"".join(content.streaming_content)
    assert auditor.get(reverse("api:batch-query-detail", args=[query.pk])).json()["message_count"] == 1
    assert batch.pk in [d["batch"] for d in auditor.get(reverse("api:batch-disposition-list")).json()["results"]]

    writes = [
        auditor.patch(reverse("api:batch-detail", args=[batch.pk]), {"unit": "x", "version": batch.version},
                      format="json"),
        _dispose(auditor, batch.pk),
        _upload(auditor, batch.pk, "other", "memo.pdf", pdf_bytes()),
        auditor.post(reverse("api:batch-query-list"), {"batch": batch.pk, "subject": "x", "body": "y"},
                     format="json"),
        auditor.post(reverse("api:batch-query-reply", args=[query.pk]), {"body": "x"}, format="json"),
        auditor.post(reverse("api:batch-import"), {"rows": routes.import_rows(cast)}, format="json"),
    ]
    assert [w.status_code for w in writes] == [403] * len(writes)
    batch.refresh_from_db()
    assert (batch.state, batch.unit) == (Batch.State.SPONSOR_REVIEW, "tablets")


def test_export_and_pdf_need_the_export_capability(cast, api_for):
    batch = register(cast)
    viewer = api_for("helix.viewer")
    assert viewer.get(reverse("api:batch-detail", args=[batch.pk])).status_code == 200
    assert viewer.get(reverse("api:batch-export")).status_code == 403
    assert viewer.get(reverse("api:batch-pdf", args=[batch.pk])).status_code == 403


def test_list_filters(cast, api_for):
    waiting = at_sponsor(cast, "HLX-101", "HLX-101-L001")
    register(cast, lot="HLX-101-L002")
    client = api_for("acme.qa")

    def lots(**params: Any) -> list[str]:
        return sorted(b["lot_number"] for b in client.get(reverse("api:batch-list"), params).json()["results"])

    assert lots(state="sponsor_review") == [waiting.lot_number]
    assert lots(exceptions="true") == ["HLX-101-L002"]  # nothing attached yet
    assert lots(q="L002") == ["HLX-101-L002"]
    assert lots(sponsor=cast.orgs["northwind"].pk) == []
    counts = client.get(reverse("api:batch-export"), {"state": "in_production"}).content.decode().splitlines()
    assert len(counts) == 2 and "HLX-101-L002" in counts[1]


# --- The OpenAPI description ----------------------------------------------------------------------------------


def test_the_schema_describes_the_batch_api(db, client):
    schema = client.get(reverse("api-schema"), {"format": "json"}).json()
    for path in ("/api/v1/batches/", "/api/v1/batches/{id}/dispose/", "/api/v1/batches/{id}/documents/",
                 "/api/v1/batches/import/", "/api/v1/batches/queue/", "/api/v1/batch-documents/{id}/content/",
                 "/api/v1/batch-queries/{id}/reply/", "/api/v1/batch-dispositions/{id}/"):
        assert path in schema["paths"], path
    upload = schema["paths"]["/api/v1/batches/{id}/documents/"]["post"]["requestBody"]["content"]
    assert "multipart/form-data" in upload
    refusal = schema["paths"]["/api/v1/batches/import/"]["post"]["responses"]["400"]
    assert refusal["content"]["application/json"]["schema"]["$ref"].endswith("/ImportRefusal")
