"""visit media

Files sent with a visit (photos), listed per visit under the tenant's row-level security;
the bytes live on disk under their SHA-256 (``CAMPO_MEDIA_DIR``).

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-29 15:48:25.003822
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from geo.core.settings import get_settings
from geo.core.tenancy import isolation_ddl

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "visit_media",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("visit_id", sa.BigInteger(), nullable=False),
        sa.Column("filename", sa.Text(), nullable=False),
        sa.Column("sha256", sa.Text(), nullable=False),
        sa.Column("content_type", sa.Text(), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name=op.f("ck_visit_media_sha256_hex")),
        sa.CheckConstraint("size_bytes > 0", name=op.f("ck_visit_media_size_positive")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "visit_id"],
            ["visits.tenant_id", "visits.id"],
            name=op.f("fk_visit_media_tenant_id_visit_id_visits"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_visit_media_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_visit_media")),
        sa.UniqueConstraint(
            "tenant_id",
            "visit_id",
            "filename",
            name=op.f("uq_visit_media_tenant_id_visit_id_filename"),
        ),
    )
    role = get_settings().app_db_role
    for statement in isolation_ddl("visit_media", role=role, grant="SELECT, INSERT, DELETE"):
        op.execute(statement)


def downgrade() -> None:
    op.drop_table("visit_media")
