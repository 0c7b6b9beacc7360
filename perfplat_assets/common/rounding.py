"""Rounding as a person does it by hand: halves go up, on exact decimal arithmetic."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction


def percentage(numerator: int | Fraction, denominator: int | Fraction, places: int) -> float | int:
    """100 * numerator / denominator rounded half-up to `places` decimals (an int when places == 0)."""
    if denominator == 0:
        raise ZeroDivisionError("a percentage of nothing is not available")
    return round_half_up(Fraction(100) * Fraction(numerator) / Fraction(denominator), places)


def round_half_up(value: Fraction, places: int) -> float | int:
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    rounded = exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return int(rounded) if places == 0 else float(rounded)
