"""Serving a batch document: to read in the page (inline, a PDF framed by our own review page only) or to
download (an attachment). The caller found the document through ``selectors.document_list``, so only those who
may see the batch get here; the bytes and their SHA-256 come from ``tenants.files``."""

from __future__ import annotations

from django.http import FileResponse

from batches.models import Document
from tenants import files


def document_response(document: Document, *, inline: bool) -> FileResponse:
    response = files.file_response(document.file)
    if inline and document.file.mime_type == "application/pdf":
        # Only a PDF (judged by its content at upload) is shown inline, and only inside a page of this site: the
        # browser's own PDF viewer renders it (a sandboxed frame would refuse to), nothing else may frame it.
        response["Content-Disposition"] = response["Content-Disposition"].replace("attachment", "inline", 1)
        response["Content-Security-Policy"] = "default-src 'none'; frame-ancestors 'self'"
        response["X-Frame-Options"] = "SAMEORIGIN"
    response["Cache-Control"] = "private, no-store"
    return response
