"""Numbers as people in Colombia read them (es-CO): ``$ 4.643.110``, ``12,3 km``.

Dots group thousands and a comma marks decimals. Three formats do not justify a locale
library; Python's own formatting with the separators swapped is exact for them.
"""

from __future__ import annotations


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
