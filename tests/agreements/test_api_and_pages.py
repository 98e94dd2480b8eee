"""Agreement API and pages: stale edits, errors naming fields, comparison, PDF, safe Markdown, consents."""

from __future__ import annotations

import io

from django.urls import reverse
from pypdf import PdfReader

from agreements import services
from agreements.models import QualityAgreement, SubcontractorConsent
from tests.agreements.helpers import acting, complete, draft, effective
from tests.factories import PASSWORD


def test_edits_need_the_version_read_and_stale_ones_change_nothing(cast, api_for):
    agreement = draft(cast)
    client = api_for("borealis.qa")
    url = reverse("api:agreement-sections", args=[agreement.pk])
    assert client.put(url, {"key": "scope", "body": "x"}, format="json").status_code == 428
    assert client.put(url, {"key": "scope", "body": "x", "version": 9}, format="json").status_code == 409
    assert client.put(url, {"key": "scope", "body": "x"}, format="json", HTTP_IF_MATCH='"9"').status_code == 412
    ok = client.put(url, {"key": "scope", "body": "NWB-9 drug substance", "version": 1}, format="json")
    assert ok.status_code == 200 and ok["ETag"] == '"2"'
    stale = api_for("northwind.qa").patch(reverse("api:agreement-detail", args=[agreement.pk]),
                                          {"title": "Theirs", "version": 1}, format="json")
    assert stale.status_code == 409 and stale.json()["error"]["code"]
    assert QualityAgreement.objects.get(pk=agreement.pk).title != "Theirs"


def test_bad_input_names_the_field_and_illegal_transitions_say_why(cast, api_for):
    agreement = draft(cast)
    client = api_for("northwind.qa")
    raci = client.put(reverse("api:agreement-raci", args=[agreement.pk]),
                      {"rows": {"capa": {"sponsor": "XX", "cmo": "RA"}}, "version": 1}, format="json")
    assert raci.status_code == 400 and "raci.capa.sponsor" in raci.json()["error"]["fields"]
    submit = client.post(reverse("api:agreement-submit", args=[agreement.pk]))
    assert submit.status_code == 400 and "effective_from" in submit.json()["error"]["fields"]
    approve = client.post(reverse("api:agreement-approve", args=[agreement.pk]), {"password": PASSWORD},
                          format="json")
    assert approve.status_code == 400 and "only a version in review" in approve.content.decode()
    wrong = client.post(reverse("api:agreement-terminate", args=[agreement.pk]), {"reason": "x"}, format="json")
    assert wrong.status_code == 400 and "Only the effective version" in wrong.content.decode()


def test_checks_endpoint_and_comparison_of_two_versions(cast, api_for, client_for):
    first = effective(cast)
    with acting(cast, "northwind.qa"):
        second = services.agreement_create(membership=cast.memberships["northwind.qa"],
                                           partnership=first.partnership)
        services.section_update(membership=cast.memberships["northwind.qa"], agreement=second, key="scope",
                                body="Scope extended to NWB-9 commercial supply.")
        services.raci_update(membership=cast.memberships["northwind.qa"], agreement=second,
                             rows={"stability_programme": ("RA", "C")})
        services.agreement_update(membership=cast.memberships["northwind.qa"], agreement=second,
                                  deviation_closure_days=20)
    comparison = api_for("borealis.qa").get(reverse("api:agreement-comparison", args=[second.pk])).json()
    assert [s["key"] for s in comparison["sections"]] == ["scope"]
    assert comparison["raci"] == [{"activity": "Stability programme", "old_sponsor": "CI", "old_cmo": "RA",
                                   "new_sponsor": "RA", "new_cmo": "C"}]
    assert {"field": "deviation_closure_days", "old": 30, "new": 20} in comparison["terms"]
    page = client_for("northwind.qa").get(reverse("agreement-compare", args=[second.pk])).content.decode()
    assert 'data-testid="section-diff"' in page and "extended" in page and 'class="diff_add"' in page
    findings = api_for("northwind.qa").get(reverse("api:agreement-findings", args=[second.pk])).json()
    assert any(f["code"] == "raci_rubber_stamp" for f in findings) is False


def test_pdf_holds_the_raci_grid_terms_and_signatures(cast, client_for):
    agreement = effective(cast)
    response = client_for("borealis.qa").get(reverse("agreement-pdf", args=[agreement.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    for expected in ("RACI matrix", "Deviation handling", "Notification windows", "Nora Whitfield",
                     "Béatrice Tremblay", "approved", "Termination and handover", "Audit trail"):
        assert expected in text, expected


def test_section_markdown_is_rendered_and_sanitised(cast, client_for):
    agreement = draft(cast)
    with acting(cast, "northwind.qa"):
        services.section_update(membership=cast.memberships["northwind.qa"], agreement=agreement, key="scope",
                                body="**Bold** scope\n\n<script>alert(1)</script>\n\n[x](javascript:alert(1))")
    page = client_for("borealis.qa").get(reverse("agreement-detail", args=[agreement.pk])).content.decode()
    assert "<strong>Bold</strong> scope" in page
    assert "<script>alert(1)</script>" not in page and "javascript:alert" not in page


def test_subcontractor_is_flagged_until_the_sponsor_signs(cast, api_for, client_for):
    created = api_for("borealis.qa").post(reverse("api:consent-list"), {
        "partnership": cast.partnership("northwind", "borealis").pk, "subcontractor": "Nordic Sterility Labs",
        "site": "Uppsala", "country": "SE", "activities": ["environmental_monitoring"]}, format="json")
    assert created.status_code == 201 and created.json()["state"] == "proposed"
    page = client_for("northwind.qa").get(reverse("consents")).content.decode()
    assert "not approved" in page
    signed = api_for("northwind.qa").post(reverse("api:consent-approve", args=[created.json()["id"]]),
                                          {"password": PASSWORD}, format="json")
    assert signed.status_code == 200 and signed.json()["state"] == "approved"
    again = api_for("northwind.qa").post(reverse("api:consent-approve", args=[created.json()["id"]]),
                                         {"password": PASSWORD}, format="json")
    assert again.status_code == 400
    assert SubcontractorConsent.objects.get(pk=created.json()["id"]).state == "approved"


def test_raci_grid_page_flags_gaps_and_keeps_bad_input(cast, client_for):
    agreement = complete(cast, draft(cast), "borealis.qa")
    client = client_for("northwind.qa")
    response = client.post(reverse("agreement-raci", args=[agreement.pk]),
                           {"version": agreement.version, "sponsor-capa": "ZZ", "cmo-capa": "RA"})
    assert response.status_code == 400
    body = response.content.decode()
    assert "Use the letters R, A, C and I" in body and 'value="ZZ"' in body
    stale = client.post(reverse("agreement-raci", args=[agreement.pk]), {"version": 1, "sponsor-capa": "A"})
    assert stale.status_code == 409


def test_an_organizations_own_activity_joins_the_matrix(cast, api_for):
    agreement = draft(cast)
    created = api_for("borealis.qa").post(reverse("api:gmp-activity-list"), {
        "code": "media_fill", "name": "Aseptic process simulation (media fill)", "critical": True}, format="json")
    assert created.status_code == 201 and created.json()["standard"] is False
    duplicate = api_for("borealis.qa").post(reverse("api:gmp-activity-list"), {
        "code": "capa", "name": "CAPA again", "critical": True}, format="json")
    assert duplicate.status_code == 400 and "code" in duplicate.json()["error"]["fields"]
    response = api_for("northwind.qa").put(reverse("api:agreement-raci", args=[agreement.pk]), {
        "rows": {"media_fill": {"sponsor": "I", "cmo": "RA"}}, "version": 1}, format="json")
    assert response.status_code == 200, response.content
    row = next(r for r in response.json()["raci"] if r["activity_code"] == "media_fill")
    assert (row["critical"], row["sponsor"], row["cmo"]) == (True, "I", "RA")
    unknown = api_for("northwind.qa").put(reverse("api:agreement-raci", args=[agreement.pk]), {
        "rows": {"nonsense": {"sponsor": "I", "cmo": "RA"}}, "version": response.json()["version"]}, format="json")
    assert unknown.status_code == 400 and "raci.nonsense" in unknown.json()["error"]["fields"]


def test_a_party_adds_its_own_activity_to_the_grid_from_the_page(cast, client_for):
    agreement = draft(cast)
    client = client_for("borealis.qa")
    response = client.post(reverse("agreement-raci-add", args=[agreement.pk]),
                           {"code": "media-fill", "name": "Aseptic process simulation", "critical": "on"})
    assert response.status_code == 302 and response["Location"] == reverse("agreement-raci", args=[agreement.pk])
    row = agreement.raci.get(activity_code="media-fill")
    assert row.critical and row.activity_name == "Aseptic process simulation"
    again = client.post(reverse("agreement-raci-add", args=[agreement.pk]),
                        {"code": "media-fill", "name": "Again", "critical": ""})
    assert again.status_code == 200 and "already has an activity with this code" in again.content.decode()
