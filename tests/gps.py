"""Helpers shared by the GPS tests: on-shift times, app-shaped fixes, stored counts."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import text

from geo.core.db import tenant_session

BOGOTA = ZoneInfo("America/Bogota")


def on_shift(days_ago: int = 1, minute: int = 0) -> datetime:
    """10:00 Bogotá time ``days_ago`` days back: inside the 08:00-17:00 shift, never future."""
    day = datetime.now(BOGOTA).date() - timedelta(days=days_ago)
    return datetime(day.year, day.month, day.day, 10, 0, tzinfo=BOGOTA) + timedelta(minutes=minute)


def app_fix(at: datetime, **extra: Any) -> dict[str, Any]:
    """A fix as the field app sends it."""
    return {
        "id": str(uuid.uuid4()),
        "recorded_at": at.isoformat(),
        "lat": 4.6486,
        "lon": -74.0628,
        **extra,
    }


def stored_fixes(tenant_id: int) -> list[dict[str, Any]]:
    """The tenant's stored fixes, oldest first, as plain dicts."""
    with tenant_session(tenant_id) as session:
        rows = session.execute(
            text(
                "SELECT id, recorded_at, ST_X(point) AS lon, ST_Y(point) AS lat, accuracy_m, "
                "speed_mps, heading_deg, altitude_m, battery_pct, charging, mock, source, "
                "device_id, attributes FROM gps_fixes ORDER BY recorded_at, id"
            )
        )
        return [dict(r._mapping) for r in rows]
