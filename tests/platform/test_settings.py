"""Settings load from the environment and fail loudly, naming the variable, on bad values."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

BASE = Path(__file__).resolve().parents[2]
GOOD = {
    "DATABASE_URL": "postgres://u:p@db.example:5432/qms",
    "REDIS_URL": "redis://localhost:6379/0",
    "SECRET_KEY": "x" * 50,
    "ALLOWED_HOSTS": "qms.example.com",
    "EMAIL_URL": "smtp+tls://user:pass@mail.example.com:587",
}
PROBE = ("import django, json; from django.conf import settings; django.setup(); "
         "print(json.dumps({'debug': settings.DEBUG, 'db': settings.DATABASES['default']['HOST'], "
         "'hosts': settings.ALLOWED_HOSTS, 'email': settings.EMAIL_BACKEND, 'ssl': settings.SECURE_SSL_REDIRECT, "
         "'hasher': settings.PASSWORD_HASHERS[0], 'key': settings.SECRET_KEY}))")


def load(tmp_path, **overrides):
    env = {k: v for k, v in os.environ.items()
           if k not in GOOD and k not in {"DEBUG", "QMS_DEVELOPMENT", "DATABASE_OWNER_URL"}}
    env.update(GOOD)
    env["QMS_VAR_DIR"] = str(tmp_path)
    env["DJANGO_SETTINGS_MODULE"] = "qms.settings"
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return subprocess.run([sys.executable, "-c", PROBE], env=env, cwd=BASE, capture_output=True, text=True)


def test_production_settings_load(tmp_path):
    import json

    result = load(tmp_path)
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    assert values["debug"] is False and values["ssl"] is True
    assert values["hosts"] == ["qms.example.com"]
    assert values["email"] == "django.core.mail.backends.smtp.EmailBackend"
    assert values["hasher"].endswith("Argon2PasswordHasher")


@pytest.mark.parametrize(("overrides", "message"), [
    ({"DATABASE_URL": None}, "DATABASE_URL is not set"),
    ({"DATABASE_URL": "mysql://u@h/db"}, "DATABASE_URL must point at PostgreSQL"),
    ({"REDIS_URL": None}, "REDIS_URL is not set"),
    ({"REDIS_URL": "localhost:6379"}, "REDIS_URL must start with redis://"),
    ({"SECRET_KEY": None}, "SECRET_KEY is required"),
    ({"SECRET_KEY": "short"}, "SECRET_KEY must be at least 32 characters"),
    ({"ALLOWED_HOSTS": None}, "ALLOWED_HOSTS is required"),
    ({"EMAIL_URL": None}, "EMAIL_URL is required"),
    ({"DEBUG": "ture"}, "DEBUG must be a boolean"),
    ({"DATABASE_CONN_MAX_AGE": "soon"}, "DATABASE_CONN_MAX_AGE must be an integer"),
    ({"DATABASE_OWNER_URL": "postgres://owner@other.example:5432/qms"}, "must name the same server and database"),
    ({"DATABASE_OWNER_URL": "postgres://u:x@db.example:5432/qms"}, "must use a different role"),
])
def test_bad_values_fail_loudly(tmp_path, overrides, message):
    result = load(tmp_path, **overrides)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and message in result.stderr


def test_development_generates_secret_key_once_and_keeps_it(tmp_path):
    import json

    first = load(tmp_path, SECRET_KEY=None, QMS_DEVELOPMENT="1", ALLOWED_HOSTS=None, EMAIL_URL=None)
    assert first.returncode == 0, first.stderr
    second = load(tmp_path, SECRET_KEY=None, QMS_DEVELOPMENT="1", ALLOWED_HOSTS=None, EMAIL_URL=None)
    key = json.loads(first.stdout)["key"]
    assert key == json.loads(second.stdout)["key"] == (tmp_path / "secret_key").read_text()
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600
    values = json.loads(first.stdout)
    assert values["email"] == "django.core.mail.backends.console.EmailBackend"
    assert values["debug"] is False, "development conveniences must not switch DEBUG on"
    assert "localhost" in values["hosts"]


def test_socket_database_url_is_unquoted(tmp_path):
    import json

    result = load(tmp_path, DATABASE_URL="postgres://qms@%2Fvar%2Frun%2Fpostgresql/qms")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["db"] == "/var/run/postgresql"


def test_owner_role_is_parsed(tmp_path):
    probe = ("import django; from django.conf import settings; django.setup(); "
             "print(settings.DATABASE_OWNER['USER'], settings.DATABASE_APP_ROLE)")
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_OWNER_URL"}
    env.update(GOOD, QMS_VAR_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="qms.settings",
               DATABASE_OWNER_URL="postgres://owner:secret@db.example:5432/qms")
    result = subprocess.run([sys.executable, "-c", probe], env=env, cwd=BASE, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["owner", "u"]
