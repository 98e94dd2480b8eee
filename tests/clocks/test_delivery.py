"""Outbox delivery and the notification centre: e-mail once with retries and backoff, attempts recorded,
permanent failures on the admin page, in-app notices personal to their recipient."""

from __future__ import annotations

import datetime as dt

from django.core import mail
from django.urls import reverse
from django.utils import timezone

from clocks import delivery, services
from clocks.models import DeliveryAttempt, Notification
from clocks.sweep import sweep
from tests.clocks.helpers import deadline_due_at


def _due_notifications(cast):
    now = timezone.now()
    deadline = deadline_due_at(cast, now - dt.timedelta(minutes=1), now=now - dt.timedelta(hours=2))
    sweep(now=now)
    return deadline, list(Notification.objects.filter(deadline=deadline).order_by("id"))


def test_each_notification_is_emailed_once_in_text_and_html_with_a_stable_message_id(cast, settings):
    settings.QMS_BASE_URL = "https://qms.example.com"
    deadline, notifications = _due_notifications(cast)
    assert len(notifications) == 4  # reminder + due point, to Acme's and Helix's QA approvers
    result = delivery.deliver_pending()
    assert (result.sent, result.retrying, result.failed) == (4, 0, 0)
    assert delivery.deliver_pending().sent == 0  # nothing twice
    assert len(mail.outbox) == 4
    message = next(m for m in mail.outbox if m.to == ["acme.qa@example.com"] and "due now" in m.subject)
    assert message.subject == "Sponsor notification — due now: Helix ↔ Acme"
    assert f"https://qms.example.com/deadlines/{deadline.pk}/" in message.body
    assert message.alternatives[0][1] == "text/html" and "Open it in the QMS" in message.alternatives[0][0]
    assert message.extra_headers["Message-ID"].startswith("<notification-")
    for notification in Notification.objects.filter(deadline=deadline):
        assert notification.email_state == "sent" and notification.emailed_at is not None
        assert list(notification.attempts.values_list("outcome", flat=True)) == ["sent"]


def test_failures_retry_with_backoff_then_surface_on_the_admin_page(cast, settings, client_for, api_for):
    settings.EMAIL_BACKEND = "tests.clocks.mailbackends.FailingBackend"
    _, notifications = _due_notifications(cast)
    start = timezone.now()
    result = delivery.deliver_pending(now=start)
    assert (result.sent, result.retrying) == (0, 4)
    first = Notification.objects.get(pk=notifications[0].pk)
    assert first.email_state == "pending" and first.email_attempts == 1
    assert first.next_attempt_at == start + dt.timedelta(minutes=1)
    assert "SMTPServerDisconnected" in first.last_error
    # Not retried before its time; then 2, 4, 8, 16 minutes apart; the sixth failure is permanent.
    assert delivery.deliver_pending(now=start + dt.timedelta(seconds=30)).retrying == 0
    moment = start
    for wait in (1, 2, 4, 8, 16):
        moment += dt.timedelta(minutes=wait)
        delivery.deliver_pending(now=moment)
    first.refresh_from_db()
    assert (first.email_state, first.email_attempts) == ("failed", 6)
    assert list(first.attempts.values_list("outcome", flat=True)) == ["retry"] * 5 + ["failed"]
    # Acme's org admin sees Acme's failure (not Helix's) and sends it again once the server is back.
    acme_failure = Notification.objects.get(pk__in=[n.pk for n in notifications], recipient__user__username="acme.qa",
                                            level="due")
    page = client_for("acme.admin").get(reverse("notification-failures")).content.decode()
    assert "acme.qa@example.com" in page and "helix.qa@example.com" not in page
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert client_for("acme.admin").post(reverse("notification-retry", args=[acme_failure.pk])).status_code == 302
    assert delivery.deliver_pending().sent == 1
    assert Notification.objects.get(pk=acme_failure.pk).email_state == "sent"
    again = api_for("acme.admin").post(reverse("api:notification-failure-retry", args=[acme_failure.pk]))
    assert again.status_code == 404  # no longer a failure


def test_a_refused_recipient_fails_at_once_and_the_in_app_notice_stays(cast, settings, client_for):
    settings.EMAIL_BACKEND = "tests.clocks.mailbackends.RefusingBackend"
    _, notifications = _due_notifications(cast)
    assert delivery.deliver_pending().failed == 4
    assert DeliveryAttempt.objects.filter(outcome="failed").count() == 4
    page = client_for("acme.qa").get(reverse("notifications")).content.decode()
    assert "Sponsor notification — due now: Helix ↔ Acme" in page


def test_members_without_an_email_address_get_the_in_app_notice_only(cast):
    user = cast.users["acme.qa"]
    user.email = ""
    user.save(update_fields=["email"])
    _, notifications = _due_notifications(cast)
    states = {n.recipient.user.username: n.email_state for n in notifications}
    assert states == {"acme.qa": "skipped", "helix.qa": "pending"}


def test_notification_centre_unread_count_and_reading_are_personal(cast, client_for, api_for):
    _, notifications = _due_notifications(cast)
    client = api_for("acme.qa")
    assert client.get(reverse("api:notification-unread-count")).json() == {"unread": 2}
    assert api_for("helix.qa").get(reverse("api:notification-unread-count")).json() == {"unread": 2}
    assert api_for("acme.admin").get(reverse("api:notification-unread-count")).json() == {"unread": 0}
    mine = [n for n in notifications if n.recipient.user.username == "acme.qa"]
    read = client.post(reverse("api:notification-read", args=[mine[0].pk]))
    assert read.status_code == 200 and read.json()["read_at"]
    assert client.get(reverse("api:notification-unread-count")).json() == {"unread": 1}
    page = client_for("acme.qa").get(reverse("home")).content.decode()
    assert 'aria-label="Notifications: 1 unread"' in page
    badge = client_for("acme.qa").get(reverse("notification-badge")).content.decode()
    assert '<span class="count">1</span>' in badge and 'hx-trigger="every 30s, refresh"' in badge
    assert client.post(reverse("api:notification-read-all")).json() == {"unread": 0}
    assert api_for("helix.qa").get(reverse("api:notification-unread-count")).json() == {"unread": 2}
    # Opening a notification in the page marks it read and goes to the deadline.
    helix = [n for n in notifications if n.recipient.user.username == "helix.qa"][0]
    response = client_for("helix.qa").post(reverse("notification-open", args=[helix.pk]))
    assert response.status_code == 302 and response["Location"] == f"/deadlines/{helix.deadline_id}/"
    assert Notification.objects.get(pk=helix.pk).read_at is not None


def test_delivery_retry_refuses_a_notification_that_has_not_failed(cast):
    import pytest
    from django.core.exceptions import ValidationError

    _, notifications = _due_notifications(cast)
    acme = next(n for n in notifications if n.recipient.user.username == "acme.qa")
    with pytest.raises(ValidationError, match="Only a failed e-mail"):
        services.delivery_retry(membership=cast.memberships["acme.admin"], notification=acme)


def test_a_failed_enqueue_is_logged_and_the_outbox_row_waits_for_the_periodic_delivery(cast, monkeypatch, caplog):
    """The broker refusing the enqueue at commit time (the world outside) loses nothing: the row stays pending."""
    from kombu.exceptions import OperationalError

    from clocks import dispatch, tasks

    def refuse(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks.deliver, "apply_async", refuse)
    dispatch._enqueue()
    assert "could not enqueue outbox delivery" in caplog.text
    _, notifications = _due_notifications(cast)
    assert {n.email_state for n in notifications} == {"pending"}
    assert delivery.deliver_pending().sent == 4


def test_platform_admin_sees_every_organizations_permanent_failures(cast, settings, client):
    from tests.factories import UserFactory

    settings.EMAIL_BACKEND = "tests.clocks.mailbackends.RefusingBackend"
    _due_notifications(cast)
    delivery.deliver_pending()
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    page = client.get("/admin/clocks/notification/?email_state__exact=failed").content.decode()
    assert "4 notifications" in page and "SMTPRecipientsRefused" in page
    failed = Notification.objects.filter(email_state="failed").first()
    detail = client.get(f"/admin/clocks/notification/{failed.pk}/change/").content.decode()
    assert "Failed permanently" in detail and "No such user" in detail
