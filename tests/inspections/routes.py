"""Hands the inspection route matrices to tests/test_route_isolation.py (pages and API in their own modules,
targets in ``route_targets``)."""

from __future__ import annotations

from typing import Any


def inspection_routes() -> list[Any]:
    from tests.inspections.route_matrix_api import ROUTES as API
    from tests.inspections.route_matrix_pages import ROUTES as PAGES

    return [*API, *PAGES]
