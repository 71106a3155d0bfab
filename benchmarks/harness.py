"""What the benchmarks and the reliability runs share to run the service for real: databases of their own on
this machine's PostgreSQL, the environment of a process running the service, free ports, the simulator and
gunicorn started as processes (and stopped), and a line saying what machine and commit a figure came from.

It lives in benchmarks/ because that is already what the reliability runs build on (the load run measures the
graph benchmarks/seed_database.py generates); reliability/ and the local-run tests import from here, nothing
here imports from them. What only the benchmarks need (their database names, BENCHMARKS.md sections) stays in
benchmarks/perf_common.py.
"""
# Starting this interpreter's own modules and git, with arguments built here, is the point.
# ruff: noqa: S603, S607
import os
import platform
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BASE_DIR = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def log(message: str) -> None:
    """A timestamped progress line on stderr (stdout carries the reports)."""
    print(f"{datetime.now(UTC):%H:%M:%S} {message}", file=sys.stderr, flush=True)


# --- ports ----------------------------------------------------------------------------------------------------


def free_port() -> int:
    """A TCP port on 127.0.0.1 nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def port_open(port: int) -> bool:
    """Whether something accepts connections on 127.0.0.1:`port`."""
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def wait_for_port(port: int, *, up: bool = True, timeout: float = 90, process=None) -> None:
    """Wait until `port` accepts connections (or, with up=False, no longer does); fail early when `process`, the
    one expected to listen, exits first."""
    deadline = time.monotonic() + timeout
    while port_open(port) != up:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{process.args[:3]} exited with code {process.returncode}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"port {port} still {'closed' if up else 'open'} after {timeout} s")
        time.sleep(0.2)


# --- databases and the service's environment --------------------------------------------------------------------


def database_name(url: str) -> str:
    """The database name in a database URL."""
    return urlsplit(url).path.lstrip("/")


def with_database_name(url: str, name: str) -> str:
    """`url` with another database name."""
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def ensure_database(url: str, *, fresh: bool = False) -> bool:
    """Create the database of a postgres:// URL when missing (dropped first when `fresh`); whether it created it."""
    import psycopg2  # pylint: disable=import-outside-toplevel
    from psycopg2 import sql  # pylint: disable=import-outside-toplevel

    name = database_name(url)
    connection = psycopg2.connect(with_database_name(url, "postgres"))
    try:
        connection.autocommit = True
        with connection.cursor() as cursor:
            if fresh:
                cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            if cursor.fetchone() is not None:
                return False
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            return True
    finally:
        connection.close()


def secret_key() -> str:
    """SECRET_KEY from the environment, else the local runs' var/secret_key, else a new one."""
    key_file = BASE_DIR / "var" / "secret_key"
    return os.environ.get("SECRET_KEY") or (
        key_file.read_text(encoding="utf-8").strip() if key_file.exists() else secrets.token_urlsafe(50))


def service_environment(url: str, **extra: str) -> dict:
    """Environment variables of a process (this one, a server or a worker) running the service on database `url`;
    `extra` adds or overrides (DJANGO_SETTINGS_MODULE, LOG_LEVEL, the broker, ...).

    DEBUG stays off: with it Django keeps every SQL statement in memory, which is neither what production runs
    nor a flat memory profile.
    """
    return {"DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "git_o_matic_9k.settings", "DEBUG": "0",
            "SECRET_KEY": secret_key(), "LOG_LEVEL": "WARNING", **extra}


def setup_django(url: str, *, fresh: bool = False, **extra: str) -> None:
    """Create (or recreate) and migrate the database `url`, and set Django up on it in this process."""
    import django  # pylint: disable=import-outside-toplevel
    from django.core.management import call_command  # pylint: disable=import-outside-toplevel

    ensure_database(url, fresh=fresh)
    os.environ.update(service_environment(url, **extra))
    django.setup()
    call_command("migrate", interactive=False, verbosity=0)


# --- processes --------------------------------------------------------------------------------------------------


def simulator_process(*arguments: str) -> tuple[subprocess.Popen, str]:
    """`python -m github_simulator` on a free port with these arguments, in its own process; (process, base URL).

    The simulator prints its base URL as its first line once it listens.
    """
    # pylint: disable-next=consider-using-with  # outlives this function: the caller stops it
    process = subprocess.Popen([PYTHON, "-m", "github_simulator", "--port", "0", *arguments], cwd=BASE_DIR,
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    return process, process.stdout.readline().strip()


def start_gunicorn(port: int, env: dict, *, workers: int = 1, timeout: int = 60) -> subprocess.Popen:
    """gunicorn as the Procfile runs it (sync workers) on 127.0.0.1:`port`, with environment `env`; returns once it
    accepts connections. `timeout` is gunicorn's worker timeout."""
    # pylint: disable-next=consider-using-with  # outlives this function: the caller stops it
    process = subprocess.Popen(
        [PYTHON, "-m", "gunicorn", "git_o_matic_9k.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
         "--timeout", str(timeout), "--log-level", "warning"], cwd=BASE_DIR, env=env)
    try:
        wait_for_port(port, timeout=60, process=process)
    except (RuntimeError, TimeoutError):
        stop(process)
        raise
    return process


def stop(*processes: subprocess.Popen, timeout: float = 60) -> None:
    """SIGTERM every process, then wait for each; one still running after `timeout` seconds is killed."""
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# --- what a figure was measured on ------------------------------------------------------------------------------


def load_average() -> float | None:
    """The one-minute load average (None where the system does not say)."""
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else None


def machine_description(load: float | None = None) -> str:
    """nproc, memory, CPU model, kernel, database and Python versions: what a figure was measured on; with the
    load average `load` the run started under. The database is Django's when Django is set up in this process."""
    from django.apps import apps  # pylint: disable=import-outside-toplevel

    cpuinfo = Path("/proc/cpuinfo").read_text(encoding="utf-8")
    meminfo = Path("/proc/meminfo").read_text(encoding="utf-8")
    model = re.search(r"^model name\s*:\s*(.+)$", cpuinfo, re.M).group(1)
    memory = int(re.search(r"^MemTotal:\s*(\d+) kB", meminfo, re.M).group(1)) / 1024 / 1024
    parts = [f"nproc {os.cpu_count()} ({model}), {memory:.1f} GiB memory, {platform.system()} {platform.release()}"]
    if apps.ready:
        parts.append(_database_description())
    parts.append(f"Python {platform.python_version()}")
    if load is not None:
        parts.append(f"load average {load:.2f} when it started")
    return "; ".join(parts)


def _database_description() -> str:
    from django.db import connection  # pylint: disable=import-outside-toplevel

    if connection.vendor != "postgresql":
        return f"{connection.vendor} {connection.Database.sqlite_version}"
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        return f"PostgreSQL {cursor.fetchone()[0].split()[0]} (same machine)"


def git_revision() -> str:
    """The commit measured (with "+changes" when the service's code in the working tree differs from it)."""
    def git(*args):
        return subprocess.run(["git", *args], cwd=BASE_DIR, capture_output=True, text=True, check=False).stdout
    revision = git("rev-parse", "--short", "HEAD").strip() or "unknown"
    dirty = git("status", "--porcelain", "--untracked-files=no", "github", "git_o_matic_9k").strip()
    return f"{revision}+changes" if dirty else revision
