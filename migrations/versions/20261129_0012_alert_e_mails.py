"""alert e-mails

The outbox carries alerts as well as completed visits: a row names one or the other (a
check), and each alert is e-mailed once (unique per kind and alert).

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29 10:50:06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("outbox", sa.Column("alert_id", sa.BigInteger(), nullable=True))
    op.alter_column("outbox", "visit_id", existing_type=sa.BIGINT(), nullable=True)
    op.create_unique_constraint(
        op.f("uq_outbox_tenant_id_kind_alert_id"), "outbox", ["tenant_id", "kind", "alert_id"]
    )
    op.create_foreign_key(
        op.f("fk_outbox_tenant_id_alert_id_alerts"),
        "outbox",
        "alerts",
        ["tenant_id", "alert_id"],
        ["tenant_id", "id"],
    )
    op.create_check_constraint(
        op.f("ck_outbox_one_subject"), "outbox", "(visit_id IS NULL) <> (alert_id IS NULL)"
    )


def downgrade() -> None:
    op.drop_constraint(op.f("ck_outbox_one_subject"), "outbox", type_="check")
    op.execute("DELETE FROM outbox WHERE alert_id IS NOT NULL")
    op.drop_constraint(op.f("fk_outbox_tenant_id_alert_id_alerts"), "outbox", type_="foreignkey")
    op.drop_constraint(op.f("uq_outbox_tenant_id_kind_alert_id"), "outbox", type_="unique")
    op.alter_column("outbox", "visit_id", existing_type=sa.BIGINT(), nullable=False)
    op.drop_column("outbox", "alert_id")
