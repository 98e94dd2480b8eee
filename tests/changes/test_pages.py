"""The change-control pages, driven like a browser (forms posted, redirects followed): the CMO raises, assesses,
submits, implements and closes; each sponsor confirms its filings and signs its own decision; every form refuses
bad input with the reason on the field, and a sponsor never sees another sponsor's product lines.

The cast: Acme makes HLX-101 (US, EU) for Helix and NWB-7 (US, EU, UK) for Northwind. Acme's changes are raised by
``acme.author`` (a QA reviewer) so that ``acme.qa`` may approve them.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from changes.models import Approval, ChangeDocument, ChangeRequest, FilingDecision
from part11.signatures import signatures_of
from tenants.models import SecurityEvent
from tests.changes.helpers import (
    AUTHOR,
    LIKE_FOR_LIKE,
    RELAX,
    assess,
    assessment,
    author,
    confirm_all,
    decide,
    implement,
    qa_approve,
    raise_change,
    sponsor_sign,
    submit,
)
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

State = ChangeRequest.State
PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _field_error(html: str, field: str) -> bool:
    return f'data-field="{field}"' in html


def _create_post(cast, **overrides):
    data = {"title": "Replace HPLC assay method", "change_type": "specification",
            "description": "Move the assay to UHPLC.", "reason": "The HPLC column is discontinued.",
            "products": [cast.products["HLX-101"].pk], "site": cast.sites["Acme Boston"].pk,
            "proposed_implementation_date": (timezone.localdate() + dt.timedelta(days=60)).isoformat(),
            "permanent": "permanent"}
    return {**data, **overrides}


METHOD_ANSWERS = {"affects_filed_information": "yes", "affects_cqa": "no", "validation_impact": "yes",
                  "stability_impact": "no", "comparability_needed": "no", "sterility_assurance": "no",
                  "specification_change": "method", "method_comparable": "yes"}


def _assess_post(change, **overrides):
    return {**METHOD_ANSWERS, "risk_rating": "medium", "risk_rationale": "Validated method; assay only.",
            "version": change.version, **overrides}


def _fresh(change: ChangeRequest) -> ChangeRequest:
    return ChangeRequest.objects.get(pk=change.pk)


# --- Raise, edit, assess ---------------------------------------------------------------------------------------


def test_cmo_raises_a_change_through_the_form(cast, client_for):
    author(cast)
    client = client_for(AUTHOR)
    form = client.get(reverse("change-create")).content.decode()
    assert "HLX-101" in form and "NWB-7" in form and "Acme Boston" in form  # what Acme makes, where
    assert "NWB-9" not in form  # Borealis makes it
    bad = client.post(reverse("change-create"), _create_post(cast, products=[], title=""))
    assert bad.status_code == 400
    html = bad.content.decode()
    assert _field_error(html, "products") and _field_error(html, "title")
    temporary = client.post(reverse("change-create"), _create_post(cast, permanent="temporary"))
    assert temporary.status_code == 400 and _field_error(temporary.content.decode(), "temporary_until")
    assert "A temporary change needs the date it ends." in temporary.content.decode()
    assert not ChangeRequest.objects.exists()
    response = client.post(reverse("change-create"), _create_post(cast), follow=True)
    change = ChangeRequest.objects.get()
    assert response.redirect_chain[-1][0] == reverse("change-detail", args=[change.pk])
    page = response.content.decode()
    assert f"{change.number} raised as a draft" in page and "Draft" in page and 'data-testid="impact-form"' in page
    assert (change.organization, change.site, change.created_by) == (
        cast.orgs["acme"], cast.sites["Acme Boston"], cast.users[AUTHOR])


def test_sponsor_raises_a_change_to_its_own_product(cast, client_for):
    client = client_for("northwind.qa")
    form = client.get(reverse("change-create")).content.decode()
    assert "NWB-7" in form and "NWB-9" in form and "HLX-101" not in form
    response = client.post(reverse("change-create"), _create_post(cast, products=[cast.products["NWB-9"].pk],
                                                                  site=""), follow=True)
    assert response.status_code == 200
    change = ChangeRequest.objects.get()
    assert change.organization == cast.orgs["northwind"] and change.site is None


def test_wrong_roles_get_403_and_strangers_404(cast, client_for):
    change = raise_change(cast)
    for username in ("helix.viewer", "acme.admin", "auditor"):
        client = client_for(username)
        assert client.get(reverse("change-create")).status_code == 403, username
        assert client.post(reverse("change-create"), _create_post(cast)).status_code == 403, username
    # Helix sees the change (its product) but may not write Acme's record; Acme's org admin has no authoring role.
    for username in ("helix.qa", "acme.admin"):
        client = client_for(username)
        assert client.get(reverse("change-edit", args=[change.pk])).status_code == 403, username
        assert client.post(reverse("change-assess", args=[change.pk]), _assess_post(change)).status_code == 403
    for username in ("northwind.qa", "borealis.qa"):  # not its product, not its change
        client = client_for(username)
        assert client.get(reverse("change-detail", args=[change.pk])).status_code == 404, username
        assert client.post(reverse("change-cancel", args=[change.pk]),
                           {"reason": "x", "password": PASSWORD}).status_code == 404, username
    assert "Raise a change" not in client_for("helix.viewer").get(reverse("changes")).content.decode()
    assert _fresh(change).state == State.DRAFT


def test_edit_and_impact_assessment_with_errors_on_fields_and_stale_edits_409(cast, client_for):
    change = raise_change(cast)
    client = client_for(AUTHOR)
    edit = client.get(reverse("change-edit", args=[change.pk])).content.decode()
    assert 'value="Replace HPLC assay method"' in edit
    post = {**_create_post(cast, title="Replace the HPLC assay", products=[cast.products["HLX-101"].pk,
                                                                          cast.products["NWB-7"].pk]),
            "version": change.version}
    assert client.post(reverse("change-edit", args=[change.pk]), post).status_code == 302
    change = _fresh(change)
    assert change.title == "Replace the HPLC assay" and change.lines.count() == 2
    stale = client.post(reverse("change-edit", args=[change.pk]), {**post, "version": change.version - 1})
    assert stale.status_code == 409 and "Someone else changed this record" in stale.content.decode()

    form = client.get(reverse("change-assess", args=[change.pk])).content.decode()
    assert "Specification change" in form and "Like-for-like" not in form  # the specification questions only
    missing = client.post(reverse("change-assess", args=[change.pk]),
                          _assess_post(change, method_comparable="", risk_rationale=""))
    html = missing.content.decode()
    assert missing.status_code == 400
    assert _field_error(html, "method_comparable") and "Answer “Method performance comparable or better”." in html
    no_rationale = client.post(reverse("change-assess", args=[change.pk]), _assess_post(change, risk_rationale=""))
    assert no_rationale.status_code == 400 and _field_error(no_rationale.content.decode(), "risk_rationale")
    stale = client.post(reverse("change-assess", args=[change.pk]), _assess_post(change, version=change.version - 1))
    assert stale.status_code == 409
    done = client.post(reverse("change-assess", args=[change.pk]), _assess_post(change), follow=True)
    page = done.content.decode()
    assert "filing suggestions are computed" in page and "Impact assessed" in page
    assert "US: CBE-30 supplement" in page and "EU: Type IB variation" in page  # with the rule text as rationale
    assert page.count("awaiting the sponsor") == 5  # HLX-101 US, EU; NWB-7 US, EU, UK
    assert _fresh(change).state == State.ASSESSMENT


# --- The journey: Acme raises a specification change, Helix confirms and approves, Acme implements ---------------


def test_specification_change_journey(cast, client_for):
    change = assess(cast, raise_change(cast))
    cmo = client_for(AUTHOR)
    response = cmo.post(reverse("change-submit", args=[change.pk]), follow=True)
    assert "submitted for approval" in response.content.decode()
    assert _fresh(change).state == State.PENDING_APPROVAL

    refused = cmo.post(reverse("change-implement", args=[change.pk]), follow=True).content.decode()
    assert "cannot be implemented yet. Missing:" in refused
    for item in ("the Acme CDMO QA approval (signature)", "Helix Therapeutics&#x27;s signed approval",
                 "Helix Therapeutics&#x27;s filing decision for HLX-101 (US)"):
        assert item in refused

    sponsor = client_for("helix.qa")
    page = sponsor.get(reverse("change-detail", args=[change.pk])).content.decode()
    assert page.count('data-testid="filing-form"') == 2 and 'data-testid="sponsor-form"' in page
    us, eu = assessment(change, "HLX-101", "US"), assessment(change, "HLX-101", "EU")
    decide_url = reverse("change-filing-decide", args=[change.pk, us.pk])
    override = sponsor.post(decide_url, {"category": "pas", "override_reason": ""})
    assert override.status_code == 400 and _field_error(override.content.decode(), "override_reason")
    assert "Give the reason for overriding the suggested category" in override.content.decode()
    assert sponsor.post(decide_url, {"category": "cbe30"}).status_code == 302
    assert sponsor.post(reverse("change-filing-decide", args=[change.pk, eu.pk]), {"category": "type_ib"},
                        follow=True).status_code == 200
    assert FilingDecision.objects.filter(change=change, organization=cast.orgs["helix"]).count() == 2
    # The CMO may not decide a sponsor's filing.
    assert client_for("acme.qa").post(decide_url, {"category": "cbe30"}).status_code == 403

    sign_url = reverse("change-sponsor-decision", args=[change.pk])
    wrong = sponsor.post(sign_url, {"decision": "approve", "password": "nope"})
    assert wrong.status_code == 400 and _field_error(wrong.content.decode(), "password")
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.SIGNATURE_FAILED,
                                        actor=cast.users["helix.qa"]).count() == 1  # kept: the request committed
    reject = sponsor.post(sign_url, {"decision": "reject", "comment": "", "password": PASSWORD})
    assert reject.status_code == 400 and _field_error(reject.content.decode(), "comment")
    assert not Approval.objects.exists()
    signed = sponsor.post(sign_url, {"decision": "approve", "comment": "Per our protocol.", "password": PASSWORD},
                          follow=True).content.decode()
    assert "approved for Helix Therapeutics" in signed and 'data-testid="manifestation"' in signed

    approver = client_for("acme.qa")
    assert approver.post(reverse("change-approve", args=[change.pk]), {"password": PASSWORD}).status_code == 302
    change = _fresh(change)
    assert change.state == State.APPROVED and signatures_of(change).filter(step="approve").exists()
    done = cmo.post(reverse("change-implement", args=[change.pk]), follow=True).content.decode()
    assert "implemented; the effectiveness review is due in 90 days" in done
    assert _fresh(change).state == State.IMPLEMENTED


def test_author_cannot_approve_and_approve_waits_for_the_sponsors(cast, client_for):
    author(cast)
    change = submit(cast, assess(cast, raise_change(cast)))
    early = client_for("acme.qa").post(reverse("change-approve", args=[change.pk]), {"password": PASSWORD})
    assert early.status_code == 400 and "The sponsors approve first" in early.content.decode()
    form = client_for("acme.qa").get(reverse("change-approve", args=[change.pk])).content.decode()
    assert "Missing: Helix Therapeutics&#x27;s signed approval." in form
    # The author holds no approving role: the form is closed to it.
    assert client_for(AUTHOR).get(reverse("change-approve", args=[change.pk])).status_code == 403


# --- Confidentiality ---------------------------------------------------------------------------------------------


def test_each_sponsor_sees_only_its_own_lines_on_every_page(cast, client_for):
    change = submit(cast, assess(cast, raise_change(cast, products=("HLX-101", "NWB-7"))))
    decide(cast, change, "NWB-7", "UK", by="northwind.qa")
    sponsor_sign(cast, change, "northwind.qa", approve=False, comment="Northwind needs comparability data first.")
    pages = ("changes", "change-awaiting")
    acme = client_for("acme.qa").get(reverse("change-detail", args=[change.pk])).content.decode()
    assert "HLX-101" in acme and "NWB-7" in acme and "Northwind Biologics" in acme and "Helix Therapeutics" in acme
    for viewer, mine, theirs in (("helix.qa", "HLX-101", ("NWB-7", "Northwind", "comparability data")),
                                 ("northwind.qa", "NWB-7", ("HLX-101", "Helix"))):
        client = client_for(viewer)
        detail = client.get(reverse("change-detail", args=[change.pk])).content.decode()
        assert mine in detail, viewer
        for text in theirs:
            assert text not in detail, (viewer, text)
        for name in pages:
            html = client.get(reverse(name)).content.decode()
            for text in theirs:
                assert text not in html, (viewer, name, text)
        assert mine in client.get(reverse("changes")).content.decode()
        # A filter on the other sponsor's product finds nothing rather than revealing it.
        other = cast.products[theirs[0]].pk
        assert change.number not in client.get(reverse("changes"), {"product": other}).content.decode()
    # Helix's form for its own filing only; Northwind's rejection shows on Northwind's page, not Helix's.
    helix = client_for("helix.qa").get(reverse("change-detail", args=[change.pk])).content.decode()
    assert helix.count('data-testid="filing-form"') == 2
    uk = assessment(change, "NWB-7", "UK")
    assert client_for("helix.qa").get(reverse("change-filing-decide", args=[change.pk, uk.pk])).status_code == 404
    assert "comparability data" in client_for("northwind.qa").get(
        reverse("change-detail", args=[change.pk])).content.decode()


# --- Notification-only routes, withdrawal and rounds ---------------------------------------------------------------


def test_notify_only_route_shows_its_clock_and_the_button_meets_it(cast, client_for):
    change = submit(cast, assess(cast, raise_change(cast, change_type="equipment_like_for_like"), LIKE_FOR_LIKE))
    client = client_for(AUTHOR)
    page = client.get(reverse("change-detail", args=[change.pk])).content.decode()
    assert "Notification only" in page and "30 days&#x27; notice" in page and 'data-testid="notify-form"' in page
    assert 'data-testid="sponsor-form"' not in client_for("helix.qa").get(
        reverse("change-detail", args=[change.pk])).content.decode()
    done = client.post(reverse("change-notify", args=[change.pk]), {"message": "Same model, new serial."},
                       follow=True).content.decode()
    assert "1 sponsor notified." in done and 'data-testid="notify-form"' not in done
    again = client.post(reverse("change-notify", args=[change.pk]), {"message": ""})
    assert again.status_code == 400 and "already been told" in again.content.decode()


def test_withdraw_after_a_rejection_keeps_the_round_as_history(cast, client_for):
    change = submit(cast, assess(cast, raise_change(cast)))
    sponsor_sign(cast, change, "helix.qa", approve=False, comment="Send the comparability protocol first.")
    client = client_for(AUTHOR)
    change = _fresh(change)
    url = reverse("change-withdraw", args=[change.pk])
    empty = client.post(url, {"reason": "", "version": change.version})
    assert empty.status_code == 400 and _field_error(empty.content.decode(), "reason")
    stale = client.post(url, {"reason": "Revise", "version": change.version - 1})
    assert stale.status_code == 409
    done = client.post(url, {"reason": "Adding the comparability protocol.", "version": change.version}, follow=True)
    page = done.content.decode()
    assert "withdrawn for revision" in page and _fresh(change).state == State.ASSESSMENT
    resubmitted = client.post(reverse("change-submit", args=[change.pk]), follow=True).content.decode()
    assert "submitted for approval" in resubmitted and "No sponsor decision in this round." in resubmitted
    assert 'data-round="1"' in resubmitted and "Send the comparability protocol first." in resubmitted
    assert _fresh(change).approval_round == 2
    assert 'data-testid="sponsor-form"' in client_for("helix.qa").get(
        reverse("change-detail", args=[change.pk])).content.decode()


# --- After approval: documents, effectiveness, closure; cancellation ----------------------------------------------


def _approved(cast) -> ChangeRequest:
    change = submit(cast, assess(cast, raise_change(cast)))
    confirm_all(cast, change, "helix")
    sponsor_sign(cast, change, "helix.qa")
    return qa_approve(cast, change)


def test_documents_effectiveness_review_and_closure(cast, client_for):
    change = _approved(cast)
    client = client_for(AUTHOR)
    upload = client.post(reverse("change-document-upload", args=[change.pk]), {
        "kind": "validation", "title": "UHPLC method validation",
        "file": SimpleUploadedFile("validation.pdf", PDF, content_type="application/pdf")}, follow=True)
    assert "Uploaded validation.pdf" in upload.content.decode()
    document = ChangeDocument.objects.get()
    for viewer in ("helix.qa", AUTHOR):
        page = client_for(viewer).get(reverse("change-detail", args=[change.pk])).content.decode()
        assert "UHPLC method validation" in page and document.file.sha256 in page
        download = client_for(viewer).get(reverse("change-document", args=[change.pk, document.pk]))
        assert download.status_code == 200 and b"".join(download.streaming_content) == PDF
        assert download["Content-Disposition"].startswith("attachment")
    assert client_for("northwind.qa").get(reverse("change-document", args=[change.pk, document.pk])).status_code == 404
    assert client_for("helix.qa").post(reverse("change-document-upload", args=[change.pk]), {
        "kind": "other", "file": SimpleUploadedFile("x.pdf", PDF)}).status_code == 403

    change = implement(cast, _fresh(change))
    url = reverse("change-effectiveness", args=[change.pk])
    empty = client.post(url, {"effective": "yes", "summary": " ", "version": change.version})
    assert empty.status_code == 400 and _field_error(empty.content.decode(), "summary")
    assert client.post(url, {"effective": "yes", "summary": "Three lots comparable.", "version": change.version},
                       follow=True).status_code == 200
    change = _fresh(change)
    assert change.state == State.EFFECTIVENESS_REVIEW
    page = client_for("acme.qa").get(reverse("change-detail", args=[change.pk])).content.decode()
    assert "Three lots comparable." in page and 'data-testid="close-form"' in page
    wrong = client_for("acme.qa").post(reverse("change-close", args=[change.pk]), {"password": "nope"})
    assert wrong.status_code == 400 and _fresh(change).state == State.EFFECTIVENESS_REVIEW
    closed = client_for("acme.qa").post(reverse("change-close", args=[change.pk]), {"password": PASSWORD},
                                        follow=True).content.decode()
    assert "is closed" in closed and _fresh(change).state == State.CLOSED


def test_cancel_needs_a_reason_and_a_signature(cast, client_for):
    change = raise_change(cast)
    client = client_for("acme.qa")
    url = reverse("change-cancel", args=[change.pk])
    missing = client.post(url, {"reason": "", "password": PASSWORD})
    assert missing.status_code == 400 and _field_error(missing.content.decode(), "reason")
    wrong = client.post(url, {"reason": "Raised in error.", "password": "nope"})
    assert wrong.status_code == 400 and _field_error(wrong.content.decode(), "password")
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.SIGNATURE_FAILED,
                                        actor=cast.users["acme.qa"]).count() == 1
    assert _fresh(change).state == State.DRAFT
    done = client.post(url, {"reason": "Raised in error.", "password": PASSWORD}, follow=True).content.decode()
    assert "cancelled" in done and _fresh(change).state == State.CANCELLED
    assert client_for(AUTHOR).get(url).status_code == 403  # a QA reviewer does not sign cancellations


# --- The sponsor's awaiting page and agency approvals ------------------------------------------------------------


def test_awaiting_page_lists_approvals_filings_and_agency_approvals(cast, client_for):
    pending = submit(cast, assess(cast, raise_change(cast, title="Assay method")))
    relaxed = assess(cast, raise_change(cast, title="Relax the impurity limit"), RELAX)
    decision = decide(cast, relaxed, "HLX-101", "US", by="helix.qa")
    client = client_for("helix.qa")
    page = client.get(reverse("change-awaiting")).content.decode()
    assert pending.number in page and "Decide…" in page  # its approval
    assert "Confirm or override…" in page and "Record the approval…" in page
    assert "US: prior-approval supplement" in page
    assert "No approval waits for you." in client_for("acme.qa").get(reverse("change-awaiting")).content.decode()
    viewer = client_for("helix.viewer").get(reverse("change-awaiting")).content.decode()
    assert pending.number in viewer and "Decide…" not in viewer  # sees, may not decide

    url = reverse("change-agency-approval", args=[relaxed.pk, decision.pk])
    form = client.get(url).content.decode()
    assert "Agency approval of the US: prior-approval supplement for HLX-101" in form
    future = client.post(url, {"approved_on": (timezone.localdate() + dt.timedelta(days=3)).isoformat()})
    assert future.status_code == 400 and _field_error(future.content.decode(), "approved_on")
    assert client_for("acme.qa").post(url, {"approved_on": timezone.localdate().isoformat()}).status_code == 403
    assert client.post(url, {"approved_on": timezone.localdate().isoformat(), "reference": "S-014"},
                       follow=True).status_code == 200
    decision.refresh_from_db()
    assert decision.agency_approved_on == timezone.localdate() and decision.agency_reference == "S-014"
    assert "Record the approval…" not in client.get(reverse("change-awaiting")).content.decode()


def test_list_counts_and_filters(cast, client_for):
    spec = raise_change(cast, title="Assay method")
    swap = raise_change(cast, change_type="equipment_like_for_like", products=("NWB-7",), site="Acme Cork",
                        title="Replace the capping machine")
    client = client_for("acme.qa")
    page = client.get(reverse("changes")).content.decode()
    assert "Draft: 2" in page and spec.number in page and swap.number in page
    by_type = client.get(reverse("changes"), {"change_type": "equipment_like_for_like"}).content.decode()
    assert swap.number in by_type and spec.number not in by_type
    by_site = client.get(reverse("changes"), {"site": cast.sites["Acme Cork"].pk}).content.decode()
    assert swap.number in by_site and spec.number not in by_site
    partnership = cast.partnership("helix", "acme").pk
    by_partner = client.get(reverse("changes"), {"partnership": partnership}).content.decode()
    assert spec.number in by_partner and swap.number not in by_partner
    by_text = client.get(reverse("changes"), {"q": "capping"}).content.decode()
    assert swap.number in by_text and spec.number not in by_text
    by_state = client.get(reverse("changes"), {"state": "closed"}).content.decode()
    assert "No changes match." in by_state


def test_dossier_pdf_link(cast, client_for):
    change = raise_change(cast)
    page = client_for("helix.qa").get(reverse("change-detail", args=[change.pk])).content.decode()
    assert reverse("change-pdf", args=[change.pk]) in page
    response = client_for("helix.qa").get(reverse("change-pdf", args=[change.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert client_for("helix.viewer").get(reverse("change-pdf", args=[change.pk])).status_code == 403
    assert client_for("borealis.qa").get(reverse("change-pdf", args=[change.pk])).status_code == 404


# --- Drift on the agreement page ---------------------------------------------------------------------------------


def test_agreement_page_shows_the_partnership_drift_flags(cast, client_for):
    from tests.agreements.helpers import effective
    from tests.changes.test_drift import _implemented

    agreement = effective(cast, "helix", "acme")
    url = reverse("agreement-detail", args=[agreement.pk])
    clean = client_for("helix.qa").get(url).content.decode()
    assert "No implemented change of this partnership missed" in clean
    flagged = _implemented(cast, "specification")
    swap = _implemented(cast, "equipment_like_for_like")
    for viewer in ("helix.qa", "acme.qa"):
        page = client_for(viewer).get(url).content.decode()
        assert f"{flagged.number} (specification) was implemented without the sponsor&#x27;s signed approval." in (
            page), viewer
        assert f"{flagged.number} was implemented with the filing for HLX-101 never assessed." in page
        assert f"{swap.number}: a like-for-like equipment change was implemented and the sponsor was never " \
               "notified." in page
        assert reverse("change-detail", args=[flagged.pk]) in page
    other = effective(cast, "northwind", "acme")
    assert "No implemented change of this partnership missed" in client_for("northwind.qa").get(
        reverse("agreement-detail", args=[other.pk])).content.decode()
