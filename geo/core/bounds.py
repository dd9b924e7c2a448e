"""The range of dates and times campo accepts, and strict parsing of both.

Field work happens now, give or take the years a portfolio's history spans: a time in year 1
or 9999 is a typo or a probe, and near those ends adding a time zone or a day overflows
Python's ``datetime``. Every day and instant that enters from outside is parsed and checked
here, so such a value is refused by name instead of failing somewhere deeper.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated

from pydantic import BeforeValidator, WithJsonSchema

from geo.core.errors import InvalidInput

_CLOCK = "^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\\.[0-9]+)?)?$"


def _wall_clock(value: object) -> object:
    """Only ``HH:MM[:SS]`` (or a naive ``time``): pydantic would take ``0`` as midnight UTC,
    an aware time that cannot be compared with a shift's."""
    if isinstance(value, time) and value.tzinfo is None:
        return value
    if isinstance(value, str) and re.match(_CLOCK, value):
        return value
    raise ValueError("must be a local time as HH:MM or HH:MM:SS")


LocalTime = Annotated[
    time,
    BeforeValidator(_wall_clock),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": _CLOCK,
            "description": "A local wall-clock time, HH:MM[:SS], in the tenant's zone",
        }
    ),
]
"""A time of day with no offset (a shift, visiting hours). JSON Schema's ``format: time``
demands an offset, which a local time does not have, so it is published as a pattern."""
FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2099, 12, 31)
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DAY_SPAN = timedelta(days=1)


def check_day(day: date, field: str) -> date:
    if not FIRST_DAY <= day <= LAST_DAY:
        raise InvalidInput(f"{field} must be between {FIRST_DAY} and {LAST_DAY}", field)
    return day


def parse_day(text: str, field: str) -> date:
    """``YYYY-MM-DD`` and nothing looser (``0`` is not 1970-01-01)."""
    try:
        if not _DAY.match(text):
            raise ValueError
        day = date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{field} must be a date as YYYY-MM-DD", field) from None
    return check_day(day, field)


def check_instant(at: datetime, field: str) -> datetime:
    """An aware time within the accepted years, in UTC."""
    if at.tzinfo is None:
        raise InvalidInput(f"{field} needs a UTC offset", field)
    try:
        utc = at.astimezone(UTC)
    except OverflowError:
        utc = None
    # A day either side: 2000-01-01T00:00+14:00 is in the range as written, not in UTC.
    if utc is None or not FIRST_DAY - _DAY_SPAN <= utc.date() <= LAST_DAY + _DAY_SPAN:
        raise InvalidInput(f"{field} must fall between {FIRST_DAY} and {LAST_DAY}", field)
    return utc


def parse_instant(text: str, field: str) -> datetime:
    """An ISO 8601 time that carries its UTC offset; a bare local time is refused, not guessed."""
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{field} is not an ISO 8601 time", field) from None
    return check_instant(parsed, field)
