"""``/health`` during a burst of syncs, beside ``/health`` at rest, in one run.

100 clients (``--clients``) each send 500-fix batches through ``POST /v1/me/sync`` as fast as
the server takes them, for ``--seconds``; a probe in a process of its own asks ``/health``
every 50 ms, as an orchestrator's liveness probe would, first at rest and then during the
burst. Target: p99 under 100 ms during the burst.

Run: ``.venv/bin/python -m bench.health``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import threading
import time
from datetime import UTC, datetime, timedelta

import httpx2

from api.security import issue_token
from bench.common import fresh_database, percentile, server
from bench.gps import _fixes_of, _seed_agents
from geo.accounts.users import Principal
from geo.core.settings import get_settings

BATCH = 500


def _probe(url: str, seconds: float, out: multiprocessing.Queue[list[float]]) -> None:
    took: list[float] = []
    with httpx2.Client(base_url=url, timeout=30) as http:
        stop = time.monotonic() + seconds
        while time.monotonic() < stop:
            began = time.perf_counter()
            http.get("/health").raise_for_status()
            took.append((time.perf_counter() - began) * 1000)
            time.sleep(0.05)
    out.put(took)


def _measure(url: str, seconds: float) -> list[float]:
    results: multiprocessing.Queue[list[float]] = multiprocessing.Queue()
    probe = multiprocessing.Process(target=_probe, args=(url, seconds, results))
    probe.start()
    took = results.get()
    probe.join()
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    owner, _app = fresh_database()
    tenant_id, agents = _seed_agents(owner, args.clients)
    settings = get_settings()
    start = datetime.now(UTC) - timedelta(days=2)
    bodies = []
    for index, (user, agent) in enumerate(agents):
        token = issue_token(Principal(tenant_id, user, "agent", agent), settings)[0]
        fixes = _fixes_of(index, BATCH * 12, start, 2)  # more than a client sends in the burst
        batches = [json.dumps({"fixes": fixes[k : k + BATCH]}) for k in range(0, len(fixes), BATCH)]
        bodies.append((token, batches))
    with server(args.workers) as url:
        rest = _measure(url, min(args.seconds, 10))
        done = threading.Event()
        sent = [0]

        def client(token: str, batches: list[str]) -> None:
            with httpx2.Client(base_url=url, timeout=120) as http:
                for body in batches:
                    if done.is_set():
                        return
                    http.post(
                        "/v1/me/sync",
                        content=body,
                        headers={
                            "Authorization": f"Bearer {token}",
                            "Content-Type": "application/json",
                        },
                    ).raise_for_status()
                    sent[0] += 1

        threads = [threading.Thread(target=client, args=pair) for pair in bodies]
        for thread in threads:
            thread.start()
        time.sleep(2)  # the burst under way
        busy = _measure(url, args.seconds)
        done.set()
        for thread in threads:
            thread.join()
    print(
        f"/health at rest: p50 {percentile(rest, 50):.1f} ms, p99 {percentile(rest, 99):.1f} ms; "
        f"during {args.clients} clients sending {BATCH}-fix batches ({sent[0]} batches): p50 "
        f"{percentile(busy, 50):.1f} ms, p99 {percentile(busy, 99):.1f} ms, max {max(busy):.1f} "
        "ms (target p99 < 100 ms)"
    )


if __name__ == "__main__":
    main()
