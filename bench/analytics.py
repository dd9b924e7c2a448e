"""KPI and contact-hours reports through HTTP, beside the same SQL run directly, in one run.

1,000,000 completed visits over 100,000 cases, 200 agents and half a year, with promises,
payments, closed cases and hexagonal area zones. Each report is fetched from the API
(``GET /v1/analytics/kpis`` per grouping, ``/v1/analytics/contact-hours``) and its SQL is
run bare on one connection of the application role with the tenant set; the median of
``--repeat`` runs of each is compared. Target: the endpoint within 1.5x of the bare query.

Run: ``.venv/bin/python -m bench.analytics``.
"""

from __future__ import annotations

import argparse
import re
import statistics
import time
from datetime import date, timedelta
from typing import Any

import httpx2
import psycopg

from api.security import issue_token
from bench.common import fresh_database, server
from bench.gps import _seed_agents
from geo.accounts.users import Principal
from geo.analytics.contact_hours import CONTACT_HOURS_SQL
from geo.analytics.kpis import KPIS, GroupBy, kpi_sql
from geo.core.db import libpq_url, owner_session
from geo.core.settings import get_settings
from geo.portfolio.zones import hexagon_areas


def _seed(owner: str, tenant_id: int, cases: int, visits: int) -> int:
    """The portfolio, visits, promises, payments and closings; returns the analyst's user id."""
    with psycopg.connect(libpq_url(owner), autocommit=True) as conn:
        conn.execute("SELECT setseed(0.42)")
        conn.execute(
            "INSERT INTO debtors (tenant_id, document_type, document_number, full_name) "
            "SELECT %s, 'CC', 'B' || g, 'Deudor ' || g FROM generate_series(1, %s) g",
            (tenant_id, cases),
        )
        conn.execute(
            "INSERT INTO addresses (tenant_id, debtor_id, raw_text, city, point, geocode_quality) "
            "SELECT tenant_id, id, 'Calle ' || id, 'Bogotá', ST_SetSRID(ST_MakePoint("
            "-74.20 + random() * 0.15, 4.50 + random() * 0.30), 4326), 'provided' "
            "FROM debtors WHERE tenant_id = %s",
            (tenant_id,),
        )
        conn.execute(
            "WITH ag AS (SELECT array_agg(id ORDER BY id) AS ids FROM agents WHERE tenant_id = %s) "
            "INSERT INTO cases (tenant_id, external_ref, debtor_id, address_id, product, "
            "outstanding_cop, days_past_due, assigned_agent_id, assigned_at, created_at) "
            "SELECT a.tenant_id, 'C' || a.id, a.debtor_id, a.id, 'libranza', "
            "round(500000 + random() * 20000000), (random() * 400)::int, "
            "ag.ids[1 + a.id %% cardinality(ag.ids)], now() - interval '200 days' "
            "+ random() * interval '20 days', now() - interval '220 days' FROM addresses a, ag "
            "WHERE a.tenant_id = %s",
            (tenant_id, tenant_id),
        )
        conn.execute(
            "INSERT INTO visits (tenant_id, client_id, case_id, agent_id, checkin_at, "
            "checkin_point, distance_m, verdict, status, outcome, checkout_at) "
            "SELECT c.tenant_id, gen_random_uuid(), c.id, c.assigned_agent_id, at, a.point, "
            "random() * 40, 'accepted', 'completed', "
            "(ARRAY['contact','refused','promise_to_pay','paid','no_one_home','no_one_home',"
            "'no_one_home','wrong_address','moved'])[1 + floor(random() * 9)::int], "
            "at + interval '12 minutes' "
            "FROM generate_series(1, %s) g "
            "JOIN cases c ON c.tenant_id = %s AND c.id = (SELECT min(id) FROM cases "
            "WHERE tenant_id = %s) + g %% %s "
            "JOIN addresses a ON a.tenant_id = c.tenant_id AND a.id = c.address_id, "
            "LATERAL (SELECT date_trunc('day', now() - random() * interval '180 days') "
            "+ interval '12 hours' + random() * interval '10 hours' AS at) t",
            (visits, tenant_id, tenant_id, cases),
        )
        conn.execute(
            "INSERT INTO promises (tenant_id, visit_id, case_id, amount_cop, due_date, "
            "created_at) SELECT tenant_id, id, case_id, 300000, checkin_at::date + 7, checkout_at "
            "FROM visits WHERE tenant_id = %s AND outcome = 'promise_to_pay'",
            (tenant_id,),
        )
        conn.execute(
            "INSERT INTO payments (tenant_id, case_id, paid_on, amount_cop, reference) "
            "SELECT tenant_id, case_id, due_date - (random() * 9)::int, amount_cop, 'p' || id "
            "FROM promises WHERE tenant_id = %s AND random() < 0.6 AND due_date < now()::date",
            (tenant_id,),
        )
        conn.execute(
            "UPDATE cases SET status = (ARRAY['paid','agreement','written_off','withdrawn'])"
            "[1 + floor(random() * 4)::int], closed_at = now() - random() * interval '150 days' "
            "WHERE tenant_id = %s AND random() < 0.1",
            (tenant_id,),
        )
        conn.execute(
            "INSERT INTO users (tenant_id, email, full_name, role, password_hash) "
            "VALUES (%s, 'analyst@bench.co', 'Analyst', 'analyst', 'x') RETURNING id",
            (tenant_id,),
        )
        analyst = conn.execute(
            "SELECT id FROM users WHERE tenant_id = %s AND role = 'analyst'", (tenant_id,)
        ).fetchone()
    with owner_session() as session:
        hexagon_areas(session, tenant_id=tenant_id, size_m=1500)
    with psycopg.connect(libpq_url(owner), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    assert analyst is not None
    return int(analyst[0])


def _psycopg(sql: str) -> str:
    """``:name`` parameters (SQLAlchemy) as ``%(name)s`` (psycopg), casts left alone."""
    return re.sub(r"(?<!:):([a-z_]+)", r"%(\1)s", sql.replace("%", "%%"))


def _median_s(run: Any, repeat: int) -> float:
    run()  # warm caches and plans
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--visits", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    owner, app = fresh_database()
    tenant_id, _agents = _seed_agents(owner, 200)
    print(f"seeding {args.cases:,} cases and {args.visits:,} visits ...", flush=True)
    started = time.perf_counter()
    analyst = _seed(owner, tenant_id, args.cases, args.visits)
    print(f"seeded in {time.perf_counter() - started:.0f} s", flush=True)
    token = issue_token(Principal(tenant_id, analyst, "analyst", None), get_settings())[0]
    today = date.today()
    period = {"date_from": (today - timedelta(days=182)).isoformat(), "date_to": today.isoformat()}
    keys = tuple(k.key for k in KPIS)
    groupings: tuple[GroupBy, ...] = ("none", "agent", "zone", "bucket", "week")
    reports: list[tuple[str, str, dict[str, Any], str, dict[str, Any]]] = [
        (
            f"KPIs, group_by={g}",
            "/v1/analytics/kpis",
            {**period, "group_by": g},
            kpi_sql(g, keys),
            {**period, "weekly": g == "week"},
        )
        for g in groupings
    ]
    for by_zone in (False, True):
        reports.append(
            (
                f"contact hours{', by zone' if by_zone else ''}",
                "/v1/analytics/contact-hours",
                {**period, "by_zone": by_zone},
                CONTACT_HOURS_SQL,
                {**period, "by_zone": by_zone},
            )
        )
    print(f"{'report':<28} {'endpoint':>10} {'bare SQL':>10} {'ratio':>7}")
    ratios = []
    with (
        psycopg.connect(libpq_url(app), autocommit=True) as bare,
        server(workers=1) as url,
        httpx2.Client(
            base_url=url, timeout=600, headers={"Authorization": f"Bearer {token}"}
        ) as http,
    ):
        bare.execute("SELECT set_config('app.tenant_id', %s, false)", (str(tenant_id),))
        for name, path, params, sql, sql_params in reports:

            def endpoint(path: str = path, params: dict[str, Any] = params) -> None:
                answer = http.get(path, params=params)
                answer.raise_for_status()

            def direct(sql: str = sql, sql_params: dict[str, Any] = sql_params) -> None:
                bare.execute(_psycopg(sql), sql_params).fetchall()

            t_api, t_sql = _median_s(endpoint, args.repeat), _median_s(direct, args.repeat)
            ratios.append(t_api / t_sql)
            print(
                f"{name:<28} {t_api * 1000:>8.0f} ms {t_sql * 1000:>7.0f} ms "
                f"{t_api / t_sql:>6.2f}x",
                flush=True,
            )
    print(f"worst ratio {max(ratios):.2f}x (target <= 1.5x)")


if __name__ == "__main__":
    main()
