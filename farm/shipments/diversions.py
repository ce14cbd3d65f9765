"""Harvest diverted by hand from the manager's console (donated or sold locally, never more
than a lot still has open), and the warning for a lot harvested too early to reach even the
nearest customer on the next ship day. Both are shown on the harvests page (harvest_routes)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from tortoise.transactions import in_transaction

from farm import forms
from farm.accounts.models import User
from farm.errors import NotFound
from farm.fieldwork.models import Crop, HarvestLot
from farm.i18n import _
from farm.land.models import Season
from farm.shipments import rules
from farm.shipments.batches import season_ship_days, transit_table
from farm.shipments.models import Allocation, AllocationState, DiversionReason
from farm.subscriptions.models import Status, Subscription
from farm.units import amount_text

MANUAL_REASONS = (DiversionReason.DONATED, DiversionReason.SOLD_LOCALLY)


async def divert_lot(
    *, manager: User, lot_id: int, kg: str, reason: str, note: str, now: datetime
) -> Allocation:
    """Record grams of a lot as donated or sold locally. Never more than the lot still has
    open: the lot row is locked, and its settled grams grow in the same transaction."""
    form = forms.Form()
    form.read(
        "reason", forms.choice, reason, MANUAL_REASONS, message=_("Choose donated or sold locally.")
    )
    text = form.read("note", forms.text, note, limit=200, one_line=False)
    async with in_transaction() as conn:
        lot = (
            await HarvestLot.filter(id=lot_id, cooperative_id=manager.cooperative_id)
            .select_for_update()
            .using_db(conn)
            .first()
        )
        if lot is None:
            raise NotFound(_("This harvest lot does not exist."))
        crop = await Crop.get(id=lot.crop_id).using_db(conn)
        grams = form.read("kg", forms.amount, kg, unit=crop.unit)  # or pieces: farm/units.py
        open_g = lot.weight_g - lot.settled_g
        if grams is not None and grams > open_g:
            form.refuse(
                "kg",
                _("Only %(amount)s of this lot is still open.")
                % {"amount": amount_text(open_g, crop.unit, jin=False)},
            )
        form.check()
        assert grams is not None
        await HarvestLot.filter(id=lot.id).using_db(conn).update(settled_g=lot.settled_g + grams)
        return await Allocation.create(
            lot_id=lot.id,
            grams=grams,
            state=AllocationState.DIVERTED,
            reason=DiversionReason(reason),
            decided_by_id=manager.id,
            note=text or "",
            ship_on=None,
            decided_at=now,
            using_db=conn,
        )


@dataclass
class EarlyHarvest:
    lot: HarvestLot
    ship_on: date  # the next ship day, which it would not survive


async def early_harvest(*, manager: User, code: str) -> EarlyHarvest | None:
    """For a lot just logged: when it would spoil before reaching even the nearest of its
    subscribers on the next ship day of the seasons planned on its field (any crop, leafy
    greens being the usual case), that ship day. None when it keeps, when nobody
    subscribes to it, or when no ship day is coming."""
    lot = (
        await HarvestLot.filter(code=code.strip().upper(), cooperative_id=manager.cooperative_id)
        .prefetch_related("crop")
        .first()
    )
    if lot is None:
        return None
    seasons = await Season.filter(
        cooperative_id=manager.cooperative_id, plans__field_id=lot.field_id
    ).distinct()
    days = sorted({d for s in seasons for d in season_ship_days(s)})
    table = await transit_table(manager.cooperative_id)
    # The nearest of the customers it could go to: the plot's subscriber, or the field's.
    whose = {"plot_id": lot.plot_id} if lot.plot_id else {"plot__field_id": lot.field_id}
    provinces = set(
        await Subscription.filter(status=Status.ACTIVE, **whose).values_list("province", flat=True)
    )
    if not provinces:
        return None  # nobody to send it to: it is the cooperative's either way
    ship_on = rules.early_harvest_warning(
        harvested_on=lot.harvested_on,
        shelf_life_days=lot.crop.shelf_life_days,
        ship_days=days,
        transit_days=min(table.get(p, rules.DEFAULT_TRANSIT_DAYS) for p in provinces),
    )
    return EarlyHarvest(lot, ship_on) if ship_on else None
