"""questionnaires from XLSForm

A questionnaire version may come from an XLSForm workbook (the format of ODK and KoboToolbox);
the workbook is kept as uploaded beside the definition campo derived from it.

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-29 15:38:57
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("questionnaires", sa.Column("xlsform", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    op.drop_column("questionnaires", "xlsform")
