"""Browser journey: a QA approver signs a record, sees the manifestation, verifies it, and sees it voided."""

import pytest
from playwright.sync_api import expect

from tenants.models import Partnership
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser


def test_approver_signs_and_sees_the_manifestation(cast, login, page):
    partnership = cast.partnership("northwind", "acme")
    login("northwind.qa")
    page.goto(f"/partnerships/{partnership.pk}/")
    form = page.get_by_test_id("sign-form")
    form.get_by_label("Signature").select_option("review")
    form.get_by_label("Password").fill("not-my-password")
    form.get_by_role("button", name="Sign").click()
    expect(page.locator('[data-field="password"]')).to_contain_text("not correct")
    expect(page.get_by_test_id("signatures")).to_contain_text("Not signed.")

    form = page.get_by_test_id("sign-form")
    form.get_by_label("Signature").select_option("review")
    form.get_by_label("Password").fill(PASSWORD)
    form.get_by_role("button", name="Sign").click()
    manifestation = page.get_by_test_id("manifestation")
    expect(manifestation).to_contain_text("Signed by Nora Whitfield on")
    expect(manifestation).to_contain_text("UTC — Reviewed")

    manifestation.get_by_role("link", name="verify").click()
    expect(page.get_by_test_id("verdict")).to_have_text("Valid: the record still matches exactly what was signed.")

    Partnership.objects.filter(pk=partnership.pk).update(tier=1)  # the record changes after signing
    page.reload()
    expect(page.get_by_test_id("verdict")).to_contain_text("VOID")
    page.goto(f"/partnerships/{partnership.pk}/")
    expect(page.get_by_test_id("manifestation")).to_contain_text("VOID")
