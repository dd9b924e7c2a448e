"""plans

A day's plan (computed in the background, with progress), its routes with street geometry,
ordered stops with ETA/ETD, and the cases it could not fit with the reason.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 03:24:55.059568
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

from geo.core.settings import get_settings
from geo.core.tenancy import isolation_ddl

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "plans",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("status", sa.Text(), server_default=sa.text("'queued'"), nullable=False),
        sa.Column("progress", sa.Float(), server_default=sa.text("0"), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("budget_s", sa.Float(), nullable=False),
        sa.Column(
            "options",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "stats",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('queued', 'running', 'done', 'failed')", name=op.f("ck_plans_status")
        ),
        sa.CheckConstraint("progress BETWEEN 0 AND 1", name=op.f("ck_plans_progress_range")),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_plans_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_plans")),
    )
    op.create_index("ix_plans_tenant_id_day", "plans", ["tenant_id", "day"], unique=False)
    op.create_geospatial_table(
        "plan_routes",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("plan_id", sa.BigInteger(), nullable=False),
        sa.Column("agent_id", sa.BigInteger(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("distance_m", sa.Float(), nullable=False),
        sa.Column("duration_s", sa.Float(), nullable=False),
        sa.Column(
            "geometry",
            Geometry(
                geometry_type="LINESTRING",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "agent_id"],
            ["agents.tenant_id", "agents.id"],
            name=op.f("fk_plan_routes_tenant_id_agent_id_agents"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "plan_id"],
            ["plans.tenant_id", "plans.id"],
            name=op.f("fk_plan_routes_tenant_id_plan_id_plans"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "plan_id", "agent_id", name=op.f("pk_plan_routes")),
    )
    op.create_geospatial_index(
        "ix_plan_routes_geometry",
        "plan_routes",
        ["geometry"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_table(
        "plan_stops",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("plan_id", sa.BigInteger(), nullable=False),
        sa.Column("case_id", sa.BigInteger(), nullable=False),
        sa.Column("agent_id", sa.BigInteger(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("eta", sa.DateTime(timezone=True), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("etd", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "case_id"],
            ["cases.tenant_id", "cases.id"],
            name=op.f("fk_plan_stops_tenant_id_case_id_cases"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "plan_id"],
            ["plans.tenant_id", "plans.id"],
            name=op.f("fk_plan_stops_tenant_id_plan_id_plans"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "plan_id", "case_id", name=op.f("pk_plan_stops")),
        sa.UniqueConstraint(
            "tenant_id",
            "plan_id",
            "agent_id",
            "seq",
            name=op.f("uq_plan_stops_tenant_id_plan_id_agent_id_seq"),
        ),
    )
    op.create_table(
        "plan_unplanned",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("plan_id", sa.BigInteger(), nullable=False),
        sa.Column("case_id", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "case_id"],
            ["cases.tenant_id", "cases.id"],
            name=op.f("fk_plan_unplanned_tenant_id_case_id_cases"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "plan_id"],
            ["plans.tenant_id", "plans.id"],
            name=op.f("fk_plan_unplanned_tenant_id_plan_id_plans"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "plan_id", "case_id", name=op.f("pk_plan_unplanned")),
    )
    # The hours a debtor may be visited, when known (the planner's time window).
    op.add_column("cases", sa.Column("visit_from", sa.Time(), nullable=True))
    op.add_column("cases", sa.Column("visit_until", sa.Time(), nullable=True))
    op.create_check_constraint(
        op.f("ck_cases_visit_window"),
        "cases",
        "(visit_from IS NULL) = (visit_until IS NULL) AND "
        "(visit_from IS NULL OR visit_from < visit_until)",
    )
    role = get_settings().app_db_role
    for table in ("plans", "plan_routes", "plan_stops", "plan_unplanned"):
        for statement in isolation_ddl(table, role=role):
            op.execute(statement)
    op.execute(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {role}")


def downgrade() -> None:
    op.drop_constraint(op.f("ck_cases_visit_window"), "cases", type_="check")
    op.drop_column("cases", "visit_until")
    op.drop_column("cases", "visit_from")
    op.drop_table("plan_unplanned")
    op.drop_table("plan_stops")
    op.drop_geospatial_index(
        "ix_plan_routes_geometry",
        table_name="plan_routes",
        postgresql_using="gist",
        column_name="geometry",
    )
    op.drop_geospatial_table("plan_routes")
    op.drop_index("ix_plans_tenant_id_day", table_name="plans")
    op.drop_table("plans")
