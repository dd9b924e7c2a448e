"""The demo portfolio is deterministic, inside urban Bogotá, and realistic."""

from __future__ import annotations

import statistics
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from pyproj import Geod
from shapely import Point
from sqlalchemy import func, select, text

from geo.core.db import tenant_session
from geo.core.models import Address, Agent, Case
from geo.demo import portfolio as demo
from geo.portfolio.nomenclature import BOGOTA, geocode
from geo.portfolio.priority import bucket_of

pytestmark = pytest.mark.clock

GEOD = Geod(ellps="WGS84")


def test_same_seed_same_portfolio() -> None:
    assert demo.generate(seed=3, n_cases=50).cases == demo.generate(seed=3, n_cases=50).cases
    assert demo.generate(seed=3, n_cases=50).cases != demo.generate(seed=4, n_cases=50).cases


def test_points_in_the_city_west_of_the_carrera_7_ridge() -> None:
    portfolio = demo.generate()
    points = np.array(
        [(float(c["lon"]), float(c["lat"])) for c in portfolio.cases if c["lat"]]
        + [(a.lon, a.lat) for a in portfolio.agents]
    )
    assert len(points) > 1600
    assert all(demo.URBAN_AREA.contains(Point(p)) for p in points)
    calle, carrera = BOGOTA.to_grid(points[:, 0], points[:, 1])
    north_of_centre = calle > 10
    assert (carrera[north_of_centre] >= 7).all(), "no case in the eastern hills"
    # Roughly Bogotá's urban extent: Usme to Calle 235, Carrera 7 to the Río Bogotá.
    assert points[:, 1].min() > 4.49
    assert points[:, 1].max() < 4.81
    assert points[:, 0].min() > -74.22
    assert points[:, 0].max() < -74.0


def test_amounts_buckets_and_products_are_plausible() -> None:
    cases = demo.generate().cases
    amounts = [float(c["outstanding_cop"]) for c in cases]
    assert 2_000_000 < statistics.median(amounts) < 15_000_000
    buckets = {bucket_of(int(c["days_past_due"])) for c in cases}
    assert buckets == {"0-30", "31-60", "61-90", "91-180", "180+"}
    assert len({c["product"] for c in cases}) == 6
    assert len({c["external_ref"] for c in cases}) == len(cases)


def test_addresses_geocode_back_to_their_points() -> None:
    for case in demo.generate(n_cases=400).cases:
        if not case["lat"]:
            continue
        back = geocode(case["address"], case["city"])
        assert back is not None, case["address"]
        distance = GEOD.inv(float(case["lon"]), float(case["lat"]), *back)[2]
        assert distance < 60, case["address"]


def test_seed_stores_the_portfolio_and_reseeding_replaces_it() -> None:
    portfolio = demo.generate(n_cases=300, n_agents=5)
    first = demo.seed(portfolio=portfolio)
    assert first is not None
    assert first.stored == 300
    assert not first.errors
    assert demo.seed(portfolio=portfolio, reset=False) is None
    again = demo.seed(portfolio=portfolio)
    assert again is not None
    assert again.stored == 300
    from geo.accounts.users import tenant_by_slug
    from geo.core.db import owner_session

    with owner_session() as session:
        tenant_id = tenant_by_slug(session, demo.DEMO_SLUG).id
    with tenant_session(tenant_id) as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 300
        assert session.scalar(select(func.count()).select_from(Agent)) == 5
        located = session.scalar(
            select(func.count()).select_from(Address).where(Address.point.is_not(None))
        )
    assert located == 300  # 85 % with coordinates, the rest geocoded from the grid address


def test_history_follows_its_stated_contact_model() -> None:
    from datetime import date

    from geo.accounts.users import tenant_by_slug
    from geo.core.db import owner_session, tenant_session
    from geo.demo.history import NORTH_OF, contact_probability, seed_history

    demo.seed(portfolio=demo.generate(n_cases=600, n_agents=8))
    with owner_session() as session:
        tenant_id = tenant_by_slug(session, demo.DEMO_SLUG).id
        report = seed_history(session, tenant_id=tenant_id, weeks=6, until=date(2026, 11, 20))
    # Monday to Saturday but the three holidays (12 Oct, 2 and 16 Nov), eight a day, 8 agents.
    assert report.visits == (6 * 6 - 3) * 8 * 8
    with tenant_session(tenant_id) as session:
        rates = {
            (r[0], r[1], r[2]): r[3]
            for r in session.execute(
                text(
                    "SELECT ST_Y(c.geom) >= :north, v.local_hour >= 15, v.local_hour < 10, "
                    "avg(v.contact::int) FROM analytics.visits v JOIN analytics.cases c USING (case_id) "
                    "WHERE v.local_dow < 6 GROUP BY 1, 2, 3"
                ),
                {"north": NORTH_OF},
            )
        }
        promises = session.execute(text("SELECT count(*) FROM analytics.promises")).scalar_one()
    for (north, evening, morning), rate in rates.items():
        hour = 16 if evening else 8 if morning else 12
        expected = contact_probability(hour, NORTH_OF + 0.01 if north else NORTH_OF - 0.01, 3)
        assert abs(float(rate) - expected) < 0.08, (north, evening, morning, rate, expected)
    assert promises == report.promises > 0


# The evening of the worked day: its fixes arrive within the GPS horizon whenever this runs.
@pytest.mark.time_machine(datetime(2026, 11, 21, 18, 0, tzinfo=ZoneInfo("America/Bogota")))
def test_the_demo_s_weeks_and_worked_day_break_no_rule_of_the_law() -> None:
    from datetime import date

    from geo.accounts.users import tenant_by_slug
    from geo.contacts.report import compliance_report
    from geo.core.db import owner_session, tenant_session
    from geo.demo.calls import seed_calls
    from geo.demo.history import seed_history
    from geo.demo.simulation import simulate_plan
    from geo.routing.jobs import create_plan, run_plan

    day = date(2026, 11, 21)  # a Saturday: visits 8:00-15:00 only
    demo.seed(portfolio=demo.generate(n_cases=300, n_agents=4))
    with owner_session() as session:
        tenant_id = tenant_by_slug(session, demo.DEMO_SLUG).id
        seed_history(session, tenant_id=tenant_id, weeks=2, until=day)
    with tenant_session(tenant_id) as session:
        calls = seed_calls(session, tenant_id=tenant_id, day=day, calls=10)
        plan = create_plan(session, tenant_id=tenant_id, day=day, budget_s=2, queue=False)
    assert (calls.stored, calls.errors) == (10, [])
    done = run_plan(tenant_id, plan.id)
    assert done.status == "done", done.message
    worked = simulate_plan(tenant_id=tenant_id, plan_id=plan.id)
    assert worked.outcomes > 0
    with tenant_session(tenant_id) as session:
        reasons = dict(
            session.execute(
                text("SELECT reason, count(*) FROM plan_unplanned WHERE plan_id = :p GROUP BY 1"),
                {"p": plan.id},
            )
            .tuples()
            .all()
        )
        report = compliance_report(
            session, tenant_id=tenant_id, date_from=date(2026, 11, 2), date_to=day
        )
    assert reasons["second_contact_today"] >= 10  # the debtors called that morning
    assert reasons["no_authorisation_on_record"] > 0
    assert report.contacts > 400  # two weeks of history, the calls and the worked day
    assert report.breaches == []
