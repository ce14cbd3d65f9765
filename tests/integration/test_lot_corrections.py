"""Correcting a harvest lot: never below what is packed, shipped or given away; the rest is
placed again by the ship-day engine; every gram keeps exactly one place; the audit keeps
who, when, before, after and why; customers see the corrected weight with a note."""

from __future__ import annotations

from datetime import date

import pytest

from farm.accounts.models import Role, User
from farm.audit.models import Correction, CorrectionAction, RecordKind
from farm.errors import Conflict, FieldErrors, NotFound
from farm.fieldwork.models import HarvestLot
from farm.shipments import batches, corrections, diversions
from farm.shipments.models import Allocation, AllocationState, Shipment, ShipmentStatus
from tests.integration.test_ship_days import scene as ship_day_scene
from tests.support import (
    NOW,
    SHIP_SEASON,
    accounting_problems,
    make_crop,
    make_lot,
    make_season,
)

SHIP_ON = date(2026, 11, 16)


async def scene(plots: int = 3):
    """test_ship_days' scene (the last plot free), with a crop and the manager."""
    plan, season, plot_list, subs = await ship_day_scene(plots)
    rice = await make_crop(season.cooperative_id)
    manager = await User.create(email="li@coop.cn", name="李经理", password_hash="x",
                                role=Role.MANAGER, cooperative_id=season.cooperative_id)  # fmt: skip
    return plan, plot_list, subs, rice, manager


async def correct(manager, lot, kg, reason="typed 5000 for 5", void=False, today=SHIP_ON):
    return await corrections.correct_lot(manager=manager, lot_id=lot.id, kg=kg, reason=reason,
                                         void=void, today=today, now=NOW)  # fmt: skip


async def test_an_unsettled_lot_is_corrected_and_the_audit_keeps_before_after_who_and_why(conn):
    plan, plots, subs, rice, manager = await scene()
    lot = await make_lot(rice, field_id=plan.field_id, plot_id=plots[0].id, grams=5_000_000,
                         harvested_on=date(2026, 11, 10))  # fmt: skip
    await correct(manager, lot, "5")
    lot = await HarvestLot.get(id=lot.id)
    assert (lot.weight_g, lot.settled_g, lot.corrected_at is not None) == (5000, 0, True)
    [row] = await Correction.filter(kind=RecordKind.HARVEST_LOT, record_id=lot.id)
    assert (row.action, row.before, row.after) == (
        CorrectionAction.CORRECTED,
        {"weight_kg": "5000"},
        {"weight_kg": "5"},
    )
    assert (row.made_by_id, row.reason, row.label) == (manager.id, "typed 5000 for 5", lot.code)


async def test_a_shipped_lot_is_replanned_by_the_engine_into_the_open_box(conn):
    plan, plots, subs, rice, manager = await scene()
    lot = await make_lot(rice, field_id=plan.field_id, plot_id=plots[0].id, grams=5_000_000,
                         harvested_on=date(2026, 11, 10))  # fmt: skip
    await batches.make_due_batches(today=SHIP_ON, now=NOW)
    box = await Shipment.get(ship_on=SHIP_ON, subscription_id=subs[0].id)
    assert box.status == ShipmentStatus.CREATED
    await correct(manager, lot, "5")
    items = await Allocation.filter(lot_id=lot.id)
    assert [(i.grams, i.state, i.shipment_id) for i in items] == [
        (5000, AllocationState.SHIPPED, box.id)
    ]
    assert (await HarvestLot.get(id=lot.id)).settled_g == 5000
    assert await accounting_problems() == []


async def test_a_field_lot_corrected_is_split_again_by_area_every_gram_in_one_place(conn):
    plan, plots, subs, rice, manager = await scene(plots=4)
    lot = await make_lot(rice, field_id=plan.field_id, plot_id=None, grams=9001,
                         harvested_on=date(2026, 11, 10))  # fmt: skip
    await batches.make_due_batches(today=SHIP_ON, now=NOW)
    await correct(manager, lot, "3.001")
    shares = await Allocation.filter(lot_id=lot.id)
    assert sum(a.grams for a in shares) == 3001
    assert {a.subscription_id for a in shares} == {s.id for s in subs}
    assert await accounting_problems() == []


async def test_the_weight_cannot_go_below_what_was_shipped_and_nothing_changes(conn):
    plan, plots, subs, rice, manager = await scene()
    lot = await make_lot(rice, field_id=plan.field_id, plot_id=plots[0].id, grams=8000,
                         harvested_on=date(2026, 11, 10))  # fmt: skip
    await batches.make_due_batches(today=SHIP_ON, now=NOW)
    await Shipment.filter(subscription_id=subs[0].id).update(status=ShipmentStatus.SHIPPED)
    with pytest.raises(FieldErrors) as refused:
        await correct(manager, lot, "5")
    assert " 8 " in refused.value.errors["kg"]  # says what is already shipped
    with pytest.raises(FieldErrors):
        await correct(manager, lot, "", void=True)
    assert (await HarvestLot.get(id=lot.id)).weight_g == 8000
    assert not await Correction.exists()
    # Up is fine: the extra grams wait, open, for the subscriber's next ship day.
    await correct(manager, lot, "9")
    lot = await HarvestLot.get(id=lot.id)
    assert (lot.weight_g, lot.settled_g) == (9000, 8000)
    await batches.make_due_batches(today=date(2026, 12, 1), now=NOW)
    assert (await HarvestLot.get(id=lot.id)).settled_g == 9000
    assert await accounting_problems() == []


async def test_grams_given_away_by_hand_stay_and_bound_the_correction(conn):
    plan, plots, subs, rice, manager = await scene()
    lot = await make_lot(rice, field_id=plan.field_id, plot_id=plots[0].id, grams=5_000_000,
                         harvested_on=date(2026, 11, 10))  # fmt: skip
    await diversions.divert_lot(manager=manager, lot_id=lot.id, kg="4990", reason="sold_locally",
                                note="", now=NOW)  # fmt: skip
    with pytest.raises(FieldErrors):
        await correct(manager, lot, "4989")
    await correct(manager, lot, "4990")
    lot = await HarvestLot.get(id=lot.id)
    assert (lot.weight_g, lot.settled_g) == (4_990_000, 4_990_000)
    assert await accounting_problems() == []


async def test_a_lot_voided_weighs_nothing_is_replanned_and_cannot_be_corrected_again(conn):
    plan, plots, subs, rice, manager = await scene()
    lot = await make_lot(rice, field_id=plan.field_id, plot_id=plots[0].id, grams=4000,
                         harvested_on=date(2026, 11, 10))  # fmt: skip
    await batches.make_due_batches(today=SHIP_ON, now=NOW)
    await correct(manager, lot, "", void=True, reason="wrong plot")
    lot = await HarvestLot.get(id=lot.id)
    assert (lot.weight_g, lot.settled_g, lot.voided_at is not None) == (0, 0, True)
    assert not await Allocation.filter(lot_id=lot.id).exists()
    box = await Shipment.get(ship_on=SHIP_ON, subscription_id=subs[0].id)
    assert box.status == ShipmentStatus.EMPTY  # its only item is gone
    with pytest.raises(Conflict):
        await correct(manager, lot, "3")
    assert (await Correction.get(record_id=lot.id)).action == CorrectionAction.VOIDED
    assert await accounting_problems() == []


@pytest.mark.parametrize(("kg", "reason"), [("", "typo"), ("abc", "typo"), ("-1", "typo"),
                                            ("5", ""), ("5", "   ")])  # fmt: skip
async def test_bad_corrections_are_refused_and_change_nothing(conn, kg, reason):
    plan, plots, subs, rice, manager = await scene()
    lot = await make_lot(rice, field_id=plan.field_id, plot_id=plots[0].id, grams=8000,
                         harvested_on=date(2026, 11, 10))  # fmt: skip
    with pytest.raises(FieldErrors):
        await correct(manager, lot, kg, reason=reason)
    assert (await HarvestLot.get(id=lot.id)).weight_g == 8000
    assert not await Correction.exists()


async def test_a_manager_of_another_cooperative_cannot_correct_the_lot(conn):
    plan, plots, subs, rice, manager = await scene()
    lot = await make_lot(rice, field_id=plan.field_id, plot_id=plots[0].id, grams=8000,
                         harvested_on=date(2026, 11, 10))  # fmt: skip
    other = await make_season(plots=1, **SHIP_SEASON)
    await other.fetch_related("field")
    stranger = await User.create(email="x@other.cn", name="X", password_hash="x",
                                 role=Role.MANAGER, cooperative_id=other.field.cooperative_id)  # fmt: skip
    with pytest.raises(NotFound):
        await correct(stranger, lot, "5")
    assert (await HarvestLot.get(id=lot.id)).weight_g == 8000
