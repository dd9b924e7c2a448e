"""Check-in verification through HTTP, beside the bare SQL distance check, in one run.

200,000 addresses (one open case each, spread over 51 agents) and 1,000,000 GPS fixes stored.
(a) One client in series: p50/p99 of ``POST /v1/visits/check-in`` (geofence, accuracy and
    every anti-spoofing rule over the agent's trail, the fix stored, the visit written) versus
    the bare ``ST_DWithin`` + ``ST_Distance`` by address id, prepared, on one connection.
    Target: endpoint p50 within 10x the bare query's.
(b) 50 agents at once: check-ins per second and p99. Target: >= 1,000/s, p99 < 100 ms.
(c) An offline batch, ``POST /v1/me/sync`` with 500 fixes and 20 check-ins, beside the same
    500 fixes alone, alternating, each batch a fresh agent day. Target: <= 2x.
(d) One OsmAnd / Traccar position, ``GET /osmand``, beside a bare single-row INSERT into
    ``gps_fixes`` on one connection. Target: p50 <= 10x.
(e) Check-ins in series while the demo tenant's day (2,000 cases, 20 agents) is planned
    with a 60-second budget by a job worker beside the server, beside the same series at
    rest just before. Target: p99 within 1.5x.

Every debtor authorised visits, and the bench tenant's policy allows contacts at any hour of
any day, so the bench measures the same path whatever day and hour it runs (Ley 2300's rules
are still evaluated for every check-in, and repeats within a day are judged second contacts).
The series agent checks in a thousand times within seconds, each check-in storing its fix, so
its approach window holds hundreds of fixes by the end (a field app records one every 30 s).

Run: ``.venv/bin/python -m bench.checkin``.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import threading
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx2
import psycopg
from sqlalchemy import text

from api.security import issue_token
from bench.common import fresh_database, job_worker, percentile, server
from bench.gps import _fixes_of, _seed_agents
from geo.accounts.users import Principal, tenant_by_slug
from geo.contacts.rules import next_contact_day
from geo.core.db import libpq_url, owner_session, tenant_session
from geo.core.settings import get_settings
from geo.core.tenant_settings import tenant_settings
from geo.demo.portfolio import DEMO_SLUG, seed

BARE = (
    "SELECT ST_DWithin(a.point::geography, ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography, 75),"
    " ST_Distance(a.point::geography, ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography)"
    " FROM addresses a WHERE a.tenant_id = %s AND a.id = %s"
)


def _seed_portfolio(owner: str, tenant_id: int, agents: int, addresses: int, fixes: int) -> None:
    with psycopg.connect(libpq_url(owner), autocommit=True) as conn:
        conn.execute("SELECT setseed(0.42)")
        conn.execute(
            "INSERT INTO debtors (tenant_id, document_type, document_number, full_name, "
            "authorised_channels) "
            "SELECT %s, 'CC', 'B' || g, 'Deudor ' || g, '{visit}' FROM generate_series(1, %s) g",
            (tenant_id, addresses),
        )
        days = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
        policy = {
            "contact_hours": {day: ["00:00", "23:59:59"] for day in days},
            "contact_holidays": None,
        }
        conn.execute(
            "UPDATE tenants SET settings = settings || %s::jsonb WHERE id = %s",
            (json.dumps(policy), tenant_id),
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
    parser.add_argument("--batches", type=int, default=10, help="offline batches of each kind")
    args = parser.parse_args()
    owner, _app = fresh_database()
    # One agent for the series, the concurrent ones, one for the offline batches.
    tenant_id, agents = _seed_agents(owner, args.concurrent + 2)
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

        _spare_user, spare = agents[-1]
        spare_token = tokens[spare]
        _offline(url, spare_token, jobs[spare][: 20 * args.batches], args.batches)
        _osmand(url, owner, tenant_id, agents[0][1], args.series)
        _while_planning(url, tokens[agents[0][1]], jobs[agents[0][1]][-2 * args.series :])


def _offline(url: str, token: str, cases: list[tuple[int, float, float]], rounds: int) -> None:
    """(c): 500 fixes with and without 20 check-ins in the same batch, alternating."""
    alone: list[float] = []
    mixed: list[float] = []
    start = datetime.now(UTC) - timedelta(hours=rounds * 2 + 2)
    with httpx2.Client(base_url=url, timeout=60) as http:
        for r in range(rounds):
            for kind, sink in (("alone", alone), ("mixed", mixed)):
                day = start + timedelta(hours=2 * r + (kind == "mixed"))
                fixes = _fixes_of(r * 2 + (kind == "mixed"), 500, day, 7)
                body: dict[str, Any] = {"fixes": fixes}
                if kind == "mixed":
                    picked = cases[r * 20 : (r + 1) * 20]
                    body["checkins"] = [
                        {
                            "id": str(uuid.uuid4()),
                            "case_id": case_id,
                            "fix": {
                                **fixes[20 * k + 19],
                                "id": str(uuid.uuid4()),
                                "lon": lon + 0.0001,
                                "lat": lat,
                            },
                        }
                        for k, (case_id, lon, lat) in enumerate(picked)
                    ]
                began = time.perf_counter()
                answer = http.post(
                    "/v1/me/sync", json=body, headers={"Authorization": f"Bearer {token}"}
                )
                sink.append((time.perf_counter() - began) * 1000)
                if answer.status_code != 200:
                    raise RuntimeError(answer.text[:300])
                done = [c["status"] for c in answer.json()["checkins"]]
                if done != ["done"] * len(body.get("checkins", [])):
                    raise RuntimeError(f"check-ins refused: {answer.text[:300]}")
    m, a = statistics.median(mixed), statistics.median(alone)
    print(
        f"(c) offline batch, medians of {rounds}: 500 fixes + 20 check-ins {m:.1f} ms, the 500 "
        f"fixes alone {a:.1f} ms: {m / a:.2f}x (target <= 2x)",
        flush=True,
    )


INSERT_ONE = (
    "INSERT INTO gps_fixes (tenant_id, agent_id, id, recorded_at, point, accuracy_m, source) "
    "VALUES (%s, %s, %s, %s, ST_SetSRID(ST_MakePoint(%s, %s), 4326), %s, 'osmand')"
)


def _osmand(url: str, owner: str, tenant_id: int, agent_id: int, count: int) -> None:
    """(d): single OsmAnd positions over HTTP beside a bare single-row INSERT."""
    with psycopg.connect(libpq_url(owner), autocommit=True) as conn:
        identifier = str(uuid.uuid4())
        conn.execute(
            "INSERT INTO devices (tenant_id, agent_id, protocol, identifier) "
            "VALUES (%s, %s, 'osmand', %s)",
            (tenant_id, agent_id, identifier),
        )
        bare: list[float] = []
        start = datetime.now(UTC) - timedelta(hours=3)
        for k in range(count + 50):
            began = time.perf_counter()
            conn.execute(
                INSERT_ONE,
                (tenant_id, agent_id, uuid.uuid4(), start + timedelta(seconds=k), -74.1, 4.6, 8.0),
                prepare=True,
            )
            bare.append((time.perf_counter() - began) * 1000)
    sent: list[float] = []
    start = datetime.now(UTC) - timedelta(hours=2)
    with httpx2.Client(base_url=url, timeout=30) as http:
        for k in range(count + 50):
            params = {
                "id": identifier,
                "timestamp": str(int((start + timedelta(seconds=k)).timestamp())),
                "lat": "4.6",
                "lon": "-74.1",
                "accuracy": "8",
            }
            began = time.perf_counter()
            answer = http.get("/osmand", params=params)
            sent.append((time.perf_counter() - began) * 1000)
            if answer.status_code != 200:
                raise RuntimeError(answer.text[:300])
    bare, sent = bare[50:], sent[50:]  # warm-up
    p50, b50 = percentile(sent, 50), percentile(bare, 50)
    print(
        f"(d) /osmand, {count} positions in series: p50 {p50:.2f} ms p99 "
        f"{percentile(sent, 99):.2f} ms; bare INSERT p50 {b50 * 1000:.0f} µs: "
        f"{p50 / b50:.1f}x (target <= 10x)",
        flush=True,
    )


def _while_planning(url: str, token: str, cases: list[tuple[int, float, float]]) -> None:
    """(e): check-ins at rest, then while a job worker plans the demo's day."""
    seed()
    with owner_session() as session:
        demo = tenant_by_slug(session, DEMO_SLUG).id
        dispatcher = session.execute(
            text("SELECT id FROM users WHERE tenant_id = :t AND role = 'dispatcher'"), {"t": demo}
        ).scalar_one()
    staff = {
        "Authorization": "Bearer "
        + issue_token(Principal(demo, dispatcher, "dispatcher", None), get_settings())[0]
    }
    with tenant_session(demo) as session:  # a day the law allows visits (not a Sunday)
        day = next_contact_day(date.today(), settings=tenant_settings(session, demo), step=1)
    half = len(cases) // 2
    with job_worker(), httpx2.Client(base_url=url, timeout=60) as http:
        rest = [_check_in(http, token, job) for job in cases[:half]]
        made = http.post(
            "/v1/plans", json={"date": day.isoformat(), "budget_s": 60}, headers=staff
        ).json()
        busy: list[float] = []
        status = made["status"]
        for job in cases[half:]:
            busy.append(_check_in(http, token, job))
            status = http.get(f"/v1/plans/{made['id']}", headers=staff).json()["status"]
            if status in ("done", "failed"):
                break
    r99, b99 = percentile(rest, 99), percentile(busy, 99)
    print(
        f"(e) check-ins in series, at rest p50 {percentile(rest, 50):.1f} ms p99 {r99:.1f} ms; "
        f"while a worker plans the demo day ({len(busy)} check-ins, plan {status}) p50 "
        f"{percentile(busy, 50):.1f} ms p99 {b99:.1f} ms: {b99 / r99:.2f}x (target <= 1.5x)",
        flush=True,
    )


if __name__ == "__main__":
    main()
