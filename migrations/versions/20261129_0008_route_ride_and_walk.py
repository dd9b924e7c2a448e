"""route ride and walk

Each planned route keeps the metres ridden on streets and the metres walked (door to street
and back at each stop, or the whole route for an agent on foot) apart; ``distance_m`` stays
their sum. Routes planned before this revision did not measure the split and keep NULL.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("plan_routes", sa.Column("ride_m", sa.Float(), nullable=True))
    op.add_column("plan_routes", sa.Column("walk_m", sa.Float(), nullable=True))


def downgrade() -> None:
    op.drop_column("plan_routes", "walk_m")
    op.drop_column("plan_routes", "ride_m")
