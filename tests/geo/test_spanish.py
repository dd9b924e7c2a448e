"""es-CO numbers: dots group thousands, a comma marks decimals."""

from __future__ import annotations

import pytest

from geo.core.spanish import km, money, number


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
