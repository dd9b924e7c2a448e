"""Helpers shared by the GPS tests: on-shift times, app-shaped fixes, stored counts."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import text

from geo.core.contact_law import holiday_name
from geo.core.db import tenant_session

BOGOTA = ZoneInfo("America/Bogota")
WEDNESDAY_MORNING = datetime(2026, 12, 9, 11, 0, tzinfo=BOGOTA)
"""For tests that pin the clock (``@pytest.mark.time_machine``) to an ordinary working hour:
a Wednesday that is no holiday, inside the default shift and the law's hours."""


def on_shift(
    days_ago: int = 1, minute: int = 0, *, zone: ZoneInfo = BOGOTA, holidays: str = "CO"
) -> datetime:
    """10:00 local time on the ``days_ago``-th day back on which the law allows collection
    visits (Sundays and ``holidays``' public holidays skipped): inside the 08:00-17:00 shift
    and the legal hours, never in the future, whatever the hour the tests run at."""
    day = datetime.now(zone).date()
    for _ in range(days_ago):
        day -= timedelta(days=1)
        while day.weekday() == 6 or holiday_name(day, holidays) is not None:
            day -= timedelta(days=1)
    return datetime(day.year, day.month, day.day, 10, 0, tzinfo=zone) + timedelta(minutes=minute)


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
