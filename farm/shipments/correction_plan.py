"""A harvest lot's weight corrected, decided without a database: which of its grams are fixed
(in a box packed or shipped, or given away by hand), the ship day whose decisions are made
again, and the snapshot the ship-day engine (`planning.plan_field`) re-plans the rest from.

Only boxes still open (to be packed, or empty) can gain or lose items: a subscriber whose box
on that day is closed (or who has none) is left out, and a lot of their plot waits for their
next ship day, as a lot of another season's plot does."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date

from farm.shipments.models import AllocationState, ShipmentStatus
from farm.shipments.planning import FieldPlan, FieldSnapshot, OpenLot, plan_field

OPEN_BOXES = (ShipmentStatus.CREATED, ShipmentStatus.EMPTY)


@dataclass(frozen=True, slots=True)
class Placed:
    """One allocation of the lot as it stands."""

    allocation_id: int
    grams: int
    state: AllocationState
    by_hand: bool  # a manager's diversion (donated, sold locally)
    box_status: ShipmentStatus | None  # of its shipment, when shipped
    ship_on: date | None  # the ship day that decided it


def is_fixed(placed: Placed) -> bool:
    """Grams that stay where they are: packed or shipped, or given away by hand."""
    if placed.by_hand:
        return True
    return placed.state == AllocationState.SHIPPED and placed.box_status not in OPEN_BOXES


def fixed_grams(placed: Iterable[Placed]) -> int:
    """The least a lot can be corrected to."""
    return sum(p.grams for p in placed if is_fixed(p))


def replan_day(placed: Iterable[Placed]) -> date | None:
    """The latest ship day that decided grams which are not fixed: its decisions are made
    again for the corrected weight. None when nothing is to re-plan."""
    return max((p.ship_on for p in placed if not is_fixed(p) and p.ship_on), default=None)


def correction_snapshot(
    base: FieldSnapshot, *, lot: OpenLot, open_boxes: frozenset[int]
) -> FieldSnapshot:
    """The field's snapshot on the re-planned day with this lot's open grams only: subscribers
    on hold, or whose box is still open (`open_boxes`, subscription ids); the others' plots
    wait like another season's. Nothing carried is decided again."""
    keep = tuple(s for s in base.subscribers if s.on_hold or s.id in open_boxes)
    closed = frozenset(s.plot_id for s in base.subscribers if s not in keep)
    return replace(
        base, subscribers=keep, other_plots=base.other_plots | closed, lots=(lot,), carried=()
    )


def plan_correction(base: FieldSnapshot, *, lot: OpenLot, open_boxes: frozenset[int]) -> FieldPlan:
    return plan_field(correction_snapshot(base, lot=lot, open_boxes=open_boxes))
