"""When debtors open the door: contact rate by local hour × weekday, and the windows it suggests.

A cell's rate is contacts / attempts over completed visits (``analytics.visits``), with a
Wilson score interval so that a cell of three lucky visits is not read as a sure thing. A
suggested window is, per zone and weekday, the run of consecutive hours whose pooled Wilson
lower bound is highest, kept only when that lower bound beats the rate of the whole day there:
evidence that the window is better, not noise. A zone with too few visits on a weekday pools
its visits of every weekday; with too few even then, it borrows the tenant-wide window for
that weekday. A zone with enough visits and no better hours gets none.
The planner uses these for cases without visiting hours.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, time, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.analytics.kpis import check_period
from geo.core.contact_law import holiday_name
from geo.core.tenant_settings import TenantSettings, tenant_settings

Z_95 = 1.959964

CONTACT_HOURS_SQL = """
    SELECT CASE WHEN CAST(:by_zone AS boolean) THEN x.zone_id END AS zone_id,
           CASE WHEN CAST(:by_zone AS boolean) THEN x.zone_name END AS zone_name,
           x.local_dow AS dow, x.local_hour AS hour,
           count(*) AS attempts, count(*) FILTER (WHERE x.contact) AS contacts
    FROM analytics.visits x
    WHERE x.status = 'completed' AND x.local_date BETWEEN :date_from AND :date_to
    GROUP BY 1, 2, 3, 4
"""


def wilson(contacts: int, attempts: int, z: float = Z_95) -> tuple[float, float]:
    """Wilson score interval of a proportion; (0, 1) when there is no evidence at all."""
    if attempts == 0:
        return 0.0, 1.0
    p = contacts / attempts
    centre = p + z * z / (2 * attempts)
    spread = z * math.sqrt(p * (1 - p) / attempts + z * z / (4 * attempts * attempts))
    scale = 1 + z * z / attempts
    return max(0.0, (centre - spread) / scale), min(1.0, (centre + spread) / scale)


@dataclass(frozen=True, slots=True)
class HourCell:
    zone_id: int | None
    zone_name: str | None
    dow: int
    """ISO weekday: 1 is Monday."""
    hour: int
    attempts: int
    contacts: int

    @property
    def rate(self) -> float | None:
        return self.contacts / self.attempts if self.attempts else None

    @property
    def interval(self) -> tuple[float, float]:
        return wilson(self.contacts, self.attempts)

    def row(self) -> dict[str, Any]:
        """The cell as a report row, keyed by :data:`HOUR_COLUMNS`."""
        low, high = self.interval
        values = (self.zone_id, self.zone_name, self.dow, self.hour, self.attempts)
        return dict(zip(HOUR_COLUMNS, (*values, self.contacts, self.rate, low, high), strict=True))


HOUR_COLUMNS = (
    "zone_id",
    "zone",
    "dow",
    "hour",
    "attempts",
    "contacts",
    "rate",
    "ci_low",
    "ci_high",
)


def contact_hours(
    session: Session, *, date_from: date, date_to: date, by_zone: bool = False
) -> list[HourCell]:
    """Attempts and contacts per (zone,) weekday and hour, over local days of the period."""
    check_period(date_from, date_to)
    params = {"date_from": date_from, "date_to": date_to, "by_zone": by_zone}
    rows = session.execute(text(CONTACT_HOURS_SQL), params)
    cells = [
        HourCell(r.zone_id, r.zone_name, int(r.dow), int(r.hour), int(r.attempts), int(r.contacts))
        for r in rows
    ]
    return sorted(cells, key=lambda c: (c.zone_id or 0, c.dow, c.hour))


@dataclass(frozen=True, slots=True)
class Suggestion:
    zone_id: int | None
    zone_name: str | None
    dow: int
    start_hour: int
    end_hour: int
    """Exclusive: a window 18–21 covers visits starting 18:00 to 20:59."""
    attempts: int
    contacts: int
    ci_low: float
    day_rate: float
    basis: str
    """``zone``: from the zone's visits that weekday; ``zone_all_days``: the zone's visits of
    every weekday pooled (too few that day alone); ``overall``: the whole tenant's, that day."""


@dataclass(frozen=True, slots=True)
class WindowRules:
    length_h: int = 3
    min_attempts: int = 30
    hours: tuple[tuple[int, int] | None, ...] = ((7, 19),) * 5 + ((8, 15), None)
    """Whole hours [first, last) windows lie within, per ISO weekday (Monday first; None: no
    window that day): the tenant's visiting hours inside the law's contact hours."""

    @classmethod
    def of(cls, settings: TenantSettings) -> WindowRules:
        first, last = settings.visit_hours
        hours: list[tuple[int, int] | None] = []
        for weekday in range(7):
            legal = settings.contact_hours.on(weekday)
            if legal is None:
                hours.append(None)
                continue
            start = max(first, legal[0].hour + (legal[0].minute > 0 or legal[0].second > 0))
            end = min(last, 24 if legal[1] == time.max else legal[1].hour)
            hours.append((start, end) if start < end else None)
        return cls(
            length_h=settings.suggested_window_h,
            min_attempts=settings.suggested_window_min_attempts,
            hours=tuple(hours),
        )

    def on(self, dow: int) -> tuple[int, int] | None:
        """The bounds of an ISO weekday (1 Monday .. 7 Sunday)."""
        return self.hours[dow - 1]


_Best = tuple[int, int, int, float, float]


def _best(
    hours: dict[int, tuple[int, int]], rules: WindowRules, dow: int
) -> tuple[bool, _Best | None]:
    """Whether there was evidence enough (a window with ``min_attempts``), and the best
    window on weekday ``dow`` as (start, attempts, contacts, lower bound, day rate) if one
    beats the day."""
    bounds = rules.on(dow)
    if bounds is None:
        return False, None
    day_attempts = sum(a for a, _ in hours.values())
    day_contacts = sum(c for _, c in hours.values())
    if day_attempts == 0:
        return False, None
    day_rate = day_contacts / day_attempts
    best: _Best | None = None
    evidence = False
    for start in range(bounds[0], bounds[1] - rules.length_h + 1):
        inside = [hours.get(h, (0, 0)) for h in range(start, start + rules.length_h)]
        attempts, contacts = sum(a for a, _ in inside), sum(c for _, c in inside)
        if attempts < rules.min_attempts:
            continue
        evidence = True
        low = wilson(contacts, attempts)[0]
        if low > day_rate and (best is None or low > best[3]):
            best = (start, attempts, contacts, low, day_rate)
    return evidence, best


def suggest_windows(
    zone_cells: list[HourCell], overall_cells: list[HourCell], rules: WindowRules
) -> list[Suggestion]:
    """Per zone and weekday the best window, else the tenant-wide one; per weekday overall."""
    grouped: dict[tuple[int | None, int], dict[int, tuple[int, int]]] = defaultdict(dict)
    names: dict[int | None, str | None] = {None: None}
    for cell in zone_cells:
        grouped[(cell.zone_id, cell.dow)][cell.hour] = (cell.attempts, cell.contacts)
        names[cell.zone_id] = cell.zone_name
        every_day = grouped[(cell.zone_id, 0)].get(cell.hour, (0, 0))
        grouped[(cell.zone_id, 0)][cell.hour] = (
            every_day[0] + cell.attempts,
            every_day[1] + cell.contacts,
        )
    for cell in overall_cells:
        grouped[(None, cell.dow)][cell.hour] = (cell.attempts, cell.contacts)
    overall: dict[int, Suggestion] = {}
    for dow in range(1, 8):
        _, found = _best(grouped.get((None, dow), {}), rules, dow)
        if found:
            start, attempts, contacts, low, day_rate = found
            overall[dow] = Suggestion(
                None,
                None,
                dow,
                start,
                start + rules.length_h,
                attempts,
                contacts,
                low,
                day_rate,
                "overall",
            )
    out = list(overall.values())
    for zone_id in sorted(z for z in {c.zone_id for c in zone_cells} if z is not None):
        for dow in range(1, 8):
            # The zone's visits of every weekday, within this weekday's hours.
            pooled_evidence, pooled = _best(grouped.get((zone_id, 0), {}), rules, dow)
            evidence, found = _best(grouped.get((zone_id, dow), {}), rules, dow)
            basis = "zone"
            if not evidence and grouped.get((zone_id, dow)):
                evidence, found, basis = pooled_evidence, pooled, "zone_all_days"
            if found:
                out.append(
                    Suggestion(
                        zone_id,
                        names[zone_id],
                        dow,
                        found[0],
                        found[0] + rules.length_h,
                        found[1],
                        found[2],
                        found[3],
                        found[4],
                        basis,
                    )
                )
            elif not evidence and dow in overall:
                borrowed = overall[dow]
                out.append(
                    Suggestion(
                        zone_id,
                        names[zone_id],
                        dow,
                        borrowed.start_hour,
                        borrowed.end_hour,
                        borrowed.attempts,
                        borrowed.contacts,
                        borrowed.ci_low,
                        borrowed.day_rate,
                        "overall",
                    )
                )
    return out


def suggested_windows(
    session: Session,
    *,
    tenant_id: int,
    date_from: date,
    date_to: date,
    rules: WindowRules | None = None,
) -> list[Suggestion]:
    """Suggestions from the completed visits of a period (rules: the tenant's settings)."""
    if rules is None:
        rules = WindowRules.of(tenant_settings(session, tenant_id))
    zones = contact_hours(session, date_from=date_from, date_to=date_to, by_zone=True)
    return suggest_windows([c for c in zones if c.zone_id is not None], tenant_wide(zones), rules)


def tenant_wide(cells: list[HourCell]) -> list[HourCell]:
    """Per-zone cells (visits outside every zone included, as zone None) summed per weekday
    and hour: the tenant-wide cells, without reading the visits a second time."""
    sums: dict[tuple[int, int], tuple[int, int]] = defaultdict(lambda: (0, 0))
    for cell in cells:
        attempts, contacts = sums[(cell.dow, cell.hour)]
        sums[(cell.dow, cell.hour)] = (attempts + cell.attempts, contacts + cell.contacts)
    return [HourCell(None, None, dow, hour, a, c) for (dow, hour), (a, c) in sorted(sums.items())]


def windows_for_day(
    session: Session, *, tenant_id: int, day: date
) -> dict[int | None, tuple[int, int]]:
    """What the planner uses on ``day``: zone id (None: tenant-wide) → (from, until) in seconds
    after local midnight, learnt from the ``suggested_window_lookback_days`` before it."""
    settings = tenant_settings(session, tenant_id)
    if not settings.suggested_windows:
        return {}
    lookback = settings.suggested_window_lookback_days
    found = suggested_windows(
        session,
        tenant_id=tenant_id,
        date_from=day - timedelta(days=lookback),
        date_to=day - timedelta(days=1),
        rules=WindowRules.of(settings),
    )
    if holiday_name(day, settings.contact_holidays) is not None:
        return {}  # no contact on a public holiday: nothing to suggest
    dow = day.isoweekday()
    return {s.zone_id: (s.start_hour * 3600, s.end_hour * 3600) for s in found if s.dow == dow}
