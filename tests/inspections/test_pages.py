"""The inspection pages, driven like a browser (forms posted, redirects followed), for the CMO and for its sponsors:
each renders what its reader may see (a sponsor: the observations that concern it, its own notice and impact rows,
never the back room, never another sponsor's name), each form refuses bad input with the reason on the field, a
stale edit answers 409, and a wrong signature password answers 400 with the failed attempt kept."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from inspections import services
from inspections.models import Acknowledgement, Form483, Inspection, Notice, Observation, ResponseComment
from part11.signatures import signatures_of
from tenants.models import SecurityEvent
from tests.agreements.helpers import acting
from tests.factories import PASSWORD
from tests.inspections.helpers import affected, inspect, observe, pai, record_483, respond, reviewer

pytestmark = pytest.mark.django_db

TEXTS = {
    "site": "Cleaning of the shared granulator was not verified before use.",
    "nwb7": "Stability testing of NWB-7 lot 4 was performed with an unvalidated method.",
    "helix": "The filed HLX-101 process does not match the executed batch record (sponsor filing).",
}
BACK_ROOM = "Investigator asked for the granulator cleaning log of March."


def boston(cast):
    """The FDA routine inspection at Acme Boston with its 483: one site-wide observation, one product-specific to
    NWB-7, one sponsor-originated for Helix; impacts assessed; a line in the back room."""
    inspection = inspect(cast, started=dt.date(2026, 11, 23))
    form483 = record_483(cast, inspection, dt.date(2026, 11, 25))
    site = observe(cast, form483, "21 CFR 211.67(a)", text=TEXTS["site"])
    nwb7 = observe(cast, form483, "21 CFR 211.165", text=TEXTS["nwb7"], visibility="product_specific",
                   affected=[affected(cast, "northwind", "NWB-7")])
    helix = observe(cast, form483, "21 CFR 211.100(a)", text=TEXTS["helix"], visibility="product_specific",
                    accountability="sponsor", accountability_rationale="The filing lags the validated process.",
                    affected=[affected(cast, "helix", "HLX-101")])
    with acting(cast, "acme.qa"):
        member = cast.memberships["acme.qa"]
        for obs, sponsor, impact in ((site, "helix", "indirect"), (site, "northwind", "none"),
                                     (nwb7, "northwind", "direct"), (helix, "helix", "direct")):
            services.impact_assess(membership=member, observation=obs, impact=impact,
                                   partnership_id=cast.partnership(sponsor, "acme").pk,
                                   rationale=f"Rationale: {impact} for this program")
        services.log_add(membership=member, inspection=inspection, kind="request", text=BACK_ROOM,
                         who="J. Rivera")
    return inspection, Form483.objects.get(pk=form483.pk)


def _errors(response, field):
    return f'data-field="{field}"' in response.content.decode()


# --- Recording an inspection, a 483 and its observations ------------------------------------------------------


def test_cmo_records_an_inspection_a_483_and_observations_through_the_pages(cast, client_for):
    client = client_for("acme.qa")
    helix_line = f"{cast.partnership('helix', 'acme').pk}-{cast.products['HLX-101'].pk}"
    form = client.get(reverse("inspection-create")).content.decode()
    assert "Helix Therapeutics — HLX-101" in form and "Northwind Biologics — NWB-7" in form and "Acme Cork" in form
    post = {"site": cast.sites["Acme Boston"].pk, "authority": "fda", "inspection_type": "routine",
            "announced_on": "2026-11-16", "started_on": "2026-11-23", "investigators": "J. Rivera\nK. Osei",
            "scope": [helix_line]}
    assert _errors(client.post(reverse("inspection-create"), {**post, "site": ""}), "site")
    # A routine inspection names no application: the service's refusal comes back on the form.
    refused = client.post(reverse("inspection-create"), {**post, "application_line": helix_line,
                                                          "application_reference": "NDA 212345"})
    assert refused.status_code == 400 and "Only a pre-approval or pre-licence inspection" in refused.content.decode()
    response = client.post(reverse("inspection-create"), post, follow=True)
    inspection = Inspection.objects.get()
    assert response.redirect_chain[-1][0] == reverse("inspection-detail", args=[inspection.pk])
    page = response.content.decode()
    assert f"{inspection.number} recorded." in page and "J. Rivera, K. Osei" in page and "In progress" in page
    assert inspection.investigators == ["J. Rivera", "K. Osei"] and inspection.created_by == cast.users["acme.qa"]

    response = client.post(reverse("inspection-483-create", args=[inspection.pk]),
                           {"issued_on": "2026-11-25", "update_interval_days": 30}, follow=True)
    form483 = Form483.objects.get()
    page = response.content.decode()
    assert response.redirect_chain[-1][0] == reverse("inspection-483", args=[form483.pk])
    # Thanksgiving (26 Nov) is skipped: day 15 is 17 Dec 2026.
    assert "483 recorded: the response to FDA is due 17 Dec 2026 23:59 America/New_York." in page
    assert 'data-testid="reminders"' in page and page.count(" left</td>") == 4  # at 10, 5, 2 and 1 days left

    url = reverse("inspection-observation-create", args=[form483.pk])
    assert _errors(client.post(url, {"text": "", "accountability": "cmo", "visibility": "site_wide"}), "text")
    # Product-specific without naming a product: the refusal lands on the affected field.
    bad = client.post(url, {"text": TEXTS["nwb7"], "accountability": "cmo", "visibility": "product_specific"})
    assert bad.status_code == 400 and _errors(bad, "affected")
    response = client.post(url, {"text": TEXTS["site"], "cited_regulation": "21 CFR 211.67(a)",
                                 "accountability": "cmo", "visibility": "site_wide"}, follow=True)
    page = response.content.decode()
    assert "Observation 1 added (suggested: D — Equipment)." in page
    assert "D — Equipment / Facilities &amp; equipment" in page
    observation = Observation.objects.get()
    assert (observation.subpart, observation.system) == ("D", "facilities_equipment")


def test_a_stale_response_draft_answers_409_with_the_reason(cast, client_for):
    _, form483 = boston(cast)
    observation = Observation.objects.get(form483=form483, number=1)
    client = client_for("acme.qa")
    url = reverse("inspection-observation-response", args=[observation.pk])
    form = client.get(url).content.decode()
    assert f'name="version" value="{form483.version}"' in form
    data = {"commitment": "Retrain the crew.", "actions": "SOP revised.", "target_on": "2027-01-31",
            "evidence": "", "version": form483.version}
    assert client.post(url, data).status_code == 302
    stale = client.post(url, {**data, "commitment": "Another commitment"})
    assert stale.status_code == 409 and "changed" in stale.content.decode().lower()
    observation.refresh_from_db()
    assert observation.response_commitment == "Retrain the crew."
    assert client.post(url, {**data, "version": "", "commitment": ""}).status_code == 400


# --- What each party sees --------------------------------------------------------------------------------------


def test_each_sponsor_sees_only_what_concerns_it(cast, client_for):
    inspection, form483 = boston(cast)
    pages = {}
    for username in ("acme.qa", "helix.qa", "northwind.qa"):
        client = client_for(username)
        pages[username] = (client.get(reverse("inspection-483", args=[form483.pk])).content.decode()
                           + client.get(reverse("inspection-detail", args=[inspection.pk])).content.decode())
    acme, helix, northwind = pages["acme.qa"], pages["helix.qa"], pages["northwind.qa"]
    assert all(text in acme for text in TEXTS.values()) and BACK_ROOM in acme and 'id="back-room"' in acme
    assert TEXTS["site"] in helix and TEXTS["helix"] in helix and TEXTS["nwb7"] not in helix
    assert "Northwind" not in helix and "NWB-7" not in helix and "Rationale: none" not in helix
    assert "Rationale: indirect" in helix and "Rationale: direct" in helix
    assert TEXTS["site"] in northwind and TEXTS["nwb7"] in northwind and TEXTS["helix"] not in northwind
    assert "Helix" not in northwind and "HLX-101" not in northwind
    for page in (helix, northwind):  # the back room stays the CMO's
        assert BACK_ROOM not in page and 'id="back-room"' not in page and "J. Rivera</td>" not in page
        assert "Read-only: Acme CDMO owns" in page and "Add an observation" not in page
    # Both clocks on the sponsor's page: the agency's and its own notice clock.
    assert 'data-testid="response-stage"' in helix and 'data-testid="notice-stage"' in helix


def test_notify_acknowledge_and_the_sponsor_dashboard(cast, client_for):
    inspection, form483 = boston(cast)
    acme, helix = client_for("acme.qa"), client_for("helix.qa")
    detail = reverse("inspection-detail", args=[inspection.pk])
    assert 'data-testid="acknowledge-form"' not in helix.get(detail).content.decode()  # not told yet
    response = acme.post(reverse("inspection-notify", args=[inspection.pk]),
                         {"event": "fda_483", "message": "Call us about observation 1."}, follow=True)
    assert "Notified 2 sponsors (in-app and e-mail)." in response.content.decode()
    assert Notice.objects.filter(notified_at__isnull=False).count() == 2
    notice = Notice.objects.get(sponsor=cast.orgs["helix"])
    page = helix.get(detail).content.decode()
    assert 'data-testid="acknowledge-form"' in page and "Acknowledge" in page
    url = reverse("inspection-notice-acknowledge", args=[notice.pk])
    assert client_for("helix.viewer").post(url, {"note": ""}).status_code == 403
    assert client_for("northwind.qa").post(url, {"note": ""}).status_code == 404  # not Northwind's notice
    response = helix.post(url, {"note": "Received; our QA lead will call."}, follow=True)
    assert "Acknowledged; the CMO is told." in response.content.decode()
    assert Acknowledgement.objects.get().notice == notice
    ack = Acknowledgement.objects.get()
    assert f"{ack.acknowledged_by_name}, {ack.acknowledged_at:%-d %b %Y}" in acme.get(detail).content.decode()

    board = helix.get(reverse("inspection-dashboard")).content.decode()
    assert "Inspections at my CMOs" in board and inspection.number in board
    assert 'data-testid="agency-stage"' in board and 'data-testid="notice-stage"' in board
    assert "Rationale: direct" in board and TEXTS["helix"][:60] in board
    assert "Northwind" not in board and "NWB-7" not in board and TEXTS["nwb7"][:40] not in board


def test_signatures_submission_and_commitments_through_the_pages(cast, client_for):
    _, form483 = boston(cast)
    for observation in Observation.objects.filter(form483=form483):
        respond(cast, observation)
    reviewer(cast)
    review = reverse("inspection-483-review", args=[form483.pk])
    client = client_for("acme.reviewer")
    failed = SecurityEvent.objects.filter(kind=SecurityEvent.Kind.SIGNATURE_FAILED).count()
    wrong = client.post(review, {"password": "not-the-password"})
    assert wrong.status_code == 400 and _errors(wrong, "password")
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.SIGNATURE_FAILED).count() == failed + 1
    assert client.post(review, {"password": PASSWORD}).status_code == 302
    qa = client_for("acme.qa")
    page = qa.get(reverse("inspection-483", args=[form483.pk])).content.decode()
    assert "Sign: approved" in page and "— Reviewed" in page
    assert qa.post(reverse("inspection-483-approve", args=[form483.pk]), {"password": PASSWORD}).status_code == 302
    assert [s.meaning for s in signatures_of(form483)] == ["reviewed", "approved"]
    assert client_for("acme.operator").post(reverse("inspection-483-submit", args=[form483.pk]),
                                            {}).status_code == 403
    response = qa.post(reverse("inspection-483-submit", args=[form483.pk]), {}, follow=True)
    assert "Response submitted within the window." in response.content.decode()
    form483.refresh_from_db()
    assert form483.state == Form483.State.SUBMITTED and not form483.submitted_late
    page = response.content.decode()
    assert "Close the commitment" in page and "Record the periodic update" in page
    observation = Observation.objects.get(form483=form483, number=1)
    response = qa.post(reverse("inspection-commitment-close", args=[observation.pk]),
                       {"closed_on": dt.date.today().isoformat(), "evidence": "SOP-CL-004 rev 5 effective"},
                       follow=True)
    assert "Commitment of observation 1 closed." in response.content.decode()
    board = client_for("helix.qa").get(reverse("inspection-dashboard")).content.decode()
    assert "2 commitments: 1 closed, 1 open" in board  # Helix sees observations 1 and 3


def test_pai_sponsor_comments_on_responses_and_routine_sponsors_cannot(cast, client_for):
    inspection = pai(cast)
    form483 = record_483(cast, inspection, dt.date(2026, 11, 6), by="borealis.qa")
    observation = observe(cast, form483, "21 CFR 211.192", by="borealis.qa", text="Investigations were thin.")
    respond(cast, observation, by="borealis.qa")
    page = client_for("northwind.qa").get(reverse("inspection-483", args=[form483.pk])).content.decode()
    assert 'data-testid="comment-form"' in page
    url = reverse("inspection-observation-comment", args=[observation.pk])
    response = client_for("northwind.qa").post(url, {"body": "Please cite our BLA commitments."}, follow=True)
    assert "Comment posted." in response.content.decode()
    # The CMO answers in Northwind's thread.
    answer = client_for("borealis.qa").post(url, {"body": "Added.", "sponsor": cast.orgs["northwind"].pk})
    assert answer.status_code == 302
    assert [c.body for c in ResponseComment.objects.order_by("id")] == ["Please cite our BLA commitments.", "Added."]
    assert client_for("helix.qa").post(url, {"body": "x"}).status_code == 404

    _, boston483 = boston(cast)
    routine = Observation.objects.get(form483=boston483, number=1)
    assert 'data-testid="comment-form"' not in client_for("helix.qa").get(
        reverse("inspection-483", args=[boston483.pk])).content.decode()
    refused = client_for("helix.qa").post(reverse("inspection-observation-comment", args=[routine.pk]),
                                          {"body": "We disagree."})
    assert refused.status_code == 400 and "routine surveillance inspection" in refused.content.decode()


def test_wrong_role_403_and_other_tenants_404(cast, client_for):
    inspection, form483 = boston(cast)
    assert client_for("helix.qa").get(reverse("inspection-create")).status_code == 403  # a sponsor
    assert client_for("acme.admin").get(reverse("inspection-create")).status_code == 403  # no authoring role
    assert client_for("acme.operator").get(reverse("inspection-483-create", args=[inspection.pk])).status_code == 403
    assert client_for("helix.qa").get(reverse("inspection-edit", args=[inspection.pk])).status_code == 403
    assert client_for("acme.operator").get(reverse("inspection-log", args=[inspection.pk])).status_code == 200
    client = client_for("borealis.qa")  # another CMO
    assert client.get(reverse("inspection-detail", args=[inspection.pk])).status_code == 404
    assert client.get(reverse("inspection-483", args=[form483.pk])).status_code == 404
    assert client.post(reverse("inspection-notify", args=[inspection.pk]), {"event": "fda_483"}).status_code == 404
    assert f'href="/inspections/{inspection.pk}/"' not in client.get(reverse("inspections")).content.decode()
    # Helix's auditor reads what Helix sees (it is in scope), and writes nothing.
    auditor = client_for("auditor")
    assert auditor.get(reverse("inspection-detail", args=[inspection.pk])).status_code == 200
    assert auditor.get(reverse("inspection-notice-acknowledge", args=[1])).status_code == 403
    # A sponsor cannot reach the back room's form either (the log is the CMO's record: 403 read-only).
    assert client_for("helix.qa").post(reverse("inspection-log", args=[inspection.pk]),
                                       {"kind": "note", "text": "x"}).status_code == 403
