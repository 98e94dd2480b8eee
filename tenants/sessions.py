"""Session engine (``SESSION_ENGINE = "tenants.sessions"``) and the session lifetime rules.

- Sessions are stored with their user id, so deactivating a user can end every session of theirs at once.
- Idle timeout (``SESSION_IDLE_TIMEOUT``, default 15 minutes) and absolute lifetime
  (``SESSION_ABSOLUTE_LIFETIME``, default 12 hours) are enforced on every request by
  :class:`SessionLifetimeMiddleware`; either ends the session and sends the person to the login page.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import SESSION_KEY, logout
from django.contrib.sessions.backends.db import SessionStore as DBStore
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import reverse

LOGIN_AT = "qms_login_at"
LAST_SEEN = "qms_last_seen"
#: Write "last seen" at most this often, so a busy page does not write the session on every request.
LAST_SEEN_RESOLUTION = 30


class SessionStore(DBStore):
    @classmethod
    def get_model_class(cls) -> Any:
        from tenants.models import UserSession

        return UserSession

    def create_model_instance(self, data: dict[str, Any]) -> Any:
        instance: Any = super().create_model_instance(data)
        try:
            instance.user_id = int(data[SESSION_KEY])
        except (KeyError, TypeError, ValueError):
            instance.user_id = None
        return instance


def mark_login(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    """``user_logged_in`` receiver: the absolute lifetime counts from here."""
    now = time.time()
    request.session[LOGIN_AT] = now
    request.session[LAST_SEEN] = now


class SessionLifetimeMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and SESSION_KEY in request.session:
            now = time.time()
            login_at = request.session.get(LOGIN_AT, now)
            last_seen = request.session.get(LAST_SEEN, now)
            idle = now - last_seen > settings.SESSION_IDLE_TIMEOUT
            too_old = now - login_at > settings.SESSION_ABSOLUTE_LIFETIME
            if idle or too_old:
                logout(request)
                return self._expired(request, "idle" if idle else "lifetime")
            request.session.setdefault(LOGIN_AT, login_at)
            if now - last_seen >= LAST_SEEN_RESOLUTION or LAST_SEEN not in request.session:
                request.session[LAST_SEEN] = now
        return self.get_response(request)

    @staticmethod
    def _expired(request: HttpRequest, why: str) -> HttpResponse:
        message = ("Your session ended after a period of inactivity." if why == "idle"
                   else "Your session reached its maximum lifetime.")
        if request.path.startswith("/api/"):
            return JsonResponse({"error": {"code": "session_expired", "message": message + " Log in again.",
                                           "fields": {}}}, status=401)
        query = urlencode({"next": request.get_full_path(), "expired": why})
        return HttpResponseRedirect(f"{reverse('login')}?{query}")
