"""What the crawl performance benchmarks share: their own PostgreSQL databases, Django set up before use, a line
describing the machine, their sections of BENCHMARKS.md, and a free port for the servers they start (the
reliability runs and the local-run tests use it too).

Each benchmark runs against a database of its own (`gom9k_perf_*` on this machine's PostgreSQL), created when
missing, so that it never touches anybody's data nor the test databases other runs create on the same server.
Sections of BENCHMARKS.md are delimited as benchmarks/api_latency.py delimits its own: each script rewrites the
text between its BEGIN/END markers and leaves everything else alone.
"""
import os
import platform
import re
import secrets
import socket
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BASE_DIR = Path(__file__).resolve().parent.parent
BENCHMARKS_FILE = BASE_DIR / "BENCHMARKS.md"
POSTGRES_SERVER = "postgres://postgres@127.0.0.1:5432"
BENCHMARKS_HEADER = """# Benchmarks

Measured figures of git-o-matic-9k, one section per benchmark. Each section says the command that produced it,
the machine and the date; the part between a section's BEGIN/END markers is rewritten by its script, the text
after it is written by hand. The scripts live in `benchmarks/`.
"""


def free_port() -> int:
    """A TCP port on 127.0.0.1 nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def database_url(name: str) -> str:
    """The URL of a benchmark database on this machine's PostgreSQL (DATABASE_SERVER_URL picks another server)."""
    if "perf" not in name:
        raise ValueError(f"benchmark databases are named gom9k_perf*, not {name!r}")
    return f"{os.environ.get('DATABASE_SERVER_URL', POSTGRES_SERVER).rstrip('/')}/{name}"


def ensure_database(url: str, *, fresh: bool = False) -> None:
    """Create the database of a postgres:// URL when missing (dropped first when `fresh`)."""
    import psycopg2  # pylint: disable=import-outside-toplevel
    from psycopg2 import sql  # pylint: disable=import-outside-toplevel

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    connection = psycopg2.connect(urlunsplit(parts._replace(path="/postgres")))
    try:
        connection.autocommit = True
        with connection.cursor() as cursor:
            if fresh:
                cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            if cursor.fetchone() is None:
                cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    finally:
        connection.close()


def benchmark_environment(url: str, **extra: str) -> dict:
    """Environment variables of a process (this one or a worker) running the service on database `url`.

    DEBUG stays off: with it Django keeps every SQL statement in memory, which is neither what production runs
    nor a flat memory profile.
    """
    key_file = BASE_DIR / "var" / "secret_key"
    secret = os.environ.get("SECRET_KEY") or (
        key_file.read_text(encoding="utf-8").strip() if key_file.exists() else secrets.token_urlsafe(50))
    return {"DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "git_o_matic_9k.settings", "DEBUG": "0",
            "SECRET_KEY": secret, "LOG_LEVEL": "WARNING", **extra}


def setup_django(url: str, *, fresh: bool = False, **extra: str) -> None:
    """Create (or recreate) and migrate the database `url`, and set Django up on it in this process."""
    import django  # pylint: disable=import-outside-toplevel
    from django.core.management import call_command  # pylint: disable=import-outside-toplevel

    ensure_database(url, fresh=fresh)
    os.environ.update(benchmark_environment(url, **extra))
    django.setup()
    call_command("migrate", interactive=False, verbosity=0)


def machine_description() -> str:
    """nproc, memory, CPU model, kernel, PostgreSQL and Python versions: what a figure was measured on."""
    from django.db import connection  # pylint: disable=import-outside-toplevel

    cpuinfo = Path("/proc/cpuinfo").read_text(encoding="utf-8")
    meminfo = Path("/proc/meminfo").read_text(encoding="utf-8")
    model = re.search(r"^model name\s*:\s*(.+)$", cpuinfo, re.M).group(1)
    memory = int(re.search(r"^MemTotal:\s*(\d+) kB", meminfo, re.M).group(1)) / 1024 / 1024
    database = connection.vendor
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            database = f"PostgreSQL {cursor.fetchone()[0].split()[0]} (same machine)"
    return (f"nproc {os.cpu_count()} ({model}), {memory:.1f} GiB memory, {platform.system()} {platform.release()}; "
            f"{database}; Python {platform.python_version()}")


def git_revision() -> str:
    """The commit measured (with "+changes" when the working tree differs from it)."""
    def git(*args):
        return subprocess.run(["git", *args], cwd=BASE_DIR, capture_output=True, text=True,  # noqa: S603,S607
                              check=False).stdout
    revision = git("rev-parse", "--short", "HEAD").strip() or "unknown"
    dirty = git("status", "--porcelain", "--untracked-files=no", "github").strip()
    return f"{revision}+changes" if dirty else revision


def header(command: str) -> str:
    """The lines every section starts with: command, date, commit and machine."""
    return (f"- Command: `{command}`\n- Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, commit {git_revision()}\n"
            f"- Machine: {machine_description()}\n")


def write_section(key: str, title: str, script: str, body: str, path: Path = BENCHMARKS_FILE) -> Path:
    """Put `body` between the markers of section `key` in BENCHMARKS.md, adding the section when missing."""
    begin = f"<!-- BEGIN {key}: generated by `{script}`, edits here are overwritten -->"
    end = f"<!-- END {key} -->"
    text = path.read_text(encoding="utf-8") if path.exists() else BENCHMARKS_HEADER
    block = f"{begin}\n{body.rstrip()}\n{end}"
    pattern = re.compile(rf"<!-- BEGIN {re.escape(key)}\b.*?<!-- END {re.escape(key)} -->", re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _match: block, text, count=1)
    else:
        text = f"{text.rstrip()}\n\n## {title}\n\n{block}\n"
    path.write_text(text, encoding="utf-8")
    return path
