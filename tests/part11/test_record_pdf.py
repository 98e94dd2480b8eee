"""Record PDFs: content, attachments with SHA-256, signatures manifested, audit trail, footer; export audited."""

import hashlib
import io

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import RequestFactory
from django.urls import reverse
from pypdf import PdfReader

from part11 import signatures
from part11.models import AuditEvent, RecordExport
from tenants import files
from tests.factories import PASSWORD


def text_of(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() for page in reader.pages)


def test_pdf_of_a_signed_record(cast, client_for, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    partnership = cast.partnership("northwind", "acme")
    stored = files.file_store(membership=cast.memberships["northwind.qa"], record=partnership,
                              upload=SimpleUploadedFile("quality-agreement.pdf", b"%PDF-1.7\n%%EOF\n"))
    signatures.sign(request=RequestFactory().post("/"), membership=cast.memberships["northwind.qa"],
                    record=partnership, step="review", password=PASSWORD)
    response = client_for("acme.qa").get(reverse("partnership-pdf", args=[partnership.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith('attachment; filename="partnership-')
    pdf = response.content
    assert response["X-Checksum-SHA256"] == hashlib.sha256(pdf).hexdigest()
    text = " ".join(text_of(pdf).split())
    assert "Signed by Nora Whitfield on" in text and "UTC — Reviewed" in text
    assert "quality-agreement.pdf" in text and stored.sha256[:20] in text.replace(" ", "")
    assert "Audit trail" in text and "Created" in text
    assert "Page 1 of" in text and "Acme CDMO" in text and f"Partnership {partnership.pk}" in text
    assert "Sponsor northwind" in text and "Start date 2023-06-15" in text and "Sites Acme Cork" in text
    export = RecordExport.objects.get()
    assert export.sha256 == hashlib.sha256(pdf).hexdigest() and export.exported_by == cast.users["acme.qa"]
    audited = AuditEvent.objects.get(record_table="part11_recordexport", record_id=export.pk)
    assert audited.action == "create" and audited.actor_user_id == cast.users["acme.qa"].pk


def test_void_signature_is_visible_in_the_pdf(cast, api_for):
    from tenants.models import Partnership

    partnership = cast.partnership("northwind", "acme")
    signatures.sign(request=RequestFactory().post("/"), membership=cast.memberships["northwind.qa"],
                    record=partnership, step="review", password=PASSWORD)
    Partnership.objects.filter(pk=partnership.pk).update(tier=3)
    response = api_for("northwind.qa").get(reverse("api:partnership-pdf", args=[partnership.pk]))
    assert response.status_code == 200
    assert "VOID" in text_of(response.content)
