"""review decisions and the audit log

A supervisor decides on each check-in the rules sent to review (approved or rejected, with a
comment); every such change is kept in an append-only audit log (who, when, what, before and
after). Visits notify ``campo_feed`` when written or decided, so the console's feed shows them
as they happen (``LISTEN``), with no polling.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-29 12:49:58.376334
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from geo.core.settings import get_settings
from geo.core.tenancy import isolation_ddl

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FEED = """
CREATE FUNCTION campo_visit_feed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('campo_feed', json_build_object(
        'tenant_id', NEW.tenant_id, 'visit_id', NEW.id)::text);
    RETURN NULL;
END $$
"""


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column(
            "at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column(
            "before", postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), nullable=True
        ),
        sa.Column(
            "after", postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), nullable=True
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "user_id"],
            ["users.tenant_id", "users.id"],
            name=op.f("fk_audit_log_tenant_id_user_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_audit_log_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_audit_log")),
    )
    op.create_index(
        "ix_audit_log_tenant_id_subject_at",
        "audit_log",
        ["tenant_id", "subject", "at"],
        unique=False,
    )
    op.create_index(
        "ix_audit_log_tenant_id_user_id_at",
        "audit_log",
        ["tenant_id", "user_id", "at"],
        unique=False,
    )
    op.add_column("visits", sa.Column("review_decision", sa.Text(), nullable=True))
    op.add_column("visits", sa.Column("reviewed_by", sa.BigInteger(), nullable=True))
    op.add_column("visits", sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("visits", sa.Column("review_comment", sa.Text(), nullable=True))
    op.create_foreign_key(
        op.f("fk_visits_tenant_id_reviewed_by_users"),
        "visits",
        "users",
        ["tenant_id", "reviewed_by"],
        ["tenant_id", "id"],
    )
    op.create_check_constraint(
        op.f("ck_visits_review"),
        "visits",
        "review_decision IS NULL OR (review_decision IN ('approved', 'rejected') "
        "AND verdict = 'review' AND reviewed_by IS NOT NULL AND reviewed_at IS NOT NULL)",
    )
    role = get_settings().app_db_role
    for statement in isolation_ddl("audit_log", role=role, grant="SELECT, INSERT"):
        op.execute(statement)
    op.execute(FEED)
    op.execute(
        "CREATE TRIGGER visits_feed AFTER INSERT OR UPDATE OF outcome, review_decision "
        "ON visits FOR EACH ROW EXECUTE FUNCTION campo_visit_feed()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER visits_feed ON visits")
    op.execute("DROP FUNCTION campo_visit_feed()")
    op.drop_constraint(op.f("ck_visits_review"), "visits", type_="check")
    op.drop_constraint(op.f("fk_visits_tenant_id_reviewed_by_users"), "visits", type_="foreignkey")
    op.drop_column("visits", "review_comment")
    op.drop_column("visits", "reviewed_at")
    op.drop_column("visits", "reviewed_by")
    op.drop_column("visits", "review_decision")
    op.drop_index("ix_audit_log_tenant_id_user_id_at", table_name="audit_log")
    op.drop_index("ix_audit_log_tenant_id_subject_at", table_name="audit_log")
    op.drop_table("audit_log")
