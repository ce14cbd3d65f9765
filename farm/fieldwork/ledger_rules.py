"""Pure rules of the households' yearly ledger: land rent counted on each transfer's own dates
by calendar year, never by season, so land serving two overlapping seasons is paid once.
No I/O, no clock.

The rounding rule: a transfer's rent for a year is area (mu) × yearly rent per mu × (its days
inside the year / the year's days, 365 or 366), rounded half-up to the fen once, per transfer
and year. A household's rent for the year is the sum of its transfers' rounded shares, so a
statement's lines add up to its total. A transfer covering a whole year pays exactly its
yearly rent, in a leap year too."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from farm.units import M2_PER_MU


def year_bounds(year: int) -> tuple[date, date]:
    """The calendar year, half-open: [1 January, 1 January of the next)."""
    return date(year, 1, 1), date(year + 1, 1, 1)


def days_in_year(year: int) -> int:
    first, following = year_bounds(year)
    return (following - first).days


def days_within(*, starts_on: date, ends_on: date | None, within: tuple[date, date]) -> int:
    """Days of the transfer [starts_on, ends_on) (no end: still running) inside the half-open
    span `within`."""
    first = max(starts_on, within[0])
    last = within[1] if ends_on is None else min(ends_on, within[1])
    return max((last - first).days, 0)


def _half_up(amount: Decimal) -> int:
    return int(amount.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def year_rent_fen(
    *, area_m2: Decimal, rent_fen_per_mu_year: int, starts_on: date, ends_on: date | None,
    year: int,
) -> int:  # fmt: skip
    """A transfer's rent for the calendar year (see the module's rounding rule)."""
    days = days_within(starts_on=starts_on, ends_on=ends_on, within=year_bounds(year))
    # rent × m² / M2_PER_MU is exact (few decimals); the division by the year's days is the
    # only rounding, last.
    per_year = Decimal(rent_fen_per_mu_year) * Decimal(area_m2) / M2_PER_MU
    return _half_up(per_year * days / days_in_year(year))


def month_bounds(year: int, month: int) -> tuple[date, date]:
    following = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return date(year, month, 1), following


def rent_by_month(*, total_fen: int, starts_on: date, ends_on: date | None, year: int) -> list[int]:
    """A transfer's rent for the year (`total_fen`) spread over the year's twelve months in
    proportion to its days in each, rounded on the running total so that the months add up
    to `total_fen` exactly."""
    days = [
        days_within(starts_on=starts_on, ends_on=ends_on, within=month_bounds(year, m))
        for m in range(1, 13)
    ]
    return spread(total_fen, days)


def spread(total_fen: int, weights: Sequence[int]) -> list[int]:
    """`total_fen` shared by `weights`, each share rounded half-up on the running sum: the
    shares add up to the total exactly (all 0 when the weights do)."""
    whole = sum(weights)
    if whole == 0:
        return [0 for _ in weights]
    shares: list[int] = []
    running = 0
    given = 0
    for weight in weights:
        running += weight
        upto = _half_up(Decimal(total_fen) * running / whole)
        shares.append(upto - given)
        given = upto
    return shares


def shift_wages_fen(*, hours: Decimal, wage_fen_per_hour: int) -> int:
    """One shift's wages, rounded half-up to the fen: shown beside the shift. The year's
    wages are the year's hours × wage rounded once (farm.fieldwork.rules.wages_fen), which
    the shifts' rounded amounts may miss by a fen or so."""
    return _half_up(Decimal(hours) * wage_fen_per_hour)
