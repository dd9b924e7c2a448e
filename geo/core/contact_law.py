"""When a debtor may be contacted: Colombia's Ley 2300 de 2023 as a calendar.

The law (art. 3) allows collection contacts Monday to Friday 7:00-19:00 and Saturday
8:00-15:00, never on Sundays or public holidays, unless the debtor agreed other hours; these
are the defaults of a tenant's policy (:class:`WeeklyHours`, in its settings), and a debtor's
agreed schedule replaces them for that debtor. Hours are local to the tenant's zone and
half-open: 19:00 on a Friday is already outside. Public holidays come from the maintained
``holidays`` package (Colombia's calendar, with the Monday moves of Ley 51 de 1983, "Ley
Emiliani"), not from a list kept here. Pure functions: the planner, the check-in rules and the
compliance report read the same calendar.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time
from functools import lru_cache
from typing import Any

import holidays
from pydantic import BaseModel, ConfigDict, field_validator

from geo.core.bounds import LocalTime

CHANNELS = ("visit", "call", "sms", "email", "whatsapp", "letter")
"""Ways of contacting a debtor; a field visit is one of them."""
CHANNEL_LABELS = {
    "visit": "visita",
    "call": "llamada",
    "sms": "SMS",
    "email": "correo electrónico",
    "whatsapp": "WhatsApp",
    "letter": "carta",
}
CHANNEL_NAMES = {
    **{c: c for c in CHANNELS},
    "visita": "visit",
    "llamada": "call",
    "telefono": "call",
    "teléfono": "call",
    "correo": "email",
    "e-mail": "email",
    "mensaje": "sms",
    "carta": "letter",
}
"""What import files and people write for each channel (English or Spanish)."""
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKDAY_NAMES = {
    "lun": 0,
    "mar": 1,
    "mie": 2,
    "mié": 2,
    "jue": 3,
    "vie": 4,
    "sab": 5,
    "sáb": 5,
    "dom": 6,
    **{name: i for i, name in enumerate(WEEKDAYS)},
}
WEEKDAY_LABELS = ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo")

Hours = tuple[LocalTime, LocalTime]
"""Local [from, until) of one day."""


class WeeklyHours(BaseModel):
    """Contact hours for each day of the week; a day left out (None) allows no contact."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    mon: Hours | None = None
    tue: Hours | None = None
    wed: Hours | None = None
    thu: Hours | None = None
    fri: Hours | None = None
    sat: Hours | None = None
    sun: Hours | None = None

    @field_validator(*WEEKDAYS)
    @classmethod
    def _ordered(cls, value: Hours | None) -> Hours | None:
        if value is not None and not value[0] < value[1]:
            raise ValueError("hours must be [from, until) with from before until")
        return value

    def on(self, weekday: int) -> Hours | None:
        """Hours of a weekday, Monday being 0 as in :meth:`date.weekday`."""
        hours: Hours | None = getattr(self, WEEKDAYS[weekday])
        return hours

    def text(self) -> str:
        """As people read it: ``lun 07:00-19:00; sáb 08:00-15:00``."""
        return "; ".join(
            f"{WEEKDAY_LABELS[i][:3]} {h[0]:%H:%M}-{h[1]:%H:%M}"
            for i in range(7)
            if (h := self.on(i)) is not None
        )


_WEEKDAY_HOURS = (time(7), time(19))
LEGAL_HOURS = WeeklyHours(
    mon=_WEEKDAY_HOURS,
    tue=_WEEKDAY_HOURS,
    wed=_WEEKDAY_HOURS,
    thu=_WEEKDAY_HOURS,
    fri=_WEEKDAY_HOURS,
    sat=(time(8), time(15)),
)
"""Ley 2300 de 2023, art. 3: weekdays 7:00-19:00, Saturdays 8:00-15:00, never on Sundays."""

_PART = re.compile(
    r"^\s*(?P<first>[a-záé]+)\s*(?:-\s*(?P<last>[a-záé]+))?\s+"
    r"(?P<start>\d{1,2}:\d{2})\s*-\s*(?P<end>\d{1,2}:\d{2})\s*$"
)


def parse_agreed_hours(text: str) -> WeeklyHours:
    """A debtor's agreed schedule as written in an import file: ``lun-vie 18:00-20:00; sáb
    09:00-12:00`` (days in Spanish or English, a range or one day, 24-hour times). Raises
    ValueError saying what is wrong."""
    days: dict[str, Any] = {}
    for part in filter(None, (p.strip() for p in text.lower().split(";"))):
        match = _PART.match(part)
        if match is None:
            raise ValueError(f"{part!r} is not 'día[-día] HH:MM-HH:MM'")
        first, last = match["first"][:3], (match["last"] or match["first"])[:3]
        if first not in WEEKDAY_NAMES or last not in WEEKDAY_NAMES:
            raise ValueError(f"{part!r}: days are lun, mar, mié, jue, vie, sáb, dom")
        try:
            hours = (time.fromisoformat(f"{match['start']:0>5}"), _until(match["end"]))
        except ValueError:
            raise ValueError(f"{part!r}: times are HH:MM, 00:00 to 24:00") from None
        span = range(WEEKDAY_NAMES[first], WEEKDAY_NAMES[last] + 1)
        if not span:
            raise ValueError(f"{part!r}: the days run backwards")
        for i in span:
            if WEEKDAYS[i] in days:
                raise ValueError(f"{WEEKDAY_LABELS[i]} appears twice")
            days[WEEKDAYS[i]] = hours
    if not days:
        raise ValueError("no days given")
    return WeeklyHours.model_validate(days)


def _until(raw: str) -> time:
    return time.max if raw == "24:00" else time.fromisoformat(f"{raw:0>5}")


@lru_cache(maxsize=64)
def _calendar(country: str, year: int) -> holidays.HolidayBase:
    return holidays.country_holidays(country, years=year, language="es")


def holiday_name(day: date, country: str | None) -> str | None:
    """The public holiday on ``day`` in ``country`` (its name in Spanish), if it is one."""
    if country is None:
        return None
    name: str | None = _calendar(country, day.year).get(day)
    return name


@dataclass(frozen=True, slots=True)
class DayHours:
    """Whether and when a debtor may be contacted on one local day, and why not."""

    hours: Hours | None
    closed: str | None = None
    """Why there are no hours, in Spanish (a Sunday, a holiday, the agreed schedule)."""


def day_hours(
    day: date, *, weekly: WeeklyHours, country: str | None, agreed: WeeklyHours | None = None
) -> DayHours:
    """The contact hours of ``day``: the debtor's agreed schedule if there is one (it replaces
    the legal hours, holidays included), else the policy's, none on a holiday."""
    if agreed is not None:
        hours = agreed.on(day.weekday())
        closed = (
            None if hours else f"el horario acordado no incluye el {WEEKDAY_LABELS[day.weekday()]}"
        )
        return DayHours(hours, closed)
    name = holiday_name(day, country)
    if name is not None:
        return DayHours(None, f"{day:%Y-%m-%d} es festivo ({name})")
    hours = weekly.on(day.weekday())
    if hours is None:
        return DayHours(None, f"{day:%Y-%m-%d} es {WEEKDAY_LABELS[day.weekday()]}: no hay horario")
    return DayHours(hours)


def outside_hours(
    at: datetime, *, weekly: WeeklyHours, country: str | None, agreed: WeeklyHours | None = None
) -> str | None:
    """Why a contact at the local moment ``at`` is outside the allowed hours (Spanish), or
    None when it is inside."""
    today = day_hours(at.date(), weekly=weekly, country=country, agreed=agreed)
    if today.hours is None:
        return today.closed
    start, end = today.hours
    moment = at.time().replace(tzinfo=None)
    if start <= moment < end:
        return None
    return f"{at:%H:%M} está fuera del horario permitido ({start:%H:%M}-{end:%H:%M})"


def iso_week(day: date) -> tuple[int, int]:
    """The ISO year and week of a day: the law's week runs Monday to Sunday."""
    year, week, _ = day.isocalendar()
    return year, week


def parse_channels(text: str) -> list[str]:
    """Channels as written in a file (``visita, llamada`` or ``visit|call``), in canonical
    order. Raises ValueError naming an unknown one."""
    found = set()
    for raw in re.split(r"[,;|]", text):
        name = raw.strip().lower()
        if not name:
            continue
        if name not in CHANNEL_NAMES:
            raise ValueError(f"{raw.strip()!r} is not a channel ({', '.join(CHANNELS)})")
        found.add(CHANNEL_NAMES[name])
    return [c for c in CHANNELS if c in found]
