"""Mail backends for the outbox tests: a failing server, a refusing server, and a crash-proof sink.

The sink is what the worker-fault tests count: each message is its own file, written and fsynced before the
backend returns, so a SIGKILL can never lose a message the worker believed sent. ``QMS_TEST_MAIL_DELAY`` makes
each send pause (with a marker file naming the message) so a test can kill the worker mid-delivery on purpose.
"""

from __future__ import annotations

import os
import smtplib
import time
import uuid
from pathlib import Path

from django.core.mail.backends.base import BaseEmailBackend


class FailingBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")


class RefusingBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise smtplib.SMTPRecipientsRefused({m.to[0]: (550, b"No such user") for m in email_messages})


class SinkBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        directory = Path(os.environ["QMS_TEST_MAIL_DIR"])
        delay = float(os.environ.get("QMS_TEST_MAIL_DELAY", "0"))
        for message in email_messages:
            message_id = message.extra_headers["Message-ID"]
            if delay:
                (directory / "sending").write_text(message_id)
                time.sleep(delay)
            path = directory / f"{uuid.uuid4().hex}.eml"
            with open(path, "wb") as handle:
                handle.write(message.message().as_bytes())
                handle.flush()
                os.fsync(handle.fileno())
        return len(email_messages)
