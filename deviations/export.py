"""The deviation list as CSV, shared by the page and the API. Built inside the view (not streamed): the rows are
read in the request's transaction, under its row-level-security context, and only the product lines the reader
may see are written (a sponsor's file never names another sponsor)."""

from __future__ import annotations

import csv
import io

from django.db.models import QuerySet
from django.http import HttpResponse
from django.utils import timezone

from deviations.models import Deviation

COLUMNS = ["number", "title", "site", "status", "classification", "category", "products", "batches", "sponsors",
           "reported_at", "root_cause", "closure_due", "repeat"]


def csv_response(deviations: QuerySet[Deviation]) -> HttpResponse:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for d in deviations:
        lines = getattr(d, "visible_lines", [])
        writer.writerow([
            d.number, d.title, d.site.name, d.get_state_display(), d.get_classification_display(),
            d.get_category_display(), " ".join(line.product.code for line in lines),
            " ".join(b for line in lines for b in line.batch_numbers),
            " ".join(sorted({line.sponsor.name for line in lines})),
            d.reported_at.isoformat() if d.reported_at else "", d.root_cause_code,
            d.closure_deadline.due_at.isoformat() if d.closure_deadline else "", "yes" if d.is_repeat else ""])
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="deviations-{timezone.now():%Y%m%dT%H%M%SZ}.csv"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
