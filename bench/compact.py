"""Compact days against whole-city planning: the demo's plan for one day, both ways, in one run.

A fresh bench database gets the demo's tenant (2,000 cases, 20 agents in three travel modes)
and its eight weeks of history (so cases carry contact windows); the same day is then planned
with ``compact_routes`` off (any agent may take any case) and on (each agent within a
territory of balanced work), and each stored plan is measured from its tables: how much of
the routes' area two or more routes cover, visits planned, the planned cases' mean priority,
kilometres ridden and walked, hours on the road.

Run: ``.venv/bin/python -m bench.compact [--budget 10]``.
"""

from __future__ import annotations

import argparse
from datetime import datetime, timedelta

from sqlalchemy import text

from bench.common import fresh_database
from geo.accounts.users import tenant_by_slug
from geo.contacts.rules import next_contact_day
from geo.core.db import owner_session, tenant_session
from geo.core.tenant_settings import tenant_settings
from geo.demo.history import seed_history
from geo.demo.portfolio import DEMO_SLUG, seed
from geo.provisioning.tenants import update_tenant_settings
from geo.routing.audit import route_overlap
from geo.routing.jobs import create_plan, run_plan

_MEASURE = text(
    """
    SELECT (SELECT count(*) FROM plan_stops WHERE plan_id = :p) AS planned,
           (SELECT avg(c.priority) FROM plan_stops s JOIN cases c ON c.id = s.case_id
             WHERE s.plan_id = :p) AS priority,
           (SELECT sum(ride_m) / 1000 FROM plan_routes WHERE plan_id = :p) AS ride_km,
           (SELECT sum(walk_m) / 1000 FROM plan_routes WHERE plan_id = :p) AS walk_km,
           (SELECT sum(duration_s) / 3600 FROM plan_routes WHERE plan_id = :p) AS hours
    """
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--budget", type=float, default=10, help="solver seconds per plan")
    args = parser.parse_args()
    fresh_database()
    seed()
    with owner_session() as session:
        tenant_id = tenant_by_slug(session, DEMO_SLUG).id
        settings = tenant_settings(session, tenant_id)
        today = datetime.now(settings.zone).date()
        seed_history(session, tenant_id=tenant_id, until=today)
    day = next_contact_day(today + timedelta(days=1), settings=settings, step=1)
    rows = []
    for compact in (False, True):
        with tenant_session(tenant_id) as session:
            update_tenant_settings(
                session, tenant_id=tenant_id, changes={"compact_routes": compact}
            )
            plan = create_plan(
                session, tenant_id=tenant_id, day=day, budget_s=args.budget, queue=False
            )
        done = run_plan(tenant_id, plan.id)
        with tenant_session(tenant_id) as session:
            overlap = route_overlap(session, tenant_id=tenant_id, plan_id=plan.id)
            measured = session.execute(_MEASURE, {"p": plan.id}).one()
        rows.append((compact, overlap, measured, done.stats["routing_s"]))
    print(f"The demo's plan for {day} ({args.budget:g} s budget), both ways:")
    columns = ("compact_routes", "overlap", "visits", "mean priority", "ridden", "walked")
    print("| " + " | ".join((*columns, "hours", "routing")) + " |")
    print("| --- " * (len(columns) + 2) + "|")
    for compact, overlap, m, routing_s in rows:
        print(
            f"| {'on' if compact else 'off'} | {overlap:.1%} | {m.planned} | {m.priority:.1f} "
            f"| {m.ride_km:,.0f} km | {m.walk_km:,.1f} km | {m.hours:,.1f} h | {routing_s} s |"
        )


if __name__ == "__main__":
    main()
