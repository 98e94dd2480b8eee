"""Optimistic concurrency for regulated records (DESIGN.md §3.6): a stale write answers 409/412, never wins.

Records carry a ``version``. A service writes with :func:`versioned_save`, a conditional UPDATE on the version the
caller read; the API reads that version from ``If-Match`` (412 when stale) or a ``version`` field (409 when stale)
with :func:`expected_version_from`, and refuses a write that names neither (428).
"""

from __future__ import annotations

from typing import Any

from django.db.models import F
from rest_framework import serializers

from qms.errors import StaleWrite, VersionRequired


def versioned_save(obj: Any, changed: list[str], expected_version: int | None, precondition: bool) -> None:
    """Write ``changed`` only if the row is still at the version the caller read; bump the version.

    A conditional UPDATE (``WHERE version = read``) so two people saving at once cannot both win.
    """
    read = obj.version if expected_version is None else expected_version
    if expected_version is not None and expected_version != obj.version:
        raise StaleWrite(obj.version, precondition=precondition)
    if not changed:
        return
    values = {name: getattr(obj, name) for name in changed}
    updated = type(obj).objects.filter(pk=obj.pk, version=read).update(**values, version=F("version") + 1)
    if not updated:
        current = type(obj).objects.filter(pk=obj.pk).values_list("version", flat=True).first() or obj.version
        raise StaleWrite(current, precondition=precondition)
    obj.version = read + 1


def expected_version_from(request: Any) -> tuple[int, bool]:
    """(version the client read, whether it came as a precondition header) or 428 when it sent neither."""
    if_match = request.headers.get("If-Match", "").strip().strip("W/").strip('"')
    version = request.data.get("version") if hasattr(request.data, "get") else None
    if if_match:
        expected, precondition = if_match, True
    elif version is not None:
        expected, precondition = version, False
    else:
        raise VersionRequired()
    try:
        return int(expected), precondition
    except (TypeError, ValueError):
        raise serializers.ValidationError({"version": ["A version is a whole number."]}) from None


def bump_version(obj: Any, expected_version: int | None = None, precondition: bool = False) -> None:
    """A change to a record's parts (lines, actions) is a change to the record: +1 on its version, conditionally,
    so a concurrent edit of the record or of another part is refused as stale."""
    read = obj.version if expected_version is None else expected_version
    if expected_version is not None and expected_version != obj.version:
        raise StaleWrite(obj.version, precondition=precondition)
    if not type(obj).objects.filter(pk=obj.pk, version=read).update(version=F("version") + 1):
        current = type(obj).objects.filter(pk=obj.pk).values_list("version", flat=True).first() or obj.version
        raise StaleWrite(current, precondition=precondition)
    obj.version = read + 1
