"""A small, safe expression language for questionnaire skip logic and constraints.

It is the subset of ODK/XLSForm expressions a phone app can implement in a page of code, with
the same meaning on both sides; nothing is ever passed to ``eval``. Grammar::

    expr    := or
    or      := and ("or" and)*
    and     := not ("and" not)*
    not     := "not" not | compare
    compare := sum (("=" | "!=" | "<" | "<=" | ">" | ">=") sum)?
    sum     := product (("+" | "-") product)*
    product := unary (("*" | "/") unary)*
    unary   := "-" unary | atom
    atom    := number | 'string' | "string" | true | false | null | "." | ${name}
             | name "(" [expr ("," expr)*] ")" | "(" expr ")"

``${name}`` is an earlier answer (``${outcome}`` is the visit's outcome code), ``.`` the
answer being checked. Functions: ``selected(${q}, 'x')``, ``count_selected(${q})``,
``string_length(v)``, ``today()``, ``if(c, a, b)``; XLSForm's ``div``, ``true()`` and
``false()`` read as ``/``, ``true`` and ``false`` (:func:`to_xpath` writes the other way for
the phone). A missing answer is ``null``, equal to the empty string as on the phone; it compares
unequal to everything but ``null`` and makes ordering comparisons false. Dates compare with
ISO strings, and ``date ± n`` moves by days.

An expression is bounded where it is defined (length, tokens, nesting, digits of a number)
and where it runs (magnitude of a result, dates within campo's years), so no definition can
make a later answer crash the check: anything out of bounds is an :class:`ExpressionError`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<number>\d+(?:\.\d+)?)
      | (?P<string>'[^']*'|"[^"]*")
      | (?P<ref>\$\{[A-Za-z_][A-Za-z0-9_]*\})
      | (?P<op><=|>=|!=|=|<|>|\+|-|\*|/|\(|\)|,|\.)
      | (?P<name>[A-Za-z_][A-Za-z0-9_-]*)
    )""",
    re.VERBOSE,
)
_COMPARE = {"=", "!=", "<", "<=", ">", ">="}
MAX_LENGTH = 1000
"""Characters in one expression."""
MAX_TOKENS = 200
MAX_DEPTH = 32
"""Nesting of parentheses, ``not``, unary minus and function calls."""
MAX_DIGITS = 15
"""Digits of a number literal, and of any result (money in COP fits with room to spare)."""
_LIMIT = Decimal(10) ** MAX_DIGITS
MAX_DAYS = 36_600
"""Days a date may be moved by arithmetic: a century."""


class ExpressionError(ValueError):
    """An expression that does not parse, or that misuses a value."""


@dataclass(frozen=True, slots=True)
class Node:
    kind: str  # lit, ref, self, call, op, not
    value: Any = None
    args: tuple[Node, ...] = ()


def _tokens(source: str) -> list[tuple[str, str]]:
    if len(source) > MAX_LENGTH:
        raise ExpressionError(f"an expression has at most {MAX_LENGTH} characters")
    found, position = [], 0
    source = source.rstrip()
    while position < len(source):
        match = _TOKEN.match(source, position)
        if match is None or match.end() == position:
            raise ExpressionError(f"unexpected text at {position + 1}: {source[position:][:12]!r}")
        kind = match.lastgroup or ""
        found.append((kind, match.group(kind)))
        position = match.end()
        if len(found) > MAX_TOKENS:
            raise ExpressionError(f"an expression has at most {MAX_TOKENS} terms")
        if kind == "number" and len(found[-1][1].replace(".", "")) > MAX_DIGITS:
            raise ExpressionError(f"a number has at most {MAX_DIGITS} digits")
    return found


class _Parser:
    def __init__(self, source: str) -> None:
        self.tokens = _tokens(source)
        self.at = 0
        self.depth = 0

    def deeper(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExpressionError(f"an expression nests at most {MAX_DEPTH} levels")

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self, text: str | None = None) -> tuple[str, str]:
        token = self.peek()
        if token is None or (text is not None and token[1] != text):
            raise ExpressionError(f"expected {text or 'more'} at token {self.at + 1}")
        self.at += 1
        return token

    def accept(self, *texts: str) -> str | None:
        token = self.peek()
        if token is not None and token[0] in {"op", "name"} and token[1] in texts:
            self.at += 1
            return token[1]
        return None

    def parse(self) -> Node:
        node = self.or_()
        if self.peek() is not None:
            raise ExpressionError(f"unexpected {self.peek()[1]!r}")  # type: ignore[index]
        return node

    def or_(self) -> Node:
        node = self.and_()
        while self.accept("or"):
            node = Node("op", "or", (node, self.and_()))
        return node

    def and_(self) -> Node:
        node = self.not_()
        while self.accept("and"):
            node = Node("op", "and", (node, self.not_()))
        return node

    def not_(self) -> Node:
        if self.accept("not"):  # "not x" and "not(x)" alike
            self.deeper()
            return Node("not", None, (self.not_(),))
        return self.compare()

    def compare(self) -> Node:
        node = self.sum()
        operator = self.accept(*_COMPARE)
        return Node("op", operator, (node, self.sum())) if operator else node

    def sum(self) -> Node:
        node = self.product()
        while operator := self.accept("+", "-"):
            node = Node("op", operator, (node, self.product()))
        return node

    def product(self) -> Node:
        node = self.unary()
        while operator := self.accept("*", "/", "div"):  # div: XPath's way to write /
            node = Node("op", "/" if operator == "div" else operator, (node, self.unary()))
        return node

    def unary(self) -> Node:
        if self.accept("-"):
            self.deeper()
            return Node("op", "-", (Node("lit", 0), self.unary()))
        return self.atom()

    def atom(self) -> Node:
        kind, text = self.take()
        if kind == "number":
            return Node("lit", Decimal(text))
        if kind == "string":
            return Node("lit", text[1:-1])
        if kind == "ref":
            return Node("ref", text[2:-1])
        if (kind, text) == ("op", "."):
            return Node("self")
        if (kind, text) == ("op", "("):
            self.deeper()
            node = self.or_()
            self.take(")")
            return node
        if kind == "name" and text in {"true", "false", "null"}:
            if text != "null" and self.peek() == ("op", "("):  # XPath's true() and false()
                self.take("(")
                self.take(")")
            return Node("lit", {"true": True, "false": False, "null": None}[text])
        if kind == "name":
            name = text.replace("-", "_")
            if name not in _FUNCTIONS and name not in {"if", "today"}:
                raise ExpressionError(f"unknown function {text!r}")
            self.deeper()
            self.take("(")
            args: list[Node] = []
            if not self.accept(")"):
                args.append(self.or_())
                while self.accept(","):
                    args.append(self.or_())
                self.take(")")
            return Node("call", name, tuple(args))
        raise ExpressionError(f"unexpected {text!r}")


_XPATH_OPERATORS = {"/": "div", "=": "=", "!=": "!=", "and": "and", "or": "or"}


def to_xpath(source: str) -> str:
    """The expression as an XForm writes it, printed from its parse so nothing of this
    language's own spelling reaches the phone: XPath divides with ``div`` (a ``/`` is a path
    step), names its functions with hyphens (``string-length``), has ``true()``, ``false()``
    and ``not(...)``, and the empty string where an answer is missing. ``${name}`` stays for
    pyxform to turn into a path."""
    return _xpath(parse(source))


def _xpath(node: Node) -> str:
    if node.kind == "lit":
        if isinstance(node.value, bool):
            return "true()" if node.value else "false()"
        if node.value is None:
            return "''"
        if isinstance(node.value, str):
            return f"'{node.value}'" if "'" not in node.value else f'"{node.value}"'
        return str(node.value)
    if node.kind == "ref":
        return f"${{{node.value}}}"
    if node.kind == "self":
        return "."
    if node.kind == "not":
        return f"not({_xpath(node.args[0])})"
    if node.kind == "call":
        return f"{node.value.replace('_', '-')}({', '.join(_xpath(a) for a in node.args)})"
    left, right = (_xpath(a) for a in node.args)
    operator = _XPATH_OPERATORS.get(node.value, node.value)
    return f"({left} {operator} {right})"


def parse(source: str) -> Node:
    """Parse an expression, or raise :class:`ExpressionError` saying where it went wrong."""
    return _Parser(source).parse()


def references(node: Node) -> set[str]:
    """The ``${names}`` an expression reads."""
    found = {node.value} if node.kind == "ref" else set()
    for arg in node.args:
        found |= references(arg)
    return found


def _as_date(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return value
    return value


def _number(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
        raise ExpressionError(f"{value!r} is not a number")
    if isinstance(value, str) and len(value) > MAX_DIGITS + 2:
        raise ExpressionError(f"{value[:20]!r} is not a number of at most {MAX_DIGITS} digits")
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        raise ExpressionError(f"{value!r} is not a number") from None
    if not number.is_finite() or abs(number) >= _LIMIT:
        raise ExpressionError(f"{value!r} is not a number of at most {MAX_DIGITS} digits")
    return number


def _compare(operator: str, left: Any, right: Any) -> bool:
    # An unanswered question is the empty string on the phone: ``${x} != ''`` asks "answered?"
    if operator in {"=", "!="} and {type(left), type(right)} <= {type(None), str}:
        left, right = left or None, right or None
    if isinstance(left, date) or isinstance(right, date):
        left, right = _as_date(left), _as_date(right)
    elif (isinstance(left, int | float | Decimal) or isinstance(right, int | float | Decimal)) and (
        left is not None and right is not None and not isinstance(left, bool | list)
    ):
        try:
            left, right = _number(left), _number(right)
        except ExpressionError:
            return operator == "!="
    if operator == "=":
        return bool(left == right)
    if operator == "!=":
        return bool(left != right)
    if left is None or right is None:
        return False
    try:
        return bool(
            {"<": left < right, "<=": left <= right, ">": left > right, ">=": left >= right}[
                operator
            ]
        )
    except TypeError:
        raise ExpressionError(f"cannot order {left!r} and {right!r}") from None


def _arithmetic(operator: str, left: Any, right: Any) -> Any:
    if left is None or right is None:
        return None
    if isinstance(left, date):
        if operator not in {"+", "-"}:
            raise ExpressionError("a date can only be moved by + or - days")
        days = _number(right)
        if abs(days) > MAX_DAYS:
            raise ExpressionError(f"a date moves by at most {MAX_DAYS} days")
        try:
            return left + timedelta(days=int(days) if operator == "+" else -int(days))
        except OverflowError:
            raise ExpressionError("the date falls outside the calendar") from None
    a, b = _number(left), _number(right)
    if operator == "/" and b == 0:
        return None
    result = {"+": a + b, "-": a - b, "*": a * b, "/": a / b if b else None}[operator]
    if result is not None and abs(result) >= _LIMIT:
        raise ExpressionError(f"a result has more than {MAX_DIGITS} digits")
    return result


def text_length(value: str) -> int:
    """A text's length as the phone's form engine counts it: JavaRosa's ``string-length`` is
    Java's, in UTF-16 code units, so an emoji outside the BMP counts 2 there and here."""
    return len(value.encode("utf-16-le")) // 2


_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "selected": lambda values, choice: (
        (isinstance(values, list) and choice in values) or values == choice
    ),
    "count_selected": lambda values: len(values) if isinstance(values, list) else 0,
    "string_length": lambda value: (
        Decimal(text_length(value)) if isinstance(value, str) else Decimal(0)
    ),
}
"""Eager functions; ``if`` (lazy) and ``today`` (the caller's day) are handled in
:func:`evaluate`."""


def _truthy(value: Any) -> bool:
    if isinstance(value, list | str):
        return len(value) > 0
    return value is not None and value is not False and value != 0


def evaluate(
    node: Node, answers: Mapping[str, Any], current: Any = None, today: date | None = None
) -> Any:
    """The value of ``node`` over ``answers`` (``current`` for ``.``; ``today`` for
    ``today()``, the day the answers were given, so a late upload is judged as on that day)."""
    if node.kind == "lit":
        return node.value
    if node.kind == "ref":
        return answers.get(node.value)
    if node.kind == "self":
        return current
    if node.kind == "not":
        return not _truthy(evaluate(node.args[0], answers, current, today))
    if node.kind == "call":
        if node.value == "today":
            return today or date.today()
        if node.value == "if":
            if len(node.args) != 3:
                raise ExpressionError("if() takes a condition and two values")
            condition = _truthy(evaluate(node.args[0], answers, current, today))
            return evaluate(node.args[1] if condition else node.args[2], answers, current, today)
        values = [evaluate(arg, answers, current, today) for arg in node.args]
        try:
            return _FUNCTIONS[node.value](*values)
        except TypeError:
            raise ExpressionError(f"wrong arguments for {node.value}()") from None
    operator, (left_node, right_node) = node.value, node.args
    if operator == "and":
        return _truthy(evaluate(left_node, answers, current, today)) and _truthy(
            evaluate(right_node, answers, current, today)
        )
    if operator == "or":
        return _truthy(evaluate(left_node, answers, current, today)) or _truthy(
            evaluate(right_node, answers, current, today)
        )
    left = evaluate(left_node, answers, current, today)
    right = evaluate(right_node, answers, current, today)
    if operator in _COMPARE:
        return _compare(operator, left, right)
    return _arithmetic(operator, left, right)


def holds(
    node: Node, answers: Mapping[str, Any], current: Any = None, today: date | None = None
) -> bool:
    """Whether a condition is true (relevance, constraints)."""
    return _truthy(evaluate(node, answers, current, today))
