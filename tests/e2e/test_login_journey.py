"""Browser journey: a sponsor QA approver logs in, sees its dashboard, and cannot act for anyone else."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_helix_qa_logs_in_and_sees_only_helix(cast, login, page, live_server):
    login("helix.qa")
    assert page.get_by_test_id("acting-org").inner_text().startswith("Acting for Helix Therapeutics")
    assert page.get_by_test_id("user-name").inner_text() == "Hannah Lindqvist"
    partnerships = page.get_by_test_id("partnerships")
    assert "Helix Therapeutics ↔ Acme CDMO" in partnerships.inner_text()
    assert "Northwind" not in page.content()
    assert page.get_by_test_id("count-partnerships").inner_text() == "1"
    # The stylesheet is served (whitenoise/static): the top bar is styled, not a bare list of links.
    colour = page.evaluate("getComputedStyle(document.querySelector('.topbar')).backgroundColor")
    assert colour == "rgb(31, 78, 121)"
    # Only one membership: nothing to switch to.
    assert page.get_by_test_id("org-switch").is_disabled()


def test_tampered_switch_to_foreign_org_is_refused(cast, login, page):
    login("helix.qa")
    # Forge the switch form in the browser to name an organization helix.qa does not belong to.
    with page.expect_navigation():
        page.evaluate("""() => {
            const select = document.querySelector('[data-testid=org-switch]');
            select.disabled = false;
            select.options[0].value = 'northwind';
            select.form.submit();
        }""")
    expect(page.locator(".message-error")).to_have_text("You are not a member of that organization.")
    assert page.get_by_test_id("acting-org").inner_text().startswith("Acting for Helix Therapeutics")


def test_foreign_partnership_is_not_found(cast, login, page):
    login("helix.qa")
    foreign = cast.partnership("northwind", "acme")
    response = page.goto(f"/partnerships/{foreign.pk}/")
    assert response.status == 404
    assert "not shared with your organization" in page.content()
    response = page.goto(f"/partnerships/{cast.partnership('helix', 'acme').pk}/")
    assert response.status == 200
    assert page.get_by_role("heading", level=1).inner_text() == "Helix Therapeutics ↔ Acme CDMO"


def test_viewer_sees_no_edit_controls(cast, login, page):
    login("helix.viewer")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Products").click()
    page.wait_for_url(re.compile(r"/products/$"))
    assert page.get_by_role("link", name="New product").count() == 0
    assert page.get_by_role("link", name="Edit").count() == 0
    assert page.get_by_role("link", name="Members").count() == 0
