"""Where a check-in's time goes: CPU per check-in by process and by library, beside the floor.

The check-in issue asks, where a target is out of reach on two cores, for a profile of what
limits it. This runs the series of ``bench.checkin`` (a) against one server process and reports:

- the floor: the same server answering a request that does nothing (an unknown path, through
  every middleware) and the bare SQL distance check, so the ratio the target asks for can be
  set against what HTTP and the framework cost before any work;
- CPU per check-in, read from ``/proc`` before and after the series: the server process, the
  PostgreSQL processes and this client, so "2 ms of CPU each" can be checked against the sum;
- the server's CPU split by the innermost library on the stack, sampled with py-spy over a
  second series (sampling slows the process a little; the split, not the total, is the point).

Run: ``.venv/bin/python -m bench.checkin_profile`` (about a minute; py-spy needs ptrace, which
root has; without it the split is skipped and said so).
"""

from __future__ import annotations

import argparse
import collections
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx2
import psycopg

from api.security import issue_token
from bench.checkin import BARE, _check_in, _jobs, _seed_portfolio
from bench.common import fresh_database, percentile, served
from bench.gps import _seed_agents
from geo.accounts.users import Principal
from geo.core.db import libpq_url
from geo.core.settings import get_settings

#: Where a sample's innermost frame lives, tried in order: the first match names its owner.
OWNERS: tuple[tuple[str, str], ...] = (
    ("(geo/", "campo geo/ (rules, statements)"),
    ("(api/", "campo api/ (routers, auth, middleware)"),
    ("sqlalchemy", "SQLAlchemy"),
    ("geoalchemy2", "SQLAlchemy"),
    ("psycopg", "psycopg (driver, wire)"),
    ("pydantic", "pydantic (validation, JSON)"),
    ("fastapi", "FastAPI / Starlette"),
    ("starlette", "FastAPI / Starlette"),
    ("anyio", "threads (anyio)"),
    ("uvicorn", "uvicorn / HTTP parsing"),
    ("httptools", "uvicorn / HTTP parsing"),
    ("asyncio", "event loop"),
    ("jwt", "JWT"),
    ("json", "json"),
    ("logging", "logging"),
    ("threading", "threads (anyio)"),
)


def _cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of these processes so far (``/proc/<pid>/stat`` fields 14 and 15)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / tick


def _postgres_pids() -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() in {"postgres", "postmaster"}:
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def _owner(stack: str) -> str:
    for frame in reversed(stack.split(";")):
        for needle, owner in OWNERS:
            if needle in frame:
                return owner
    return "other (CPython, C extensions)"


def _step(stack: str) -> str:
    """The innermost campo function on the stack (``module.function``), or the framework."""
    for frame in reversed(stack.split(";")):
        name, _, where = frame.partition(" (")
        path = where.split(":")[0]  # relative to the server's directory, as py-spy prints it
        if path.startswith(("geo/", "api/")):
            return f"{path.removesuffix('.py').replace('/', '.')}.{name.rpartition('.')[2]}"
    return "outside campo's code (server, framework)"


def _split(raw: Path) -> tuple[dict[str, int], dict[str, int]]:
    """py-spy's collapsed stacks (``stack count`` per line) summed by the innermost library and
    by the innermost campo function."""
    owners: collections.Counter[str] = collections.Counter()
    steps: collections.Counter[str] = collections.Counter()
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            owners[_owner(stack)] += int(count)
            steps[_step(stack)] += int(count)
    return dict(owners), dict(steps)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--addresses", type=int, default=50_000)
    parser.add_argument("--fixes", type=int, default=200_000)
    parser.add_argument("--series", type=int, default=600)
    args = parser.parse_args()
    owner, _app = fresh_database()
    tenant_id, agents = _seed_agents(owner, 3)
    print(f"seeding {args.addresses:,} addresses and {args.fixes:,} fixes ...", flush=True)
    _seed_portfolio(owner, tenant_id, len(agents), args.addresses, args.fixes)
    jobs = _jobs(owner, tenant_id)
    settings = get_settings()
    (u1, a1), (u2, a2) = agents[0], agents[1]
    token1 = issue_token(Principal(tenant_id, u1, "agent", a1), settings)[0]
    token2 = issue_token(Principal(tenant_id, u2, "agent", a2), settings)[0]

    bare: list[float] = []
    with psycopg.connect(libpq_url(owner), autocommit=True) as conn:
        for case_id, lon, lat in jobs[a1][: args.series]:
            started = time.perf_counter()
            conn.execute(BARE, (lon, lat, lon, lat, tenant_id, case_id), prepare=True).fetchone()
            bare.append((time.perf_counter() - started) * 1000)

    with served(1) as (url, pid), httpx2.Client(base_url=url, timeout=30) as http:
        floor = []
        for _ in range(args.series):
            started = time.perf_counter()
            http.get("/v1/nothing-here", headers={"Authorization": f"Bearer {token1}"})
            floor.append((time.perf_counter() - started) * 1000)
        for job in jobs[a1][:50]:  # warm-up
            _check_in(http, token1, job)
        postgres = _postgres_pids()
        me = os.getpid()
        before = (_cpu_seconds([pid]), _cpu_seconds(postgres), _cpu_seconds([me]))
        started = time.perf_counter()
        series = [_check_in(http, token1, job) for job in jobs[a1][50 : 50 + args.series]]
        wall = time.perf_counter() - started
        after = (_cpu_seconds([pid]), _cpu_seconds(postgres), _cpu_seconds([me]))
        per = [(b - a) * 1000 / len(series) for a, b in zip(before, after, strict=True)]
        b50, f50, s50 = percentile(bare, 50), percentile(floor, 50), percentile(series, 50)
        print(
            f"floor: bare SQL p50 {b50 * 1000:.0f} µs; an empty request (404 through every "
            f"middleware) p50 {f50:.2f} ms = {f50 / b50:.1f}x the bare SQL",
            flush=True,
        )
        print(
            f"check-in in series: p50 {s50:.2f} ms ({s50 / b50:.1f}x the bare SQL, "
            f"{s50 / f50:.1f}x the empty request); {len(series) / wall:.0f}/s",
            flush=True,
        )
        print(
            f"CPU per check-in: server {per[0]:.2f} ms, PostgreSQL {per[1]:.2f} ms, this client "
            f"{per[2]:.2f} ms; total {sum(per):.2f} ms (1,000/s on 2 cores allows 2.0 ms)",
            flush=True,
        )
        spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
        if not Path(spy).exists():
            print("py-spy is not installed: no split by library", flush=True)
            return
        with tempfile.TemporaryDirectory() as tmp:
            raw = Path(tmp) / "checkin.txt"
            recorder = subprocess.Popen(  # noqa: S603 - py-spy from this environment
                [
                    spy,
                    "record",
                    "--pid",
                    str(pid),
                    "--rate",
                    "250",
                    "--format",
                    "raw",
                    "--output",
                    str(raw),
                    "--nonblocking",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            time.sleep(1.0)
            for job in jobs[a2][: args.series]:
                _check_in(http, token2, job)
            recorder.send_signal(signal.SIGINT)  # py-spy writes its file on an interrupt
            _out, err = recorder.communicate(timeout=30)
            if not raw.exists():
                print(f"py-spy could not sample: {err.decode(errors='replace')[:300]}")
                return
            if os.environ.get("CAMPO_PROFILE_KEEP"):
                shutil.copy(raw, os.environ["CAMPO_PROFILE_KEEP"])
            owners, steps = _split(raw)
    for title, split in (("innermost library", owners), ("innermost campo function", steps)):
        total = sum(split.values())
        print(f"server CPU by {title} ({total:,} samples of busy threads):")
        for owner, count in sorted(split.items(), key=lambda item: -item[1])[:14]:
            print(f"  {owner:<58} {100 * count / total:5.1f} %  ~{per[0] * count / total:.2f} ms")


if __name__ == "__main__":
    main()
