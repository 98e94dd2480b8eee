"""Route matrix for the batch API (filled in with the API)."""

from __future__ import annotations

from typing import Any

ROUTES: list[Any] = []
