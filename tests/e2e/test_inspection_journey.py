"""Browser journey (issue 10): FDA's routine inspection at Acme Boston (Helix's HLX-101 and Northwind's NWB-7 in
scope) ends with a Form 483. Acme QA records the 483 and its observations through the pages (the 211 subpart and
six-system category suggested from the cited section); both clocks appear: the agency response due 15 US business
days after the issue date, and Helix's notification clock from its own agreement. Acme notifies the sponsors;
Helix QA is told, sees the observations that concern it and never Northwind's, and acknowledges. Acme QA drafts
the response to each observation, a second QA member signs "reviewed", Acme's QA approver signs "approved" (a
wrong password first) and the response is submitted within the window. The record agrees with the pages."""

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from agreements.catalogue import NotificationEvent
from clocks.calendars import BusinessCalendar, CalendarCode, Unit
from clocks.models import Deadline
from inspections.models import Acknowledgement, Form483, Notice, Observation
from part11.signatures import signatures_of
from tenants.models import SecurityEvent
from tests.e2e.conftest import ARTIFACTS
from tests.e2e.journey import logout, success
from tests.factories import PASSWORD
from tests.inspections.helpers import REVIEWER, agreement_with_windows, inspect, reviewer

pytestmark = pytest.mark.browser

FDA_ZONE = "America/New_York"
SITE_WIDE = "Cleaning of the shared granulator was not verified before use between products."
HELIX = "The filed HLX-101 granulation end point does not match the executed batch records."
NORTHWIND = "Stability testing of NWB-7 lot 4 was performed with an unvalidated method."
MESSAGE = "Observation 1 concerns the shared granulator; we will share the draft response."


def due_text(day: dt.date) -> str:
    """A US-calendar clock's due time as the pages show it: the end of the due day in FDA's zone."""
    return f"{day:%-d %b %Y} 23:59 {FDA_ZONE}"


def add_observation(page, *, text, cited, affected=None, accountability=None, rationale=""):
    page.get_by_role("link", name="Add an observation…").click()
    page.wait_for_url(re.compile(r"/inspections/483/\d+/observations/new/$"))
    page.get_by_role("textbox", name="Text", exact=True).fill(text)
    page.get_by_label("Cited regulation").fill(cited)
    if accountability:
        page.get_by_label("Accountability").select_option(label=accountability)
        page.get_by_label("Rationale").fill(rationale)
    if affected:
        page.get_by_label("Visibility").select_option("product_specific")
        page.get_by_label(affected).check()
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(r"/inspections/483/\d+/$"))


def test_a_483_recorded_notified_acknowledged_and_answered_with_signatures_in_time(cast, login, page):
    today = timezone.localdate()
    issued = today - dt.timedelta(days=1)
    # Helix's agreement gives it 3 US business days' notice of a 483; Northwind has none (conservative defaults).
    agreement = agreement_with_windows(cast, "helix", "acme", {
        NotificationEvent.FDA_483: (3, Unit.BUSINESS_DAYS, CalendarCode.US_FEDERAL)})
    inspection = inspect(cast, started=issued - dt.timedelta(days=2))
    reviewer(cast)
    us = BusinessCalendar(CalendarCode.US_FEDERAL)
    response_due = us.add_business_days(issued, 15)  # day 1 is the next business day, federal holidays excluded
    helix_due = us.add_business_days(issued, 3)
    target = today + dt.timedelta(days=60)

    # 1. Acme QA records the 483 from the inspection's page: the response clock starts.
    login("acme.qa")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Inspections").click()
    page.wait_for_url(re.compile(r"/inspections/$"))
    page.get_by_test_id("inspection-table").get_by_role("link", name=inspection.number).click()
    page.wait_for_url(re.compile(rf"/inspections/{inspection.pk}/$"))
    expect(page.get_by_test_id("inspection-state")).to_have_text("In progress")
    page.get_by_role("link", name="Record the Form 483…").click()
    page.get_by_label("Issued on").fill(issued.isoformat())
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(r"/inspections/483/\d+/$"))
    form483 = Form483.objects.get(inspection=inspection)
    expect(success(page)).to_have_text(f"483 recorded: the response to FDA is due {due_text(response_due)}.")
    expect(page.get_by_test_id("form483-state")).to_have_text("Response in preparation")

    # Both clocks: the agency's (with its reminders at 10, 5, 2 and 1 business days left) and Helix's own.
    clock = page.get_by_test_id("response-clock")
    expect(clock).to_contain_text(f"Due {due_text(response_due)}")
    expect(clock).to_contain_text(f"15 US business days after 483 issued {issued:%-d %b %Y}")
    expect(page.get_by_test_id("reminders").locator("tbody tr").filter(has_text=" left")).to_have_count(4)
    helix_notice = page.get_by_test_id("notice").filter(has_text="Helix Therapeutics")
    expect(helix_notice).to_contain_text("FDA Form 483 issued")
    expect(helix_notice).to_contain_text(due_text(helix_due))
    expect(helix_notice).to_contain_text(str(agreement))  # the window is the agreement's
    expect(helix_notice).to_contain_text("not yet")
    expect(page.get_by_test_id("notice").filter(has_text="Northwind Biologics")).to_contain_text(
        "conservative defaults")

    # 2. The observations, entered through the page; the category is suggested from the cited section.
    add_observation(page, text=SITE_WIDE, cited="21 CFR 211.67(a)")
    expect(success(page)).to_have_text("Observation 1 added (suggested: D — Equipment).")
    add_observation(page, text=HELIX, cited="21 CFR 211.100(a)", affected="Helix Therapeutics — HLX-101",
                    accountability="Sponsor-originated",
                    rationale="The filing lags the validated process: Helix's variation is pending.")
    expect(success(page)).to_have_text("Observation 2 added (suggested: F — Production and process controls).")
    add_observation(page, text=NORTHWIND, cited="21 CFR 211.165(e)", affected="Northwind Biologics — NWB-7")
    expect(success(page)).to_have_text("Observation 3 added (suggested: I — Laboratory controls).")
    observations = page.get_by_test_id("observation")
    expect(observations).to_have_count(3)
    first = page.locator('[data-testid="observation"][data-number="1"]')
    second = page.locator('[data-testid="observation"][data-number="2"]')
    expect(first.get_by_test_id("category")).to_contain_text("D — Equipment / Facilities & equipment")
    expect(first.get_by_test_id("category")).to_contain_text(
        "suggested from the cited section: D — Equipment / Facilities & equipment")
    expect(first).to_contain_text("the site's systems")
    expect(second.get_by_test_id("category")).to_contain_text("F — Production and process controls / Production")
    expect(second).to_contain_text("Sponsor-originated: The filing lags the validated process")
    expect(second).to_contain_text("HLX-101 (Helix Therapeutics)")

    # 3. Acme notifies the sponsors through the page: each sponsor's clock is met when it is told.
    page.get_by_test_id("notify-link").click()
    page.wait_for_url(re.compile(rf"/inspections/{inspection.pk}/notify/$"))
    page.get_by_label("Tell them of").select_option(NotificationEvent.FDA_483)
    page.get_by_label("Message").fill(MESSAGE)
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(rf"/inspections/{inspection.pk}/$"))
    expect(success(page)).to_have_text("Notified 2 sponsors (in-app and e-mail).")
    helix_notice = page.get_by_test_id("notice").filter(has_text="Helix Therapeutics")
    expect(helix_notice.get_by_test_id("notice-stage")).to_have_text("Met")
    expect(helix_notice).to_contain_text("by Amir Castellano")
    expect(helix_notice.get_by_test_id("ack-status")).to_have_text("awaiting")
    expect(page.get_by_test_id("notify-link")).to_have_count(0)
    logout(page)

    # 4. Helix QA is told, opens the inspection, sees its notice with its clock and acknowledges.
    login("helix.qa")
    expect(page.get_by_test_id("notification-badge")).to_have_attribute("aria-label", re.compile(r"[1-9]\d* unread"))
    page.get_by_test_id("notification-badge").click()
    told = page.get_by_test_id("notification-list").locator("li").filter(
        has_text=f"FDA Form 483 issued: {inspection.number} at Acme Boston")
    expect(told).to_contain_text("In scope for you: HLX-101.")
    expect(told).to_contain_text(f"Message from Amir Castellano: {MESSAGE}")
    expect(told).not_to_contain_text("NWB-7")
    told.get_by_role("button").click()
    page.wait_for_url(re.compile(rf"/inspections/{inspection.pk}/$"))
    notice = page.get_by_test_id("notice")
    expect(notice).to_have_count(1)  # Helix's own notice only
    expect(notice).to_contain_text(due_text(helix_due))
    expect(notice.get_by_test_id("notice-stage")).to_have_text("Met")
    expect(page.get_by_test_id("form483-section")).to_contain_text(due_text(response_due))
    form = notice.get_by_test_id("acknowledge-form")
    form.get_by_label("Note").fill("Received; our QA lead will review the HLX-101 filing observation.")
    form.get_by_role("button", name="Acknowledge").click()
    expect(success(page)).to_have_text("Acknowledged; the CMO is told.")
    expect(page.get_by_test_id("notice").get_by_test_id("ack-status")).to_contain_text("Hannah Lindqvist")

    # The 483 as Helix sees it: both clocks, the site-wide observation and its own, never Northwind's.
    page.get_by_test_id("form483-link").click()
    page.wait_for_url(re.compile(rf"/inspections/483/{form483.pk}/$"))
    expect(page.get_by_test_id("response-clock")).to_contain_text(f"Due {due_text(response_due)}")
    expect(page.get_by_test_id("notice")).to_contain_text(due_text(helix_due))
    seen = page.get_by_test_id("observation")
    expect(seen).to_have_count(2)
    expect(page.get_by_test_id("observations")).to_contain_text(SITE_WIDE)
    expect(page.get_by_test_id("observations")).to_contain_text(HELIX)
    body = page.locator("main")
    expect(body).not_to_contain_text(NORTHWIND)
    expect(body).not_to_contain_text("Northwind")
    expect(body).not_to_contain_text("NWB-7")
    expect(page.get_by_test_id("form483-actions")).to_have_count(0)  # read-only for the sponsor
    logout(page)

    # 5. Acme QA drafts the response to each observation; it cannot be signed before that.
    login("acme.qa")
    page.goto(f"/inspections/483/{form483.pk}/")
    helix_notice = page.get_by_test_id("notice").filter(has_text="Helix Therapeutics")
    expect(helix_notice.get_by_test_id("ack-status")).to_contain_text("Hannah Lindqvist")
    expect(page.get_by_test_id("approve-link")).to_have_count(0)
    for number in (1, 2, 3):
        observation = page.locator(f'[data-testid="observation"][data-number="{number}"]')
        observation.get_by_role("link", name="Draft the response…").click()
        page.get_by_label("Commitment").fill(f"Commitment {number}: correct the cause and prevent recurrence.")
        page.get_by_label("Actions").fill(f"Actions {number}: SOP revised, staff retrained, effectiveness check.")
        page.get_by_label("Target date").fill(target.isoformat())
        page.get_by_label("Evidence").fill(f"Evidence {number}: SOP revision and training records.")
        page.get_by_role("button", name="Save").click()
        expect(success(page)).to_have_text(f"Response to observation {number} saved.")
        observation = page.locator(f'[data-testid="observation"][data-number="{number}"]')
        expect(observation.get_by_test_id("commitment-status")).to_have_text("drafted")
    logout(page)

    # 6. A second QA member signs "reviewed".
    login(REVIEWER)
    page.goto(f"/inspections/483/{form483.pk}/")
    page.get_by_test_id("review-link").click()
    page.wait_for_url(re.compile(rf"/inspections/483/{form483.pk}/review/$"))
    expect(page.get_by_test_id("sign-notes")).to_have_count(0)  # every observation has its commitment
    form = page.get_by_test_id("sign-form")
    form.get_by_label("Password").fill(PASSWORD)
    form.get_by_role("button", name="Sign").click()
    page.wait_for_url(re.compile(rf"/inspections/483/{form483.pk}/$"))
    expect(success(page)).to_have_text("Signed by Route Reviewer — Reviewed.")
    expect(page.get_by_test_id("approve-link")).to_have_count(0)  # the reviewer cannot approve too
    logout(page)

    # 7. Acme's QA approver signs "approved" (a wrong password first, refused with the reason) and submits.
    login("acme.qa")
    page.goto(f"/inspections/483/{form483.pk}/")
    page.get_by_test_id("approve-link").click()
    form = page.get_by_test_id("sign-form")
    form.get_by_label("Password").fill("not-my-password")
    form.get_by_role("button", name="Sign").click()
    expect(page.locator('[data-field="password"]')).to_contain_text("The password is not correct")
    assert [s.meaning for s in signatures_of(form483)] == ["reviewed"]
    form = page.get_by_test_id("sign-form")
    form.get_by_label("Password").fill(PASSWORD)
    form.get_by_role("button", name="Sign").click()
    page.wait_for_url(re.compile(rf"/inspections/483/{form483.pk}/$"))
    expect(success(page)).to_have_text("Signed by Amir Castellano — Approved.")
    manifestations = page.get_by_test_id("signatures").get_by_test_id("manifestation")
    expect(manifestations).to_have_count(2)
    expect(manifestations.nth(0)).to_contain_text("Route Reviewer — Reviewed")
    expect(manifestations.nth(1)).to_contain_text("Amir Castellano — Approved")

    page.get_by_test_id("submit-link").click()
    page.wait_for_url(re.compile(rf"/inspections/483/{form483.pk}/submit/$"))
    page.get_by_role("button", name="Save").click()  # sent now
    page.wait_for_url(re.compile(rf"/inspections/483/{form483.pk}/$"))
    expect(success(page)).to_have_text("Response submitted within the window.")
    expect(page.get_by_test_id("form483-state")).to_have_text("Response submitted (commitments open)")
    expect(page.get_by_test_id("response-stage")).to_have_text("Met")
    expect(page.get_by_test_id("submitted-late")).to_have_count(0)
    expect(page.get_by_test_id("form483-facts")).to_contain_text("by Amir Castellano")
    expect(page.get_by_test_id("commitment-status")).to_have_text(["open", "open", "open"])
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "test_inspection_journey_submitted.png"), full_page=True)

    # The record agrees with what the pages showed.
    form483.refresh_from_db()
    response = Deadline.objects.get(pk=form483.response_deadline_id)
    assert (form483.state, form483.submitted_late, form483.submitted_by) == (
        Form483.State.SUBMITTED, False, cast.users["acme.qa"])
    assert form483.submitted_at < response.due_at and response.state == Deadline.State.MET
    assert response.due_at.astimezone(ZoneInfo(FDA_ZONE)).date() == response_due
    assert [(o.number, o.subpart, o.system, o.suggested_subpart, o.visibility, o.accountability)
            for o in Observation.objects.filter(form483=form483).order_by("number")] == [
        (1, "D", "facilities_equipment", "D", "site_wide", "cmo"),
        (2, "F", "production", "F", "product_specific", "sponsor"),
        (3, "I", "laboratory", "I", "product_specific", "cmo")]
    assert all(o.response_target_on == target for o in Observation.objects.filter(form483=form483))
    helix = Notice.objects.select_related("deadline").get(inspection=inspection, sponsor=cast.orgs["helix"])
    assert helix.notified_by == cast.users["acme.qa"] and helix.deadline.state == Deadline.State.MET
    assert Acknowledgement.objects.get(notice=helix).acknowledged_by_name == "Hannah Lindqvist"
    assert not Acknowledgement.objects.filter(notice__sponsor=cast.orgs["northwind"]).exists()
    assert [(s.printed_name, s.meaning) for s in signatures_of(form483)] == [
        ("Route Reviewer", "reviewed"), ("Amir Castellano", "approved")]
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.SIGNATURE_FAILED,
                                        actor=cast.users["acme.qa"]).count() == 1
