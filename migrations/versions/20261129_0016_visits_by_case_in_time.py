"""visits by case in time order

The law's ledger and the open-visit check look up a debtor's visits by case and day. With only
``(tenant_id, case_id)`` and ``(tenant_id, agent_id, checkin_at)`` the planner, whose statistics
never know about today's rows yet, chose the tenant's whole day of visits and filtered them:
milliseconds per check-in that grew with the team. ``(tenant_id, case_id, checkin_at)`` answers
both by case and replaces the narrower index.

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-29 15:10:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_visits_tenant_id_case_id_checkin_at", "visits", ["tenant_id", "case_id", "checkin_at"]
    )
    op.drop_index("ix_visits_tenant_id_case_id", table_name="visits")


def downgrade() -> None:
    op.create_index("ix_visits_tenant_id_case_id", "visits", ["tenant_id", "case_id"])
    op.drop_index("ix_visits_tenant_id_case_id_checkin_at", table_name="visits")
