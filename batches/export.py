"""The batch list as CSV, shared by the page and the API: built inside the request (its row-level-security
context), from the same annotated selector as the list, so the file says what the reader's list says."""

from __future__ import annotations

import csv
import io
from typing import Any

from django.db.models import QuerySet
from django.http import HttpResponse
from django.utils import timezone

from batches.models import Batch

COLUMNS = ["product", "lot_number", "cmo", "sponsor", "site", "status", "release_model", "manufactured_on",
           "quantity", "unit", "planned_delivery_date", "actual_delivery_date", "sent_to_sponsor_at",
           "review_due", "disposed_at", "linked_deviations", "open_deviations", "flagged_results",
           "changes_in_effect", "missing_documents", "open_queries"]


def csv_response(batches: QuerySet[Batch]) -> HttpResponse:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    b: Any  # a Batch with the list's annotations (selectors.batch_list)
    for b in batches:
        missing = [label for present, label in ((b.has_ebr, "executed batch record"),
                                                (b.has_coa, "certificate of analysis")) if not present]
        writer.writerow([
            b.product.code, b.lot_number, b.organization.name, b.sponsor.name, b.site.name, b.get_state_display(),
            b.get_release_model_display(), b.manufactured_on.isoformat(), f"{b.quantity.normalize():f}", b.unit,
            b.planned_delivery_date.isoformat() if b.planned_delivery_date else "",
            b.actual_delivery_date.isoformat() if b.actual_delivery_date else "",
            b.sent_to_sponsor_at.isoformat() if b.sent_to_sponsor_at else "",
            b.review_deadline.due_at.isoformat() if b.review_deadline else "",
            b.disposed_at.isoformat() if b.disposed_at else "", b.deviation_count, b.open_deviation_count,
            b.flagged_result_count, b.change_count, "; ".join(missing), b.open_query_count])
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="batches-{timezone.now():%Y%m%dT%H%M%SZ}.csv"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
