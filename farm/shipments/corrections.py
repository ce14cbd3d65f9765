"""A harvest lot corrected or voided by a manager of its cooperative, with a reason kept in
the audit trail (farm.audit). Never below what is already packed, shipped or given away by
hand; the rest of the lot's grams are taken back from where they were placed and placed
again by the ship-day engine, on the ship day that had placed them (correction_plan.py), so
every gram still has exactly one place."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import Q, Subquery
from tortoise.transactions import in_transaction

from farm import forms, units
from farm.accounts.models import User
from farm.audit import records
from farm.audit import rules as audit_rules
from farm.audit.models import Correction, CorrectionAction, RecordKind
from farm.errors import Conflict
from farm.fieldwork.models import Crop, HarvestLot
from farm.i18n import N_, _
from farm.land.models import Season
from farm.land.services import season_ship_days
from farm.shipments import batches, documents
from farm.shipments.correction_plan import (
    OPEN_BOXES,
    Placed,
    fixed_grams,
    is_fixed,
    plan_correction,
    replan_day,
)
from farm.shipments.models import Allocation, AllocationState, Shipment, ShipmentStatus
from farm.shipments.planning import OpenLot
from farm.sql import one_or_not_found, try_advisory_lock
from farm.subscriptions.models import Subscription

BUSY = N_("This field's ship day is being made right now. Please try again in a minute.")


@dataclass(frozen=True)
class LotCorrection:
    """What the correction page shows: the lot, the least it can weigh, its history."""

    lot: HarvestLot
    fixed_g: int
    history: list[Correction]


async def _own_lot(manager: User, lot_id: int, conn: BaseDBAsyncClient | None = None):
    query = HarvestLot.filter(id=lot_id, cooperative_id=manager.cooperative_id)
    return await one_or_not_found(query, conn=conn, missing=_("This harvest lot does not exist."))


async def _placed(conn: BaseDBAsyncClient | None, lot_id: int, field_id: int = 0) -> list[Placed]:
    """The lot's allocations as they stand, with the status of their boxes. Within `conn`
    (a correction), locked: the allocations by id, then in one statement by id the boxes
    they are in and every box of the field on the ship days that decided them (the ones a
    re-plan may fill), so a box cannot be packed or shipped while its items are decided
    again; packing and shipping lock boxes one at a time or in id order too."""
    rows = Allocation.filter(lot_id=lot_id).using_db(conn).order_by("id")
    if conn is not None:
        rows = rows.select_for_update()
    allocations = await rows
    box_ids = {a.shipment_id for a in allocations if a.shipment_id}
    days = {a.ship_on for a in allocations if a.ship_on and a.decided_by_id is None}
    status: dict[int, ShipmentStatus] = {}
    if conn is None:
        if box_ids:
            status = dict(await Shipment.filter(id__in=box_ids).values_list("id", "status"))
    elif box_ids or days:
        which = Q(id__in=box_ids) if box_ids else Q(id__in=[0])
        if days:
            subscribers = Subscription.filter(plot__field_id=field_id).values("id")
            which |= Q(ship_on__in=days, subscription_id__in=Subquery(subscribers))
        found = (  # model rows: tortoise drops FOR UPDATE from .values() queries
            await Shipment.filter(which).select_for_update().using_db(conn).order_by("id")
            .only("id", "status")
        )  # fmt: skip
        status = {box.id: box.status for box in found}
    return [
        Placed(a.id, a.grams, a.state, a.decided_by_id is not None,
               status.get(a.shipment_id), a.ship_on)
        for a in allocations
    ]  # fmt: skip


async def lot_correction(*, manager: User, lot_id: int) -> LotCorrection:
    lot = await _own_lot(manager, lot_id)
    await lot.fetch_related("crop", "field", "plot")
    return LotCorrection(
        lot=lot,
        fixed_g=fixed_grams(await _placed(None, lot.id)),
        history=await records.history(
            cooperative_id=lot.cooperative_id, kind=RecordKind.HARVEST_LOT, record_id=lot.id
        ),
    )


def _kept(amount: int, unit: str) -> dict[str, str]:
    """A lot's amount as its corrections keep it: kg, or pieces for a crop counted."""
    if unit == units.PIECES:
        return {"pieces": str(amount)}
    return {"weight_kg": units.plain_number(units.grams_to_kg(amount))}


def _below_fixed(fixed: int, unit: str, *, void: bool) -> str:
    """Why a lot cannot go below what is packed, shipped or given away: in kg, or in pieces
    for a crop counted."""
    if unit == units.PIECES:
        return (
            _("%(num)d pieces of this lot are already packed, shipped or given away: it "
              "cannot be voided. Correct it instead, to %(num)d pieces or more.")
            if void
            else _("%(num)d pieces of this lot are already packed, shipped or given away: "
                   "there cannot be fewer than that.")
        ) % {"num": fixed}  # fmt: skip
    kg = units.plain_number(units.grams_to_kg(fixed))
    return (
        _("%(kg)s kg of this lot is already packed, shipped or given away: it "
          "cannot be voided. Correct its weight instead, to %(kg)s kg or more.")
        if void
        else _("%(kg)s kg of this lot is already packed, shipped or given away: "
               "the weight cannot be less than that.")
    ) % {"kg": kg}  # fmt: skip


async def correct_lot(
    *,
    manager: User,
    lot_id: int,
    kg: str,
    reason: str,
    void: bool,
    today: date,
    now: datetime,
) -> HarvestLot:
    """Correct a lot's weight to `kg` (or void it: 0 kg, shown nowhere any more), with a
    reason. Refused below what is packed, shipped or given away by hand."""
    found = await _own_lot(manager, lot_id)  # another's lot: not found, before the form
    unit = (await Crop.get(id=found.crop_id)).unit  # grams, or a count for a crop in pieces
    form = forms.Form()
    grams = 0 if void else form.read("kg", lambda text: forms.amount(text, unit=unit), kg)
    why = form.read("reason", audit_rules.reason, reason)
    async with in_transaction() as conn:
        # The ship-day engine's locks in its order (batches.py): the field's own (here alone,
        # so no run of any ship day interleaves), its open lots by id; then this lot, its
        # allocations and their boxes (_placed).
        if not await batches.lock_field(conn, found.field_id, alone=True):
            raise Conflict(_(BUSY))
        await batches.lock_open_lots(conn, field_id=found.field_id)
        lot = await _own_lot(manager, lot_id, conn)
        if lot.voided_at is not None:
            raise Conflict(_("This harvest lot was voided: it cannot be corrected any more."))
        placed = await _placed(conn, lot.id, lot.field_id)
        fixed = fixed_grams(placed)
        if grams is not None and grams < fixed:
            form.refuse("kg", _below_fixed(fixed, unit, void=void))
        elif grams == lot.weight_g:
            form.refuse(
                "kg",
                _("This is the number of pieces already recorded.")
                if unit == units.PIECES
                else _("This is the weight already recorded."),
            )
        form.check()
        assert grams is not None and why is not None
        before = _kept(lot.weight_g, unit)
        await _replace(conn, lot=lot, placed=placed, grams=grams, fixed=fixed, today=today, now=now)
        lot.weight_g = grams
        if void:
            lot.voided_at = now
        else:
            lot.corrected_at = now
        await lot.save(using_db=conn, update_fields=["weight_g", "voided_at", "corrected_at"])
        await records.keep(
            conn, manager=manager, kind=RecordKind.HARVEST_LOT, record_id=lot.id,
            label=lot.code, action=CorrectionAction.VOIDED if void else CorrectionAction.CORRECTED,
            before=before, after=_kept(grams, unit), reason=why, day=lot.harvested_on,
            now=now,
        )  # fmt: skip
    return lot


async def _replace(
    conn: BaseDBAsyncClient,
    *,
    lot: HarvestLot,
    placed: list[Placed],
    grams: int,
    fixed: int,
    today: date,
    now: datetime,
) -> None:
    """Take back the lot's grams that are not fixed, then place the corrected weight's open
    grams again with the ship-day engine on the day that had placed them. When that cannot be
    done now (no such day, or nobody's box open), they stay open for the next ship day."""
    movable = [p for p in placed if not is_fixed(p)]
    day = replan_day(placed)
    touched = set(
        await Allocation.filter(id__in=[p.allocation_id for p in movable])
        .using_db(conn)
        .values_list("shipment_id", flat=True)
    ) - {None}
    if movable:
        await Allocation.filter(id__in=[p.allocation_id for p in movable]).using_db(conn).delete()
    settled = fixed
    if day is not None and grams > fixed:
        settled += await _replan(conn, lot=lot, day=day, open_g=grams - fixed, today=today,
                                 now=now, touched=touched)  # fmt: skip
    await HarvestLot.filter(id=lot.id).using_db(conn).update(settled_g=settled)
    lot.settled_g = settled
    await _box_states(conn, touched)
    await documents.mark_stale(conn, shipment_ids=touched, now=now)


async def _replan(
    conn: BaseDBAsyncClient,
    *,
    lot: HarvestLot,
    day: date,
    open_g: int,
    today: date,
    now: datetime,
    touched: set[int],
) -> int:
    """Plan the lot's `open_g` on ship day `day` with the engine; the grams placed."""
    seasons = [
        s
        for s in await Season.filter(
            cooperative_id=lot.cooperative_id, plans__field_id=lot.field_id
        ).distinct()
        if day in season_ship_days(s)
    ]
    if not seasons:
        return 0  # decided at a season's close: the close decides it again
    if not await try_advisory_lock(conn, "ship", day, lot.field_id):
        raise Conflict(_(BUSY))
    transit = await batches.transit_table(lot.cooperative_id, conn=conn)
    base, _addresses = await batches.load_field(
        conn, field_id=lot.field_id, seasons=seasons, ship_on=day, transit=transit, today=today,
    )  # fmt: skip
    sub_ids = [s.id for s in base.subscribers]
    boxes = dict(
        await Shipment.filter(ship_on=day, subscription_id__in=sub_ids, status__in=OPEN_BOXES)
        .using_db(conn)
        .values_list("subscription_id", "id")
    ) if sub_ids else {}  # fmt: skip
    crop = await Crop.get(id=lot.crop_id).using_db(conn)
    open_lot = OpenLot(lot.id, lot.plot_id, lot.harvested_on, open_g, crop.shelf_life_days)
    plan = plan_correction(base, lot=open_lot, open_boxes=frozenset(boxes))
    if lot.id not in plan.settled_lot_ids:
        return 0  # it waits for its subscriber's next ship day
    for share in plan.shares:
        box = None
        if share.outcome.state == AllocationState.SHIPPED:
            box = boxes[share.subscription_id]
            touched.add(box)
        await Allocation.create(
            lot_id=lot.id, grams=share.grams, state=share.outcome.state,
            reason=share.outcome.reason, subscription_id=share.subscription_id,
            shipment_id=box, ship_on=day, decided_by_id=None, note="", decided_at=now,
            using_db=conn,
        )  # fmt: skip
    return open_g


async def _box_states(conn: BaseDBAsyncClient, box_ids: set[int]) -> None:
    """An open box with items is to be packed; one left without any is empty."""
    if not box_ids:
        return
    full = set(
        await Allocation.filter(shipment_id__in=box_ids)
        .using_db(conn)
        .values_list("shipment_id", flat=True)
    )
    opened = Shipment.filter(status__in=OPEN_BOXES).using_db(conn)
    if full:
        await opened.filter(id__in=full).update(status=ShipmentStatus.CREATED)
    if box_ids - full:
        await opened.filter(id__in=box_ids - full).update(status=ShipmentStatus.EMPTY)
