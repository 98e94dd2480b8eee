"""The sweep: due stages fire once into the outbox, missed deadlines are marked, nothing else is touched."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import textwrap

import pytest
from django.db import connection
from django.utils import timezone

from clocks import services
from clocks.models import Deadline, DeadlineStage, Notification
from clocks.sweep import sweep
from part11.models import AuditEvent
from tests.clocks.helpers import deadline_due_at


def _recipients(notifications):
    return sorted(n.recipient.user.username for n in notifications)


def test_stages_fire_in_order_with_one_notification_per_recipient(cast):
    now = timezone.now()
    deadline = deadline_due_at(cast, now + dt.timedelta(minutes=30), now=now)
    stages = list(deadline.stages.order_by("fire_at"))
    assert [(s.kind, s.state) for s in stages] == [("reminder", "pending"), ("due", "pending"),
                                                    ("escalation", "pending")]
    # The reminder (an hour before due, i.e. at the start) fires now: Acme's and Helix's QA roles hear of it.
    result = sweep(now=now)
    assert (result.stages, result.missed) == (1, 0)
    reminder = Notification.objects.filter(stage=stages[0])
    assert _recipients(reminder) == ["acme.qa", "helix.qa"]
    assert result.notifications == 2
    first = reminder.get(recipient__user__username="acme.qa")
    assert first.subject == "Sponsor notification — 1 hour left: Helix ↔ Acme"
    assert "1 hour after event recorded" in first.body and first.email_state == "pending"
    # Nothing more is due until the due time; then the deadline is missed and everyone told.
    assert sweep(now=now + dt.timedelta(minutes=29)).stages == 0
    result = sweep(now=now + dt.timedelta(minutes=31))
    assert (result.stages, result.missed, result.notifications) == (1, 1, 2)
    deadline.refresh_from_db()
    assert deadline.state == Deadline.State.MISSED and deadline.stage_at() == "overdue"
    missed_event = AuditEvent.objects.filter(record_table="clocks_deadline", record_id=deadline.pk).latest("seq")
    assert missed_event.changes["state"] == ["open", "missed"]
    assert missed_event.reason.startswith("clock sweep")


def test_sweep_twice_gives_each_notification_once(cast):
    now = timezone.now()
    deadlines = [deadline_due_at(cast, now - dt.timedelta(minutes=i), now=now - dt.timedelta(hours=3))
                 for i in range(5)]
    first = sweep(now=now)
    again = sweep(now=now)
    assert first.stages == 10 and first.missed == 5  # reminder + due each; escalations are an hour later
    assert (again.stages, again.notifications) == (0, 0)
    assert Notification.objects.filter(deadline__in=deadlines).count() == 20
    # Even a stage put back to pending by hand (a replayed batch) cannot produce a second copy.
    DeadlineStage.objects.filter(deadline__in=deadlines).update(state="pending")
    replay = sweep(now=now)
    assert replay.stages == 10 and replay.notifications == 0
    assert Notification.objects.filter(deadline__in=deadlines).count() == 20


def test_closed_deadlines_fire_nothing_and_completion_late_is_recorded(cast):
    now = timezone.now()
    met = deadline_due_at(cast, now + dt.timedelta(minutes=30), now=now)
    late = deadline_due_at(cast, now - dt.timedelta(minutes=30), now=now - dt.timedelta(hours=2))
    cancelled = deadline_due_at(cast, now + dt.timedelta(minutes=30), now=now)
    services.deadline_complete(deadline=met, at=now)
    services.deadline_cancel(deadline=cancelled, reason="record withdrawn")
    sweep(now=now)
    late.refresh_from_db()
    assert late.state == Deadline.State.MISSED
    services.deadline_complete(deadline=late, at=now + dt.timedelta(minutes=1))
    late.refresh_from_db()
    assert (late.state, late.completed_late, late.stage_at()) == ("missed", True, "met_late")
    assert not Notification.objects.filter(deadline__in=[met, cancelled]).exists()
    assert sweep(now=now + dt.timedelta(hours=5)).stages == 0
    assert set(DeadlineStage.objects.filter(deadline__in=[met, cancelled, late]).values_list("state", flat=True)) \
        <= {"cancelled", "fired"}


def test_reminders_already_past_at_creation_are_skipped_but_the_latest_fires(cast):
    from clocks.rules import FDA_483_RESPONSE

    # A 483 recorded late: issued 20 Nov 2026, entered on 9 Dec, with 3 business days left.
    issued = dt.datetime(2026, 11, 20, 15, 0, tzinfo=dt.UTC)
    entered = dt.datetime(2026, 12, 9, 15, 0, tzinfo=dt.UTC)
    from django.db import transaction

    from tenants import rls

    with transaction.atomic(), rls.scoped(rls.Context(organization_id=cast.orgs["acme"].pk)):
        deadline = services.deadline_create(
            organization_id=cast.orgs["acme"].pk, record=cast.partnership("helix", "acme"),
            subject_label="483 at Acme Boston", rule=FDA_483_RESPONSE, starts_at=issued, audience=[], now=entered)
    states = {s.label: s.state for s in deadline.stages.all()}
    assert states == {"10 US business days left": "skipped", "5 US business days left": "pending",
                      "2 US business days left": "pending", "1 US business day left": "pending",
                      "due now": "pending", "overdue by 1 US business day": "pending",
                      "overdue by 5 US business days": "pending"}
    result = sweep(now=entered)
    assert result.stages == 1  # only "5 business days left" (fired 7 Dec) goes out now, once


def test_the_sweep_reads_the_pending_stage_index(cast):
    deadline_due_at(cast, timezone.now() + dt.timedelta(days=1))
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN SELECT id FROM clocks_deadlinestage WHERE state = 'pending' AND fire_at <= now() "
                       "ORDER BY fire_at LIMIT 100 FOR UPDATE SKIP LOCKED")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "stage_pending_fire_at" in plan


RACER = textwrap.dedent("""
    import os, sys, django
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qms.settings")
    django.setup()
    from django.conf import settings
    from django.db import connection
    settings.DATABASES["default"]["NAME"] = sys.argv[1]
    connection.settings_dict["NAME"] = sys.argv[1]
    import datetime as dt
    from clocks.sweep import sweep
    sys.stdin.readline()  # start together
    result = sweep(now=dt.datetime.fromisoformat(sys.argv[2]), batch=int(sys.argv[3]))
    print(result.stages, result.notifications)
""")


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_racing_in_two_processes_produce_each_notification_once(cast):
    now = timezone.now()
    deadlines = [deadline_due_at(cast, now - dt.timedelta(minutes=1), now=now - dt.timedelta(hours=2))
                 for _ in range(60)]
    database = connection.settings_dict["NAME"]
    racers = [subprocess.Popen([sys.executable, "-c", RACER, database, now.isoformat(), "7"],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
              for _ in range(2)]
    for racer in racers:
        racer.stdin.write("go\n")
        racer.stdin.flush()
    outputs = [racer.communicate(timeout=120) for racer in racers]
    assert all(racer.returncode == 0 for racer in racers), [err[-2000:] for _, err in outputs]
    fired = [tuple(map(int, out.split())) for out, _ in outputs]
    assert sum(stages for stages, _ in fired) == 120  # 60 reminders + 60 due points, each claimed by one racer
    assert sum(notes for _, notes in fired) == 240
    assert Notification.objects.filter(deadline__in=deadlines).count() == 240
    pairs = Notification.objects.filter(deadline__in=deadlines).values_list("stage_id", "recipient_id")
    assert len(set(pairs)) == 240


STALLED = textwrap.dedent("""
    import os, sys, time, django
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qms.settings")
    django.setup()
    from django.conf import settings
    from django.db import connection, transaction
    settings.DATABASES["default"]["NAME"] = sys.argv[1]
    connection.settings_dict["NAME"] = sys.argv[1]
    import datetime as dt
    from clocks.sweep import SWEEP_SQL
    from tenants import rls
    with transaction.atomic(), rls.system_context("test: a sweep that dies before its commit"):
        with connection.cursor() as cursor:
            cursor.execute(SWEEP_SQL, {"now": dt.datetime.fromisoformat(sys.argv[2]), "batch": 1000})
            print(*cursor.fetchone(), flush=True)
        time.sleep(120)  # killed here, mid-sweep, its claims and outbox rows uncommitted
""")


@pytest.mark.django_db(transaction=True)
def test_a_sweep_killed_before_its_commit_loses_nothing_and_blocks_nobody(cast):
    import signal

    now = timezone.now()
    deadlines = [deadline_due_at(cast, now - dt.timedelta(minutes=1), partner=None, now=now - dt.timedelta(hours=2))
                 for _ in range(8)]
    stalled = subprocess.Popen([sys.executable, "-c", STALLED, connection.settings_dict["NAME"], now.isoformat()],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = stalled.stdout.readline()
        assert line.split() == ["16", "8", "16"], line or stalled.stderr.read()
        # While it holds its claims, another sweep skips them rather than waiting or firing them twice.
        assert sweep(now=now).stages == 0
        assert not Notification.objects.filter(deadline__in=deadlines).exists()
    finally:
        stalled.send_signal(signal.SIGKILL)
        stalled.wait(10)
    # The killed sweep's work was never committed: the next sweep does all of it, once.
    result = sweep(now=now)
    assert (result.stages, result.missed, result.notifications) == (16, 8, 16)
    assert Deadline.objects.filter(pk__in=[d.pk for d in deadlines], state="missed").count() == 8
    assert sweep(now=now).stages == 0
