"""submissions kept as sent

What a phone sends (ODK Collect's instance XML and its attachments) is stored as sent before
anything is derived from it, under the tenant's row-level security; a visit whose outcome the
server refused is closed as ``incomplete`` instead of blocking its case.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 14:43:35.104305
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from geo.core.settings import get_settings
from geo.core.tenancy import isolation_ddl

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "submissions",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("instance_id", sa.Text(), nullable=False),
        sa.Column("deprecated_id", sa.Text(), nullable=True),
        sa.Column("agent_id", sa.BigInteger(), nullable=False),
        sa.Column("device_id", sa.BigInteger(), nullable=False),
        sa.Column("form_id", sa.Text(), nullable=False),
        sa.Column("form_version", sa.Text(), nullable=False),
        sa.Column("xml", sa.LargeBinary(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.Text(), server_default=sa.text("'stored'"), nullable=False),
        sa.Column(
            "problems",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column("clock_skew_s", sa.Float(), nullable=True),
        sa.Column("visit_id", sa.BigInteger(), nullable=True),
        sa.Column("derived_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "state IN ('stored', 'derived', 'problems', 'refused', 'replaced')",
            name=op.f("ck_submissions_state"),
        ),
        sa.CheckConstraint(
            "length(instance_id) BETWEEN 1 AND 200", name=op.f("ck_submissions_instance_id_length")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "agent_id"],
            ["agents.tenant_id", "agents.id"],
            name=op.f("fk_submissions_tenant_id_agent_id_agents"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "device_id"],
            ["devices.tenant_id", "devices.id"],
            name=op.f("fk_submissions_tenant_id_device_id_devices"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "visit_id"],
            ["visits.tenant_id", "visits.id"],
            name=op.f("fk_submissions_tenant_id_visit_id_visits"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_submissions_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_submissions")),
        sa.UniqueConstraint(
            "tenant_id", "instance_id", name=op.f("uq_submissions_tenant_id_instance_id")
        ),
    )
    op.create_index(
        "ix_submissions_needing_review",
        "submissions",
        ["tenant_id", "received_at"],
        unique=False,
        postgresql_where=sa.text("state IN ('problems', 'refused')"),
    )
    op.create_index(
        "ix_submissions_tenant_id_visit_id", "submissions", ["tenant_id", "visit_id"], unique=False
    )
    op.create_table(
        "submission_files",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("submission_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("content_type", sa.Text(), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.Text(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "sha256 ~ '^[0-9a-f]{64}$'", name=op.f("ck_submission_files_sha256_hex")
        ),
        sa.CheckConstraint(
            "length(name) BETWEEN 1 AND 200", name=op.f("ck_submission_files_name_length")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "submission_id"],
            ["submissions.tenant_id", "submissions.id"],
            name=op.f("fk_submission_files_tenant_id_submission_id_submissions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_submission_files_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "submission_id", "name", name=op.f("pk_submission_files")
        ),
    )
    role = get_settings().app_db_role
    for table in ("submissions", "submission_files"):
        for statement in isolation_ddl(table, role=role, grant="SELECT, INSERT, UPDATE"):
            op.execute(statement)
    _visit_statuses("'open', 'completed', 'rejected', 'incomplete'")


def _visit_statuses(values: str) -> None:
    op.drop_constraint(op.f("ck_visits_status"), "visits", type_="check")
    op.create_check_constraint(op.f("ck_visits_status"), "visits", f"status IN ({values})")


def downgrade() -> None:
    op.execute("UPDATE visits SET status = 'rejected' WHERE status = 'incomplete'")
    _visit_statuses("'open', 'completed', 'rejected'")
    op.drop_table("submission_files")
    op.drop_index("ix_submissions_tenant_id_visit_id", table_name="submissions")
    op.drop_index(
        "ix_submissions_needing_review",
        table_name="submissions",
        postgresql_where=sa.text("state IN ('problems', 'refused')"),
    )
    op.drop_table("submissions")
