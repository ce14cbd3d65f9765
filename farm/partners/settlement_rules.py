"""Pure rules of settling with a partner: which price applies to a redemption, and a
statement's totals per voucher kind. No I/O, no clock.

A partner's price of a kind holds from its `valid_from` day (included) until the next price of
that kind: a change of price applies to redemptions from its day on and never rewrites the
ones before it. A redemption on a day before any price of its kind has no price: it is
counted apart as unpriced, never as 0."""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class Price:
    kind: str
    valid_from: date
    price_fen: int


class PriceList:
    """A partner's prices, each kind's in date order, for asking which applied on a day."""

    def __init__(self, prices: Iterable[Price]) -> None:
        by_kind: dict[str, list[Price]] = {}
        for price in sorted(prices, key=lambda p: (p.kind, p.valid_from)):
            by_kind.setdefault(price.kind, []).append(price)
        self._by_kind = by_kind
        self._days = {kind: [p.valid_from for p in ps] for kind, ps in by_kind.items()}

    def on(self, kind: str, day: date) -> int | None:
        """The price in fen of a voucher of `kind` redeemed on `day` (local), or None when no
        price of that kind was valid yet."""
        days = self._days.get(kind)
        if not days:
            return None
        index = bisect.bisect_right(days, day) - 1
        return self._by_kind[kind][index].price_fen if index >= 0 else None

    def changes_within(self, starts_on: date, ends_on: date) -> list[date]:
        """The days in (starts_on, ends_on) on which some kind's price changes: the period
        cut at them has one price per kind in each piece."""
        return sorted({d for days in self._days.values() for d in days if starts_on < d < ends_on})


def pieces(starts_on: date, ends_on: date, changes: Sequence[date]) -> list[tuple[date, date]]:
    """[starts_on, ends_on) cut at each day of `changes` (inside it, in order): half-open
    pieces that cover it exactly."""
    bounds = [starts_on, *changes, ends_on]
    return [(bounds[i], bounds[i + 1]) for i in range(len(bounds) - 1)]


@dataclass
class KindTotal:
    """One kind's redemptions in a statement: those priced, their amount, those unpriced."""

    kind: str
    priced: int = 0
    amount_fen: int = 0
    unpriced: int = 0
    prices: dict[int, int] = field(default_factory=dict)  # price in fen -> vouchers at it

    @property
    def count(self) -> int:
        return self.priced + self.unpriced


@dataclass(frozen=True)
class StatementTotals:
    kinds: list[KindTotal]

    @property
    def count(self) -> int:
        return sum(k.count for k in self.kinds)

    @property
    def amount_fen(self) -> int:
        return sum(k.amount_fen for k in self.kinds)

    @property
    def unpriced(self) -> int:
        return sum(k.unpriced for k in self.kinds)


def statement_totals(counts: Iterable[tuple[str, date, int]], prices: PriceList) -> StatementTotals:
    """Totals per kind from the redemptions counted per (kind, first day of a piece of the
    period in which the prices do not change): each piece's count at the price of its first
    day, or unpriced. Kinds in name order."""
    totals: dict[str, KindTotal] = {}
    for kind, first_day, n in counts:
        total = totals.setdefault(kind, KindTotal(kind))
        price = prices.on(kind, first_day)
        if price is None:
            total.unpriced += n
        else:
            total.priced += n
            total.amount_fen += price * n
            total.prices[price] = total.prices.get(price, 0) + n
    return StatementTotals([totals[k] for k in sorted(totals)])
