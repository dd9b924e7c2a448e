"""Console pages at demo scale and at 100,000 cases: server time and bytes of each page over
HTTP, beside the queries that feed it run in-process, in one run.

A tenant with 20 agents and ``--scales`` cases each round (2,000 is the demo's portfolio), half
of them assigned, a twentieth visited over the last month (some sent to review), spread over
Bogotá. Each page is fetched ``--rounds`` times by a signed-in admin against one server
process; the baseline is the ``geo`` call (SQL and all) that feeds the page, without HTTP,
templates or maps. The cases map switches to vector tiles above 2,500 located cases; then
the tiles of a city-wide view and of a neighbourhood are timed too.

Run: ``.venv/bin/python -m bench.console`` (about 3 minutes).
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Any

import httpx2
import psycopg

from api.deps import TOKEN_COOKIE
from api.security import issue_token
from bench.common import fresh_database, served
from bench.gps import _seed_agents
from geo.accounts.users import Principal, list_users
from geo.analytics.kpis import kpi_report
from geo.core.db import libpq_url, tenant_session
from geo.core.settings import get_settings
from geo.dispatch.board import agents_today, feed
from geo.dispatch.history import audit_entries
from geo.dispatch.review import review_queue
from geo.maps.cases import GEOJSON_LIMIT
from geo.portfolio.cases import (
    CaseFilter,
    cases_geojson,
    cases_tile,
    count_cases,
    list_cases,
    located_extent,
)
from geo.routing.jobs import list_plans


def _seed(owner: str, tenant_id: int, cases: int) -> int:
    """``cases`` located cases over Bogotá, half assigned, a twentieth visited; an admin."""
    with psycopg.connect(libpq_url(owner), autocommit=True) as conn:
        conn.execute("SELECT setseed(0.5)")
        conn.execute(
            "INSERT INTO debtors (tenant_id, document_type, document_number, full_name, "
            "authorised_channels) SELECT %s, 'CC', 'K' || g, 'Deudor ' || g, '{visit}' "
            "FROM generate_series(1, %s) g",
            (tenant_id, cases),
        )
        conn.execute(
            "INSERT INTO addresses (tenant_id, debtor_id, raw_text, city, point, geocode_quality) "
            "SELECT tenant_id, id, 'Calle ' || id, 'Bogotá', ST_SetSRID(ST_MakePoint(-74.17 + "
            "random() * 0.14, 4.50 + random() * 0.28), 4326), 'provided' FROM debtors "
            "WHERE tenant_id = %s",
            (tenant_id,),
        )
        conn.execute(
            "WITH ag AS (SELECT array_agg(id ORDER BY id) AS ids FROM agents WHERE tenant_id = %s) "
            "INSERT INTO cases (tenant_id, external_ref, debtor_id, address_id, product, "
            "outstanding_cop, days_past_due, assigned_agent_id, assigned_at) "
            "SELECT a.tenant_id, 'K-' || a.id, a.debtor_id, a.id, 'libranza', "
            "(100000 + random() * 9000000)::int, (random() * 200)::int, "
            "CASE WHEN a.id %% 2 = 0 THEN ag.ids[1 + a.id %% cardinality(ag.ids)] END, "
            "CASE WHEN a.id %% 2 = 0 THEN now() - interval '20 days' END FROM addresses a, ag "
            "WHERE a.tenant_id = %s",
            (tenant_id, tenant_id),
        )
        conn.execute(
            "INSERT INTO visits (tenant_id, client_id, case_id, agent_id, checkin_at, "
            "checkin_point, distance_m, radius_m, verdict, status, outcome, checkout_at, "
            "completed_at) SELECT c.tenant_id, gen_random_uuid(), c.id, c.assigned_agent_id, "
            "t, a.point, 10, 75, CASE WHEN c.id %% 7 = 0 THEN 'review' ELSE 'accepted' END, "
            "'completed', CASE WHEN c.id %% 3 = 0 THEN 'no_one_home' ELSE 'contact' END, "
            "t + interval '10 minutes', t + interval '10 minutes' FROM cases c "
            "JOIN addresses a ON a.tenant_id = c.tenant_id AND a.id = c.address_id "
            "CROSS JOIN LATERAL (SELECT date_trunc('day', now()) - (c.id %% 30) * interval "
            "'1 day' + interval '14 hours' AS t) d "
            "WHERE c.tenant_id = %s AND c.assigned_agent_id IS NOT NULL AND c.id %% 10 = 0",
            (tenant_id,),
        )
        admin = conn.execute(
            "INSERT INTO users (tenant_id, email, full_name, role, password_hash) "
            "VALUES (%s, 'admin@bench.co', 'Admin', 'admin', 'x') RETURNING id",
            (tenant_id,),
        ).fetchone()
        conn.execute("ANALYZE")
    assert admin is not None
    return int(admin[0])


def _median_ms(run: Callable[[], Any], rounds: int) -> tuple[float, Any]:
    run()  # warm
    took, last = [], None
    for _ in range(rounds):
        started = time.perf_counter()
        last = run()
        took.append((time.perf_counter() - started) * 1000)
    return statistics.median(took), last


def _tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    y = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n
    return int((lon + 180) / 360 * n), int(y)


def _pages(tenant_id: int, today: date) -> list[tuple[str, Callable[[Any], Any]]]:
    """Each page's path and the geo calls that feed it (a session in, their results out)."""
    month = (today - timedelta(days=30), today)
    return [
        (
            "/tablero",
            lambda s: (agents_today(s, tenant_id=tenant_id), feed(s, tenant_id=tenant_id)),
        ),
        (
            "/casos",
            lambda s: (
                list_cases(s, tenant_id=tenant_id, where=CaseFilter(status="open"), limit=50),
                count_cases(s, tenant_id=tenant_id, where=CaseFilter(status="open")),
            ),
        ),
        ("/casos/mapa", lambda s: _map_feed(s, tenant_id)),
        ("/revision", lambda s: review_queue(s, tenant_id=tenant_id)),
        ("/planes", lambda s: list_plans(s, tenant_id=tenant_id, day=today)),
        (
            f"/informes?desde={month[0]}&hasta={month[1]}",
            lambda s: kpi_report(s, date_from=month[0], date_to=month[1]),
        ),
        ("/personas", lambda s: list_users(s, tenant_id=tenant_id)),
        ("/auditoria", lambda s: audit_entries(s, tenant_id=tenant_id)),
    ]


def _map_feed(session: Any, tenant_id: int) -> Any:
    where = CaseFilter(status="open")
    count, _box = located_extent(session, tenant_id=tenant_id, where=where)
    if count <= GEOJSON_LIMIT:
        return cases_geojson(session, tenant_id=tenant_id, where=where)
    return count


def _measure_pages(http: httpx2.Client, tenant_id: int, scale: int, rounds: int) -> None:
    for path, feeds in _pages(tenant_id, datetime.now(UTC).date()):
        page_ms, answer = _median_ms(partial(http.get, path), rounds)
        if answer.status_code != 200:
            raise RuntimeError(f"{path}: {answer.status_code} {answer.text[:200]}")
        with tenant_session(tenant_id) as session:
            feed_ms, _ = _median_ms(partial(feeds, session), rounds)
        ratio = f"{page_ms / feed_ms:5.1f}x" if feed_ms > 0.05 else "  —"
        print(
            f"{path.split('?')[0]:<44} {scale:>8,} {page_ms:>9.1f} ms "
            f"{len(answer.content):>10,} {feed_ms:>6.1f} ms {ratio}",
            flush=True,
        )


def _measure_tiles(http: httpx2.Client, tenant_id: int, scale: int, rounds: int) -> None:
    where = CaseFilter(status="open")
    for label, zoom in (("city", 12), ("neighbourhood", 15)):
        x, y = _tile_of(-74.10, 4.64, zoom)
        path = f"/casos/teselas/{zoom}/{x}/{y}.pbf?estado=open"
        tile_ms, answer = _median_ms(partial(http.get, path), rounds)
        with tenant_session(tenant_id) as session:
            bare_ms, _ = _median_ms(
                partial(cases_tile, session, tenant_id=tenant_id, where=where, z=zoom, x=x, y=y),
                rounds,
            )
        print(
            f"{'tile z' + str(zoom) + ' (' + label + ')':<44} {scale:>8,} {tile_ms:>9.1f} ms "
            f"{len(answer.content):>10,} {bare_ms:>6.1f} ms {tile_ms / bare_ms:5.1f}x",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=int, nargs="+", default=[2_000, 100_000])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    settings = get_settings()
    print(f"{'page':<44} {'cases':>8} {'server p50':>11} {'bytes':>10} {'feed p50':>9} ratio")
    for scale in args.scales:
        owner, _app = fresh_database()
        tenant_id, _agents = _seed_agents(owner, 20)
        admin = _seed(owner, tenant_id, scale)
        token = issue_token(Principal(tenant_id, admin, "admin"), settings)[0]
        with (
            served(1) as (url, _pid),
            httpx2.Client(base_url=url, cookies={TOKEN_COOKIE: token}, timeout=60) as http,
        ):
            _measure_pages(http, tenant_id, scale, args.rounds)
            _measure_tiles(http, tenant_id, scale, args.rounds * 3)


if __name__ == "__main__":
    main()
