"""Route matrix for the batch pages (filled in with the pages)."""

from __future__ import annotations

from typing import Any

ROUTES: list[Any] = []
