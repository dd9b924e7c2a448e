"""Contact hours, Wilson intervals, suggested windows, and the planner using them."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import text

from geo.analytics.contact_hours import (
    HourCell,
    WindowRules,
    contact_hours,
    suggest_windows,
    tenant_wide,
    wilson,
    windows_for_day,
)
from geo.core.db import owner_session, tenant_session
from geo.provisioning.tenants import update_tenant_settings
from geo.routing.planner import plan_inputs, stop_window, usable_suggestions
from tests.analytics import build_portfolio

pytestmark = pytest.mark.clock


def test_wilson_matches_published_values() -> None:
    # Wilson (1927) 95 % intervals as tabulated by Newcombe (1998), Statistics in Medicine.
    assert wilson(5, 10) == pytest.approx((0.2366, 0.7634), abs=1e-4)
    assert wilson(0, 10) == pytest.approx((0.0, 0.2775), abs=1e-4)
    assert wilson(81, 263) == pytest.approx((0.2553, 0.3662), abs=1e-4)
    assert wilson(0, 0) == (0.0, 1.0)


def _day(zone: int | None, rate_of: dict[int, float], attempts: int) -> list[HourCell]:
    return [
        HourCell(
            zone,
            None if zone is None else f"Z{zone}",
            3,
            hour,
            attempts,
            round(attempts * rate_of.get(hour, 0.2)),
        )
        for hour in range(7, 20)
    ]


def test_windows_find_the_evening_and_respect_evidence() -> None:
    rules = WindowRules(length_h=3, min_attempts=30)
    evening = _day(1, {17: 0.6, 18: 0.7, 19: 0.7}, attempts=20)
    sparse = _day(2, {8: 1.0}, attempts=2)  # 2 a hour: no window reaches 30 attempts
    flat = _day(3, {}, attempts=40)  # plenty of visits, no hour better than another
    overall = _day(None, {9: 0.5, 10: 0.5, 11: 0.5}, attempts=60)
    found = {
        (s.zone_id, s.dow): s for s in suggest_windows([*evening, *sparse, *flat], overall, rules)
    }
    # 17:00-20:00 would be best, but the law ends the weekday at 19:00.
    assert (found[1, 3].start_hour, found[1, 3].end_hour, found[1, 3].basis) == (16, 19, "zone")
    assert found[1, 3].ci_low > found[1, 3].day_rate
    assert (found[2, 3].start_hour, found[2, 3].basis) == (9, "overall")  # borrowed
    assert (3, 3) not in found  # evidence says hours do not matter there
    assert (found[None, 3].start_hour, found[None, 3].end_hour) == (9, 12)
    assert {s.dow for s in found.values()} == {3}  # no visits on other days, no windows


def test_the_planner_uses_history_for_cases_without_hours() -> None:
    portfolio = build_portfolio()
    day = date(2026, 11, 25)  # a Wednesday; history: the eight Wednesdays before it
    with owner_session() as session:
        # Norte (C1, agent A1): 5 visits an hour 07–19, 4 of 5 reached at 14–16, 1 of 5 else.
        # Sur (C4, agent A2): 2 visits at 10:00, both reached: too few to judge alone.
        session.execute(
            text(
                """
            INSERT INTO visits (tenant_id, client_id, case_id, agent_id, checkin_at,
                                checkin_point, distance_m, verdict, status, outcome, checkout_at)
            SELECT :t, gen_random_uuid(), c.id, c.assigned_agent_id, at, a.point, 3, 'accepted',
                   'completed', CASE WHEN k <= CASE WHEN h BETWEEN 14 AND 16 THEN 4 ELSE 1 END
                                     THEN 'contact' ELSE 'no_one_home' END,
                   at + interval '10 minutes'
            FROM generate_series(1, 8) w, generate_series(7, 19) h, generate_series(1, 5) k,
                 cases c JOIN addresses a ON a.tenant_id = c.tenant_id AND a.id = c.address_id,
                 LATERAL (SELECT (CAST(:day AS date) - 7 * w + make_interval(hours => h,
                          mins => k)) AT TIME ZONE 'America/Bogota' AS at) s
            WHERE c.tenant_id = :t AND c.external_ref = 'C1'
            UNION ALL
            SELECT :t, gen_random_uuid(), c.id, c.assigned_agent_id, at, a.point, 3, 'accepted',
                   'completed', 'contact', at + interval '10 minutes'
            FROM generate_series(1, 8) w, generate_series(1, 2) k,
                 cases c JOIN addresses a ON a.tenant_id = c.tenant_id AND a.id = c.address_id,
                 LATERAL (SELECT (CAST(:day AS date) - 7 * w + make_interval(hours => 10,
                          mins => k)) AT TIME ZONE 'America/Bogota' AS at) s
            WHERE c.tenant_id = :t AND c.external_ref = 'C4'
            """
            ),
            {"t": portfolio.tenant_id, "day": day},
        )
        zones = dict(
            session.execute(
                text("SELECT name, id FROM zones WHERE tenant_id = :t"), {"t": portfolio.tenant_id}
            )
            .tuples()
            .all()
        )
    with tenant_session(portfolio.tenant_id) as session:
        zones_cells = contact_hours(session, date_from=date(2026, 9, 1), date_to=day, by_zone=True)
        assert tenant_wide(zones_cells) == contact_hours(
            session, date_from=date(2026, 9, 1), date_to=day
        )
        windows = windows_for_day(session, tenant_id=portfolio.tenant_id, day=day)
        assert windows[zones["Norte"]] == (14 * 3600, 17 * 3600)
        assert windows[zones["Sur"]] == (14 * 3600, 17 * 3600)  # borrowed from the tenant
        assert windows[None] == (14 * 3600, 17 * 3600)
        assert (
            windows_for_day(session, tenant_id=portfolio.tenant_id, day=date(2026, 11, 26)) == {}
        )  # no Thursday history
        inputs = plan_inputs(session, portfolio.tenant_id, day)
        usable = usable_suggestions(inputs)
        by_ref = {c.id: c for c in inputs.cases}
        refs = dict(session.execute(text("SELECT external_ref, id FROM cases")).tuples().all())
        # C4 has no hours of its own and its last visit reached someone: the suggestion.
        assert stop_window(by_ref[refs["C4"]], usable, inputs) == (14 * 3600, 17 * 3600)
        # C1's last visit (19:05) found no one home: the follow-up's morning comes first, from
        # the 7:00 the law allows.
        assert stop_window(by_ref[refs["C1"]], usable, inputs) == (7 * 3600, 12 * 3600)
        changes = {"suggested_windows": False}
        update_tenant_settings(session, tenant_id=portfolio.tenant_id, changes=changes)
        assert windows_for_day(session, tenant_id=portfolio.tenant_id, day=day) == {}
