"""Pure rules for land and seasons: units, the ship-day calendar. No I/O, no clock."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

M2_PER_MU = Decimal(2000) / Decimal(3)  # 1 mu = 666.67 m²
FEN_PER_MU = 10  # area fen: 1 fen = 0.1 mu = 66.67 m²


def m2_to_mu(area_m2: Decimal) -> Decimal:
    return (Decimal(area_m2) / M2_PER_MU).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def m2_to_fen(area_m2: Decimal) -> Decimal:
    return (Decimal(area_m2) * FEN_PER_MU / M2_PER_MU).quantize(
        Decimal("0.1"), rounding=ROUND_HALF_UP
    )


def mu_to_m2(mu: Decimal) -> Decimal:
    return (Decimal(mu) * M2_PER_MU).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def parse_days_of_month(text: str) -> tuple[int, ...]:
    """'1,16' -> (1, 16). Raises ValueError for anything but distinct days 1..28."""
    days = sorted({int(part) for part in text.split(",") if part.strip()})
    if not days or any(not 1 <= d <= 28 for d in days):
        raise ValueError("ship days must be days of the month between 1 and 28")
    return tuple(days)


def ship_days(starts_on: date, ends_on: date, days_of_month: Iterable[int]) -> list[date]:
    """Every ship day in the half-open period [starts_on, ends_on), in order."""
    wanted = sorted(set(days_of_month))
    result: list[date] = []
    year, month = starts_on.year, starts_on.month
    while date(year, month, 1) < ends_on:
        for day in wanted:
            d = date(year, month, day)
            if starts_on <= d < ends_on:
                result.append(d)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return result


def cutoff_for(ship_day: date, cutoff_days: int) -> date:
    """The last day on which a ship day can still be changed (held, re-addressed)."""
    return ship_day - timedelta(days=cutoff_days)


def is_on_sale(*, sale_starts_on: date, sale_ends_on: date, today: date) -> bool:
    return sale_starts_on <= today < sale_ends_on


def format_yuan(fen: int) -> str:
    """12345 -> '123.45'; whole yuan without decimals: 58000 -> '580'."""
    sign = "-" if fen < 0 else ""
    yuan, rest = divmod(abs(fen), 100)
    grouped = f"{yuan:,}"
    return f"{sign}{grouped}" if rest == 0 else f"{sign}{grouped}.{rest:02d}"


def plain_number(value: Decimal) -> str:
    """Decimal without trailing zeros: 0.50 -> '0.5', 10.0 -> '10'."""
    text = f"{Decimal(value):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text
