"""The two database roles (DESIGN.md §3.2 layer 2).

The application connects as ``DATABASE_URL``'s role, which owns no table, is not a superuser and cannot
bypass row-level security. Schema changes (``migrate``), ``flush`` and test-database creation run as
``DATABASE_OWNER_URL``'s role, which owns the tables. With no owner URL configured, both are the same role
(fine for a throw-away database, but row-level security is then enforced only because it is FORCEd).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from django.conf import settings
from django.db import connections


@contextlib.contextmanager
def as_owner(alias: str = "default") -> Iterator[None]:
    owner = getattr(settings, "DATABASE_OWNER", None)
    if not owner:
        yield
        return
    connection = connections[alias]
    saved = {key: connection.settings_dict.get(key) for key in ("USER", "PASSWORD")}
    connection.close()
    connection.settings_dict.update(owner)
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.update(saved)
