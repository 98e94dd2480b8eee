"""The run command's machinery: embedded PostgreSQL and Redis start, serve, stop; the whole stack comes up."""

import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import psycopg2
import pytest
import redis

from qms import devstack

BASE = Path(__file__).resolve().parents[2]


def test_embedded_services_start_persist_and_stop(tmp_path, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    var = tmp_path / "var"
    with devstack.services(var, redis_port=devstack.free_port(6399)) as env:
        dsn = env["DATABASE_URL"]
        assert dsn.startswith("postgres://qms_app@") and env["DATABASE_OWNER_URL"].startswith("postgres://qms@")
        socket_dir = dsn.split("@", 1)[1].split("/", 1)[0].replace("%2F", "/")
        roles = psycopg2.connect(host=socket_dir, user="qms", dbname="qms")
        with roles, roles.cursor() as cur:
            cur.execute("SELECT rolsuper, rolbypassrls, rolcreatedb FROM pg_roles WHERE rolname = 'qms_app'")
            assert cur.fetchone() == (False, False, False)
        roles.close()
        conn = psycopg2.connect(host=socket_dir, user="qms", dbname="qms")
        with conn, conn.cursor() as cur:
            cur.execute("SELECT current_setting('server_version_num')::int")
            assert cur.fetchone()[0] >= 180000
            cur.execute("CREATE TABLE kept (v int); INSERT INTO kept VALUES (42)")
        conn.close()
        client = redis.Redis.from_url(env["REDIS_URL"])
        assert client.ping()
        client.set("kept", "yes")
        client.save()
    with pytest.raises(redis.exceptions.ConnectionError):
        client.ping()
    with pytest.raises(psycopg2.OperationalError):
        psycopg2.connect(host=socket_dir, user="qms", dbname="qms", connect_timeout=2)

    with devstack.services(var, redis_port=devstack.free_port(6399)) as env:  # data survives a restart
        conn = psycopg2.connect(host=socket_dir, user="qms", dbname="qms")
        with conn, conn.cursor() as cur:
            cur.execute("SELECT v FROM kept")
            assert cur.fetchone() == (42,)
        conn.close()
        assert redis.Redis.from_url(env["REDIS_URL"]).get("kept") == b"yes"


def test_given_urls_start_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://x@127.0.0.1:1/x")
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")
    stack = devstack.Services(tmp_path, redis_port=6399)
    assert stack.start() == {"QMS_VAR_DIR": str(tmp_path)}
    assert stack.postgres is None and stack.redis is None


def test_run_brings_up_web_worker_and_beat(tmp_path):
    """`python -m qms.devstack run --check`: migrate, seed, web + worker + beat, /readyz 200, clean stop."""
    port = devstack.free_port(8765)
    env = {**os.environ, "PORT": str(port), "QMS_VAR_DIR": str(tmp_path / "var"), "DEMO_PASSWORD": "demo-pass-123"}
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    result = subprocess.run([sys.executable, "-m", "qms.devstack", "run", "--check"], env=env, cwd=BASE,
                            capture_output=True, text=True, timeout=240)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    assert f"QMS is running at http://127.0.0.1:{port}/" in output
    assert "password for all: demo-pass-123" in output
    for username in ("helix.qa", "helix.viewer", "northwind.qa", "acme.qa", "acme.operator", "borealis.qa",
                     "auditor", "admin"):
        assert f"  {username} " in output
    assert "stopping embedded PostgreSQL" in output and "stopping embedded Redis" in output
    with pytest.raises(OSError):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)


def test_manage_runs_a_command_against_the_run_data(tmp_path):
    """`make manage ARGS=...`: starts the embedded servers if nothing runs, runs manage.py, stops them again."""
    env = {**os.environ, "QMS_VAR_DIR": str(tmp_path / "var")}
    for key in ("DATABASE_URL", "DATABASE_OWNER_URL", "REDIS_URL"):
        env.pop(key, None)
    result = subprocess.run([sys.executable, "-m", "qms.devstack", "manage", "migrate", "--noinput"], env=env,
                            cwd=BASE, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    result = subprocess.run([sys.executable, "-m", "qms.devstack", "manage", "verify_audit_trail"], env=env,
                            cwd=BASE, capture_output=True, text=True, timeout=120)
    output = result.stdout + result.stderr
    assert result.returncode == 0 and "audit trail intact" in output, output[-3000:]
    assert "stopping embedded PostgreSQL" in output
