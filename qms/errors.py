"""Errors that services raise and both the API and the pages translate."""

from __future__ import annotations


class StaleWrite(Exception):
    """The record changed since the caller read it: nothing was written (optimistic concurrency)."""

    def __init__(self, current_version: int, *, precondition: bool = False) -> None:
        self.current_version = current_version
        self.precondition = precondition  # True when the caller used If-Match (answer 412), else 409
        super().__init__(
            f"Someone else changed this record since you read it (it is now at version {current_version}). "
            "Nothing was saved: reload to see their change, then apply yours again."
        )


class VersionRequired(Exception):
    """A write to a versioned record must say which version it read (If-Match header or ``version`` field)."""

    message = "Send the version you read: an If-Match header (the ETag) or a `version` field."
