"""Outbox delivery: e-mail each pending notification once, with retries and backoff, recording every attempt.

In-app delivery needs no work: a notification row is in the recipient's notification centre the moment the sweep
commits it. E-mail goes through Django's mail backend (console in development, SMTP in production).

Each notification is claimed, sent and marked in one short transaction holding its row lock
(``FOR UPDATE SKIP LOCKED``), so two workers never send the same one and a worker killed before the commit leaves
it pending for the next run. The one window no database can close is a crash after the mail server accepted
the message and before the commit; that copy is re-sent with the same ``Message-ID`` header, which mail clients
use to recognise it. A message is never dropped to avoid that.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import smtplib
import socket
import time
from dataclasses import dataclass

from django.conf import settings
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from clocks.models import DeliveryAttempt, Notification
from tenants import rls

logger = logging.getLogger("qms.clocks")

MAX_ATTEMPTS = 6
#: One delivery run stops after this long and asks for another, so no task nears the time limit.
TIME_BUDGET_SECONDS = 300
PERMANENT_ERRORS = (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused)


def backoff(attempts: int) -> dt.timedelta:
    """1, 2, 4, 8, 16 minutes... capped at an hour."""
    return dt.timedelta(seconds=min(60 * 2 ** max(attempts - 1, 0), 3600))


@dataclass
class DeliveryResult:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    more: bool = False


def deliver_pending(*, now: dt.datetime | None = None, limit: int | None = None,
                    time_budget: float = TIME_BUDGET_SECONDS) -> DeliveryResult:
    """Send what is due in the outbox until it is empty, ``limit`` is reached or the time budget runs out."""
    result = DeliveryResult()
    started = time.monotonic()
    worker = f"{socket.gethostname()}:{os.getpid()}"
    connection = mail.get_connection()
    try:
        while limit is None or result.sent + result.retrying + result.failed < limit:
            if time.monotonic() - started > time_budget:
                result.more = True
                break
            outcome = _deliver_one(connection, now, worker)
            if outcome is None:
                break
            setattr(result, outcome, getattr(result, outcome) + 1)
    finally:
        connection.close()
    if result.more:
        from clocks import dispatch

        with transaction.atomic():
            dispatch.deliver_after_commit()
    if result.sent or result.failed or result.retrying:
        logger.info("outbox delivery: %s sent, %s to retry, %s failed", result.sent, result.retrying, result.failed)
    return result


def _deliver_one(connection: BaseEmailBackend, now: dt.datetime | None, worker: str) -> str | None:
    with transaction.atomic(), rls.system_context("outbox delivery: e-mail a notification to its recipient"):
        moment = now or timezone.now()
        notification = (
            Notification.objects.select_for_update(skip_locked=True, of=("self",)).select_related("user")
            .filter(email_state=Notification.Email.PENDING, next_attempt_at__lte=moment)
            .order_by("next_attempt_at", "id").first()
        )
        if notification is None:
            return None
        notification.email_attempts += 1
        try:
            sent = connection.send_messages([_message(notification, connection)])
            if not sent:
                raise RuntimeError("the mail backend accepted no message")
        except Exception as exc:  # any backend failure is recorded; the notification itself stays in-app
            return _failed(notification, exc, moment, worker)
        notification.email_state, notification.emailed_at = Notification.Email.SENT, timezone.now()
        notification.last_error = ""
        notification.save(update_fields=["email_state", "emailed_at", "email_attempts", "last_error"])
        DeliveryAttempt.objects.create(notification=notification, organization_id=notification.organization_id,
                                       outcome=DeliveryAttempt.Outcome.SENT, worker=worker)
        return "sent"


def _failed(notification: Notification, exc: Exception, now: dt.datetime, worker: str) -> str:
    error = f"{type(exc).__name__}: {exc}"[:2000]
    permanent = isinstance(exc, PERMANENT_ERRORS) or notification.email_attempts >= MAX_ATTEMPTS
    notification.last_error = error
    if permanent:
        notification.email_state = Notification.Email.FAILED
        outcome = DeliveryAttempt.Outcome.FAILED
        logger.error("notification %s: e-mail failed permanently after %s attempts: %s", notification.pk,
                     notification.email_attempts, error)
    else:
        notification.next_attempt_at = now + backoff(notification.email_attempts)
        outcome = DeliveryAttempt.Outcome.RETRY
        logger.warning("notification %s: e-mail attempt %s failed, retrying at %s: %s", notification.pk,
                       notification.email_attempts, notification.next_attempt_at, error)
    notification.save(update_fields=["email_state", "email_attempts", "next_attempt_at", "last_error"])
    DeliveryAttempt.objects.create(notification=notification, organization_id=notification.organization_id,
                                   outcome=outcome, error=error, worker=worker)
    return "failed" if permanent else "retrying"


def _message(notification: Notification, connection: BaseEmailBackend) -> mail.EmailMultiAlternatives:
    context = {"notification": notification, "link": settings.QMS_BASE_URL + notification_link(notification)}
    message = mail.EmailMultiAlternatives(
        subject=notification.subject, body=render_to_string("clocks/email/notification.txt", context),
        to=[notification.user.email], connection=connection,
        headers={"Message-ID": notification.message_id},
    )
    message.attach_alternative(render_to_string("clocks/email/notification.html", context), "text/html")
    return message


def notification_link(notification: Notification) -> str:
    from django.urls import reverse

    from part11.models import record_page_url

    if notification.deadline_id:
        return reverse("deadline-detail", args=[notification.deadline_id])
    # A notice sent now (not by a clock) opens its record: the deviation, the batch, ...
    return record_page_url(notification.record_table, notification.record_id) or reverse("notifications")
