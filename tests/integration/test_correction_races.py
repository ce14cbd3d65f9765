"""Corrections racing the work they change: a lot's weight corrected while its box is being
packed or its field's ship day is being made; a plot moved while another is cut where it
goes; a plot chosen by a buyer while it is being corrected; two work entries for one
household's day saved at the same moment; a harvest logged while its crop's unit is changed;
and the paper of a batch whose boxes a correction changed.

The races are made to happen, not hoped for: the test holds the other side's transaction
open (as packing, cutting or the engine would) and checks that the correction waits for it,
or is refused at once, instead of interleaving."""

from __future__ import annotations

import asyncio
from datetime import date
from decimal import Decimal

import pytest
from tortoise.transactions import in_transaction

from farm.errors import Conflict, FieldErrors, NotFound
from farm.fieldwork import plot_corrections
from farm.fieldwork import services as fieldwork
from farm.fieldwork.models import Crop, CropUnit, HarvestLot, Household, WorkShift
from farm.fieldwork.photos import PhotoStore
from farm.fieldwork.plot_corrections import PlotFix
from farm.land.console import own_field
from farm.land.models import Plot, PlotClaim
from farm.shipments import batches, documents
from farm.shipments import corrections as lot_corrections
from farm.shipments.models import Allocation, Batch, Shipment, ShipmentStatus
from farm.storage import LocalStorage
from farm.subscriptions import services as subscriptions
from tests.integration.test_lot_corrections import SHIP_ON, correct
from tests.integration.test_lot_corrections import scene as lot_scene
from tests.support import NOW, accounting_problems, make_customer, make_lot, make_season

WAIT = 0.5  # long enough for a task that does not wait to have finished


async def _lot_in_an_open_box():
    plan, plots, subs, rice, manager = await lot_scene()
    lot = await make_lot(rice, field_id=plan.field_id, plot_id=plots[0].id, grams=8000,
                         harvested_on=date(2026, 11, 10))  # fmt: skip
    await batches.make_due_batches(today=SHIP_ON, now=NOW)
    box = await Shipment.get(ship_on=SHIP_ON, subscription_id=subs[0].id)
    assert box.status == ShipmentStatus.CREATED
    return plan, plots, subs, rice, manager, lot, box


@pytest.mark.postgres
async def test_a_correction_waits_for_a_box_being_packed_then_counts_its_grams_as_packed(conn):
    plan, plots, subs, rice, manager, lot, box = await _lot_in_an_open_box()
    packed = asyncio.Event()
    release = asyncio.Event()

    async def packer() -> None:  # what dispatch.mark_packed does, held open
        async with in_transaction() as tx:
            await (
                Shipment.filter(id=box.id, status=ShipmentStatus.CREATED)
                .using_db(tx)
                .update(status=ShipmentStatus.PACKED, packed_at=NOW)
            )
            packed.set()
            await release.wait()

    packing = asyncio.create_task(packer())
    await packed.wait()
    correcting = asyncio.create_task(correct(manager, lot, "5"))
    await asyncio.sleep(WAIT)
    waited = not correcting.done()  # it waits for the box, instead of reading it as still open
    release.set()
    await packing
    assert waited
    with pytest.raises(FieldErrors) as refused:
        await correcting
    assert " 8 " in refused.value.errors["kg"]  # the 8 kg are in a packed box now
    items = await Allocation.filter(lot_id=lot.id)
    assert [(a.grams, a.shipment_id) for a in items] == [(8000, box.id)]
    assert (await Shipment.get(id=box.id)).status == ShipmentStatus.PACKED
    assert await accounting_problems() == []


@pytest.mark.postgres
async def test_a_correction_is_refused_at_once_while_its_fields_ship_day_is_being_made(
    conn, monkeypatch
):
    plan, plots, subs, rice, manager, lot, box = await _lot_in_an_open_box()
    # A later lot waits for the next ship day, which is being made (paused while writing).
    await make_lot(rice, field_id=plan.field_id, plot_id=plots[1].id, grams=3000,
                   harvested_on=date(2026, 11, 20))  # fmt: skip
    writing, release = asyncio.Event(), asyncio.Event()
    write_plan = batches.write_plan

    async def paused(conn_, **kwargs):
        writing.set()
        await release.wait()
        await write_plan(conn_, **kwargs)

    monkeypatch.setattr(batches, "write_plan", paused)
    making = asyncio.create_task(batches.make_due_batches(today=date(2026, 12, 1), now=NOW))
    await writing.wait()
    # The correction re-plans 16 November, the engine makes 1 December: different days, and
    # still the correction must not interleave with the field's run.
    try:
        with pytest.raises(Conflict):
            await asyncio.wait_for(correct(manager, lot, "5", today=date(2026, 12, 1)), timeout=5)
    finally:
        release.set()
        await making
    monkeypatch.undo()
    await correct(manager, lot, "5", today=date(2026, 12, 1))  # once the run is done
    assert await accounting_problems() == []


@pytest.mark.postgres
async def test_a_ship_day_waits_its_turn_while_a_lot_of_its_field_is_being_corrected(
    conn, monkeypatch
):
    plan, plots, subs, rice, manager, lot, box = await _lot_in_an_open_box()
    await make_lot(rice, field_id=plan.field_id, plot_id=plots[1].id, grams=3000,
                   harvested_on=date(2026, 11, 20))  # fmt: skip
    keeping, release = asyncio.Event(), asyncio.Event()
    keep = lot_corrections.records.keep

    async def paused(*args, **kwargs):
        keeping.set()
        await release.wait()
        await keep(*args, **kwargs)

    monkeypatch.setattr(lot_corrections.records, "keep", paused)
    correcting = asyncio.create_task(correct(manager, lot, "5", today=date(2026, 12, 1)))
    await keeping.wait()
    [due] = [d for d in await batches.due_batches(today=date(2026, 12, 1))
             if d.ship_on == date(2026, 12, 1)]  # fmt: skip
    try:
        result = await asyncio.wait_for(
            batches.make_batch(due, today=date(2026, 12, 1), now=NOW), timeout=5
        )
    finally:
        release.set()
        await correcting
    assert (result.fields_busy, result.completed) == (1, False)  # not now; not a deadlock
    monkeypatch.undo()
    await batches.make_due_batches(today=date(2026, 12, 1), now=NOW)
    assert (await Batch.get(ship_on=date(2026, 12, 1))).completed_at is not None
    assert await accounting_problems() == []


async def test_a_correction_marks_the_paper_of_its_batch_to_be_made_again(conn, tmp_path):
    plan, plots, subs, rice, manager, lot, box = await _lot_in_an_open_box()
    batch = await Batch.get(ship_on=SHIP_ON)
    assert await documents.plan_batch(batch=batch, now=NOW)  # its packing lists are planned
    view = await documents.batch_documents(manager=manager, batch_id=batch.id)
    assert view.stale_since is None
    await correct(manager, lot, "5")
    view = await documents.batch_documents(manager=manager, batch_id=batch.id)
    assert view.stale_since == NOW
    await documents.remake_documents(
        manager=manager, batch_id=batch.id, storage=LocalStorage(tmp_path), now=NOW
    )
    view = await documents.batch_documents(manager=manager, batch_id=batch.id)
    assert view.stale_since is None and view.parts_total > 0


async def test_a_correction_of_a_batch_without_paper_marks_nothing(conn):
    plan, plots, subs, rice, manager, lot, box = await _lot_in_an_open_box()
    await correct(manager, lot, "5")
    assert (await Batch.get(ship_on=SHIP_ON)).documents_stale_at is None


@pytest.mark.postgres
async def test_a_plot_moved_where_another_is_being_cut_waits_for_the_field_then_is_refused(
    conn,
):
    plan, plots, subs, rice, manager = await lot_scene(plots=3)
    free = plots[-1]  # never sold
    cut, release = asyncio.Event(), asyncio.Event()

    async def cutter() -> None:  # what land.console's cutting does, held open
        async with in_transaction() as tx:
            field = await own_field(manager=manager, field_id=plan.field_id, conn=tx)
            await Plot.create(field_id=field.id, code="NEW", area_m2=Decimal(15), x_m=0,
                              y_m=7, w_m=5, h_m=3, using_db=tx)  # fmt: skip
            cut.set()
            await release.wait()

    cutting = asyncio.create_task(cutter())
    await cut.wait()
    fix = PlotFix(code=free.code, x="2", y="7", w="5", h="3", area_m2="15", reason="moved")
    moving = asyncio.create_task(plot_corrections.correct_plot(
        manager=manager, plot_id=free.id, fix=fix, today=SHIP_ON, now=NOW))  # fmt: skip
    await asyncio.sleep(WAIT)
    waited = not moving.done()  # the field is locked by the cut
    release.set()
    await cutting
    assert waited
    with pytest.raises(FieldErrors) as refused:
        await moving
    assert "NEW" in refused.value.errors["x"]  # it would overlap the plot just cut
    assert (await Plot.get(id=free.id)).y_m == free.y_m


@pytest.mark.postgres
async def test_two_entries_for_one_households_day_saved_at_once_pay_at_most_24_hours(
    conn, monkeypatch, tmp_path
):
    plan, plots, subs, rice, manager = await lot_scene()
    household = await Household.create(cooperative_id=manager.cooperative_id, name="张家",
                                       wage_fen_per_hour=2000)  # fmt: skip
    check = fieldwork.check_day_hours

    async def slow(conn_, **kwargs):  # the check passes, then the entry takes a while to write
        await check(conn_, **kwargs)
        if conn_ is not None:
            await asyncio.sleep(WAIT)

    monkeypatch.setattr(fieldwork, "check_day_hours", slow)

    def entry() -> fieldwork.WorkInputForm:
        return fieldwork.WorkInputForm(
            field_id=plan.field_id, plot_ids=[plots[0].id], whole_field=False,
            activity="weeding", worked_on="2026-11-10", notes="",
            shifts=[fieldwork.ShiftLine(household.id, "20")],
        )  # fmt: skip

    async def log():
        return await fieldwork.log_work(manager=manager, form=entry(), today=date(2026, 11, 12),
                                        now=NOW, store=PhotoStore(tmp_path))  # fmt: skip

    results = await asyncio.gather(log(), log(), return_exceptions=True)
    refused = [r for r in results if isinstance(r, FieldErrors)]
    assert len(refused) == 1, results
    assert "24" in refused[0].errors["shifts"]
    hours = await WorkShift.filter(household_id=household.id).values_list("hours", flat=True)
    assert sum(hours) == 20


@pytest.mark.postgres
async def test_a_harvest_logged_while_its_crops_unit_changes_is_refused_not_kept_in_the_old_unit(
    conn,
):
    plan, plots, subs, rice, manager = await lot_scene()
    changed, release = asyncio.Event(), asyncio.Event()

    async def editor() -> None:  # what catalogue.update_crop does, held open: no lot yet
        async with in_transaction() as tx:
            crop = await Crop.select_for_update().using_db(tx).get(id=rice.id)
            assert not await HarvestLot.filter(crop_id=crop.id).using_db(tx).exists()
            await Crop.filter(id=crop.id).using_db(tx).update(unit=CropUnit.PIECES)
            changed.set()
            await release.wait()

    editing = asyncio.create_task(editor())
    await changed.wait()
    logging = asyncio.create_task(fieldwork.record_harvest(
        manager=manager, crop_id=rice.id, kg="2", harvested_on=SHIP_ON.isoformat(),
        today=SHIP_ON, now=NOW, target=str(plots[0].id)))  # fmt: skip
    await asyncio.sleep(WAIT)
    release.set()
    await editing
    with pytest.raises(Conflict):
        await logging  # typed as 2 kg: stored, it would be 2,000 eggs
    assert not await HarvestLot.filter(crop_id=rice.id).exists()


@pytest.mark.postgres
async def test_a_plot_chosen_while_its_area_is_corrected_is_not_sold_at_the_plans_size(conn):
    plan = await make_season(plots=3)
    plot = await Plot.filter(field_id=plan.field_id).order_by("id").first()
    corrected, release = asyncio.Event(), asyncio.Event()

    async def corrector() -> None:  # what plot_corrections.correct_plot does, held open
        async with in_transaction() as tx:
            locked = await Plot.select_for_update().using_db(tx).get(id=plot.id)
            assert not await PlotClaim.filter(plot_id=locked.id).using_db(tx).exists()
            await Plot.filter(id=locked.id).using_db(tx).update(area_m2=Decimal("50"))
            corrected.set()
            await release.wait()

    correcting = asyncio.create_task(corrector())
    await corrected.wait()
    buyer = await make_customer()
    buying = asyncio.create_task(subscriptions.reserve_plot(
        customer=buyer, plan_id=plan.id, plot_id=plot.id, today=date(2026, 11, 12), now=NOW,
        minutes=15))  # fmt: skip
    await asyncio.sleep(WAIT)
    release.set()
    await correcting
    with pytest.raises(NotFound):  # no longer a plot of this plan: not 50 m² at 66.67's price
        await buying
    assert not await PlotClaim.filter(plot_id=plot.id).exists()
