"""alerts

Supervisors' alerts (an agent silent or low on battery mid-shift, a rejected check-in, a
promise due tomorrow with nothing paid): one open row per occurrence (a partial unique
index), resolved when the condition ends; isolated per tenant like every tenant table.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29 10:47:35
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from geo.core.settings import get_settings
from geo.core.tenancy import isolation_ddl

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("rule", sa.Text(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("agent_id", sa.BigInteger(), nullable=True),
        sa.Column("case_id", sa.BigInteger(), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column(
            "raised_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "rule IN ('silent_agent', 'low_battery', 'rejected_checkin', 'unpaid_promise')",
            name=op.f("ck_alerts_rule"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_alerts_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_alerts")),
    )
    op.create_index(
        "ix_alerts_one_open",
        "alerts",
        ["tenant_id", "rule", "subject"],
        unique=True,
        postgresql_where=sa.text("resolved_at IS NULL"),
    )
    op.create_index(
        "ix_alerts_tenant_id_raised_at", "alerts", ["tenant_id", "raised_at"], unique=False
    )
    for statement in isolation_ddl("alerts", role=get_settings().app_db_role):
        op.execute(statement)


def downgrade() -> None:
    op.drop_index("ix_alerts_tenant_id_raised_at", table_name="alerts")
    op.drop_index(
        "ix_alerts_one_open", table_name="alerts", postgresql_where=sa.text("resolved_at IS NULL")
    )
    op.drop_table("alerts")
