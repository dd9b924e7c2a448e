"""questionnaire versions an admin can retire

``questionnaires.retired_at``: a version taken out of use is no longer served to phones (the
key's newest version in use serves instead); what was sent with it is still read with it.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07 20:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "questionnaires", sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True)
    )


def downgrade() -> None:
    op.drop_column("questionnaires", "retired_at")
