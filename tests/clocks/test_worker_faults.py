"""Fault tests with a real Redis, a real Celery worker and a real beat: nothing lost, nothing sent twice.

Each test runs its own Redis server (so stopping it cannot disturb the rest of the suite), a worker and a beat
started as separate processes against the test database, and a mail sink that writes each message to its own
fsynced file (tests/clocks/mailbackends.py). Beat sweeps and delivers every second here (60 s in production).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from email import message_from_bytes
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from clocks.models import DeliveryAttempt, Notification
from qms.devstack import EmbeddedRedis, free_port
from tests.clocks.helpers import deadline_due_at

pytestmark = pytest.mark.django_db(transaction=True)

BASE_DIR = Path(settings.BASE_DIR)


def _with_database(url: str, name: str) -> str:
    head, _, tail = url.rpartition("/")
    query = tail.partition("?")[2]
    return f"{head}/{name}" + (f"?{query}" if query else "")


class Stack:
    """A worker and a beat process for the test database, a Redis of their own, and the mail sink."""

    def __init__(self, tmp_path: Path, mail_delay: float = 0.0) -> None:
        self.tmp = tmp_path
        self.mail_dir = tmp_path / "mail"
        self.mail_dir.mkdir()
        self.redis = EmbeddedRedis(tmp_path / "redis")
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.mail_delay = mail_delay
        self.env: dict[str, str] = {}

    def start_broker(self) -> None:
        port = self.redis.port
        url = self.redis.start(port or free_port(6470))
        assert not port or self.redis.port == port, "the broker must come back where its clients look for it"
        name = connection.settings_dict["NAME"]
        self.env = {
            **os.environ, "REDIS_URL": url, "QMS_SWEEP_INTERVAL": "1",
            "DATABASE_URL": _with_database(os.environ["DATABASE_URL"], name),
            "EMAIL_BACKEND": "tests.clocks.mailbackends.SinkBackend", "QMS_TEST_MAIL_DIR": str(self.mail_dir),
            "QMS_TEST_MAIL_DELAY": str(self.mail_delay), "CELERY_TASK_TIME_LIMIT": "60",
            "CELERY_VISIBILITY_TIMEOUT": "120", "WORKER_HEARTBEAT_MAX_AGE": "3600",
        }
        if os.environ.get("DATABASE_OWNER_URL"):
            self.env["DATABASE_OWNER_URL"] = _with_database(os.environ["DATABASE_OWNER_URL"], name)

    def start(self, role: str) -> None:
        command = {
            "worker": ["worker", "--pool", "prefork", "--concurrency", "1", "--without-gossip", "--without-mingle",
                       "-n", f"fault-{uuid.uuid4().hex[:8]}@%h"],
            "beat": ["beat", "--schedule", str(self.tmp / f"beat-{uuid.uuid4().hex[:8]}")],
        }[role]
        log = open(self.tmp / f"{role}.log", "ab")  # noqa: SIM115 - the process owns it until it exits
        self.processes[role] = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "qms", *command, "--loglevel", "INFO"], cwd=BASE_DIR,
            env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def kill(self, role: str) -> None:
        process = self.processes.pop(role)
        os.killpg(process.pid, signal.SIGKILL)  # the worker and its pool child, no chance to clean up
        process.wait(10)

    def stop(self) -> None:
        for role in list(self.processes):
            self.kill(role)
        self.redis.stop()

    def delivered(self) -> list[str]:
        return [message_from_bytes(path.read_bytes())["Message-ID"] for path in self.mail_dir.glob("*.eml")]

    def wait_until_sweeping(self) -> None:
        """Block until the worker has run a beat-driven sweep, so what a test creates next is swept on time.

        A worker can take several seconds to start on a loaded machine; a deadline created before it sweeps
        could otherwise have its reminder and its due point fire together."""
        log = self.tmp / "worker.log"
        swept = re.compile(r"Task clocks\.tasks\.sweep\[[^]]+\] succeeded")
        _wait(lambda: log.exists() and bool(swept.search(log.read_text(errors="replace"))), 120,
              "the worker's first sweep", self)

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}" for p in self.tmp.glob("*.log"))


@pytest.fixture
def stack(tmp_path):
    stacks: list[Stack] = []

    def make(mail_delay: float = 0.0) -> Stack:
        stacks.append(Stack(tmp_path, mail_delay))
        return stacks[-1]

    yield make
    for made in stacks:
        made.stop()


def _wait(predicate, timeout: float, what: str, stack: Stack) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    pytest.fail(f"timed out after {timeout} s waiting for {what}\n{stack.logs()}")


def _states(ids: list[int]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for state in Notification.objects.filter(pk__in=ids).values_list("email_state", flat=True):
        counts[state] = counts.get(state, 0) + 1
    return counts


def _assert_exactly_once(stack: Stack, notifications: list[Notification]) -> None:
    delivered = stack.delivered()
    expected = {n.message_id for n in notifications}
    assert len(delivered) == len(expected), f"{len(delivered)} e-mails for {len(expected)} notifications"
    assert set(delivered) == expected
    ids = [n.pk for n in notifications]
    assert _states(ids) == {"sent": len(ids)}
    assert DeliveryAttempt.objects.filter(notification_id__in=ids, outcome="sent").count() == len(ids)


def test_worker_killed_mid_delivery_loses_nothing_and_sends_nothing_twice(cast, stack):
    now = timezone.now()
    for _ in range(10):  # 10 deadlines x (reminder + due point) x Acme's QA approver = 20 notifications
        deadline_due_at(cast, now - dt.timedelta(minutes=1), partner=None, now=now - dt.timedelta(hours=2))
    faults = stack(mail_delay=0.4)
    faults.start_broker()
    faults.start("beat")
    faults.start("worker")
    _wait(lambda: Notification.objects.count() == 20, 60, "the beat-driven sweep to fill the outbox", faults)
    notifications = list(Notification.objects.all())
    ids = [n.pk for n in notifications]

    def mid_delivery() -> bool:  # some sent, and one paused inside the mail backend right now
        marker = faults.mail_dir / "sending"
        return len(faults.delivered()) >= 5 and marker.exists() and marker.read_text() not in faults.delivered()

    _wait(mid_delivery, 60, "the worker to be in the middle of sending", faults)
    faults.kill("worker")
    states = _states(ids)
    assert 5 <= states.get("sent", 0) < 20 and states["sent"] + states["pending"] == 20, states
    assert len(faults.delivered()) == states["sent"]  # the message it was killed on never went out
    time.sleep(1.5)  # beat keeps asking for delivery; nobody is there to do it
    assert _states(ids) == states
    faults.start("worker")
    _wait(lambda: _states(ids) == {"sent": 20}, 90, "the restarted worker to finish the outbox", faults)
    _assert_exactly_once(faults, notifications)


#: Seconds between creating the deadlines and their due points: the reminders are swept, sent and e-mailed
#: within it (about 2 s on an idle machine), the broker is stopped, and only then do the due points fall due.
GAP = 12


def test_broker_down_and_back_loses_nothing_and_sends_nothing_twice(cast, stack):
    from clocks.sweep import sweep

    faults = stack()
    faults.start_broker()
    faults.start("beat")
    faults.start("worker")
    faults.wait_until_sweeping()
    now = timezone.now()
    soon = now + dt.timedelta(seconds=GAP)
    for _ in range(6):  # due in GAP s: 6 due points (+ 6 reminders firing at once) for Acme's QA = 12
        deadline_due_at(cast, soon, partner=None, now=now)
    _wait(lambda: Notification.objects.count() >= 6, GAP, "the reminders to be swept and sent", faults)
    assert Notification.objects.count() == 6, "the due points fired before the broker stopped: widen GAP"
    _wait(lambda: len(faults.delivered()) == 6, GAP, "the reminders to be e-mailed", faults)
    faults.redis.stop()  # the broker goes away before the due points fall due
    assert timezone.now() < soon and Notification.objects.count() == 6, "the due points fired too early: widen GAP"
    while timezone.now() < soon + dt.timedelta(seconds=2):
        time.sleep(0.2)
    # The sweep still runs (here, in this process, as a second beat would) and commits the outbox; enqueueing
    # the delivery fails, which must not lose anything.
    result = sweep()
    assert result.stages == 6 and result.notifications == 6
    time.sleep(2)
    assert len(faults.delivered()) == 6  # nothing can be sent while the broker is down
    faults.start_broker()  # same port, same append-only file
    _wait(lambda: Notification.objects.filter(email_state="sent").count() == 12, 120,
          "delivery to resume after the broker came back", faults)
    time.sleep(3)  # more beats, more deliveries: still nothing twice
    _assert_exactly_once(faults, list(Notification.objects.all()))
