"""The box, pure: what the next box is expected to hold, the kilograms received by crop, and
the rules of a family's report on a box and of its resolution (a rating from 1 to 5, a credit
needs a next box, a refund never more than was paid less what was refunded)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from farm import forms
from farm.i18n import _
from farm.shipments import rules
from farm.units import format_yuan

RATINGS = (1, 2, 3, 4, 5)
COMMENT_CHARS = 300
PROBLEM_CHARS = 500
REPLY_CHARS = 300
CREDIT_CHARS = 200


@dataclass(frozen=True, slots=True)
class OpenHarvest:
    """A lot of the family's plot or field with grams not yet given a place."""

    crop_id: int
    plot_id: int | None  # None: harvested from the whole field, shared by plot area
    harvested_on: date
    open_g: int
    shelf_life_days: int


@dataclass(frozen=True, slots=True)
class Expected:
    """A crop expected in the next box: about `grams`, and whether it keeps until it arrives."""

    crop_id: int
    grams: int
    keeps: bool


def expected_items(
    lots: Iterable[OpenHarvest],
    *,
    plot_id: int,
    plot_area: Decimal,
    field_area: Decimal,
    ship_on: date,
    transit_days: int,
    carried: Iterable[OpenHarvest] = (),
) -> list[Expected]:
    """What the next box on `ship_on` is expected to hold, by crop: the plot's open harvest,
    its share by area (of the area of the field's subscribed plots, `field_area`) of the
    field's open harvest, and what was kept from a held ship day; each marked whether it
    still keeps when it arrives. An estimate: the ship day decides (farm.shipments.planning)."""
    grams: dict[tuple[int, bool], int] = {}
    order: list[tuple[int, bool]] = []
    for lot in (*lots, *carried):
        if lot.plot_id is None:
            share = _share(lot.open_g, plot_area=plot_area, field_area=field_area)
        elif lot.plot_id == plot_id:
            share = lot.open_g
        else:
            continue
        if share <= 0:
            continue
        keeps = rules.arrives_fresh(
            harvested_on=lot.harvested_on,
            shelf_life_days=lot.shelf_life_days,
            departs_on=ship_on,
            transit_days=transit_days,
        )
        key = (lot.crop_id, keeps)
        if key not in grams:
            order.append(key)
        grams[key] = grams.get(key, 0) + share
    return [Expected(crop_id, grams[(crop_id, keeps)], keeps) for crop_id, keeps in order]


def _share(grams: int, *, plot_area: Decimal, field_area: Decimal) -> int:
    if field_area <= 0 or plot_area <= 0:
        return 0
    rest = max(field_area - plot_area, Decimal(0))
    split = rules.split_by_area(grams, [("plot", plot_area), ("rest", rest)])
    return split[0][1]


def grams_by_crop(rows: Iterable[tuple[int, int]]) -> dict[int, int]:
    """(crop id, grams) rows summed by crop, the heaviest first."""
    totals: dict[int, int] = {}
    for crop_id, grams in rows:
        totals[crop_id] = totals.get(crop_id, 0) + int(grams or 0)
    return dict(sorted(totals.items(), key=lambda kv: (-kv[1], kv[0])))


def credit_ship_day(days: Sequence[date], *, today: date, made: Iterable[date]) -> date | None:
    """The ship day whose box will carry a credit given today: the first after today whose
    boxes are not made yet; None when the season has no such day left."""
    done = set(made)
    return next((d for d in sorted(days) if d > today and d not in done), None)


def rating(value: str) -> int:
    """A rating from 1 to 5 stars, as sent by the form."""
    return forms.whole(value, low=1, high=5, message=_("Choose from 1 to 5 stars."))


def refund_amount(value: str, *, refundable_fen: int) -> int:
    """The partial refund typed in yuan, in fen: more than zero, and at most what the payment
    has left to refund (paid less what was refunded or is being refunded)."""
    if refundable_fen <= 0:
        raise forms.Problem("nothing_left", _("This payment has no more money to refund."))
    amount = forms.yuan(value)
    if amount > refundable_fen:
        raise forms.Problem(
            "too_large",
            _("At most %(amount)s can be refunded: what was paid, less what was refunded.")
            % {"amount": "¥" + format_yuan(refundable_fen)},
        )
    return amount


def refundable(*, paid_fen: int, committed_fen: int) -> int:
    """What a payment can still give back: paid, less the refunds made or on their way."""
    return max(paid_fen - committed_fen, 0)
