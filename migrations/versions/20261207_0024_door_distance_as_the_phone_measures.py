"""door distance as the phone measures it

``campo_door_distance(a, b)``: metres between two points as ODK's form engines measure them
(the spherical law of cosines on JavaRosa's 6,378,100 m sphere), so the server's check-in and
the form's check at the door decide the same way (``geo/visits/door.py``). Inline SQL: the
planner folds it into the statements that call it.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07 16:10:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # 6,378,100 m: geo.visits.door.PHONE_EARTH_RADIUS_M, written here as migrations are history.
    op.execute(
        """
        CREATE FUNCTION campo_door_distance(a geometry, b geometry) RETURNS float8
        LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
            SELECT 6378100.0 * acos(least(1.0,
                sin(radians(ST_Y(a))) * sin(radians(ST_Y(b)))
                + cos(radians(ST_Y(a))) * cos(radians(ST_Y(b))) * cos(radians(ST_X(b) - ST_X(a)))))
        $$
        """
    )


def downgrade() -> None:
    op.execute("DROP FUNCTION campo_door_distance(geometry, geometry)")
