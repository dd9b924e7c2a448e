"""The questionnaire expression language: what it means, and what it refuses."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from geo.visits.expressions import ExpressionError, evaluate, holds, parse, references, to_xpath

ANSWERS: dict[str, Any] = {
    "contact": "si",
    "amount": Decimal("150000"),
    "due": date(2026, 12, 1),
    "reasons": ["desempleo", "olvido"],
    "phone": "3001234567",
    "none": None,
}


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("${contact} = 'si'", True),
        ('${contact} != "si"', False),
        ("${amount} > 100000 and ${amount} <= 150000", True),
        ("${amount} * 2 - 300000 = 0", True),
        ("${amount} / 0 = null", True),
        ("not ${contact} = 'no'", True),
        ("not(${contact} = 'si') or ${amount} < 0", False),
        ("selected(${reasons}, 'olvido')", True),
        ("count_selected(${reasons}) = 2", True),
        ("string-length(${phone}) = 10", True),
        ("${due} >= '2026-11-30' and ${due} < today() + 30", True),
        ("${none} > 3", False),
        ("${none} = null", True),
        ("${missing} != 'x'", True),
        ("if(${contact} = 'si', 1, 2) = 1", True),
        ("-${amount} < 0", True),
        ("(1 + 2) * 3 = 9", True),
    ],
)
def test_meaning(source: str, expected: bool) -> None:
    assert holds(parse(source), ANSWERS, today=date(2026, 11, 23)) is expected


def test_current_answer_and_today() -> None:
    node = parse(". >= today() and . <= today() + 90")
    assert holds(node, {}, date(2026, 12, 1), today=date(2026, 11, 23))
    assert not holds(node, {}, date(2026, 11, 1), today=date(2026, 11, 23))
    assert evaluate(parse("today() - 1"), {}, today=date(2026, 11, 23)) == date(2026, 11, 22)


@pytest.mark.parametrize(
    "source",
    [
        "__import__('os')",
        "${a} ==",
        "1 +",
        "open('x')",
        "${a}; 1",
        "'unterminated",
        "a.b",
        "${a} = = 1",
        "lambda: 1",
    ],
)
def test_refuses_what_is_not_the_language(source: str) -> None:
    with pytest.raises(ExpressionError):
        parse(source)


def test_references_and_type_errors() -> None:
    assert references(parse("${a} = 1 and selected(${b}, 'x') or .")) == {"a", "b"}
    with pytest.raises(ExpressionError):
        evaluate(parse("${reasons} + 1"), ANSWERS)


@pytest.mark.parametrize(
    "source",
    [
        "${contact} = 'si' and not ${amount} > 200000",
        "${amount} / 3 > 40000",
        "string_length(${phone}) >= 7 and string-length(${phone}) <= 15",
        "count_selected(${reasons}) = 2 or selected(${reasons}, 'otro')",
        "if(${amount} > 100, ${amount} div 2, 0) = 75000",
        "${due} >= today() and ${due} <= today() + 90",
        "${none} = null and true and not false()",
        "-${amount} < 0",
    ],
)
def test_written_for_the_phone_an_expression_means_the_same(source: str) -> None:
    """What a form sends to Collect and Enketo is XPath with no spelling of campo's own, and
    reads back here with the same value."""
    written = to_xpath(source)
    for campo_only in ("string_length", "count_selected", " / ", "null", "not ${"):
        assert campo_only not in written
    today = date(2026, 11, 30)
    assert evaluate(parse(written), ANSWERS, today=today) == evaluate(
        parse(source), ANSWERS, today=today
    )
