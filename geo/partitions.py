"""Monthly partitions of ``gps_fixes``, created ahead so an insert never finds its month missing."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session


def ensure_gps_partitions(session: Session, *, months_back: int = 1, months_ahead: int = 3) -> int:
    """Create any missing partition from ``months_back`` ago to ``months_ahead`` from now.

    Idempotent and cheap when nothing is missing; returns how many partitions it created.
    Works from the application role too (the SQL function runs as the schema owner).
    """
    created = session.scalar(
        text(
            "SELECT campo_ensure_gps_partitions(now() - make_interval(months => :back), "
            "now() + make_interval(months => :ahead))"
        ),
        {"back": months_back, "ahead": months_ahead},
    )
    return int(created or 0)
