"""agent defaults from tenant settings

A new agent's shift and daily capacity default to the tenant's settings
(``agent_shift_start``, ``agent_shift_end``, ``agent_daily_capacity``), so the database no
longer carries a default of its own that could disagree with them.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 07:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_DEFAULTS = {"shift_start": "'08:00'", "shift_end": "'17:00'", "daily_capacity": "20"}


def upgrade() -> None:
    for column in _DEFAULTS:
        op.alter_column("agents", column, server_default=None)


def downgrade() -> None:
    for column, default in _DEFAULTS.items():
        op.alter_column("agents", column, server_default=sa.text(default))
