"""published plans

A day may have many plans (planned again, with other settings); one of them is the plan in
force, published by a dispatcher. Publishing another replaces it; the earlier stays as history.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-29 13:21:27.266904
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("plans", sa.Column("published_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("plans", sa.Column("published_by", sa.BigInteger(), nullable=True))
    op.create_index(
        "ix_plans_one_published",
        "plans",
        ["tenant_id", "day"],
        unique=True,
        postgresql_where=sa.text("published_at IS NOT NULL"),
    )
    op.create_foreign_key(
        op.f("fk_plans_tenant_id_published_by_users"),
        "plans",
        "users",
        ["tenant_id", "published_by"],
        ["tenant_id", "id"],
    )
    op.create_check_constraint(
        op.f("ck_plans_published_done"), "plans", "published_at IS NULL OR status = 'done'"
    )


def downgrade() -> None:
    op.drop_constraint(op.f("ck_plans_published_done"), "plans", type_="check")
    op.drop_constraint(op.f("fk_plans_tenant_id_published_by_users"), "plans", type_="foreignkey")
    op.drop_index(
        "ix_plans_one_published",
        table_name="plans",
        postgresql_where=sa.text("published_at IS NOT NULL"),
    )
    op.drop_column("plans", "published_by")
    op.drop_column("plans", "published_at")
