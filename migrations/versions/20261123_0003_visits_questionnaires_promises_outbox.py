"""visits, questionnaires, promises, outbox

Check-in verdicts become visits with a status (one open visit per agent and case), versioned
questionnaires, promises to pay, and the transactional e-mail outbox; row-level security on
the new tables.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 02:57:00.198346
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from geo.core.settings import get_settings
from geo.core.tenancy import isolation_ddl

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "questionnaires",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("definition", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("version > 0", name=op.f("ck_questionnaires_version_positive")),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_questionnaires_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_questionnaires")),
        sa.UniqueConstraint(
            "tenant_id", "key", "version", name=op.f("uq_questionnaires_tenant_id_key_version")
        ),
    )
    op.create_table(
        "outbox",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("visit_id", sa.BigInteger(), nullable=False),
        sa.Column("recipients", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("status", sa.Text(), server_default=sa.text("'pending'"), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column(
            "next_attempt_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('pending', 'sent')", name=op.f("ck_outbox_status")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "visit_id"],
            ["visits.tenant_id", "visits.id"],
            name=op.f("fk_outbox_tenant_id_visit_id_visits"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_outbox_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_outbox")),
        sa.UniqueConstraint(
            "tenant_id", "kind", "visit_id", name=op.f("uq_outbox_tenant_id_kind_visit_id")
        ),
    )
    op.create_index(
        "ix_outbox_due",
        "outbox",
        ["next_attempt_at"],
        unique=False,
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_table(
        "promises",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("visit_id", sa.BigInteger(), nullable=False),
        sa.Column("case_id", sa.BigInteger(), nullable=False),
        sa.Column("amount_cop", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("amount_cop > 0", name=op.f("ck_promises_amount_positive")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "case_id"],
            ["cases.tenant_id", "cases.id"],
            name=op.f("fk_promises_tenant_id_case_id_cases"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "visit_id"],
            ["visits.tenant_id", "visits.id"],
            name=op.f("fk_promises_tenant_id_visit_id_visits"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_promises_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_promises")),
        sa.UniqueConstraint("tenant_id", "visit_id", name=op.f("uq_promises_tenant_id_visit_id")),
    )
    op.create_index(
        "ix_promises_tenant_id_case_id_due_date",
        "promises",
        ["tenant_id", "case_id", "due_date"],
        unique=False,
    )
    op.add_column(
        "visits", sa.Column("status", sa.Text(), server_default=sa.text("'open'"), nullable=False)
    )
    op.add_column("visits", sa.Column("checkin_fix_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("visits", sa.Column("checkin_dwell_s", sa.Float(), nullable=True))
    op.add_column("visits", sa.Column("questionnaire_id", sa.BigInteger(), nullable=True))
    op.add_column("visits", sa.Column("outcome_client_id", sa.UUID(), nullable=True))
    op.add_column("visits", sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index(
        "ix_visits_one_open",
        "visits",
        ["tenant_id", "agent_id", "case_id"],
        unique=True,
        postgresql_where=sa.text("status = 'open'"),
    )
    op.create_foreign_key(
        op.f("fk_visits_tenant_id_questionnaire_id_questionnaires"),
        "visits",
        "questionnaires",
        ["tenant_id", "questionnaire_id"],
        ["tenant_id", "id"],
    )
    op.create_check_constraint(
        op.f("ck_visits_status"), "visits", "status IN ('open', 'completed', 'rejected')"
    )
    op.create_check_constraint(
        op.f("ck_visits_completed_has_outcome"),
        "visits",
        "status <> 'completed' OR (outcome IS NOT NULL AND checkout_at IS NOT NULL)",
    )
    role = get_settings().app_db_role
    for table in ("questionnaires", "promises", "outbox"):
        for statement in isolation_ddl(table, role=role):
            op.execute(statement)
    op.execute(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {role}")


def downgrade() -> None:
    op.drop_constraint(op.f("ck_visits_completed_has_outcome"), "visits", type_="check")
    op.drop_constraint(op.f("ck_visits_status"), "visits", type_="check")
    op.drop_constraint(
        op.f("fk_visits_tenant_id_questionnaire_id_questionnaires"), "visits", type_="foreignkey"
    )
    op.drop_index(
        "ix_visits_one_open", table_name="visits", postgresql_where=sa.text("status = 'open'")
    )
    op.drop_column("visits", "completed_at")
    op.drop_column("visits", "outcome_client_id")
    op.drop_column("visits", "questionnaire_id")
    op.drop_column("visits", "checkin_dwell_s")
    op.drop_column("visits", "checkin_fix_at")
    op.drop_column("visits", "status")
    op.drop_index("ix_promises_tenant_id_case_id_due_date", table_name="promises")
    op.drop_table("promises")
    op.drop_index(
        "ix_outbox_due", table_name="outbox", postgresql_where=sa.text("status = 'pending'")
    )
    op.drop_table("outbox")
    op.drop_table("questionnaires")
