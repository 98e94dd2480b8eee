"""Record PDFs: any signable record with its content, attachments (SHA-256), signatures manifested and its audit
trail appended; page numbers, organization, record id and generation time in every footer. WeasyPrint renders
the same template partials the pages use. Every rendering is recorded (``RecordExport``), so it is in the trail.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.db import models
from django.db.models import Q
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils import timezone

from part11.models import RecordExport, Signature
from part11.selectors import event_list
from part11.signatures import content_of, signable_for, signatures_of
from tenants.models import Membership, StoredFile


def record_pdf(*, membership: Membership, record: models.Model, base_url: str,
               template: str = "part11/record_pdf.html", extra: dict[str, Any] | None = None
               ) -> tuple[bytes, RecordExport]:
    """The record's PDF; an app may render its own ``template`` extending part11/record_pdf.html (its
    ``content`` block) with ``extra`` context, and keeps the footer, attachments, signatures and trail."""
    from weasyprint import HTML

    signable = signable_for(record._meta.db_table)
    table = signable.table
    signature_ids = Signature.objects.filter(record_table=table, record_id=record.pk).values("pk")
    events = event_list(membership=membership).filter(
        Q(record_table=table, record_id=record.pk) | Q(record_table="part11_signature", record_id__in=signature_ids)
    ).order_by("occurred_at", "id")
    now = timezone.now()
    context: dict[str, Any] = {
        "record": record, "record_label": f"{str(record._meta.verbose_name).title()} {record.pk}",
        "content": _rows(content_of(record)), "organization": membership.organization, "generated_at": now,
        "generated_by": membership.user.printed_name,
        "attachments": StoredFile.objects.filter(record_table=table, record_id=record.pk).order_by("uploaded_at"),
        "signatures": list(signatures_of(record)), "events": list(events), **(extra or {}),
    }
    html = render_to_string(template, context)
    pdf = HTML(string=html, base_url=base_url).write_pdf()
    export = RecordExport.objects.create(
        organization_id=membership.organization_id, record_table=table, record_id=record.pk, kind="pdf",
        sha256=hashlib.sha256(pdf).hexdigest(), exported_by_id=membership.user_id, exported_at=now,
    )
    return pdf, export


def _rows(content: dict[str, Any]) -> list[tuple[str, str]]:
    """The canonical content as printable rows: lists joined, empty values as a dash, labels in words."""
    rows = []
    for key, value in content.items():
        if key == "attachments":
            continue
        if isinstance(value, list | tuple):
            shown = ", ".join(str(item) for item in value) or "—"
        else:
            shown = "—" if value in (None, "") else str(value)
        rows.append((key.replace("_", " ").capitalize(), shown))
    return rows


def pdf_response(*, membership: Membership, record: models.Model, request: Any,
                 template: str = "part11/record_pdf.html", extra: dict[str, Any] | None = None) -> HttpResponse:
    """The download shared by the page and the API: an attachment, with the SHA-256 of what left the system."""
    pdf, export = record_pdf(membership=membership, record=record, base_url=request.build_absolute_uri("/"),
                             template=template, extra=extra)
    filename = f"{record._meta.model_name}-{record.pk}-{export.exported_at:%Y%m%dT%H%M%SZ}.pdf"
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Checksum-SHA256"] = export.sha256
    return response
