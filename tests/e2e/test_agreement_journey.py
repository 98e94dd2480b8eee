"""Browser journey: a sponsor QA fixes a RACI gap in the grid, sends the agreement for review, and both quality
units sign it; it takes effect."""

import re

import pytest
from playwright.sync_api import expect

from agreements import services
from tests.agreements.helpers import acting, complete, draft
from tests.e2e.journey import logout
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser


def test_fix_a_raci_gap_then_both_parties_sign(cast, login, page):
    agreement = complete(cast, draft(cast), "borealis.qa")
    with acting(cast, "borealis.qa"):  # the CMO's draft makes both parties accountable for deviation handling
        services.raci_update(membership=cast.memberships["borealis.qa"], agreement=agreement,
                             rows={"deviation_handling": ("RA", "RA")})

    login("northwind.qa")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Agreements").click()
    page.get_by_role("link", name=re.compile(r"v1$")).click()
    expect(page.get_by_test_id("checks")).to_contain_text("Deviation handling is critical and both parties are "
                                                          "Accountable")
    page.get_by_role("link", name="Edit RACI matrix").click()
    findings = page.get_by_test_id("raci-findings")
    expect(findings).to_contain_text("needs a single owner")
    page.get_by_label("Deviation handling: sponsor").fill("C")
    page.get_by_role("button", name="Save RACI matrix").click()
    expect(page.locator(".message-success").first).to_contain_text("RACI matrix saved")
    expect(findings).to_contain_text("No RACI gaps.")
    page.get_by_role("link", name="Back to the agreement").click()
    expect(page.get_by_test_id("checks")).to_contain_text("All checks pass.")
    page.get_by_role("button", name="Send for review").click()
    expect(page.get_by_test_id("agreement-state")).to_have_text("In review")
    approve = page.get_by_test_id("approve-form")
    approve.get_by_label("Password").fill(PASSWORD)
    approve.get_by_role("button", name="Sign: approved").click()
    expect(page.get_by_test_id("signatures")).to_contain_text("Nora Whitfield")
    expect(page.get_by_test_id("agreement-state")).to_have_text("In review")
    logout(page)

    login("borealis.qa")
    page.goto(f"/agreements/{agreement.pk}/")
    approve = page.get_by_test_id("approve-form")
    approve.get_by_label("Password").fill(PASSWORD)
    approve.get_by_role("button", name="Sign: approved").click()
    expect(page.get_by_test_id("agreement-state")).to_have_text("Effective")
    expect(page.get_by_test_id("signatures")).to_contain_text("Béatrice Tremblay")
    page.goto(f"/partnerships/{agreement.partnership_id}/")
    expect(page.get_by_test_id("partnership-agreement")).to_contain_text("effective since")
