"""Browser journey: a CMO QA approver watches a deadline turn from due-soon to overdue and gets the notice in-app."""

import datetime as dt
import re
import time

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from clocks.sweep import sweep
from tests.clocks.helpers import deadline_due_at

pytestmark = pytest.mark.browser


def test_deadline_turns_overdue_and_the_notification_arrives(cast, login, page):
    now = timezone.now()
    due = now + dt.timedelta(seconds=15)  # room for the login and the first page on a loaded machine
    deadline = deadline_due_at(cast, due, partner=None, label="DEV-2026-0042 at Acme Boston", now=now)
    sweep()  # the reminder ("1 hour left", already reached) goes out now, as beat would do it

    login("acme.qa")
    badge = page.get_by_test_id("notification-badge")
    expect(badge).to_have_attribute("aria-label", "Notifications: 1 unread")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Deadlines").click()
    row = page.get_by_test_id(f"deadline-{deadline.pk}")
    expect(row.get_by_test_id("deadline-stage")).to_have_text("Due soon")
    expect(row).to_contain_text("1 hour after event recorded")

    while timezone.now() < due + dt.timedelta(seconds=1):
        time.sleep(0.2)
    page.reload()
    expect(row.get_by_test_id("deadline-stage")).to_have_text("Overdue")

    sweep()  # the due point fires: the deadline is marked missed and the notice written to the outbox
    badge.dispatch_event("refresh")  # what the 30-second poll does, without waiting for it
    expect(page.get_by_test_id("notification-badge")).to_have_attribute("aria-label", "Notifications: 2 unread")
    page.get_by_test_id("notification-badge").click()
    notice = page.get_by_role("button", name=re.compile("Sponsor notification — due now: DEV-2026-0042"))
    expect(notice).to_be_visible()
    notice.click()
    page.wait_for_url(re.compile(rf"/deadlines/{deadline.pk}/$"))
    expect(page.get_by_role("heading", level=1).get_by_test_id("deadline-stage")).to_have_text("Overdue")
    expect(page.get_by_test_id("deadline-rule")).to_contain_text("1 hour after event recorded")
    expect(page.locator(".facts")).to_contain_text("Missed")
    expect(page.get_by_test_id("notification-badge")).to_have_attribute("aria-label", "Notifications: 1 unread")
