"""Browser journey: Acme's QA has released an HLX-101 batch with an OOS-investigated result and a change in effect;
Helix QA opens its review queue, reviews the batch's exceptions and its executed batch record shown inline,
raises a query; Acme QA answers it; Helix QA closes the query and releases the batch with a signature, and the
manifestation (printed name — meaning) appears on the page. Acme is told."""

import re

import pytest
from playwright.sync_api import expect

from batches import services
from batches.models import Batch, Disposition, Document
from clocks.models import Deadline, Notification
from part11.signatures import signatures_of
from tests.agreements.helpers import acting
from tests.batches.helpers import complete, dispose, register, results, submit
from tests.e2e.conftest import ARTIFACTS
from tests.e2e.journey import logout, success
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser

LOT = "HLX-101-B2607"
QUESTION = "The water content result is 2.3 % against ≤ 2.0 %: what did the OOS investigation conclude?"
ANSWER = ("Phase I found a KF titrant standardisation error; the retest on fresh titrant gave 1.7 %. Report "
          "OOS-2026-031 is attached to the executed batch record, page 14.")


def released_by_acme(cast) -> Batch:
    """Registered by Acme's operator, record complete with an OOS-investigated result and a change in effect,
    submitted, and released by Acme's QA: awaiting Helix."""
    batch = complete(cast, register(cast, lot=LOT))
    results(cast, batch, services.QcLine("Assay (HPLC)", "95.0–105.0 %", "99.4 %"),
            services.QcLine("Water content (KF)", "≤ 2.0 %", "1.7 % (retest; initial 2.3 %)", passed=True, oos=True))
    with acting(cast, "acme.qa"):
        services.changes_set(membership=cast.memberships["acme.qa"], batch=Batch.objects.get(pk=batch.pk),
                             changes=[services.ChangeLine("CC-2026-044", "Granulation end point by torque")])
    batch = submit(cast, Batch.objects.get(pk=batch.pk))
    dispose(cast, batch, by="acme.qa")
    return Batch.objects.get(pk=batch.pk)


def test_sponsor_reviews_queries_and_releases_a_batch(cast, login, page):
    batch = released_by_acme(cast)
    ebr = Document.objects.get(batch=batch, kind=Document.Kind.EXECUTED_BATCH_RECORD, superseded=False)
    document_url = f"/batches/documents/{ebr.pk}/"
    refused = []
    page.on("console", lambda message: refused.append(message.text) if "Refused" in message.text else None)

    # 1. Helix QA: the queue, oldest first, with the review clock; then the batch's review page.
    login("helix.qa")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Batches").click()
    page.wait_for_url(re.compile(r"/batches/$"))
    page.get_by_role("link", name="Awaiting my disposition").click()
    page.wait_for_url(re.compile(r"/batches/queue/$"))
    row = page.get_by_test_id("queue-table").locator(f'tr[data-lot="{LOT}"]')
    expect(row).to_contain_text("Acme CDMO")
    expect(row).to_contain_text("Acme Boston")
    expect(row.get_by_test_id("age")).to_have_text("0 days")
    expect(row.get_by_test_id("due-stage")).to_have_text("On track")
    expect(row).to_contain_text("1 flagged result")
    expect(row).to_contain_text("1 change")
    row.get_by_role("link", name=LOT).click()
    page.wait_for_url(re.compile(rf"/batches/{batch.pk}/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"HLX-101 lot {LOT}")
    expect(page.get_by_test_id("batch-state")).to_have_text("Awaiting sponsor disposition")

    # The review-by-exception summary, built from the data.
    exceptions = page.get_by_test_id("exceptions")
    expect(exceptions).to_contain_text("Water content (KF): OOS investigated, result 1.7 % (retest; initial 2.3 %)")
    expect(exceptions).to_contain_text("Change in effect: CC-2026-044 Granulation end point by torque")
    expect(exceptions.locator(".sev-blocker")).to_have_count(0)
    expect(page.get_by_test_id("results")).to_contain_text("OOS investigated")

    # The executed batch record, shown inline in the page: our page frames it, the browser loads it.
    frame_element = page.get_by_test_id("ebr-frame")
    expect(frame_element).to_have_attribute("src", document_url)
    expect(frame_element).to_be_visible()
    # A frame the browser refused (frame-ancestors, X-Frame-Options) shows an error page of another origin instead.
    page.wait_for_function("""url => [...document.querySelectorAll('iframe')].some(f => {
        try { return f.contentWindow.location.pathname === url; } catch (e) { return false; } })""",
                           arg=document_url)
    loaded = [f for f in page.frames if f.url.endswith(document_url)]
    assert [f.parent_frame for f in loaded] == [page.main_frame], [f.url for f in page.frames]
    served = page.request.get(document_url)
    assert served.status == 200
    assert served.headers["content-type"] == "application/pdf"
    assert served.headers["content-disposition"].startswith("inline")
    assert "frame-ancestors 'self'" in served.headers["content-security-policy"]
    assert served.body().startswith(b"%PDF-")
    expect(page.get_by_test_id("ebr-sha256")).to_have_text(ebr.file.sha256)
    download = page.request.get(f"{document_url}?download=1")
    assert download.headers["content-disposition"].startswith("attachment")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "test_batch_journey_review_page.png"), full_page=True)

    # 2. A query to Acme.
    form = page.get_by_test_id("query-form")
    form.get_by_label("Subject").fill("Water content OOS")
    form.get_by_label("Question").fill(QUESTION)
    form.get_by_role("button", name="Send query").click()
    expect(success(page)).to_have_text("Query “Water content OOS” sent to Acme CDMO.")
    thread = page.get_by_test_id("query").filter(has_text="Water content OOS")
    expect(thread.get_by_test_id("awaiting")).to_have_text("awaiting Acme CDMO")
    expect(thread).to_contain_text(QUESTION)
    logout(page)

    # 3. Acme QA is told, and answers from the batch page.
    login("acme.qa")
    expect(page.get_by_test_id("notification-badge")).to_have_attribute("aria-label", re.compile(r"[1-9]\d* unread"))
    page.goto(f"/batches/{batch.pk}/")
    thread = page.get_by_test_id("query").filter(has_text="Water content OOS")
    expect(thread).to_contain_text("Hannah Lindqvist (Helix Therapeutics)")
    thread.get_by_label("Reply").fill(ANSWER)
    thread.get_by_role("button", name="Send reply").click()
    expect(success(page)).to_have_text("Reply sent.")
    expect(thread.get_by_test_id("query-message")).to_have_count(2)
    expect(thread.get_by_test_id("close-query-form")).to_have_count(0)  # the sponsor closes its own query
    expect(page.get_by_test_id("decide-link")).to_have_count(0)  # Acme has signed its step
    logout(page)

    # 4. Helix QA reads the answer, closes the query and releases the batch with a signature.
    login("helix.qa")
    page.goto(f"/batches/{batch.pk}/")
    thread = page.get_by_test_id("query").filter(has_text="Water content OOS")
    expect(thread).to_contain_text(ANSWER)
    expect(thread.get_by_test_id("awaiting")).to_have_text("awaiting Helix Therapeutics")
    thread.get_by_label("Closing note").fill("Answered: retest within specification.")
    thread.get_by_role("button", name="Close the query").click()
    expect(success(page)).to_have_text("Query “Water content OOS” closed.")
    expect(page.get_by_test_id("query")).to_contain_text("Closed")

    page.get_by_test_id("decide-link").click()
    page.wait_for_url(re.compile(rf"/batches/{batch.pk}/dispose/$"))
    steps = page.get_by_test_id("signing-steps")
    expect(steps.locator('tr[data-choice="release"]')).to_contain_text("Release the batch (sponsor)")
    expect(steps.locator('tr[data-choice="release"]')).to_contain_text("nothing blocks it")
    form = page.get_by_test_id("dispose-form")
    form.get_by_label("Release", exact=True).check()
    form.get_by_label("Password").fill("not-my-password")
    form.get_by_role("button", name="Sign").click()
    expect(page.locator('[data-field="password"]')).to_contain_text("not correct")
    form = page.get_by_test_id("dispose-form")
    form.get_by_label("Release", exact=True).check()
    form.get_by_label("Password").fill(PASSWORD)
    form.get_by_role("button", name="Sign").click()
    page.wait_for_url(re.compile(rf"/batches/{batch.pk}/$"))
    expect(success(page)).to_have_text(f"Signed by Hannah Lindqvist — Released. HLX-101 lot {LOT} is released.")
    expect(page.get_by_test_id("batch-state")).to_have_text("Released")
    chain = page.get_by_test_id("dispositions")
    sponsor_step = chain.locator('[data-step="sponsor_release"]')
    expect(sponsor_step.get_by_test_id("manifestation")).to_contain_text("Hannah Lindqvist — Released")
    expect(sponsor_step.get_by_test_id("manifestation")).to_contain_text("UTC")
    expect(chain.locator('[data-step="cmo_release"]').get_by_test_id("manifestation")).to_contain_text(
        "Amir Castellano — Released")
    expect(page.get_by_test_id("decide-link")).to_have_count(0)
    assert not refused, refused  # no Content-Security-Policy or framing refusal anywhere in the journey

    # The record agrees with what the pages showed, and Acme is told.
    batch.refresh_from_db()
    assert (batch.state, batch.disposed_at is not None) == (Batch.State.RELEASED, True)
    release = Disposition.objects.get(batch=batch, step=Disposition.Step.SPONSOR_RELEASE)
    signature = signatures_of(release).get()
    assert (signature.printed_name, signature.meaning, release.organization) == (
        "Hannah Lindqvist", "released", cast.orgs["helix"])
    assert Deadline.objects.get(pk=batch.review_deadline_id).state == Deadline.State.MET
    told = Notification.objects.filter(organization=cast.orgs["acme"], record_table="batches_batch",
                                       record_id=batch.pk).values_list("subject", flat=True)
    assert f"HLX-101 lot {LOT} released by Helix Therapeutics" in told
    assert any(subject.startswith("Helix Therapeutics closed the query") for subject in told)
