"""Amounts and tables as creditors' files carry them."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

import pytest

from geo.portfolio.tabular import parse_cop, read_table


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("3500000", "3500000"),
        ("$ 3.500.000", "3500000"),
        ("3,500,000", "3500000"),
        ("1.500", "1500"),
        ("1.500,50", "1500.50"),
        ("1,500.50", "1500.50"),
        ("1500.5", "1500.5"),
        ("1500,5", "1500.5"),
        ("0", "0"),
    ],
)
def test_amounts_in_the_ways_people_write_them(text: str, amount: str) -> None:
    assert parse_cop(text) == Decimal(amount)


@pytest.mark.parametrize("text", ["mucho", "", "1.2.3,4,5"])
def test_what_is_not_an_amount(text: str) -> None:
    with pytest.raises(InvalidOperation):
        parse_cop(text)


def test_rows_carry_the_line_a_person_sees() -> None:
    data = b'a;b\n1;"dos\nlineas"\n\n3;4\n'
    table = read_table(data)
    assert table.columns == ["a", "b"]
    assert [(line, row["a"]) for line, row in table.rows] == [(2, "1"), (5, "3")]
