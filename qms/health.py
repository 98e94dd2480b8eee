"""Liveness (/healthz) and readiness (/readyz) endpoints.

/healthz answers as long as the process serves requests: orchestrators restart on its failure.
/readyz answers 200 only when the database, Redis and a recent worker heartbeat are all there, so a load
balancer sends no traffic to an instance whose clocks would not run.
"""

from __future__ import annotations

import logging
import time

import redis
from django.conf import settings
from django.db import connection, transaction
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

HEARTBEAT_KEY = "qms:worker:heartbeat"


def _redis() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)


def record_worker_heartbeat(now: float) -> float:
    _redis().set(HEARTBEAT_KEY, repr(now), ex=max(settings.WORKER_HEARTBEAT_MAX_AGE * 10, 600))
    return now


def _check_database() -> dict[str, object]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return {"ok": True}
    except Exception as exc:  # any failure means "not ready"; the message is for the operator
        return {"ok": False, "error": type(exc).__name__}


def _check_redis_and_worker() -> tuple[dict[str, object], dict[str, object]]:
    try:
        client = _redis()
        client.ping()
        raw = client.get(HEARTBEAT_KEY)
    except Exception as exc:
        failure = {"ok": False, "error": type(exc).__name__}
        return failure, {"ok": False, "error": "redis unavailable"}
    if raw is None:
        return {"ok": True}, {"ok": False, "error": "no heartbeat recorded"}
    age = time.time() - float(raw)
    worker: dict[str, object] = {
        "ok": age <= settings.WORKER_HEARTBEAT_MAX_AGE,
        "last_heartbeat_age_seconds": round(age, 1),
    }
    if not worker["ok"]:
        worker["error"] = f"last heartbeat older than {settings.WORKER_HEARTBEAT_MAX_AGE}s"
    return {"ok": True}, worker


@transaction.non_atomic_requests
@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@transaction.non_atomic_requests
@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    database = _check_database()
    redis_check, worker = _check_redis_and_worker()
    checks = {"database": database, "redis": redis_check, "worker": worker}
    ready = all(bool(check["ok"]) for check in checks.values())
    return JsonResponse({"status": "ok" if ready else "unavailable", "checks": checks}, status=200 if ready else 503)


class SkipReadinessProbes(logging.Filter):
    """A 503 from /readyz is an answer to a probe, not a server error: keep it out of the error log."""

    def filter(self, record: logging.LogRecord) -> bool:
        request = getattr(record, "request", None)
        return getattr(request, "path", None) != "/readyz"
