"""Numbers and times as people in Colombia read them (es-CO): ``$ 4.643.110``, ``12,3 km``,
``14:05`` in the tenant's zone.

Dots group thousands and a comma marks decimals; times are 24-hour. A handful of formats do
not justify a locale library; Python's own formatting with the separators swapped is exact.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo


def number(value: float, places: int = 0) -> str:
    """``1234567.891, 1`` -> ``1.234.567,9``."""
    english = f"{value:,.{places}f}"
    return english.replace(",", "\0").replace(".", ",").replace("\0", ".")


def money(cop: float) -> str:
    """Pesos, no cents: ``$ 4.643.110`` (``-$ 1.000`` when negative)."""
    sign = "-" if round(cop) < 0 else ""
    return f"{sign}$ {number(abs(cop))}"


def km(metres: float) -> str:
    """``12.345`` m -> ``12,3 km``."""
    return f"{number(metres / 1000, 1)} km"


def clock(at: datetime | str, zone: ZoneInfo) -> str:
    """An instant (or its ISO 8601 text, with offset) as the local ``HH:MM`` in ``zone``."""
    moment = datetime.fromisoformat(at) if isinstance(at, str) else at
    return moment.astimezone(zone).strftime("%H:%M")


def local_moment(at: datetime | str, zone: ZoneInfo) -> str:
    """An instant as the local ``YYYY-MM-DD HH:MM`` in ``zone``."""
    moment = datetime.fromisoformat(at) if isinstance(at, str) else at
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")
