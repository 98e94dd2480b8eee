"""Browser journey: a sponsor grants an auditor time-boxed access, the auditor sees it, the sponsor revokes it."""


import pytest
from playwright.sync_api import expect

from tests.e2e.journey import logout

pytestmark = pytest.mark.browser


def test_grant_then_revoke(cast, login, page):
    target = cast.partnership("northwind", "acme")
    login("auditor")
    assert page.goto(f"/partnerships/{target.pk}/").status == 404
    page.goto("/")
    logout(page)

    login("northwind.qa")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Access grants").click()
    page.get_by_role("link", name="Grant access").click()
    page.get_by_label("Partnership").select_option(label="Northwind Biologics ↔ Acme CDMO")
    page.get_by_label("Grantee username").fill("auditor")
    page.get_by_label("Grantee organization (slug)").fill("helix")
    page.get_by_label("Reason").fill("Joint audit of Acme Cork, AUD-2026-11")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".message-success")).to_contain_text("Granted: auditor@helix")
    expect(page.get_by_test_id("grant-table")).to_contain_text("live")
    logout(page)

    login("auditor")
    expect(page.get_by_test_id("partnerships")).to_contain_text("Northwind Biologics ↔ Acme CDMO")
    assert page.goto(f"/partnerships/{target.pk}/").status == 200
    expect(page.get_by_role("heading", level=1)).to_have_text("Northwind Biologics ↔ Acme CDMO")
    page.goto("/")
    logout(page)

    login("northwind.qa")
    page.goto("/grants/")
    page.get_by_role("link", name="Revoke").click()
    page.get_by_label("Reason").fill("Audit closed")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("grant-table")).to_contain_text("revoked")
    logout(page)

    login("auditor")
    assert page.goto(f"/partnerships/{target.pk}/").status == 404
