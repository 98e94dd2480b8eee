"""/healthz and /readyz against the real database and Redis."""

import time

import pytest
from django.test import Client

from qms import health


@pytest.fixture
def redis_client(settings):
    client = health._redis()
    yield client
    client.delete(health.HEARTBEAT_KEY)


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_ready_with_recent_heartbeat(redis_client):
    health.record_worker_heartbeat(time.time())
    response = Client().get("/readyz")
    assert response.status_code == 200, response.json()
    checks = response.json()["checks"]
    assert checks["database"]["ok"] and checks["redis"]["ok"] and checks["worker"]["ok"]


@pytest.mark.django_db
def test_readyz_unavailable_without_worker(redis_client):
    redis_client.delete(health.HEARTBEAT_KEY)
    response = Client().get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["worker"] == {"ok": False, "error": "no heartbeat recorded"}


@pytest.mark.django_db
def test_readyz_unavailable_with_stale_heartbeat(redis_client, settings):
    health.record_worker_heartbeat(time.time() - settings.WORKER_HEARTBEAT_MAX_AGE - 5)
    response = Client().get("/readyz")
    assert response.status_code == 503
    assert "older than" in response.json()["checks"]["worker"]["error"]


@pytest.mark.django_db
def test_readyz_unavailable_when_redis_down(settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    response = Client().get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["redis"]["ok"] is False


def test_readiness_probe_503_is_not_logged_as_error():
    import logging

    from django.test import RequestFactory

    probe = logging.LogRecord("django.request", logging.ERROR, __file__, 1, "Service Unavailable", None, None)
    probe.request = RequestFactory().get("/readyz")
    other = logging.LogRecord("django.request", logging.ERROR, __file__, 1, "Server Error", None, None)
    other.request = RequestFactory().get("/sites/")
    skip = health.SkipReadinessProbes()
    assert skip.filter(probe) is False and skip.filter(other) is True
