"""Shared fixtures: the cast, logged-in clients, and query counting."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client
from rest_framework.test import APIClient

from qms.dbroles import as_owner
from tenants import rls
from tests.factories import Cast, build_cast


@pytest.fixture(scope="session")
def django_db_setup(django_test_environment, django_db_blocker, django_db_keepdb):
    """Create and migrate the test database as the owner role; the tests then connect as the app role."""
    from django.test.utils import setup_databases, teardown_databases

    with django_db_blocker.unblock(), as_owner():
        config = setup_databases(verbosity=0, interactive=False, keepdb=django_db_keepdb)
    yield
    with django_db_blocker.unblock(), as_owner():
        teardown_databases(config, verbosity=0, keepdb=django_db_keepdb)


@pytest.fixture(autouse=True)
def _test_code_in_system_context(request):
    """Test code (factories, assertions on the database) runs in the named system context.

    Requests made through the test clients set their own context in the middleware and restore this one
    afterwards, so what a request sees is exactly what row-level security lets its membership see.
    """
    names = request.fixturenames
    marker = request.node.get_closest_marker("django_db")
    transactional = ("transactional_db" in names or "live_server" in names
                     or bool(marker and marker.kwargs.get("transaction")))
    if not (transactional or "db" in names):
        yield
        return
    request.getfixturevalue("transactional_db" if transactional else "db")
    with rls.system_context("test code", session_level=transactional):
        yield


@pytest.fixture
def cast(db: None) -> Cast:
    return build_cast()


@pytest.fixture
def client_for(cast: Cast) -> Callable[[str], Client]:
    """A browser-like client logged in as one of the cast (session auth), e.g. ``client_for("helix.qa")``."""

    def make(username: str) -> Client:
        client = Client()
        client.force_login(cast.users[username])
        return client

    return make


@pytest.fixture
def api_for(cast: Cast) -> Callable[[str], APIClient]:
    """An API client logged in as one of the cast through the session."""

    def make(username: str) -> APIClient:
        client = APIClient()
        client.force_login(cast.users[username])
        return client

    return make


@pytest.fixture
def http_request():
    """A real request object for services that authenticate (django-axes counts failures per address)."""
    from django.test import RequestFactory

    return RequestFactory().post("/api/v1/auth/token/", REMOTE_ADDR="203.0.113.9")


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """Print the isolation case counts, so a shrinking count is noticed (DESIGN.md §3.2 layer 3)."""
    passed = terminalreporter.stats.get("passed", [])
    route_cases = sum(1 for report in passed if "test_route_isolation.py::test_route_case" in report.nodeid)
    shared_cases = sum(1 for report in passed if "test_route_isolation" not in report.nodeid and any(
        marker in report.nodeid for marker in ("API::test_", "Page::test_")))
    from tests.tenants.test_rls import RAW_SQL_CASES

    if route_cases or shared_cases or RAW_SQL_CASES:
        terminalreporter.write_line(
            f"isolation: {route_cases} route-matrix cases, {shared_cases} shared endpoint cases and "
            f"{sum(RAW_SQL_CASES)} raw-SQL row-level-security cases passed"
        )
