"""Authentication and session controls, security headers, and the production deploy check."""

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from tenants import security, services
from tenants.models import MembershipToken, SecurityEvent, UserSession
from tenants.sessions import LAST_SEEN, LOGIN_AT
from tests.factories import PASSWORD

BASE = Path(__file__).resolve().parents[2]


def login(client, username, password=PASSWORD, address="198.51.100.7"):
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address)


def test_lockout_per_username_after_repeated_failures(cast, settings):
    client = Client()
    for attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        assert login(client, "helix.qa", "wrong", address=f"198.51.100.{attempt + 10}").status_code == 200
    locked = login(client, "helix.qa", "wrong", address="198.51.100.99")
    assert locked.status_code == 429 and "Account locked" in locked.content.decode()
    # Even the right password, from yet another address, is refused while locked.
    assert login(Client(), "helix.qa", address="198.51.100.100").status_code == 429
    token = APIClient().post(reverse("api:token"), {"username": "helix.qa", "password": PASSWORD,
                                                    "organization": "helix"}, format="json",
                             REMOTE_ADDR="198.51.100.101")
    assert token.status_code == 429 and token.json()["error"]["code"] == "locked_out"
    # Other people still log in.
    assert login(Client(), "helix.viewer", address="198.51.100.102").status_code == 302


def test_lockout_per_address(cast, settings):
    for n in range(settings.AXES_FAILURE_LIMIT):
        login(Client(), f"nobody{n}", "wrong", address="203.0.113.50")
    assert login(Client(), "acme.qa", address="203.0.113.50").status_code == 429
    assert login(Client(), "acme.qa", address="203.0.113.51").status_code == 302


def test_org_admin_unlocks_with_a_recorded_reason(cast, settings):
    for n in range(settings.AXES_FAILURE_LIMIT):
        login(Client(), "helix.viewer", "wrong", address=f"192.0.2.{n}")
    assert login(Client(), "helix.viewer", address="192.0.2.200").status_code == 429
    with pytest.raises(ValidationError):
        security.account_unlock(actor=cast.users["helix.admin"], membership=cast.memberships["helix.admin"],
                                username="helix.viewer", reason="")
    with pytest.raises(ValidationError):  # not a member of Acme
        security.account_unlock(actor=cast.users["acme.admin"], membership=cast.memberships["acme.admin"],
                                username="helix.viewer", reason="asked by phone")
    cleared = security.account_unlock(actor=cast.users["helix.admin"], membership=cast.memberships["helix.admin"],
                                      username="helix.viewer", reason="identity confirmed by phone, ticket 88")
    assert cleared >= 1
    event = SecurityEvent.objects.get(kind=SecurityEvent.Kind.ACCOUNT_UNLOCKED)
    assert event.subject == "helix.viewer" and event.actor == cast.users["helix.admin"]
    assert event.organization == cast.orgs["helix"] and "ticket 88" in event.reason
    assert login(Client(), "helix.viewer", address="192.0.2.201").status_code == 302


def test_unlock_command_for_the_platform(cast, settings, capsys):
    from django.core.management import call_command

    from tests.factories import UserFactory

    UserFactory(username="platform.root", is_superuser=True, is_staff=True)
    for n in range(settings.AXES_FAILURE_LIMIT):
        login(Client(), "acme.qa", "wrong", address=f"192.0.2.{n + 20}")
    call_command("unlock_account", "acme.qa", "--reason", "platform support ticket 12")
    assert "unlocked acme.qa" in capsys.readouterr().out
    assert login(Client(), "acme.qa", address="192.0.2.250").status_code == 302
    assert SecurityEvent.objects.filter(subject="acme.qa", organization__isnull=True).exists()


def test_password_change_ends_other_sessions_and_tokens(cast):
    first, second = Client(), Client()
    assert login(first, "acme.qa").status_code == 302
    assert login(second, "acme.qa", address="198.51.100.8").status_code == 302
    key, _ = services.token_issue(request=_request(), username="acme.qa", password=PASSWORD,
                                  organization_slug="acme")
    response = first.post(reverse("password_change"), {
        "old_password": PASSWORD, "new_password1": "Another-long-passphrase-77",
        "new_password2": "Another-long-passphrase-77"})
    assert response.status_code == 302
    assert first.get(reverse("home")).status_code == 200  # this session continues
    assert second.get(reverse("home")).status_code == 302  # the other one must log in again
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get(reverse("api:me")).status_code == 401


def _request():
    from django.test import RequestFactory

    return RequestFactory().post("/api/v1/auth/token/", REMOTE_ADDR="198.51.100.9")


def _age_session(client, **seconds_ago):
    session = client.session
    now = time.time()
    for key, ago in seconds_ago.items():
        session[{"last_seen": LAST_SEEN, "login_at": LOGIN_AT}[key]] = now - ago
    session.save()


def test_idle_timeout(cast, settings):
    client = Client()
    login(client, "helix.qa")
    _age_session(client, last_seen=settings.SESSION_IDLE_TIMEOUT - 30)
    assert client.get(reverse("home")).status_code == 200  # still within the idle window, and refreshed
    _age_session(client, last_seen=settings.SESSION_IDLE_TIMEOUT + 5)
    response = client.get(reverse("sites"))
    assert response.status_code == 302 and "expired=idle" in response["Location"]
    assert "period of inactivity" in client.get(response["Location"]).content.decode()
    assert client.get(reverse("home")).status_code == 302


def test_idle_timeout_on_the_api(cast, settings):
    client = APIClient()
    login(client, "helix.qa")
    _age_session(client, last_seen=settings.SESSION_IDLE_TIMEOUT + 5)
    response = client.get(reverse("api:me"))
    assert response.status_code == 401 and response.json()["error"]["code"] == "session_expired"


def test_absolute_lifetime(cast, settings):
    client = Client()
    login(client, "helix.qa")
    _age_session(client, login_at=settings.SESSION_ABSOLUTE_LIFETIME + 5, last_seen=10)
    response = client.get(reverse("home"))
    assert response.status_code == 302 and "expired=lifetime" in response["Location"]


def test_deactivated_user_loses_sessions_and_tokens_at_once(cast):
    client = Client()
    login(client, "acme.operator")
    key, _ = services.token_issue(request=_request(), username="acme.operator", password=PASSWORD,
                                  organization_slug="acme")
    user = cast.users["acme.operator"]
    assert UserSession.objects.filter(user_id=user.pk).count() == 1
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert UserSession.objects.filter(user_id=user.pk).count() == 0
    assert MembershipToken.objects.filter(membership__user=user, revoked_at__isnull=True).count() == 0
    assert client.get(reverse("home")).status_code == 302
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get(reverse("api:me")).status_code == 401
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.SESSIONS_ENDED).exists()


def test_deactivated_membership_cannot_act(cast, client_for):
    client = client_for("acme.operator")
    services.membership_update(membership=cast.memberships["acme.admin"], target=cast.memberships["acme.operator"],
                               is_active=False)
    assert client.get(reverse("sites")).status_code == 403
    assert "not an active member" in client.get(reverse("home")).content.decode()


def test_security_headers_and_no_inline_scripts(cast, client_for):
    client = client_for("helix.qa")
    for name in ("home", "sites", "partnerships", "login"):
        response = client.get(reverse(name))
        csp = response["Content-Security-Policy"]
        script_src = re.search(r"script-src ([^;]*)", csp).group(1)
        assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
        assert "frame-ancestors 'none'" in csp
        assert response["X-Frame-Options"] == "DENY"
        assert response["X-Content-Type-Options"] == "nosniff"
        body = response.content.decode()
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", body), f"inline script on {name}"
        assert " on" + "click=" not in body


def test_api_docs_served_locally(db, client):
    response = client.get(reverse("api-docs"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in body
    assert "cdn.jsdelivr" not in body and "unpkg.com" not in body
    script_src = re.search(r"script-src ([^;]*)", response["Content-Security-Policy"]).group(1)
    assert "'unsafe-inline'" not in script_src


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    leaked = {"DEBUG", "QMS_DEVELOPMENT", "DJANGO_ALLOW_ASYNC_UNSAFE"}  # the browser tests set the last one
    env = {key: value for key, value in os.environ.items() if key not in leaked}
    env.update(
        DJANGO_SETTINGS_MODULE="qms.settings", QMS_VAR_DIR=str(tmp_path),
        SECRET_KEY="p" + "rod-" + "k3y-" * 12 + "Zq9!xW",
        ALLOWED_HOSTS="qms.example.com", EMAIL_URL="smtp+tls://user:pass@mail.example.com:587",
    )
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                            env=env, cwd=BASE, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
