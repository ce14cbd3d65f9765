"""The ship-day decisions for one field, pure: who owns each open gram, how a field's harvest
is split by area, what keeps until it arrives, what a held ship day carries over, and which
boxes have something in them.

`plan_field(snapshot)` takes what `batches.load_field` read from the database and returns a
`FieldPlan` that `batches.write_plan` stores; it touches no database and no clock, so its
properties (every gram in one place, only fresh produce shipped, a plot's harvest only to
its subscriber) are tested with many generated fields in tests/unit/test_ship_day_planning.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from farm.shipments import rules
from farm.shipments.models import AllocationState, DiversionReason

UNCLAIMED = rules.Outcome(AllocationState.DIVERTED, DiversionReason.UNCLAIMED)


@dataclass(frozen=True, slots=True)
class Subscriber:
    """A subscription of the field that gets a box, or holds this ship day."""

    id: int
    plot_id: int
    area: Decimal  # of the plot, m²
    province: str
    on_hold: bool
    next_ship_on: date | None  # the season's next ship day after this one
    starts_on: date  # of the subscription's season


@dataclass(frozen=True, slots=True)
class OpenLot:
    """A harvest lot of the field with grams not yet given a place."""

    id: int
    plot_id: int | None  # None: harvested from the whole field
    harvested_on: date
    open_g: int
    shelf_life_days: int


@dataclass(frozen=True, slots=True)
class CarriedItem:
    """A share kept from a held ship day for this subscriber's next box."""

    allocation_id: int
    subscription_id: int
    harvested_on: date
    shelf_life_days: int


@dataclass(frozen=True, slots=True)
class FieldSnapshot:
    """What one field's run decides from, read in its transaction."""

    ship_on: date
    today: date
    subscribers: tuple[Subscriber, ...]  # by id
    other_plots: frozenset[int]  # plots of subscribers of seasons not shipping this day
    lots: tuple[OpenLot, ...]  # by id
    carried: tuple[CarriedItem, ...]
    transit: Mapping[str, int]  # days per province


@dataclass(frozen=True, slots=True)
class Share:
    """A new allocation: grams of a lot, to a subscriber (or nobody), and what becomes of them."""

    lot_id: int
    subscription_id: int | None
    grams: int
    outcome: rules.Outcome


@dataclass(frozen=True, slots=True)
class Release:
    """A carried item decided again: shipped in this box, or diverted."""

    allocation_id: int
    subscription_id: int
    outcome: rules.Outcome


@dataclass(frozen=True, slots=True)
class Box:
    """One shipment: EMPTY when nothing could be sent, so the customer still sees why."""

    subscription_id: int
    transit_days: int
    has_items: bool


@dataclass(frozen=True, slots=True)
class FieldPlan:
    boxes: tuple[Box, ...]  # one per subscriber not on hold, by subscription id
    shares: tuple[Share, ...]
    released: tuple[Release, ...]  # carried items no longer carried (the others stay)
    settled_lot_ids: tuple[int, ...]  # lots whose open grams are all in `shares`


def transit_days(transit: Mapping[str, int], province: str) -> int:
    return transit.get(province, rules.DEFAULT_TRANSIT_DAYS)


def owners(snapshot: FieldSnapshot) -> list[tuple[OpenLot, list[tuple[int | None, int]]]]:
    """Each lot that is this day's to settle, with its grams by owner (None: nobody).

    A plot's lot is its subscriber's, unless grown before their season began; a plot of
    another season's subscriber waits for that season's own ship day. A field's lot is split
    by plot area among the subscribers whose season had begun when it was harvested; with none,
    it waits if another season's subscribers are on the field, else nobody claims it."""
    by_plot = {s.plot_id: s for s in snapshot.subscribers}
    out: list[tuple[OpenLot, list[tuple[int | None, int]]]] = []
    for lot in snapshot.lots:
        if lot.plot_id is not None:
            owner = by_plot.get(lot.plot_id)
            if owner is not None and lot.harvested_on < owner.starts_on:
                owner = None  # grown before this subscriber's season: not theirs
            elif owner is None and lot.plot_id in snapshot.other_plots:
                continue
            out.append((lot, [(owner.id if owner else None, lot.open_g)]))
            continue
        sharing = [(s.id, s.area) for s in snapshot.subscribers if s.starts_on <= lot.harvested_on]
        if sharing:
            split = rules.split_by_area(lot.open_g, sharing)
            out.append((lot, [(sub_id, g) for sub_id, g in split if g]))
        elif snapshot.other_plots:
            continue
        else:
            out.append((lot, [(None, lot.open_g)]))
    return out


def plan_field(snapshot: FieldSnapshot) -> FieldPlan:
    """Every decision of one field's run on a ship day (see the module's docstring)."""
    departs_on = max(snapshot.ship_on, snapshot.today)  # a catch-up box leaves late
    by_id = {s.id: s for s in snapshot.subscribers}

    def decide(sub_id: int | None, harvested_on: date, shelf_life_days: int) -> rules.Outcome:
        if sub_id is None:
            return UNCLAIMED
        sub = by_id[sub_id]
        return rules.outcome_for_share(
            harvested_on=harvested_on,
            shelf_life_days=shelf_life_days,
            departs_on=departs_on,
            transit_days=transit_days(snapshot.transit, sub.province),
            on_hold=sub.on_hold,
            next_ship_on=sub.next_ship_on,
        )

    shares: list[Share] = []
    settled: list[int] = []
    for lot, split in owners(snapshot):
        settled.append(lot.id)
        for sub_id, grams in split:
            outcome = decide(sub_id, lot.harvested_on, lot.shelf_life_days)
            shares.append(Share(lot.id, sub_id, grams, outcome))
    released: list[Release] = []
    for item in snapshot.carried:
        outcome = decide(item.subscription_id, item.harvested_on, item.shelf_life_days)
        if outcome.state != AllocationState.CARRIED:  # else held again, and it still keeps
            released.append(Release(item.allocation_id, item.subscription_id, outcome))

    with_items = {
        s.subscription_id
        for s in (*shares, *released)
        if s.outcome.state == AllocationState.SHIPPED
    }
    boxes = tuple(
        Box(s.id, transit_days(snapshot.transit, s.province), s.id in with_items)
        for s in snapshot.subscribers
        if not s.on_hold
    )
    return FieldPlan(boxes, tuple(shares), tuple(released), tuple(settled))
