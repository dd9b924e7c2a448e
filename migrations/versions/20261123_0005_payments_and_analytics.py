"""payments and analytics

Payments imported from the creditor's files; ``area`` zones (the tenant's own map of its city,
to group analytics by); and the ``analytics`` schema: documented views over visits, contacts,
promises, payments, cases and agent-days, for the API, notebooks and analysts' own SQL tools.

The views are owned by the schema owner and filter every row by ``analytics.tenant()``: the
tenant of the application's transaction (``app.tenant_id``), or, for a login made with
``campo analyst create``, the one tenant that login is bound to, whatever it sets. Such a login
belongs to ``campo_analyst``, which may read the views and nothing else. The views are security
barriers, so a function an analyst writes never sees a row before the tenant filter has run.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 06:04:48.951160
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from geo.core.settings import get_settings
from geo.core.tenancy import isolation_ddl

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ANALYST_GROUP = "campo_analyst"

TENANT_FUNCTION = f"""
CREATE FUNCTION analytics.tenant() RETURNS bigint
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT CASE
        WHEN EXISTS (SELECT 1 FROM public.analyst_logins l WHERE l.role_name = session_user)
            THEN (SELECT CASE WHEN count(*) = 1 THEN min(l.tenant_id) END
                  FROM public.analyst_logins l WHERE l.role_name = session_user)
        WHEN pg_has_role(session_user, '{ANALYST_GROUP}', 'MEMBER')
             AND NOT (SELECT rolsuper FROM pg_roles WHERE rolname = session_user)
            THEN NULL
        ELSE NULLIF(current_setting('app.tenant_id', true), '')::bigint
    END
$$
"""

# Local time is the tenant's (settings.timezone); contact outcomes reached someone at the door.
_TZ = "coalesce(t.settings ->> 'timezone', 'America/Bogota')"
_CONTACT = "v.outcome IN ('contact', 'refused', 'promise_to_pay', 'paid')"
_AGREEMENT = "v.outcome IN ('promise_to_pay', 'paid')"
_ME = "(SELECT analytics.tenant())"

VIEWS: list[tuple[str, str, str]] = [
    (
        "address_zones",
        f"""
        SELECT DISTINCT ON (a.id) a.id AS address_id, z.id AS zone_id, z.name AS zone_name
        FROM public.addresses a
        JOIN public.zones z ON z.tenant_id = a.tenant_id AND z.kind = 'area'
                           AND ST_Covers(z.geom, a.point)
        WHERE a.tenant_id = {_ME}
        ORDER BY a.id, z.id
        """,
        "The area zone each located address lies in (the lowest id where areas overlap).",
    ),
    (
        "cases",
        f"""
        SELECT c.id AS case_id, c.external_ref, c.product, c.bucket, c.days_past_due,
               c.outstanding_cop, c.priority, c.status,
               c.status IN ('paid', 'agreement') AS retained,
               c.assigned_agent_id AS agent_id, g.code AS agent_code,
               (c.created_at AT TIME ZONE {_TZ})::date AS loaded_on, c.assigned_at, (c.assigned_at AT TIME ZONE {_TZ})::date AS assigned_on,
               c.closed_at, (c.closed_at AT TIME ZONE {_TZ})::date AS closed_on,
               (SELECT min(v.checkin_at) FROM public.visits v
                WHERE v.tenant_id = c.tenant_id AND v.case_id = c.id
                  AND v.status <> 'rejected' AND v.checkin_at >= c.assigned_at)
                   AS first_visit_at,
               az.zone_id, az.zone_name, a.point AS geom
        FROM public.cases c
        JOIN public.tenants t ON t.id = c.tenant_id
        LEFT JOIN public.agents g ON g.tenant_id = c.tenant_id AND g.id = c.assigned_agent_id
        LEFT JOIN public.addresses a ON a.tenant_id = c.tenant_id AND a.id = c.address_id
        LEFT JOIN analytics.address_zones az ON az.address_id = c.address_id
        WHERE c.tenant_id = {_ME}
        """,
        "Cases with loading, assignment, closing (local days), first visit after assignment, zone "
        "and address point. retained: closed as paid or agreement.",
    ),
    (
        "visits",
        f"""
        SELECT v.id AS visit_id, v.case_id, v.agent_id, g.code AS agent_code,
               v.checkin_at, v.checkout_at,
               (v.checkin_at AT TIME ZONE {_TZ})::date AS local_date,
               extract(hour FROM v.checkin_at AT TIME ZONE {_TZ})::int AS local_hour,
               extract(isodow FROM v.checkin_at AT TIME ZONE {_TZ})::int AS local_dow,
               v.status, v.verdict, v.outcome,
               coalesce({_CONTACT}, false) AS contact,
               coalesce({_AGREEMENT}, false) AS agreement,
               v.distance_m, extract(epoch FROM v.checkout_at - v.checkin_at) AS time_on_site_s,
               c.product, c.bucket, az.zone_id, az.zone_name, v.checkin_point AS geom
        FROM public.visits v
        JOIN public.tenants t ON t.id = v.tenant_id
        JOIN public.cases c ON c.tenant_id = v.tenant_id AND c.id = v.case_id
        LEFT JOIN public.agents g ON g.tenant_id = v.tenant_id AND g.id = v.agent_id
        LEFT JOIN analytics.address_zones az ON az.address_id = c.address_id
        WHERE v.tenant_id = {_ME}
        """,
        "Every check-in with its local day, hour and ISO weekday, verdict, outcome, contact "
        "(someone reached: contact, refused, promise_to_pay, paid), agreement (promise_to_pay, "
        "paid), time on site, case segment and zone; geom is where the agent checked in.",
    ),
    (
        "contacts",
        "SELECT * FROM analytics.visits WHERE contact",
        "Completed visits that reached someone.",
    ),
    (
        "payments",
        f"""
        SELECT y.id AS payment_id, y.case_id, y.paid_on, y.amount_cop, y.reference,
               c.assigned_agent_id AS agent_id, g.code AS agent_code, c.product, c.bucket,
               az.zone_id, az.zone_name, a.point AS geom
        FROM public.payments y
        JOIN public.cases c ON c.tenant_id = y.tenant_id AND c.id = y.case_id
        LEFT JOIN public.agents g ON g.tenant_id = c.tenant_id AND g.id = c.assigned_agent_id
        LEFT JOIN public.addresses a ON a.tenant_id = c.tenant_id AND a.id = c.address_id
        LEFT JOIN analytics.address_zones az ON az.address_id = c.address_id
        WHERE y.tenant_id = {_ME}
        """,
        "Payments received, with the case's assigned agent, segment, zone and address point.",
    ),
    (
        "promises",
        f"""
        SELECT p.id AS promise_id, p.visit_id, p.case_id, v.agent_id, ag.code AS agent_code,
               (p.created_at AT TIME ZONE {_TZ})::date AS promised_on, p.due_date,
               p.amount_cop, g.days AS grace_days, coalesce(paid.amount, 0) AS paid_cop,
               CASE WHEN coalesce(paid.amount, 0) >= p.amount_cop THEN 'kept'
                    WHEN p.due_date + g.days < (now() AT TIME ZONE {_TZ})::date THEN 'broken'
                    ELSE 'pending' END AS state,
               c.product, c.bucket, az.zone_id, az.zone_name, a.point AS geom
        FROM public.promises p
        JOIN public.tenants t ON t.id = p.tenant_id
        CROSS JOIN LATERAL (SELECT coalesce((t.settings ->> 'promise_grace_days')::int, 3)
                            AS days) g
        JOIN public.visits v ON v.tenant_id = p.tenant_id AND v.id = p.visit_id
        JOIN public.agents ag ON ag.tenant_id = v.tenant_id AND ag.id = v.agent_id
        JOIN public.cases c ON c.tenant_id = p.tenant_id AND c.id = p.case_id
        LEFT JOIN public.addresses a ON a.tenant_id = c.tenant_id AND a.id = c.address_id
        LEFT JOIN analytics.address_zones az ON az.address_id = c.address_id
        LEFT JOIN LATERAL (
            SELECT sum(y.amount_cop) AS amount FROM public.payments y
            WHERE y.tenant_id = p.tenant_id AND y.case_id = p.case_id
              AND y.paid_on BETWEEN (p.created_at AT TIME ZONE {_TZ})::date
                                AND p.due_date + g.days
        ) paid ON true
        WHERE p.tenant_id = {_ME}
        """,
        "Promises to pay with what was paid on the case from the promise day to the due date "
        "plus the grace days (settings.promise_grace_days, default 3): kept when it covers the "
        "amount, broken when the grace has passed without, else pending.",
    ),
    (
        "agent_days",
        f"""
        WITH moves AS (
            SELECT f.agent_id, (f.recorded_at AT TIME ZONE {_TZ})::date AS local_date,
                   count(*) AS fixes, min(f.battery_pct) AS min_battery_pct,
                   ST_Simplify(ST_Transform(ST_MakeLine(f.point ORDER BY f.recorded_at), 9377),
                               10) AS path
            FROM public.gps_fixes f JOIN public.tenants t ON t.id = f.tenant_id
            WHERE f.tenant_id = {_ME} AND NOT f.mock
              AND (f.accuracy_m IS NULL OR f.accuracy_m <= 50)
            GROUP BY 1, 2
        ), work AS (
            SELECT agent_id, local_date, count(*) AS visits,
                   count(*) FILTER (WHERE status = 'completed') AS completed,
                   count(*) FILTER (WHERE contact) AS contacts,
                   coalesce(sum(time_on_site_s), 0) AS time_on_site_s
            FROM analytics.visits GROUP BY 1, 2
        )
        SELECT d.agent_id, g.code AS agent_code, d.local_date,
               coalesce(ST_Length(m.path), 0) AS distance_m, coalesce(m.fixes, 0) AS fixes,
               m.min_battery_pct, coalesce(w.visits, 0) AS visits,
               coalesce(w.completed, 0) AS completed, coalesce(w.contacts, 0) AS contacts,
               coalesce(w.time_on_site_s, 0) AS time_on_site_s,
               ST_Transform(m.path, 4326) AS geom
        FROM (SELECT agent_id, local_date FROM moves UNION SELECT agent_id, local_date FROM work) d
        JOIN public.agents g ON g.tenant_id = {_ME} AND g.id = d.agent_id
        LEFT JOIN moves m ON m.agent_id = d.agent_id AND m.local_date = d.local_date
        LEFT JOIN work w ON w.agent_id = d.agent_id AND w.local_date = d.local_date
        """,
        "One row per agent and local day: distance along the fixes (accuracy 50 m or better, "
        "no mock locations; simplified at 10 m in EPSG:9377 so jitter at rest mostly drops "
        "out), visits, completed, contacts, time on site; geom is the path.",
    ),
]


def upgrade() -> None:
    # ### commands auto generated by Alembic - please adjust! ###
    op.create_table(
        "analyst_logins",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("role_name", sa.Text(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_analyst_logins_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "role_name", name=op.f("pk_analyst_logins")),
    )
    op.create_table(
        "payments",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("case_id", sa.BigInteger(), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=False),
        sa.Column("amount_cop", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column("reference", sa.Text(), server_default=sa.text("''"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("amount_cop > 0", name=op.f("ck_payments_amount_positive")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "case_id"],
            ["cases.tenant_id", "cases.id"],
            name=op.f("fk_payments_tenant_id_case_id_cases"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_payments_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_payments")),
        sa.UniqueConstraint(
            "tenant_id",
            "case_id",
            "paid_on",
            "amount_cop",
            "reference",
            name=op.f("uq_payments_tenant_id_case_id_paid_on_amount_cop_reference"),
        ),
    )
    op.create_index(
        "ix_payments_tenant_id_paid_on", "payments", ["tenant_id", "paid_on"], unique=False
    )
    # ### end Alembic commands ###
    op.drop_constraint(op.f("ck_zones_kind"), "zones", type_="check")
    op.create_check_constraint(
        op.f("ck_zones_kind"), "zones", "kind IN ('territory', 'no_go', 'area')"
    )
    role = get_settings().app_db_role
    for table in ("payments", "analyst_logins"):
        for statement in isolation_ddl(table, role=role, grant=None):
            op.execute(statement)
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON payments TO {role}")
    op.execute(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {role}")
    op.execute(
        f"""
        DO $$ BEGIN
            IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{ANALYST_GROUP}') THEN
                CREATE ROLE {ANALYST_GROUP} NOLOGIN NOSUPERUSER NOBYPASSRLS;
            END IF;
        END $$
        """
    )
    op.execute("CREATE SCHEMA analytics")
    op.execute(
        "COMMENT ON SCHEMA analytics IS 'Documented views for analysts; every row is filtered "
        "to analytics.tenant(). Definitions: docs/analytics.md'"
    )
    op.execute(TENANT_FUNCTION)
    for name, body, comment in VIEWS:
        op.execute(f"CREATE VIEW analytics.{name} WITH (security_barrier) AS {body}")
        quoted = comment.replace("'", "''")
        op.execute(f"COMMENT ON VIEW analytics.{name} IS '{quoted}'")
    # LLVM JIT compiles every report with a few hundred expressions for seconds, longer than
    # the report itself takes to run (1.5 s of 2 s on 100,000 visits): off for this database.
    op.execute(
        "DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET jit = off', current_database()); END $$"
    )
    for grantee in (role, ANALYST_GROUP):
        op.execute(f"GRANT USAGE ON SCHEMA analytics TO {grantee}")
        op.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA analytics TO {grantee}")


def downgrade() -> None:
    op.execute("DROP SCHEMA analytics CASCADE")
    op.execute(
        "DO $$ BEGIN EXECUTE format('ALTER DATABASE %I RESET jit', current_database()); END $$"
    )
    op.execute("DELETE FROM zones WHERE kind = 'area'")
    op.drop_constraint(op.f("ck_zones_kind"), "zones", type_="check")
    op.create_check_constraint(op.f("ck_zones_kind"), "zones", "kind IN ('territory', 'no_go')")
    # ### commands auto generated by Alembic - please adjust! ###
    op.drop_index("ix_payments_tenant_id_paid_on", table_name="payments")
    op.drop_table("payments")
    op.drop_table("analyst_logins")
    # ### end Alembic commands ###
