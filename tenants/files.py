"""The one storage service for uploads (the foundation later issues attach batch records, CoAs, 483s to).

- Refuses a file that is too big (``UPLOAD_MAX_BYTES``), whose real type (read from its content, not its name)
  is not on the allowed list, whose name does not match that type, or whose name is hostile (path parts,
  control characters, hidden-file names, over-long). Refusals name the field and store nothing.
- Stores the bytes under a generated name, their SHA-256 (content-addressed: the same bytes are kept once, and
  a rolled-back transaction leaves at most an unreferenced file, never a row without its bytes).
- Serves a file only to someone who may see the owning record, always as an attachment with nosniff.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import filetype
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import QuerySet
from django.http import FileResponse

from tenants.models import Membership, StoredFile
from tenants.permissions import Capability, can


@dataclass(frozen=True)
class AllowedType:
    mime: str
    extensions: tuple[str, ...]


ALLOWED = {
    "pdf": AllowedType("application/pdf", (".pdf",)),
    "png": AllowedType("image/png", (".png",)),
    "jpg": AllowedType("image/jpeg", (".jpg", ".jpeg")),
    "csv": AllowedType("text/csv", (".csv",)),
    "xlsx": AllowedType("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (".xlsx",)),
    "docx": AllowedType("application/vnd.openxmlformats-officedocument.wordprocessingml.document", (".docx",)),
}
MAX_NAME = 200
CHUNK = 64 * 1024


def detect_type(head: bytes) -> str | None:
    """The allowed type key for these leading bytes, judged from content only; None when not allowed."""
    kind = filetype.guess(head)
    if kind is not None:
        return {"pdf": "pdf", "png": "png", "jpg": "jpg", "xlsx": "xlsx", "docx": "docx"}.get(kind.extension)
    return "csv" if _looks_like_csv(head) else None


def _looks_like_csv(head: bytes) -> bool:
    if not head or b"\x00" in head:
        return False
    try:
        text = head.decode("utf-8-sig")
    except UnicodeDecodeError:
        return False
    if any(unicodedata.category(ch) == "Cc" and ch not in "\r\n\t" for ch in text):
        return False
    lines = [line for line in text.splitlines() if line.strip()][:20]
    if not lines:
        return False
    try:
        dialect = csv.Sniffer().sniff("\n".join(lines), delimiters=",;\t")
    except csv.Error:
        return len(lines) >= 1 and all("," not in line for line in lines) and len(lines) > 1
    widths = {len(row) for row in csv.reader(io.StringIO("\n".join(lines)), dialect)}
    return len(widths) == 1 or (len(widths) == 2 and min(widths) >= 1)


def check_name(name: str) -> str:
    """The name as given, or ValidationError: we refuse hostile names rather than silently rewrite them."""
    problem = None
    if not name or len(name) > MAX_NAME:
        problem = f"File names must be 1 to {MAX_NAME} characters."
    elif name != os.path.basename(name) or "/" in name or "\\" in name or name in {".", ".."} or ".." in name:
        problem = "File names may not contain paths."
    elif any(unicodedata.category(ch).startswith("C") for ch in name):
        problem = "File names may not contain control or invisible characters."
    elif name.startswith(".") or name.strip() != name:
        problem = "File names may not start with a dot or with spaces."
    if problem:
        raise ValidationError({"file": problem})
    return unicodedata.normalize("NFC", name)


def storage_path(sha256: str) -> Path:
    return Path(settings.MEDIA_ROOT) / "files" / sha256[:2] / sha256


@transaction.atomic
def file_store(*, membership: Membership, record: models.Model, upload: Any) -> StoredFile:
    """Validate and store ``upload`` (a Django UploadedFile) as an attachment of ``record``.

    The caller has already checked that ``membership`` may see ``record``; files are written by the
    organization that uploads them (a sponsor attaching to a partnership owns its file row).
    """
    if not can(membership, Capability.AUTHOR_QUALITY_RECORDS) and not can(membership, Capability.MANAGE_MASTER_DATA):
        raise PermissionDenied(f"Your role ({membership.get_role_display()}) may not upload files.")
    name = check_name(getattr(upload, "name", "") or "")
    size = getattr(upload, "size", None)
    if size is None or size > settings.UPLOAD_MAX_BYTES:
        raise ValidationError({"file": f"Files may be at most {settings.UPLOAD_MAX_BYTES // (1024 * 1024)} MB."})
    if size == 0:
        raise ValidationError({"file": "The file is empty."})
    upload.seek(0)
    head = upload.read(8192)
    kind = detect_type(head)
    if kind is None:
        raise ValidationError({"file": "Only PDF, PNG, JPEG, CSV, XLSX and DOCX files are accepted "
                                       "(judged by their content, not their name)."})
    allowed = ALLOWED[kind]
    if not name.lower().endswith(allowed.extensions):
        raise ValidationError({"file": f"The content is {kind.upper()}, but the name does not end with "
                                       f"{' or '.join(allowed.extensions)}."})
    digest = hashlib.sha256()
    upload.seek(0)
    tmp_dir = Path(settings.MEDIA_ROOT) / "files" / "incoming"
    tmp_dir.mkdir(parents=True, exist_ok=True)
    tmp = tmp_dir / f"{os.getpid()}-{id(upload)}-{os.urandom(8).hex()}"
    written = 0
    with open(tmp, "wb") as out:
        for chunk in upload.chunks(CHUNK) if hasattr(upload, "chunks") else iter(lambda: upload.read(CHUNK), b""):
            written += len(chunk)
            if written > settings.UPLOAD_MAX_BYTES:
                out.close()
                tmp.unlink(missing_ok=True)
                raise ValidationError({"file": "The file is larger than it claimed."})
            digest.update(chunk)
            out.write(chunk)
    sha = digest.hexdigest()
    final = storage_path(sha)
    final.parent.mkdir(parents=True, exist_ok=True)
    os.replace(tmp, final)
    final.chmod(0o640)
    return StoredFile.objects.create(
        organization_id=membership.organization_id, record_table=record._meta.db_table, record_id=record.pk,
        original_name=name, sha256=sha, size=written, mime_type=allowed.mime, uploaded_by_id=membership.user_id,
    )


def files_of(*, membership: Membership, record: models.Model) -> QuerySet[StoredFile]:
    """Files attached to a record the caller can see (row-level security also checks the record)."""
    return StoredFile.objects.filter(record_table=record._meta.db_table, record_id=record.pk).select_related(
        "uploaded_by", "organization"
    )


def file_list(*, membership: Membership) -> QuerySet[StoredFile]:
    """Every file the acting organization may see: its own, and those on records it can see (checked by RLS
    through ``qms_row_visible``, and below through the owning record's selector)."""
    from tenants.selectors import partnership_list

    visible_partnerships = partnership_list(membership=membership).order_by().values("pk")
    return StoredFile.objects.filter(
        models.Q(organization_id=membership.organization_id)
        | models.Q(record_table="tenants_partnership", record_id__in=visible_partnerships)
    ).select_related("uploaded_by", "organization")


def file_response(stored: StoredFile) -> FileResponse:
    """The download: always an attachment, never sniffed or rendered, with its checksum for the client to verify.

    FileResponse owns the open file and closes it when the response has been sent.
    """
    handle = storage_path(stored.sha256).open("rb")
    response = FileResponse(handle, as_attachment=True, filename=stored.original_name, content_type=stored.mime_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["X-Checksum-SHA256"] = stored.sha256
    return response
