"""The API's multipart parser (REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"]).

Its own module, importing nothing of ``rest_framework.views``: DRF resolves its parser setting while importing
``rest_framework.views``, so a parser defined in a module that imports the views would be half-initialized then.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.http.multipartparser import MultiPartParser as DjangoMultiPartParser
from django.http.multipartparser import MultiPartParserError
from rest_framework import exceptions
from rest_framework.parsers import DataAndFiles, MultiPartParser


class _NameCheckingParser(DjangoMultiPartParser):
    """Django reduces a client's file name to its last path part ("../x.pdf" becomes "x.pdf") before any of our
    code sees it; ``tenants.files`` refuses hostile names rather than rewriting them, so check the name as sent."""

    def sanitize_file_name(self, file_name: str) -> str | None:
        from tenants import files

        files.check_name(html.unescape(file_name))  # ValidationError({"file": ...}): a 400 naming the field
        return super().sanitize_file_name(file_name)


class NameCheckingMultiPartParser(MultiPartParser):
    """Every API upload: multipart form data whose file names are checked as the client sent them.

    A browser session whose CSRF check has already read the form gets Django's own (path-stripping) parse: safe,
    though it then rewrites rather than refuses."""

    def parse(self, stream: Any, media_type: str | None = None,
              parser_context: Mapping[str, Any] | None = None) -> DataAndFiles:
        context = parser_context or {}
        request = context["request"]
        meta = request.META.copy()
        meta["CONTENT_TYPE"] = media_type
        try:
            parser = _NameCheckingParser(meta, stream, request.upload_handlers,
                                         context.get("encoding", settings.DEFAULT_CHARSET))
            data, uploaded = parser.parse()
        except MultiPartParserError as exc:
            raise exceptions.ParseError(f"Multipart form parse error - {exc}") from exc
        return DataAndFiles(data, uploaded)
