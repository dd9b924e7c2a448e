"""es-CO numbers and times: dots group thousands, a comma marks decimals, 24-hour local times."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from geo.core.spanish import clock, km, local_moment, money, number


@pytest.mark.parametrize(
    ("value", "expected"),
    [(4643110, "$ 4.643.110"), (0, "$ 0"), (999.6, "$ 1.000"), (-1500, "-$ 1.500")],
)
def test_money_reads_as_in_colombia(value: float, expected: str) -> None:
    assert money(value) == expected


def test_decimals_take_a_comma_and_thousands_a_dot() -> None:
    assert number(1234567.891, 1) == "1.234.567,9"
    assert km(12345) == "12,3 km"
    assert km(800) == "0,8 km"


def test_times_are_local_and_24_hour() -> None:
    bogota = ZoneInfo("America/Bogota")
    assert clock("2026-11-24T19:11:00+00:00", bogota) == "14:11"  # not 19:11, UTC
    assert clock(datetime(2026, 11, 25, 1, 5, tzinfo=UTC), bogota) == "20:05"
    assert local_moment("2026-11-25T01:05:00Z", bogota) == "2026-11-24 20:05"
