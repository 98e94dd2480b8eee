"""The clock sweep: claim due stages, write the outbox, mark missed deadlines — in one transaction per batch.

Claims, not locks (DESIGN.md §5): ``FOR UPDATE SKIP LOCKED`` on the pending-stage partial index hands each due
stage to exactly one sweep, however many beats or workers run; the UPDATE to ``fired`` and the outbox INSERT
commit together, and the outbox's unique key per (stage, recipient) makes even a replayed batch harmless. A
crash mid-batch rolls the whole batch back, so the next sweep claims it again. The cost follows the number of
due stages: nothing here reads the open deadlines that are not due.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from clocks import dispatch
from part11.audit import reason_for_change
from tenants import rls

logger = logging.getLogger("qms.clocks")

BATCH = 2000

SWEEP_SQL = """
WITH due AS (
    SELECT id FROM clocks_deadlinestage
    WHERE state = 'pending' AND fire_at <= %(now)s
    ORDER BY fire_at
    LIMIT %(batch)s
    FOR UPDATE SKIP LOCKED
), fired AS (
    UPDATE clocks_deadlinestage s SET state = 'fired', fired_at = %(now)s
    FROM due WHERE s.id = due.id
    RETURNING s.id, s.deadline_id, s.kind, s.label
), missed AS (
    UPDATE clocks_deadline d SET state = 'missed', version = d.version + 1
    FROM fired f
    WHERE f.deadline_id = d.id AND f.kind = 'due' AND d.state = 'open' AND d.completed_at IS NULL
    RETURNING d.id
), recipients AS (
    SELECT f.id AS stage_id, m.id AS membership_id
    FROM fired f
    JOIN clocks_deadlineaudience a ON a.deadline_id = f.deadline_id
    JOIN tenants_membership m ON m.organization_id = a.organization_id AND m.is_active AND m.role = ANY(a.roles)
    UNION
    SELECT f.id, d.assignee_id FROM fired f JOIN clocks_deadline d ON d.id = f.deadline_id
    WHERE d.assignee_id IS NOT NULL
), outbox AS (
    INSERT INTO clocks_notification (
        organization_id, recipient_id, user_id, deadline_id, stage_id, record_table, record_id, level, subject,
        body, created_at, email_state, email_attempts, next_attempt_at, last_error)
    SELECT m.organization_id, m.id, m.user_id, d.id, f.id, d.record_table, d.record_id, f.kind,
           left(d.title || ' — ' || f.label || ': ' || d.subject_label, 300),
           'Due ' || to_char(d.due_at AT TIME ZONE d.time_zone, 'FMDD Mon YYYY HH24:MI') || ' ' || d.time_zone
               || ': ' || d.rule_text || '.' || CASE WHEN d.extension_note <> '' THEN ' ' || d.extension_note
                                                     ELSE '' END,
           %(now)s, CASE WHEN u.email <> '' AND u.is_active THEN 'pending' ELSE 'skipped' END, 0, %(now)s, ''
    FROM recipients r
    JOIN fired f ON f.id = r.stage_id
    JOIN clocks_deadline d ON d.id = f.deadline_id
    JOIN tenants_membership m ON m.id = r.membership_id AND m.is_active
    JOIN tenants_user u ON u.id = m.user_id
    ON CONFLICT (stage_id, recipient_id) WHERE stage_id IS NOT NULL DO NOTHING
    RETURNING id
)
SELECT (SELECT count(*) FROM fired), (SELECT count(*) FROM missed), (SELECT count(*) FROM outbox)
"""


@dataclass
class SweepResult:
    stages: int = 0
    missed: int = 0
    notifications: int = 0

    def add(self, stages: int, missed: int, notifications: int) -> None:
        self.stages += stages
        self.missed += missed
        self.notifications += notifications


def sweep(*, now: dt.datetime | None = None, batch: int = BATCH) -> SweepResult:
    """Fire every stage due at ``now``, batch by batch, each batch its own transaction; then ask for delivery."""
    result = SweepResult()
    while True:
        stages, missed, notifications = _sweep_batch(now or timezone.now(), batch)
        result.add(stages, missed, notifications)
        if stages < batch:
            break
    if result.stages:
        logger.info("clock sweep: %s stages fired, %s deadlines missed, %s notifications queued",
                    result.stages, result.missed, result.notifications)
    return result


def _sweep_batch(now: dt.datetime, batch: int) -> tuple[int, int, int]:
    with transaction.atomic(), rls.system_context("clock sweep: fire due deadline stages across organizations"), \
            reason_for_change("clock sweep: the due time passed without the deadline being met"):
        with connection.cursor() as cursor:
            cursor.execute(SWEEP_SQL, {"now": now, "batch": batch})
            stages, missed, notifications = cursor.fetchone()
        if notifications:
            dispatch.deliver_after_commit()
    return stages, missed, notifications
