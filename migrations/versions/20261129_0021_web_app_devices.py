"""web app devices

campo's web app registers the browser an agent signs in on like a Collect phone: its key in
the form server's URL is the device identifier, 256 random bits.

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-29 18:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_constraint(op.f("ck_devices_protocol"), "devices", type_="check")
    op.create_check_constraint(
        op.f("ck_devices_protocol"), "devices", "protocol IN ('osmand', 'owntracks', 'odk', 'web')"
    )


def downgrade() -> None:
    op.execute("DELETE FROM devices WHERE protocol = 'web'")
    op.drop_constraint(op.f("ck_devices_protocol"), "devices", type_="check")
    op.create_check_constraint(
        op.f("ck_devices_protocol"), "devices", "protocol IN ('osmand', 'owntracks', 'odk')"
    )
