"""Shared fixtures: the cast, logged-in clients, and query counting."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client
from rest_framework.test import APIClient

from tests.factories import Cast, build_cast


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
