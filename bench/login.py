"""A flood of wrong passwords against one server, beside the same server at rest.

Each password check costs Argon2's memory (64 MiB at the production cost), so a flood is a
denial of service as much as a guessing attack. The bench measures, on a real server with
production hashing: how the flood is answered (401 until the throttle, then 429 with
``Retry-After``), the server's resident memory before and at the peak of the flood, and
``/health`` latency at rest and during the flood.

Run: ``.venv/bin/python -m bench.login --attempts 400 --concurrency 32``
"""

from __future__ import annotations

import argparse
import os
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx2

from bench.common import fresh_database, percentile, served
from geo.accounts.users import create_user
from geo.core.db import owner_session, tenant_session
from geo.core.settings import get_settings
from geo.provisioning.tenants import create_tenant


def rss_mib(pid: int) -> float:
    """Resident memory of a process and its children (the server's workers), in MiB."""
    total = 0
    pids = [pid] + [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    for each in pids:
        for line in Path(f"/proc/{each}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total / 1024


def health_ms(url: str, samples: int) -> list[float]:
    times = []
    with httpx2.Client(base_url=url, timeout=30) as http:
        for _ in range(samples):
            began = time.perf_counter()
            http.get("/health")
            times.append((time.perf_counter() - began) * 1000)
            time.sleep(0.02)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--attempts", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    for key in ("CAMPO_ARGON2_TIME_COST", "CAMPO_ARGON2_MEMORY_KIB"):
        os.environ.pop(key, None)  # the production cost, as the server will hash
    get_settings.cache_clear()
    fresh_database()
    with owner_session() as session:
        tenant_id = create_tenant(session, slug="flood", name="Flood").id
    with tenant_session(tenant_id) as session:
        create_user(
            session,
            tenant_id=tenant_id,
            email="ana@flood.co",
            full_name="Ana",
            role="dispatcher",
            password="the right password",  # noqa: S106 - a bench user
        )
    with served(workers=1) as (url, pid):
        at_rest = health_ms(url, 50)
        memory_before = rss_mib(pid)
        peak = memory_before
        statuses: Counter[int] = Counter()
        during: list[float] = []
        done = threading.Event()

        def attempt(k: int) -> int:
            form = {
                "username": f"user{k % 50}@flood.co",
                "password": f"guess-{k}",
                "client_id": "flood",
            }
            with httpx2.Client(base_url=url, timeout=60) as http:
                return int(http.post("/v1/auth/token", data=form).status_code)

        def watch() -> None:
            nonlocal peak
            while not done.is_set():
                peak = max(peak, rss_mib(pid))
                during.extend(health_ms(url, 1))

        watcher = threading.Thread(target=watch)
        watcher.start()
        began = time.perf_counter()
        with ThreadPoolExecutor(args.concurrency) as pool:
            statuses.update(pool.map(attempt, range(args.attempts)))
        flood_s = time.perf_counter() - began
        done.set()
        watcher.join()
    print(f"login flood: {args.attempts} wrong passwords, {args.concurrency} at once, 50 accounts")
    print(f"  answers        {dict(sorted(statuses.items()))} in {flood_s:.1f} s")
    print(f"  server memory  {memory_before:.0f} MiB at rest, {peak:.0f} MiB at the flood's peak")
    print(
        f"  /health p50    {percentile(at_rest, 50):.1f} ms at rest, "
        f"{percentile(during, 50):.1f} ms during (p95 {percentile(during, 95):.1f} ms)"
    )


if __name__ == "__main__":
    main()
