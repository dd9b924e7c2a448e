"""odk devices

A phone running ODK Collect is registered like a tracker app: its key (the last part of the
form server URL it is given) is the device identifier, 256 random bits.

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-29 16:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_constraint(op.f("ck_devices_protocol"), "devices", type_="check")
    op.create_check_constraint(
        op.f("ck_devices_protocol"), "devices", "protocol IN ('osmand', 'owntracks', 'odk')"
    )


def downgrade() -> None:
    op.execute("DELETE FROM devices WHERE protocol = 'odk'")
    op.drop_constraint(op.f("ck_devices_protocol"), "devices", type_="check")
    op.create_check_constraint(
        op.f("ck_devices_protocol"), "devices", "protocol IN ('osmand', 'owntracks')"
    )
