"""Check-in verification through HTTP, beside the bare SQL distance check, in one run.

200,000 addresses (one open case each, spread over 51 agents) and 1,000,000 GPS fixes stored.
(a) One client in series: p50/p99 of ``POST /v1/visits/check-in`` (geofence, accuracy and
    every anti-spoofing rule over the agent's trail, the fix stored, the visit written) versus
    the bare ``ST_DWithin`` + ``ST_Distance`` by address id, prepared, on one connection.
    Target: endpoint p50 within 10x the bare query's.
(b) 50 agents at once: check-ins per second and p99. Target: >= 1,000/s, p99 < 100 ms.

Run: ``.venv/bin/python -m bench.checkin``.
"""

from __future__ import annotations

import argparse
import random
import statistics
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx2
import psycopg

from api.security import issue_token
from bench.common import fresh_database, percentile, server
from bench.gps import _seed_agents
from geo.accounts.users import Principal
from geo.core.db import libpq_url
from geo.core.settings import get_settings

BARE = (
    "SELECT ST_DWithin(a.point::geography, ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography, 75),"
    " ST_Distance(a.point::geography, ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography)"
    " FROM addresses a WHERE a.tenant_id = %s AND a.id = %s"
)


def _seed_portfolio(owner: str, tenant_id: int, agents: int, addresses: int, fixes: int) -> None:
    with psycopg.connect(libpq_url(owner), autocommit=True) as conn:
        conn.execute("SELECT setseed(0.42)")
        conn.execute(
            "INSERT INTO debtors (tenant_id, document_type, document_number, full_name) "
            "SELECT %s, 'CC', 'B' || g, 'Deudor ' || g FROM generate_series(1, %s) g",
            (tenant_id, addresses),
        )
        conn.execute(
            "INSERT INTO addresses (tenant_id, debtor_id, raw_text, city, point, geocode_quality) "
            "SELECT tenant_id, id, 'Calle ' || id, 'Bogotá', ST_SetSRID(ST_MakePoint("
            "-74.15 + random() * 0.1, 4.55 + random() * 0.2), 4326), 'provided' "
            "FROM debtors WHERE tenant_id = %s",
            (tenant_id,),
        )
        conn.execute(
            "WITH ag AS (SELECT array_agg(id ORDER BY id) AS ids FROM agents WHERE tenant_id = %s) "
            "INSERT INTO cases (tenant_id, external_ref, debtor_id, address_id, product, "
            "outstanding_cop, days_past_due, assigned_agent_id, assigned_at) "
            "SELECT a.tenant_id, 'C' || a.id, a.debtor_id, a.id, 'libranza', 1000000, 45, "
            "ag.ids[1 + a.id %% cardinality(ag.ids)], now() FROM addresses a, ag "
            "WHERE a.tenant_id = %s",
            (tenant_id, tenant_id),
        )
        # Each agent's last hours, one fix every 10 s, ending five minutes ago.
        conn.execute(
            "INSERT INTO gps_fixes (tenant_id, agent_id, id, recorded_at, point, accuracy_m) "
            "SELECT %s, ag.id, gen_random_uuid(), now() - interval '5 minutes' - g * interval "
            "'10 seconds', ST_SetSRID(ST_MakePoint(-74.15 + random() * 0.1, 4.55 + random() * "
            "0.2), 4326), 5 + random() * 20 FROM agents ag, generate_series(1, %s) g "
            "WHERE ag.tenant_id = %s",
            (tenant_id, fixes // agents, tenant_id),
        )
        conn.execute("ANALYZE")


def _jobs(owner: str, tenant_id: int) -> dict[int, list[tuple[int, float, float]]]:
    """Per agent, its cases as (case id, lon, lat), shuffled."""
    with psycopg.connect(libpq_url(owner)) as conn:
        rows = conn.execute(
            "SELECT c.assigned_agent_id, c.id, ST_X(a.point), ST_Y(a.point) FROM cases c "
            "JOIN addresses a ON a.tenant_id = c.tenant_id AND a.id = c.address_id "
            "WHERE c.tenant_id = %s",
            (tenant_id,),
        ).fetchall()
    jobs: dict[int, list[tuple[int, float, float]]] = {}
    for agent_id, case_id, lon, lat in rows:
        jobs.setdefault(agent_id, []).append((case_id, lon, lat))
    for cases in jobs.values():
        random.Random(7).shuffle(cases)
    return jobs


def _body(case_id: int, lon: float, lat: float) -> dict[str, Any]:
    now = datetime.now(UTC)
    fix = {
        "id": str(uuid.uuid4()),
        "recorded_at": (now - timedelta(seconds=2)).isoformat(),
        "lon": lon + 0.0001,
        "lat": lat,
        "accuracy_m": 8.0,
        "battery_pct": 70,
    }
    return {"id": str(uuid.uuid4()), "case_id": case_id, "fix": fix}


def _check_in(http: httpx2.Client, token: str, job: tuple[int, float, float]) -> float:
    started = time.perf_counter()
    answer = http.post(
        "/v1/visits/check-in", json=_body(*job), headers={"Authorization": f"Bearer {token}"}
    )
    took = (time.perf_counter() - started) * 1000
    if answer.status_code != 201:
        raise RuntimeError(answer.text[:300])
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--addresses", type=int, default=200_000)
    parser.add_argument("--fixes", type=int, default=1_000_000)
    parser.add_argument("--series", type=int, default=1000)
    parser.add_argument("--concurrent", type=int, default=50)
    parser.add_argument("--per-agent", type=int, default=60)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    owner, _app = fresh_database()
    tenant_id, agents = _seed_agents(owner, args.concurrent + 1)  # one more for the series
    print(f"seeding {args.addresses:,} addresses and {args.fixes:,} fixes ...", flush=True)
    _seed_portfolio(owner, tenant_id, len(agents), args.addresses, args.fixes)
    jobs = _jobs(owner, tenant_id)
    settings = get_settings()
    tokens = {a: issue_token(Principal(tenant_id, u, "agent", a), settings)[0] for u, a in agents}

    first_agent = agents[0][1]
    series_jobs = jobs[first_agent][: args.series + 50]
    bare: list[float] = []
    with psycopg.connect(libpq_url(owner), autocommit=True) as conn:
        for case_id, lon, lat in series_jobs:
            address_id = case_id  # one address per case, created in the same order
            started = time.perf_counter()
            conn.execute(BARE, (lon, lat, lon, lat, tenant_id, address_id), prepare=True).fetchone()
            bare.append((time.perf_counter() - started) * 1000)
    bare = bare[50:]

    with server(args.workers) as url, httpx2.Client(base_url=url, timeout=30) as http:
        series = [_check_in(http, tokens[first_agent], job) for job in series_jobs]
        series = series[50:]  # warm-up
        p50, p99, b50, b99 = (
            percentile(series, 50),
            percentile(series, 99),
            percentile(bare, 50),
            percentile(bare, 99),
        )
        print(
            f"(a) in series, {len(series)} check-ins: endpoint p50 {p50:.2f} ms p99 {p99:.2f} "
            f"ms; bare SQL p50 {b50 * 1000:.0f} µs p99 {b99 * 1000:.0f} µs; "
            f"p50 ratio {p50 / b50:.1f}x (target <= 10x)",
            flush=True,
        )

        latencies: list[float] = []
        lock = threading.Lock()

        def agent_loop(agent_id: int) -> None:
            mine = jobs[agent_id][-args.per_agent :]
            with httpx2.Client(base_url=url, timeout=30) as own:
                took = [_check_in(own, tokens[agent_id], job) for job in mine]
            with lock:
                latencies.extend(took)

        threads = [
            threading.Thread(target=agent_loop, args=(a,))
            for _u, a in agents[1 : 1 + args.concurrent]
        ]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
        rate = len(latencies) / elapsed
        print(
            f"(b) {len(threads)} agents at once, {len(latencies):,} check-ins: {rate:,.0f}/s, "
            f"p50 {statistics.median(latencies):.1f} ms, p99 {percentile(latencies, 99):.1f} ms "
            f"(target >= 1,000/s, p99 < 100 ms)",
            flush=True,
        )


if __name__ == "__main__":
    main()
