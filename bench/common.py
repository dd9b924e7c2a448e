"""What the benchmarks share: a scratch database, a real server process, percentiles.

Benchmarks run against their own database (``campo_bench``), created fresh and migrated, so
they never touch the demo or the tests.
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx2
import psycopg
from alembic import command
from alembic.config import Config

from geo.core.db import libpq_url, on_database
from geo.core.settings import get_settings

ROOT = Path(__file__).resolve().parents[1]
BENCH_DB = "campo_bench"


def fresh_database() -> tuple[str, str]:
    """Recreate the bench database, migrate it, and point this process at it.

    Returns the owner's and the application role's URLs.
    """
    settings = get_settings()
    with psycopg.connect(
        libpq_url(on_database(settings.owner_url, "postgres")), autocommit=True
    ) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{BENCH_DB}"')
    owner, app = on_database(settings.owner_url, BENCH_DB), on_database(settings.app_url, BENCH_DB)
    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["url"] = owner
    config.attributes["configure_logger"] = False
    command.upgrade(config, "head")
    os.environ["DATABASE_URL"] = owner
    os.environ["CAMPO_APP_DATABASE_URL"] = app
    get_settings.cache_clear()
    return owner, app


@contextmanager
def server(workers: int) -> Iterator[str]:
    """``campo serve`` in its own process on a free loopback port; yields its base URL."""
    with served(workers) as (url, _pid):
        yield url


@contextmanager
def served(workers: int) -> Iterator[tuple[str, int]]:
    """As :func:`server`, with the server's process id (to read its memory)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = tempfile.NamedTemporaryFile(prefix="campo-bench-server-", suffix=".log", delete=False)  # noqa: SIM115
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [
            sys.executable,
            "-m",
            "uvicorn",
            "api.main:app",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        cwd=ROOT,
        env=os.environ.copy(),
        # The server logs a line per request, as in production; to a file, not the report.
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx2.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx2.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the server did not come up; see {log.name}")
            time.sleep(0.2)
        yield url, process.pid
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


@contextmanager
def job_worker(**env: str) -> Iterator[int]:
    """``campo worker`` in its own process, as a deployment runs it, with ``env`` added to its
    environment; yields its process id."""
    process = subprocess.Popen(  # noqa: S603 - our own command
        [str(Path(sys.executable).parent / "campo"), "worker"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, **env},
    )
    try:
        yield process.pid
    finally:
        process.terminate()
        process.wait(timeout=60)


def percentile(samples: list[float], q: float) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[int(q) - 1]
