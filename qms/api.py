"""Project-wide API conventions: one JSON error shape and one pagination style for every endpoint."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from qms.errors import StaleWrite, VersionRequired


class StandardPagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 500


_CODES = {
    status.HTTP_400_BAD_REQUEST: "invalid",
    status.HTTP_401_UNAUTHORIZED: "not_authenticated",
    status.HTTP_403_FORBIDDEN: "permission_denied",
    status.HTTP_404_NOT_FOUND: "not_found",
    status.HTTP_405_METHOD_NOT_ALLOWED: "method_not_allowed",
    status.HTTP_409_CONFLICT: "conflict",
    status.HTTP_412_PRECONDITION_FAILED: "precondition_failed",
    status.HTTP_429_TOO_MANY_REQUESTS: "throttled",
}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Every error answers ``{"error": {"code", "message", "fields"}}``.

    ``fields`` maps each invalid field to its messages, so a client can show the error next to the field that
    caused it. A foreign object and a missing one produce byte-identical 404 bodies (DESIGN.md §3.2).
    """
    if isinstance(exc, StaleWrite):
        stale_status = status.HTTP_412_PRECONDITION_FAILED if exc.precondition else status.HTTP_409_CONFLICT
        conflict = Response({"error": {"code": _CODES[stale_status], "message": str(exc), "fields": {},
                                       "current_version": exc.current_version}}, status=stale_status)
        conflict["ETag"] = f'"{exc.current_version}"'
        return conflict
    if isinstance(exc, VersionRequired):
        return Response({"error": {"code": "precondition_required", "message": exc.message,
                                   "fields": {"version": [exc.message]}}}, status=428)
    if isinstance(exc, DjangoValidationError):
        # Services validate with full_clean and raise Django's error; the API answers it as a 400 by field.
        if hasattr(exc, "error_dict"):
            by_field = dict(exc.message_dict)
            if "__all__" in by_field:
                by_field["non_field_errors"] = by_field.pop("__all__")
        else:
            by_field = {"non_field_errors": exc.messages}
        exc = exceptions.ValidationError(by_field)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)  # a service's reason ("read-only for you") is kept
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    fields: dict[str, Any] = {}
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail
        if isinstance(detail, dict):
            fields = {k: v for k, v in detail.items() if k != "non_field_errors"}
            non_field = detail.get("non_field_errors")
            message = "; ".join(str(m) for m in non_field) if non_field else "Invalid input."
        else:
            message = "; ".join(str(m) for m in detail) if isinstance(detail, list) else str(detail)
        code = "invalid"
    else:
        message = str(getattr(exc, "detail", exc))
        code = _CODES.get(response.status_code, "error")
    response.data = {"error": {"code": code, "message": message, "fields": fields}}
    return response
