"""Browser journey: Acme's operator reports a deviation that touches two sponsors' products, Acme QA classifies,
notifies and investigates it, Helix QA sees only its own product line and comments, and Acme QA closes it with a
signature. Northwind, the other sponsor, sees only its own line, its own question and the closure; each sponsor's
notice (in-app and e-mail) names only its own product and batch."""

import datetime as dt
import re

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from clocks import delivery
from deviations.models import Deviation
from tests.e2e.conftest import ARTIFACTS
from tests.e2e.journey import logout, success
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser

TITLE = "HPLC-07 used for release assay with calibration overdue"
HELIX_BATCH, NORTHWIND_BATCH = "HLX-101-B2611", "NWB-7-C0042"
HELIX_IMPACT = "Assay of HLX-101-B2611 repeated on calibrated HPLC-09: 99.4 %, within 95.0–105.0 %; no impact."
NORTHWIND_IMPACT = "Potency of NWB-7-C0042 retested on HPLC-09: results match; batch releasable."
HELIX_COMMENT = ("Product knowledge: the HLX-101 assay method is stability-indicating and robust to the observed "
                 "drift; we agree with the retest on HPLC-09.")
NORTHWIND_QUESTION = "Please confirm NWB-7-C0042 is still in quarantine until the retest is reviewed."


def open_deviations(page):
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Deviations").click()
    page.wait_for_url(re.compile(r"/deviations/$"))


def row_of(page, number):
    return page.get_by_test_id("deviation-table").locator("tbody tr").filter(
        has=page.get_by_role("link", name=number, exact=True))


def assert_nowhere_on_page(page, *foreign):
    """Neither in the rendered text nor anywhere in the HTML (options, attributes, hidden elements)."""
    body = page.locator("body")
    html = page.content()
    for text in foreign:
        expect(body).not_to_contain_text(text)
        assert text not in html, f"{text!r} leaks into the page's HTML"


def test_cross_sponsor_deviation_reported_investigated_commented_and_closed(cast, login, page):
    discovered = (timezone.now() - dt.timedelta(days=1)).replace(second=0, microsecond=0)

    # 1. The operator reports a deviation affecting Helix's HLX-101 and Northwind's NWB-7.
    login("acme.operator")
    open_deviations(page)
    page.get_by_role("link", name="Report a deviation").click()
    form = page.get_by_test_id("deviation-form")
    form.get_by_label("Title").fill(TITLE)
    form.get_by_label("Site").select_option(label="Acme Boston")
    form.get_by_label("Area / equipment").fill("QC laboratory, HPLC-07")
    form.get_by_label("Process step").fill("Release testing (assay)")
    form.get_by_label("Category").select_option(label="Laboratory / testing")
    form.get_by_label("Discovered at").fill(f"{discovered:%Y-%m-%dT%H:%M}")
    form.get_by_label("Discovered by").fill("Olivia Park, QC analyst")
    form.get_by_label("Description").fill("During the weekly equipment review, HPLC-07 was found 9 days past its "
                                          "calibration due date. It was used for release assays in that period.")
    form.get_by_label("Immediate actions").fill("HPLC-07 tagged out of service; affected batches held in "
                                                "quarantine.")
    form.get_by_role("checkbox", name="HLX-101 Helixaparib tablets 50 mg").check()
    form.get_by_label("Batches of HLX-101").fill(HELIX_BATCH)
    form.get_by_role("checkbox", name="NWB-7 Nortumab injection 100 mg/mL").check()
    form.get_by_label("Batches of NWB-7").fill(NORTHWIND_BATCH)
    form.get_by_role("button", name="Report").click()

    expect(success(page)).to_have_text(re.compile(r"^DEV-\d{4}-\d+ reported\.$"))
    number = re.match(r"(DEV-\d{4}-\d+)", success(page).inner_text()).group(1)
    page.wait_for_url(re.compile(r"/deviations/\d+/$"))
    pk = int(re.search(r"/deviations/(\d+)/$", page.url).group(1))
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"{number} {TITLE}")
    expect(page.get_by_test_id("deviation-state")).to_have_text("Open (reported)")
    expect(page.get_by_test_id("deviation-class")).to_have_count(0)
    expect(page.locator(".facts")).to_contain_text("Acme CDMO · Acme Boston")
    expect(page.locator(".facts")).to_contain_text(f"{discovered:%-d %b %Y %H:%M} UTC by Olivia Park, QC analyst")
    lines = page.get_by_test_id("lines")
    helix_line, northwind_line = lines.locator('tr[data-product="HLX-101"]'), lines.locator('tr[data-product="NWB-7"]')
    expect(helix_line).to_contain_text("Helix Therapeutics")
    expect(helix_line).to_contain_text(HELIX_BATCH)
    expect(northwind_line).to_contain_text("Northwind Biologics")
    expect(northwind_line).to_contain_text(NORTHWIND_BATCH)
    actions = page.get_by_test_id("workflow-actions")
    expect(actions.get_by_role("link", name="Classify…")).to_have_count(0)  # an operator reports; QA classifies
    expect(page.get_by_test_id("timeline")).to_contain_text("Reported by Olivia Park")
    logout(page)

    # 2. Acme QA classifies it major, starts the investigation, notifies both sponsors and records the findings.
    login("acme.qa")
    open_deviations(page)
    row = row_of(page, number)
    expect(row).to_contain_text("HLX-101 (Helix Therapeutics)")
    expect(row).to_contain_text("NWB-7 (Northwind Biologics)")
    expect(row).to_contain_text("Open (reported)")
    row.get_by_role("link", name=number).click()
    actions = page.get_by_test_id("workflow-actions")
    actions.get_by_role("link", name="Classify…").click()
    page.get_by_label("Major").check()
    page.get_by_label("Rationale").fill("Release results generated on an instrument outside its calibration "
                                        "interval: potential impact on product quality, no direct patient risk.")
    page.get_by_role("button", name="Save").click()
    expect(success(page)).to_have_text("Classified major; sponsor notification clocks running.")
    expect(page.get_by_test_id("deviation-class")).to_have_text("Major")
    notices = page.get_by_test_id("notices")
    expect(notices.locator("tbody tr")).to_have_count(2)
    expect(notices).to_contain_text("Helix Therapeutics")
    expect(notices).to_contain_text("Northwind Biologics")
    expect(notices.get_by_text("not yet")).to_have_count(2)

    actions.get_by_role("button", name="Start investigation").click()
    expect(page.get_by_test_id("deviation-state")).to_have_text("Under investigation")
    missing = page.get_by_test_id("missing")
    expect(missing).to_contain_text("root cause code")
    expect(missing).to_contain_text("product impact for HLX-101")
    expect(missing).to_contain_text("product impact for NWB-7")

    actions.get_by_role("link", name="Notify sponsors (2)…").click()
    page.get_by_label("Message").fill("HPLC-07 calibration lapse: retest on a calibrated instrument under way; "
                                      "your batches stay in quarantine meanwhile.")
    page.get_by_role("button", name="Save").click()
    expect(success(page)).to_have_text("Notified 2 sponsors (in-app and e-mail).")
    expect(notices.get_by_text("not yet")).to_have_count(0)
    expect(notices).to_contain_text("(1 QA)")
    expect(actions.get_by_test_id("notify-link")).to_have_count(0)

    actions.get_by_role("link", name="Record investigation…").click()
    page.get_by_label("Method").select_option(label="Ishikawa (fishbone)")
    page.get_by_label("Findings").fill("The calibration reminder for HPLC-07 was lost when the maintenance "
                                       "schedule was migrated; no other instrument was affected.")
    page.get_by_label("Root cause").select_option(label="MAC-02 Preventive maintenance / calibration overdue")
    page.get_by_label("Conclusion").fill("Retests on the calibrated HPLC-09 confirm the original results; the "
                                         "batches are releasable.")
    page.get_by_label("Outcome").select_option(label="Impact assessed and contained (batches releasable)")
    page.get_by_label(f"Product impact: HLX-101 ({HELIX_BATCH})").fill(HELIX_IMPACT)
    page.get_by_label(f"Product impact: NWB-7 ({NORTHWIND_BATCH})").fill(NORTHWIND_IMPACT)
    page.get_by_role("button", name="Save").click()
    expect(success(page)).to_have_text("Investigation saved.")
    expect(page.get_by_test_id("root-cause")).to_have_text("MAC-02 Preventive maintenance / calibration overdue")
    investigation = page.get_by_test_id("investigation")
    expect(investigation).to_contain_text("Ishikawa (fishbone)")
    expect(investigation).to_contain_text("Impact assessed and contained (batches releasable)")
    expect(helix_line).to_contain_text(HELIX_IMPACT)
    expect(northwind_line).to_contain_text(NORTHWIND_IMPACT)
    expect(page.get_by_test_id("missing")).to_have_count(0)

    # A question to Northwind alone: Helix must never see it.
    comment_form = page.get_by_test_id("comment-form")
    comment_form.get_by_label("Kind").select_option(label="Question")
    comment_form.get_by_role("textbox", name="Comment").fill(NORTHWIND_QUESTION)
    comment_form.get_by_label("To", exact=True).select_option(label="Northwind Biologics")
    comment_form.get_by_role("button", name="Post").click()
    expect(success(page)).to_have_text("Comment posted.")
    expect(page.get_by_test_id("comments")).to_contain_text("Amir Castellano (Acme CDMO → Northwind Biologics)")
    logout(page)

    # 3. Helix QA: told in-app about its own product only, sees its line only, acknowledges and comments.
    login("helix.qa")
    expect(page.get_by_test_id("notification-badge")).to_have_attribute("aria-label", "Notifications: 1 unread")
    page.get_by_test_id("notification-badge").click()
    notification = page.get_by_test_id("notification-list").locator("li").filter(has_text=number)
    expect(notification).to_contain_text(f"Major deviation {number} affects your product: {TITLE}")
    expect(notification).to_contain_text(f"Your products and batches: HLX-101 ({HELIX_BATCH}).")
    expect(notification).to_contain_text("Message from Amir Castellano: HPLC-07 calibration lapse")
    assert_nowhere_on_page(page, "NWB-7", "Northwind")

    open_deviations(page)
    row = row_of(page, number)
    expect(row).to_contain_text("HLX-101")
    expect(row).to_contain_text("Under investigation")
    expect(row).not_to_contain_text("NWB-7")
    row.get_by_role("link", name=number).click()
    page.wait_for_url(re.compile(rf"/deviations/{pk}/$"))
    expect(page.get_by_test_id("deviation-state")).to_have_text("Under investigation")
    expect(page.get_by_text("Read-only: Acme CDMO owns this deviation's write-up")).to_be_visible()
    lines = page.get_by_test_id("lines")
    expect(lines.locator("tbody tr")).to_have_count(1)
    expect(lines.locator('tr[data-product="HLX-101"]')).to_contain_text(HELIX_BATCH)
    expect(lines.locator('tr[data-product="HLX-101"]')).to_contain_text(HELIX_IMPACT)
    expect(page.get_by_test_id("root-cause")).to_have_text("MAC-02 Preventive maintenance / calibration overdue")
    actions = page.get_by_test_id("workflow-actions")
    for name in ("Classify…", "Reclassify…", "Record investigation…", "Cancel…"):
        expect(actions.get_by_role("link", name=name)).to_have_count(0)
    expect(actions.get_by_role("button")).to_have_count(0)
    expect(page.get_by_test_id("close-form")).to_have_count(0)
    assert_nowhere_on_page(page, "NWB-7", NORTHWIND_BATCH, "Northwind", "Nortumab", NORTHWIND_IMPACT,
                           NORTHWIND_QUESTION)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "test_deviation_journey_helix_view.png"), full_page=True)

    notices = page.get_by_test_id("notices")
    expect(notices.locator("tbody tr")).to_have_count(1)
    notices.get_by_test_id("ack-link").click()
    page.get_by_label("Note").fill("Received; HLX-101-B2611 stays on hold at our side too.")
    page.get_by_role("button", name="Save").click()
    expect(success(page)).to_have_text("Acknowledged; the CMO is told.")
    expect(notices).to_contain_text("Acknowledged by Hannah Lindqvist")

    comment_form = page.get_by_test_id("comment-form")
    expect(comment_form.get_by_label("To", exact=True)).to_have_count(0)  # a sponsor's comment goes to the CMO
    comment_form.get_by_label("Kind").select_option(label="Comment")
    comment_form.get_by_role("textbox", name="Comment").fill(HELIX_COMMENT)
    comment_form.get_by_role("button", name="Post").click()
    expect(success(page)).to_have_text("Comment posted.")
    comments = page.get_by_test_id("comments")
    expect(comments.locator("article")).to_have_count(1)
    expect(comments).to_contain_text("Hannah Lindqvist (Helix Therapeutics) · Comment")
    expect(comments).to_contain_text(HELIX_COMMENT)
    assert_nowhere_on_page(page, "NWB-7", "Northwind", NORTHWIND_QUESTION)
    logout(page)

    # 4. Acme QA reads Helix's product knowledge, submits for approval and signs the closure.
    login("acme.qa")
    page.goto(f"/deviations/{pk}/")
    comments = page.get_by_test_id("comments")
    expect(comments).to_contain_text("Hannah Lindqvist (Helix Therapeutics) · Comment")
    expect(comments).to_contain_text(HELIX_COMMENT)
    notices = page.get_by_test_id("notices")
    expect(notices.locator("tbody tr").filter(has_text="Helix Therapeutics")).to_contain_text(
        "Acknowledged by Hannah Lindqvist")
    expect(notices.locator("tbody tr").filter(has_text="Northwind Biologics")).not_to_contain_text("Acknowledged")
    page.get_by_test_id("workflow-actions").get_by_role("button", name="Submit for QA approval").click()
    expect(success(page)).to_have_text("Submitted for QA approval.")
    expect(page.get_by_test_id("deviation-state")).to_have_text("Pending QA approval")
    expect(page.get_by_test_id("signatures")).to_have_text("Not signed.")
    close = page.get_by_test_id("close-form")
    close.get_by_label("Password").fill(PASSWORD)
    close.get_by_role("button", name="Sign: approved").click()
    expect(success(page)).to_have_text(f"Signed. {number} is closed.")
    expect(page.get_by_test_id("deviation-state")).to_have_text("Closed")
    manifestation = page.get_by_test_id("signatures").get_by_test_id("manifestation")
    expect(manifestation).to_have_count(1)
    expect(manifestation).to_contain_text("Signed by Amir Castellano on")
    expect(manifestation).to_contain_text("UTC — Approved")
    expect(page.get_by_test_id("close-form")).to_have_count(0)
    expect(page.get_by_test_id("timeline")).to_contain_text("Closed: approved and signed by Amir Castellano.")
    logout(page)

    # 5. Northwind QA sees its own line, its question and the closure, and nothing of Helix.
    login("northwind.qa")
    open_deviations(page)
    row = row_of(page, number)
    expect(row).to_contain_text("NWB-7")
    expect(row).to_contain_text("Closed")
    expect(row).not_to_contain_text("HLX-101")
    row.get_by_role("link", name=number).click()
    page.wait_for_url(re.compile(rf"/deviations/{pk}/$"))
    expect(page.get_by_test_id("deviation-state")).to_have_text("Closed")
    lines = page.get_by_test_id("lines")
    expect(lines.locator("tbody tr")).to_have_count(1)
    expect(lines.locator('tr[data-product="NWB-7"]')).to_contain_text(NORTHWIND_BATCH)
    expect(lines.locator('tr[data-product="NWB-7"]')).to_contain_text(NORTHWIND_IMPACT)
    expect(page.get_by_test_id("comments")).to_contain_text(NORTHWIND_QUESTION)
    expect(page.get_by_test_id("signatures").get_by_test_id("manifestation")).to_contain_text(
        "Signed by Amir Castellano on")
    assert_nowhere_on_page(page, "HLX-101", HELIX_BATCH, "Helix", "Helixaparib", HELIX_IMPACT, HELIX_COMMENT,
                           "Hannah Lindqvist")

    # The record and the e-mails agree with what the pages showed.
    deviation = Deviation.objects.get(pk=pk)
    assert (deviation.number, deviation.state, deviation.classification) == (number, "closed", "major")
    assert deviation.root_cause_code == "MAC-02" and deviation.closed_at is not None
    delivery.deliver_pending()
    to_helix = [m for m in mail.outbox if m.to == [cast.users["helix.qa"].email] and number in m.subject]
    to_northwind = [m for m in mail.outbox if m.to == [cast.users["northwind.qa"].email] and number in m.subject]
    assert [m.subject for m in to_helix] == [f"Major deviation {number} affects your product: {TITLE}"]
    assert f"HLX-101 ({HELIX_BATCH})" in to_helix[0].body and "NWB-7" not in to_helix[0].body
    assert any(f"NWB-7 ({NORTHWIND_BATCH})" in m.body for m in to_northwind)
    assert not any("HLX-101" in m.body or "Helix" in m.body for m in to_northwind)
