"""GPS benchmarks, each beside its baseline in the same run.

1. Ingest: N fixes from A agents through ``POST /v1/me/sync`` (batches of 500, several
   concurrent clients, real HTTP on loopback) versus a binary ``COPY`` of the same rows into
   the same table (primary key and GiST index in place). Target: API >= 30 % of COPY.
2. Re-sync: the same N fixes again (all duplicates), versus the first pass.
3. Live positions with the N fixes stored: p50/p99 of ``GET /v1/agents/live`` versus the bare
   SQL it wraps, on one connection as the application role.
4. Trail of one agent-day (8,640 fixes, one every 10 s): path, stops, distance and battery
   timeline, versus bare SQL fetching the same rows.

Run: ``.venv/bin/python -m bench.gps`` (``--fixes 100000`` for a quick look).
"""

from __future__ import annotations

import argparse
import json
import math
import random
import statistics
import struct
import threading
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx2
import psycopg
from psycopg.adapt import Dumper
from psycopg.pq import Format

from api.security import issue_token
from bench.common import fresh_database, percentile, server
from geo.accounts.passwords import hash_password
from geo.accounts.users import Principal
from geo.core.db import libpq_url, tenant_session
from geo.core.settings import get_settings
from geo.tracking.live import LIVE_SQL
from geo.tracking.telemetry import sync_fixes
from geo.tracking.trails import agent_trail

BATCH = 500


def _seed_agents(owner: str, agents: int) -> tuple[int, list[tuple[int, int]]]:
    """One tenant with ``agents`` field agents, tracked all day; (tenant, [(user, agent)])."""
    digest = hash_password("bench-password")
    with psycopg.connect(libpq_url(owner), autocommit=True) as conn:
        tenant_id = conn.execute(
            "INSERT INTO tenants (slug, name, settings) VALUES ('bench', 'Bench', "
            '\'{"gps_shift_only": false, "gps_horizon_days": 30}\') RETURNING id'
        ).fetchone()[0]  # type: ignore[index]
        conn.execute(
            "INSERT INTO users (tenant_id, email, full_name, role, password_hash) "
            "SELECT %s, 'agent' || g || '@bench.co', 'Agent ' || g, 'agent', %s "
            "FROM generate_series(1, %s) g",
            (tenant_id, digest, agents),
        )
        conn.execute(
            "INSERT INTO agents (tenant_id, user_id, code, base_point, travel_mode, "
            "shift_start, shift_end, daily_capacity) "
            "SELECT tenant_id, id, 'A' || id, ST_SetSRID(ST_MakePoint(-74.08, 4.65), 4326), "
            "'motorbike', '06:00', '22:00', 20 FROM users WHERE tenant_id = %s ORDER BY id",
            (tenant_id,),
        )
        pairs = conn.execute(
            "SELECT user_id, id FROM agents WHERE tenant_id = %s ORDER BY id", (tenant_id,)
        ).fetchall()
    return tenant_id, [(int(u), int(a)) for u, a in pairs]


def _fixes_of(agent_index: int, count: int, start: datetime, step_s: int) -> list[dict[str, Any]]:
    """A plausible day of one agent: a random walk across Bogotá with a draining battery."""
    rng = random.Random(agent_index)
    lon, lat = -74.15 + rng.random() * 0.1, 4.55 + rng.random() * 0.2
    fixes = []
    for k in range(count):
        lon += rng.gauss(0, 0.0001)
        lat += rng.gauss(0, 0.0001)
        at = start + timedelta(seconds=k * step_s)
        fixes.append(
            {
                "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                "recorded_at": at.isoformat(),
                "lat": round(lat, 7),
                "lon": round(lon, 7),
                "accuracy_m": round(3 + rng.random() * 20, 1),
                "speed_mps": round(rng.random() * 8, 2),
                "heading_deg": round(rng.random() * 360, 1),
                "altitude_m": 2600.0,
                "battery_pct": max(5.0, 100 - k * 0.01),
                "charging": False,
                "mock": False,
            }
        )
    return fixes


class EWKB(bytes):
    """A point as little-endian EWKB: what PostGIS's ``geometry_recv`` reads in binary COPY."""


def _ewkb(lon: float, lat: float) -> EWKB:
    return EWKB(struct.pack("<BIIdd", 1, 0x20000001, 4326, lon, lat))


def _geometry_dumper(oid: int) -> type[Dumper]:
    class GeometryDumper(Dumper):
        format = Format.BINARY

        def dump(self, obj: Any) -> bytes:
            return bytes(obj)

    GeometryDumper.oid = oid
    return GeometryDumper


def _copy_baseline(
    owner: str, tenant_id: int, batches: list[tuple[int, list[dict[str, Any]]]]
) -> float:
    """Binary COPY of the very same rows into gps_fixes; returns rows per second."""
    rows = [
        (
            tenant_id,
            agent_id,
            uuid.UUID(f["id"]),
            datetime.fromisoformat(f["recorded_at"]),
            _ewkb(f["lon"], f["lat"]),
            f["accuracy_m"],
            f["speed_mps"],
            f["heading_deg"],
            f["altitude_m"],
            f["battery_pct"],
            f["charging"],
            f["mock"],
        )
        for agent_id, fixes in batches
        for f in fixes
    ]
    columns = (
        "tenant_id, agent_id, id, recorded_at, point, accuracy_m, speed_mps, heading_deg, "
        "altitude_m, battery_pct, charging, mock"
    )
    with psycopg.connect(libpq_url(owner)) as conn:
        geometry = conn.execute("SELECT 'geometry'::regtype::oid").fetchone()[0]  # type: ignore[index]
        conn.adapters.register_dumper(EWKB, _geometry_dumper(geometry))
        started = time.perf_counter()
        with conn.cursor().copy(f"COPY gps_fixes ({columns}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(
                [
                    "int8",
                    "int8",
                    "uuid",
                    "timestamptz",
                    geometry,
                    "float8",
                    "float8",
                    "float8",
                    "float8",
                    "float8",
                    "bool",
                    "bool",
                ]
            )
            for row in rows:
                copy.write_row(row)
        conn.commit()
        elapsed = time.perf_counter() - started
        conn.execute("TRUNCATE gps_fixes, agent_positions")
        conn.commit()
    return len(rows) / elapsed


def _send_all(
    url: str, bodies: list[tuple[str, bytes]], clients: int
) -> tuple[float, Counter[str]]:
    """Post every body from ``clients`` threads; returns (seconds, statuses)."""
    queue = list(reversed(bodies))
    lock = threading.Lock()
    statuses: Counter[str] = Counter()
    errors: list[str] = []

    def worker() -> None:
        with httpx2.Client(base_url=url, timeout=120) as http:
            while True:
                with lock:
                    if not queue:
                        return
                    token, body = queue.pop()
                headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
                answer = http.post("/v1/me/sync", content=body, headers=headers)
                if answer.status_code != 200:
                    errors.append(answer.text[:200])
                    return
                counts = Counter(item["status"] for item in answer.json()["fixes"])
                with lock:
                    statuses.update(counts)

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise RuntimeError(f"sync failed: {errors[0]}")
    return time.perf_counter() - started, statuses


def _live(
    url: str, token: str, app: str, tenant_id: int, rounds: int
) -> tuple[list[float], list[float]]:
    endpoint: list[float] = []
    with httpx2.Client(base_url=url, timeout=30) as http:
        for _ in range(rounds):
            started = time.perf_counter()
            answer = http.get("/v1/agents/live", headers={"Authorization": f"Bearer {token}"})
            endpoint.append((time.perf_counter() - started) * 1000)
            assert answer.status_code == 200, answer.text
    bare: list[float] = []
    params = {"tenant_id": tenant_id, "now": datetime.now(UTC), "stale_s": 900.0}
    sql = str(LIVE_SQL).replace(":tenant_id", "%(tenant_id)s").replace(":now", "%(now)s")
    sql = sql.replace(":stale_s", "%(stale_s)s")
    with psycopg.connect(libpq_url(app), autocommit=True) as conn:
        conn.execute("SELECT set_config('app.tenant_id', %s, false)", (str(tenant_id),))
        for _ in range(rounds):
            started = time.perf_counter()
            conn.execute(sql, params).fetchone()
            bare.append((time.perf_counter() - started) * 1000)
    return endpoint, bare


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fixes", type=int, default=1_000_000)
    parser.add_argument("--agents", type=int, default=500)
    parser.add_argument("--clients", type=int, default=8, help="concurrent HTTP clients")
    parser.add_argument("--workers", type=int, default=2, help="server worker processes")
    args = parser.parse_args()
    per_agent = math.ceil(args.fixes / args.agents)

    owner, app = fresh_database()
    tenant_id, agents = _seed_agents(owner, args.agents)
    settings = get_settings()
    tokens = {a: issue_token(Principal(tenant_id, u, "agent", a), settings)[0] for u, a in agents}
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2)
    print(f"generating {per_agent * len(agents):,} fixes for {len(agents)} agents ...", flush=True)
    batches: list[tuple[int, list[dict[str, Any]]]] = []
    for index, (_user, agent_id) in enumerate(agents):
        fixes = _fixes_of(index, per_agent, start, 10)
        batches += [(agent_id, fixes[k : k + BATCH]) for k in range(0, len(fixes), BATCH)]
    random.Random(0).shuffle(batches)
    total = sum(len(f) for _, f in batches)
    bodies = [(tokens[a], json.dumps({"fixes": f}).encode()) for a, f in batches]

    copy_rate = _copy_baseline(owner, tenant_id, batches)
    print(f"COPY baseline        {copy_rate:>10,.0f} fixes/s", flush=True)
    with server(args.workers) as url:
        seconds, statuses = _send_all(url, bodies, args.clients)
        assert statuses == {"stored": total}, statuses
        api_rate = total / seconds
        print(
            f"API ingest           {api_rate:>10,.0f} fixes/s  ({seconds:.1f} s)  "
            f"= {api_rate / copy_rate:.2f}x COPY (target >= 0.30)",
            flush=True,
        )
        seconds, statuses = _send_all(url, bodies, args.clients)
        assert statuses == {"duplicate": total}, statuses
        resync_rate = total / seconds
        print(
            f"API re-sync (dupes)  {resync_rate:>10,.0f} fixes/s  ({seconds:.1f} s)  "
            f"= {resync_rate / api_rate:.2f}x first pass",
            flush=True,
        )

        staff = Principal(tenant_id, agents[0][0], "admin", None)
        with psycopg.connect(libpq_url(owner), autocommit=True) as conn:
            conn.execute("UPDATE users SET role = 'admin' WHERE id = %s", (agents[0][0],))
            conn.execute("ANALYZE")
        endpoint, bare = _live(url, issue_token(staff, settings)[0], app, tenant_id, 300)
        p50, p99 = percentile(endpoint, 50), percentile(endpoint, 99)
        b50, b99 = percentile(bare, 50), percentile(bare, 99)
        print(
            f"live positions ({len(agents)} agents, {total:,} fixes stored): endpoint p50 "
            f"{p50:.2f} ms p99 {p99:.2f} ms; bare SQL p50 {b50:.2f} ms p99 {b99:.2f} ms; "
            f"ratio p50 {p50 / b50:.2f}x",
            flush=True,
        )

    _trail(owner, app, tenant_id, agents[1][1], start + timedelta(days=1))


def _trail(owner: str, app: str, tenant_id: int, agent_id: int, day: datetime) -> None:
    """One agent-day of 8,640 fixes (every 10 s), computed five times."""
    fixes = _fixes_of(99_999, 8640, day, 10)
    with tenant_session(tenant_id) as session:
        for k in range(0, len(fixes), 5000):
            sync_fixes(session, tenant_id=tenant_id, agent_id=agent_id, items=fixes[k : k + 5000])
    end = day + timedelta(days=1)
    timings, bare = [], []
    for _ in range(5):
        with tenant_session(tenant_id) as session:
            started = time.perf_counter()
            trail = agent_trail(session, tenant_id=tenant_id, agent_id=agent_id, start=day, end=end)
            timings.append((time.perf_counter() - started) * 1000)
    with psycopg.connect(libpq_url(app), autocommit=True) as conn:
        conn.execute("SELECT set_config('app.tenant_id', %s, false)", (str(tenant_id),))
        for _ in range(5):
            started = time.perf_counter()
            conn.execute(
                "SELECT recorded_at, point, accuracy_m, battery_pct, charging FROM gps_fixes "
                "WHERE tenant_id = %s AND agent_id = %s AND recorded_at >= %s "
                "AND recorded_at < %s ORDER BY recorded_at",
                (tenant_id, agent_id, day, end),
            ).fetchall()
            bare.append((time.perf_counter() - started) * 1000)
    took, fetch = statistics.median(timings), statistics.median(bare)
    print(
        f"trail of one agent-day ({trail.fixes:,} fixes, {len(trail.stops)} stops, "
        f"{trail.distance_m / 1000:.1f} km): median {took:.0f} ms; bare SQL fetch of the "
        f"same rows {fetch:.0f} ms ({took / fetch:.1f}x)",
        flush=True,
    )


if __name__ == "__main__":
    main()
