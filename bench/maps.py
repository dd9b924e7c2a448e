"""Map pages at scale: bytes and build time of each, beside the bare GeoJSON of the same data.

500 agents' live positions; a 20-route plan with 2,000 stops; an agent-day trail of 8,640
fixes (one every 10 s). Each map is built (queries + folium + HTML) five times; the baseline
is the API's GeoJSON of the same thing (what a client would fetch without the page).

Run: ``.venv/bin/python -m bench.maps``.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from bench.common import fresh_database
from bench.gps import _seed_agents
from geo.core.db import libpq_url, tenant_session
from geo.maps.live import live_map
from geo.maps.plan import plan_map
from geo.maps.trail import trail_map
from geo.routing.jobs import plan_geojson
from geo.tracking.live import live_positions
from geo.tracking.trails import agent_trail, trail_geojson

ASSETS = {
    "leaflet": "/static/vendor/leaflet-1.9.4",
    "jquery": "/static/vendor/jquery-3.7.1",
    "heat": "/static/vendor/leaflet.heat-0.2.0",
}


def _seed(owner: str, tenant_id: int, agents: list[tuple[int, int]]) -> tuple[int, int, datetime]:
    """Live positions for every agent, a stored 20-route plan of 2,000 stops, one full day."""
    day = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=1)
    with psycopg.connect(libpq_url(owner), autocommit=True) as conn:
        conn.execute("SELECT setseed(0.3)")
        conn.execute(
            "INSERT INTO agent_positions (tenant_id, agent_id, fix_id, recorded_at, point, "
            "accuracy_m, battery_pct, charging, speed_mps, source) SELECT tenant_id, id, "
            "gen_random_uuid(), now() - random() * interval '40 minutes', ST_SetSRID("
            "ST_MakePoint(-74.15 + random() * 0.1, 4.55 + random() * 0.2), 4326), 5 + random() "
            "* 30, random() * 100, random() < 0.2, random() * 10, 'app' FROM agents "
            "WHERE tenant_id = %s",
            (tenant_id,),
        )
        conn.execute(
            "INSERT INTO debtors (tenant_id, document_type, document_number, full_name) "
            "SELECT %s, 'CC', 'M' || g, 'Deudor ' || g FROM generate_series(1, 2000) g",
            (tenant_id,),
        )
        conn.execute(
            "INSERT INTO addresses (tenant_id, debtor_id, raw_text, city, point, geocode_quality) "
            "SELECT tenant_id, id, 'Calle ' || id, 'Bogotá', ST_SetSRID(ST_MakePoint(-74.15 + "
            "random() * 0.1, 4.55 + random() * 0.2), 4326), 'provided' FROM debtors "
            "WHERE tenant_id = %s",
            (tenant_id,),
        )
        conn.execute(
            "INSERT INTO cases (tenant_id, external_ref, debtor_id, address_id, product, "
            "outstanding_cop, days_past_due) SELECT tenant_id, 'M' || id, debtor_id, id, "
            "'libranza', 1000000, 45 FROM addresses WHERE tenant_id = %s",
            (tenant_id,),
        )
        plan_id = conn.execute(
            "INSERT INTO plans (tenant_id, day, budget_s, status, progress) "
            "VALUES (%s, %s, 30, 'done', 1) RETURNING id",
            (tenant_id, day.date()),
        ).fetchone()[0]  # type: ignore[index]
        route_agents = [a for _u, a in agents[:20]]
        conn.execute(
            "WITH s AS (SELECT c.id AS case_id, (row_number() OVER (ORDER BY c.id) - 1) AS n, "
            "a.point FROM cases c JOIN addresses a ON a.id = c.address_id WHERE c.tenant_id = %s) "
            "INSERT INTO plan_stops (tenant_id, plan_id, case_id, agent_id, seq, eta, starts_at, "
            "etd) SELECT %s, %s, case_id, (%s::bigint[])[1 + n %% 20], 1 + n / 20, "
            "%s + make_interval(mins => (n / 20)::int * 5), %s + make_interval(mins => "
            "(n / 20)::int * 5), %s + make_interval(mins => (n / 20)::int * 5 + 4) FROM s",
            (tenant_id, tenant_id, plan_id, route_agents, day, day, day),
        )
        conn.execute(
            "INSERT INTO plan_routes (tenant_id, plan_id, agent_id, starts_at, ends_at, "
            "distance_m, duration_s, geometry) SELECT s.tenant_id, s.plan_id, s.agent_id, "
            "min(s.eta), max(s.etd), 50000, 30000, ST_MakeLine(a.point ORDER BY s.seq) "
            "FROM plan_stops s JOIN cases c ON c.id = s.case_id JOIN addresses a "
            "ON a.id = c.address_id WHERE s.plan_id = %s GROUP BY 1, 2, 3",
            (plan_id,),
        )
        trail_agent = agents[0][1]
        conn.execute(
            "INSERT INTO gps_fixes (tenant_id, agent_id, id, recorded_at, point, accuracy_m, "
            "battery_pct) SELECT %s, %s, gen_random_uuid(), %s + g * interval '10 seconds', "
            "ST_SetSRID(ST_MakePoint(-74.08 + sin(g / 500.0) * 0.03 + random() * 0.0002, "
            "4.65 + cos(g / 700.0) * 0.03 + random() * 0.0002), 4326), 8, 100 - g / 100.0 "
            "FROM generate_series(0, 8639) g",
            (tenant_id, trail_agent, day),
        )
        conn.execute("ANALYZE")
    return plan_id, trail_agent, day


def _time(build: Callable[[], Any], rounds: int = 5) -> tuple[float, Any]:
    took, result = [], None
    for _ in range(rounds):
        started = time.perf_counter()
        result = build()
        took.append((time.perf_counter() - started) * 1000)
    return statistics.median(took), result


def main() -> None:
    owner, _app = fresh_database()
    tenant_id, agents = _seed_agents(owner, 500)
    plan_id, trail_agent, day = _seed(owner, tenant_id, agents)
    end = day + timedelta(days=1)
    with tenant_session(tenant_id) as s:
        pages: dict[str, tuple[Callable[[], Any], Callable[[], Any]]] = {
            "live, 500 agents": (
                lambda: live_map(s, tenant_id=tenant_id, assets=ASSETS).get_root().render(),
                lambda: live_positions(s, tenant_id=tenant_id),
            ),
            "plan, 20 routes, 2,000 stops": (
                lambda: (
                    plan_map(s, tenant_id=tenant_id, plan_id=plan_id, assets=ASSETS)
                    .get_root()
                    .render()
                ),
                lambda: plan_geojson(s, tenant_id=tenant_id, plan_id=plan_id),
            ),
            "trail, 8,640 fixes": (
                lambda: (
                    trail_map(
                        s,
                        tenant_id=tenant_id,
                        agent_id=trail_agent,
                        start=day,
                        end=end,
                        assets=ASSETS,
                    )
                    .get_root()
                    .render()
                ),
                lambda: trail_geojson(
                    agent_trail(s, tenant_id=tenant_id, agent_id=trail_agent, start=day, end=end)
                ),
            ),
        }
        import json

        for name, (page, geojson) in pages.items():
            page_ms, html = _time(page)
            data_ms, data = _time(geojson)
            print(
                f"{name}: page {len(html.encode()):,} bytes in {page_ms:.0f} ms; "
                f"its GeoJSON {len(json.dumps(data, default=str).encode()):,} bytes in "
                f"{data_ms:.0f} ms ({page_ms / data_ms:.1f}x)",
                flush=True,
            )


if __name__ == "__main__":
    main()
