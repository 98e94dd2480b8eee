"""CSV export of audit events, shared by the page and the API.

The file is written inside the request's transaction (where row-level security lets the rows through) to a
spooled temporary file, then streamed: a generator reading the database after the view returned would run
outside the transaction and see nothing.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import tempfile

from django.db.models import QuerySet
from django.http import FileResponse
from django.utils import timezone

from part11.models import AuditEvent
from part11.selectors import RECORD_TYPES

COLUMNS = ["seq", "occurred_at_utc", "organization_id", "record_type", "record_id", "action", "changes",
           "actor", "actor_user_id", "actor_membership_id", "request_id", "reason", "prev_hash", "hash"]
MAX_ROWS = 200_000


def csv_response(events: QuerySet[AuditEvent], *, name: str = "audit-trail") -> FileResponse:
    # FileResponse owns the file and closes it after sending, so no context manager here.
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024, mode="w+b")  # noqa: SIM115
    text = io.TextIOWrapper(spool, encoding="utf-8", newline="")
    writer = csv.writer(text)
    writer.writerow(COLUMNS)
    for event in events[:MAX_ROWS].iterator(chunk_size=2000):
        writer.writerow([
            event.seq, event.occurred_at.astimezone(dt.UTC).isoformat(), event.organization_id,
            RECORD_TYPES.get(event.record_table, event.record_table), event.record_id, event.action,
            json.dumps(event.changes, sort_keys=True, default=str), getattr(event, "actor_name", "") or "",
            event.actor_user_id or "", event.actor_membership_id or "", event.request_id, event.reason,
            event.prev_hash, event.hash,
        ])
    text.flush()
    text.detach()
    spool.seek(0)
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    response = FileResponse(spool, as_attachment=True, filename=f"{name}-{stamp}.csv", content_type="text/csv")
    response["X-Content-Type-Options"] = "nosniff"
    return response
