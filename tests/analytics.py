"""A hand-built portfolio whose seven KPIs are worked out by hand in ``docs/analytics.md``.

Period: Monday 2026-10-05 to Sunday 2026-10-18 (two ISO weeks), Bogotá time (UTC−5).
Two area zones split the city at latitude 4.70: Norte above, Sur below.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import text

from geo.accounts.agents import create_agent
from geo.accounts.users import create_user
from geo.core.db import owner_session
from geo.provisioning.tenants import create_tenant

FIRST, LAST = date(2026, 10, 5), date(2026, 10, 18)
PASSWORD = "analytics password"

# ref, outstanding, days past due, agent, lat, assigned, status, closed
CASES = (
    ("C1", 1_000_000, 45, "A1", 4.75, "2026-10-01 08:00", "open", None),
    ("C2", 2_000_000, 100, "A1", 4.76, "2026-10-05 09:00", "paid", "2026-10-15 09:00"),
    ("C3", 3_000_000, 10, "A2", 4.60, "2026-10-06 12:00", "written_off", "2026-10-08 12:00"),
    ("C4", 4_000_000, 200, "A2", 4.61, "2026-10-12 08:00", "open", None),
    ("C5", 5_000_000, 45, "A2", 4.62, "2026-09-01 08:00", "withdrawn", "2026-09-20 08:00"),
)
# case, agent, local check-in, status, outcome, minutes on site
VISITS = (
    ("C1", "A1", "2026-10-06 09:30", "completed", "no_one_home", 2),
    ("C1", "A1", "2026-10-07 18:10", "completed", "promise_to_pay", 15),
    ("C2", "A1", "2026-10-06 11:00", "completed", "contact", 10),
    ("C3", "A2", "2026-10-07 10:00", "completed", "refused", 5),
    ("C4", "A2", "2026-10-13 08:15", "completed", "promise_to_pay", 20),
    ("C4", "A2", "2026-10-14 15:00", "rejected", None, None),
    ("C2", "A1", "2026-10-19 09:00", "completed", "contact", 10),
)
# (case of the promising visit's check-in, amount, due date): the 2nd and 5th visits promise
PROMISES = ((1, 100_000, "2026-10-10"), (4, 300_000, "2026-10-15"))
PAYMENTS = (
    ("C1", "2026-10-07", 100_000),
    ("C2", "2026-10-14", 2_000_000),
    ("C4", "2026-10-20", 500_000),
    ("C3", "2026-10-01", 50_000),
)


@dataclass(frozen=True)
class Portfolio:
    tenant_id: int
    slug: str


def build_portfolio(slug: str = "kpi") -> Portfolio:
    """Store the portfolio as the schema owner, row by row, with Bogotá local times."""
    with owner_session() as session:
        tenant_id = create_tenant(session, slug=slug, name="KPI").id
        for role in ("analyst", "dispatcher"):
            create_user(
                session,
                tenant_id=tenant_id,
                email=f"{role}@{slug}.co",
                full_name=role,
                role=role,
                password=PASSWORD,
            )
        agents = {}
        for k, code in enumerate(("A1", "A2")):
            user = create_user(
                session,
                tenant_id=tenant_id,
                email=f"{code}@{slug}.co",
                full_name=code,
                role="agent",
                password="x" * 12,
            )
            agents[code] = create_agent(
                session,
                tenant_id=tenant_id,
                user_id=user.id,
                code=code,
                lon=-74.1 + k / 100,
                lat=4.65,
                travel_mode="motorbike",
            ).id
        run = session.execute
        for name, south, north in (("Norte", 4.70, 4.90), ("Sur", 4.50, 4.70)):
            run(
                text(
                    "INSERT INTO zones (tenant_id, name, kind, geom) VALUES (:t, :n, 'area', "
                    "ST_Multi(ST_MakeEnvelope(-74.3, :s, -73.9, :e, 4326)))"
                ),
                {"t": tenant_id, "n": name, "s": south, "e": north},
            )
        cases = {}
        for ref, amount, dpd, agent, lat, assigned, status, closed in CASES:
            debtor = run(
                text(
                    "INSERT INTO debtors (tenant_id, document_type, document_number, "
                    "full_name, authorised_channels) VALUES (:t, 'CC', :r, :r, '{visit}') "
                    "RETURNING id"
                ),
                {"t": tenant_id, "r": ref},
            ).scalar_one()
            address = run(
                text(
                    "INSERT INTO addresses (tenant_id, debtor_id, raw_text, city, "
                    "point, geocode_quality) VALUES (:t, :d, :r, 'Bogotá', "
                    "ST_SetSRID(ST_MakePoint(-74.08, :lat), 4326), 'provided') "
                    "RETURNING id"
                ),
                {"t": tenant_id, "d": debtor, "r": ref, "lat": lat},
            ).scalar_one()
            cases[ref] = run(
                text(
                    "INSERT INTO cases (tenant_id, external_ref, debtor_id, address_id, product, "
                    "outstanding_cop, days_past_due, status, assigned_agent_id, assigned_at, "
                    "closed_at, created_at) VALUES (:t, :r, :d, :a, 'libranza', :o, :dpd, :s, :g, "
                    "CAST(:at AS timestamp) AT TIME ZONE 'America/Bogota', "
                    "CAST(:ct AS timestamp) AT TIME ZONE 'America/Bogota', "
                    "'2026-09-01 00:00-05') RETURNING id"
                ),
                {
                    "t": tenant_id,
                    "r": ref,
                    "d": debtor,
                    "a": address,
                    "o": amount,
                    "dpd": dpd,
                    "s": status,
                    "g": agents[agent],
                    "at": assigned,
                    "ct": closed,
                },
            ).scalar_one()
        visits = []
        for ref, agent, at, status, outcome, minutes in VISITS:
            visits.append(
                run(
                    text(
                        "INSERT INTO visits (tenant_id, client_id, case_id, agent_id, checkin_at, "
                        "checkin_point, distance_m, verdict, status, outcome, checkout_at) VALUES "
                        "(:t, gen_random_uuid(), :c, :g, "
                        "CAST(:at AS timestamp) AT TIME ZONE 'America/Bogota', "
                        "ST_SetSRID(ST_MakePoint(-74.08, 4.7), 4326), 5, "
                        "CASE WHEN :s = 'rejected' THEN 'rejected' ELSE 'accepted' END, :s, :o, "
                        "CAST(:at AS timestamp) AT TIME ZONE 'America/Bogota' "
                        "+ make_interval(mins => :m)) RETURNING id"
                    ),
                    {
                        "t": tenant_id,
                        "c": cases[ref],
                        "g": agents[agent],
                        "at": at,
                        "s": status,
                        "o": outcome,
                        "m": minutes or 0,
                    },
                ).scalar_one()
            )
        for index, amount, due in PROMISES:
            run(
                text(
                    "INSERT INTO promises (tenant_id, visit_id, case_id, amount_cop, due_date, "
                    "created_at) SELECT :t, v.id, v.case_id, :a, :d, v.checkin_at FROM visits v "
                    "WHERE v.tenant_id = :t AND v.id = :v"
                ),
                {"t": tenant_id, "v": visits[index], "a": amount, "d": due},
            )
        for ref, day, amount in PAYMENTS:
            run(
                text(
                    "INSERT INTO payments (tenant_id, case_id, paid_on, amount_cop) "
                    "VALUES (:t, :c, :d, :a)"
                ),
                {"t": tenant_id, "c": cases[ref], "d": day, "a": amount},
            )
    return Portfolio(tenant_id, slug)
