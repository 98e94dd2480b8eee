"""Canonical serialization of signed content: the same bytes for the same content in every process.

Kept free of Django imports so it can be checked (and used by verifiers) on its own.
"""

from __future__ import annotations

import json
from typing import Any


def canonical_json(content: dict[str, Any]) -> str:
    """Sorted keys, no insignificant whitespace, UTF-8 text, ISO dates (via ``str``)."""
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
