"""No Docker engine runs here: check that docker-compose.yml agrees with the settings and the Dockerfile."""

import re
from pathlib import Path

import yaml

BASE = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((BASE / "docker-compose.yml").read_text())
APP_SERVICES = ("web", "worker", "beat")
REQUIRED_ENV = {"DATABASE_URL", "DATABASE_OWNER_URL", "REDIS_URL", "SECRET_KEY", "ALLOWED_HOSTS", "EMAIL_URL"}


def settings_variables() -> set[str]:
    text = (BASE / "qms" / "settings.py").read_text()
    names = set(re.findall(r'\.(?:str|list|bool|int)\(\s*"([A-Z_]+)"', text))
    names |= set(re.findall(r'_(?:bool|int)\(\s*"([A-Z_]+)"', text))
    return names


def command_of(service: str) -> str:
    command = COMPOSE["services"][service]["command"]
    return command if isinstance(command, str) else " ".join(command)


def test_services_present_with_health_checks():
    assert set(COMPOSE["services"]) == {"postgres", "redis", *APP_SERVICES}
    for name, service in COMPOSE["services"].items():
        assert service.get("healthcheck", {}).get("test"), f"{name} has no health check"


def test_app_services_share_the_environment_the_settings_read():
    known = settings_variables()
    for name in APP_SERVICES:
        env = COMPOSE["services"][name]["environment"]
        assert set(env) >= REQUIRED_ENV, name
        unknown = set(env) - known
        assert not unknown, f"{name} sets variables the settings never read: {unknown}"


def test_urls_point_at_the_compose_services():
    env = COMPOSE["services"]["web"]["environment"]
    assert env["DATABASE_URL"].startswith("postgres://qms_app:") and "@postgres:5432/" in env["DATABASE_URL"]
    assert env["DATABASE_OWNER_URL"].startswith("postgres://qms:") and "@postgres:5432/" in env["DATABASE_OWNER_URL"]
    init = (BASE / "docker" / "postgres-init" / "10-app-role.sh").read_text()
    assert "CREATE ROLE qms_app" in init and "NOBYPASSRLS" in init and "NOSUPERUSER" in init
    mounts = COMPOSE["services"]["postgres"]["volumes"]
    assert "./docker/postgres-init:/docker-entrypoint-initdb.d:ro" in mounts
    assert env["REDIS_URL"].startswith("redis://redis:6379")
    assert env["DEBUG"] == "false"
    assert COMPOSE["services"]["postgres"]["environment"]["POSTGRES_DB"] == env["DATABASE_URL"].rsplit("/", 1)[1]


def test_commands():
    assert "migrate --noinput" in command_of("web") and "gunicorn qms.wsgi:application" in command_of("web")
    assert command_of("worker").startswith("celery -A qms worker")
    assert command_of("beat").startswith("celery -A qms beat")
    for name in APP_SERVICES:
        depends = COMPOSE["services"][name]["depends_on"]
        assert depends["postgres"]["condition"] == depends["redis"]["condition"] == "service_healthy"


def test_dockerfile_serves_static_with_whitenoise_and_runs_unprivileged():
    dockerfile = (BASE / "Dockerfile").read_text()
    assert "collectstatic" in dockerfile and "USER qms" in dockerfile and "gunicorn" in dockerfile
    settings = (BASE / "qms" / "settings.py").read_text()
    assert "whitenoise.middleware.WhiteNoiseMiddleware" in settings
