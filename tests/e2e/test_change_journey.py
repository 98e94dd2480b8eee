"""Browser journey (issue 9): Acme QA raises a specification change to Helix's HLX-101 and answers the impact
questionnaire; the filing assessment suggests CBE-30 (US) and Type IB (EU) with the rule that fired; the change goes
for approval and cannot be implemented yet; Helix QA confirms both categories and approves with its signature
(a wrong password first); Acme's QA approver signs and Acme implements. The record agrees with the pages."""

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from changes.filing_rules import FilingCategory
from changes.models import Approval, ChangeRequest, FilingDecision
from part11.signatures import signatures_of
from tests.changes.helpers import AUTHOR, author
from tests.e2e.conftest import ARTIFACTS
from tests.e2e.journey import logout, success
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser

TITLE = "Replace the HPLC assay with a validated UHPLC method"


def answer(form, key, value):
    form.locator(f'input[name="{key}"][value="{value}"]').check()


def test_spec_change_assessed_approved_by_the_sponsor_with_a_signature_and_implemented(cast, login, page):
    author(cast)
    proposed = timezone.localdate() + dt.timedelta(days=45)

    # 1. Acme QA raises the change.
    login(AUTHOR)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Changes").click()
    page.wait_for_url(re.compile(r"/changes/$"))
    page.get_by_role("link", name="Raise a change").click()
    page.get_by_label("Title").fill(TITLE)
    page.get_by_label("Change type").select_option("specification")
    page.get_by_label("Description").fill("Assay and related substances move from HPLC to UHPLC (method AM-214 v3).")
    page.get_by_label("Reason").fill("The HPLC column is discontinued by its supplier.")
    page.get_by_label("HLX-101", exact=False).check()
    page.get_by_label("Site").select_option(label="Acme Boston")
    page.get_by_label("Proposed implementation").fill(proposed.isoformat())
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(r"/changes/\d+/$"))
    change = ChangeRequest.objects.get(title=TITLE)
    expect(success(page)).to_contain_text(f"{change.number} raised as a draft")
    expect(page.get_by_test_id("change-state")).to_have_text("Draft")

    # 2. The impact questionnaire: a validated replacement of the assay method.
    form = page.get_by_test_id("impact-form")
    for key, value in (("affects_filed_information", "yes"), ("affects_cqa", "no"), ("validation_impact", "yes"),
                       ("stability_impact", "no"), ("comparability_needed", "no"), ("sterility_assurance", "no"),
                       ("specification_change", "method"), ("method_comparable", "yes")):
        answer(form, key, value)
    form.get_by_label("Risk rating").select_option("medium")
    form.get_by_label("Risk rationale").fill("Validated method, equivalent or better; assay only.")
    form.get_by_role("button", name="Save the assessment").click()
    filings = page.get_by_test_id("filings")
    us, eu = filings.locator('tr[data-filing="HLX-101-US"]'), filings.locator('tr[data-filing="HLX-101-EU"]')
    expect(us).to_contain_text(FilingCategory.CBE30.label)
    expect(eu).to_contain_text(FilingCategory.TYPE_IB.label)
    expect(us).to_contain_text("awaiting the sponsor")
    expect(us).to_contain_text("Rule")  # the rule that fired is the rationale
    expect(page.get_by_test_id("filing-form")).to_have_count(0)  # the CMO cannot finalise the filing

    page.get_by_role("button", name="Submit for approval").click()
    expect(page.get_by_test_id("change-state")).to_have_text("Pending approval")
    routes = page.get_by_test_id("routes")
    expect(routes).to_contain_text("Helix Therapeutics")
    expect(routes).to_contain_text("Sponsor approval required")
    # Implementation is refused with what is missing, on the page.
    blockers = page.get_by_test_id("blockers")
    expect(blockers).to_contain_text("Helix Therapeutics's signed approval")
    expect(blockers).to_contain_text("Helix Therapeutics's filing decision for HLX-101 (US)")
    logout(page)

    # 3. Helix QA: awaiting my decision → confirm both categories → sign the approval.
    login("helix.qa")
    page.goto("/changes/")
    page.get_by_role("link", name="Awaiting my decision").click()
    page.wait_for_url(re.compile(r"/changes/awaiting/$"))
    expect(page.get_by_test_id("awaiting-approvals")).to_contain_text(change.number)
    expect(page.get_by_test_id("awaiting-filings")).to_contain_text("HLX-101")
    page.goto(f"/changes/{change.pk}/")
    expect(page.get_by_test_id("lines")).not_to_contain_text("NWB")
    for market in ("US", "EU"):
        row = page.get_by_test_id("filings").locator(f'tr[data-filing="HLX-101-{market}"]')
        row.get_by_role("button", name="Confirm / override").click()
        row = page.get_by_test_id("filings").locator(f'tr[data-filing="HLX-101-{market}"]')
        expect(row).to_contain_text("(confirmed)")
    form = page.get_by_test_id("sponsor-form")
    form.get_by_label("Approve").check()
    form.get_by_label("Comment").fill("Approved; send the method validation report with the CBE-30.")
    form.get_by_label("Password").fill("not-my-password")
    form.get_by_role("button", name="Sign").click()
    # Refused: the signing page comes back with the reason, nothing is signed.
    expect(page.locator('[data-field="password"]')).to_contain_text("not correct")
    assert not Approval.objects.filter(change=change).exists()
    form = page.get_by_test_id("sign-form")
    form.get_by_label("Approve").check()
    form.get_by_label("Comment").fill("Approved; send the method validation report with the CBE-30.")
    form.get_by_label("Password").fill(PASSWORD)
    form.get_by_role("button", name="Sign").click()
    approvals = page.get_by_test_id("approvals")
    expect(approvals.locator('[data-decision="approved"]')).to_contain_text("Helix Therapeutics: Approved")
    expect(approvals.get_by_test_id("manifestation")).to_contain_text(
        re.compile(r"Signed by Hannah Lindqvist on .* UTC — Approved"))
    logout(page)

    # 4. Acme's QA approver signs; Acme implements.
    login("acme.qa")
    page.goto(f"/changes/{change.pk}/")
    form = page.get_by_test_id("approve-form")
    form.get_by_label("Password").fill(PASSWORD)
    form.get_by_role("button", name="Sign: approved").click()
    expect(page.get_by_test_id("change-state")).to_have_text("Approved")
    expect(page.get_by_test_id("blockers")).to_have_count(0)
    page.get_by_test_id("implement-form").get_by_role("button", name="Record implementation").click()
    expect(page.get_by_test_id("change-state")).to_have_text("Implemented (effectiveness review due)")
    expect(page.get_by_test_id("change-facts")).to_contain_text("Effectiveness review due")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "test_change_journey_implemented.png"), full_page=True)

    # The record agrees with what the pages showed.
    change.refresh_from_db()
    assert change.state == ChangeRequest.State.IMPLEMENTED
    decisions = FilingDecision.objects.filter(change=change).order_by("assessment__market")
    assert [(d.assessment.market, d.confirmed_category) for d in decisions] == [
        ("EU", FilingCategory.TYPE_IB), ("US", FilingCategory.CBE30)]
    approval = Approval.objects.get(change=change)
    assert (approval.decision, signatures_of(approval).get().printed_name) == ("approved", "Hannah Lindqvist")
    assert signatures_of(change).get(step="approve").meaning == "approved"
