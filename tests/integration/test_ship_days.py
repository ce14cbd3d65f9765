"""Ship days: one shipment per subscription and ship day, every gram in one place."""

from __future__ import annotations

from datetime import date

import pytest

from farm.land.models import Plot, Season
from farm.shipments import batches
from farm.shipments.models import (
    Allocation,
    AllocationState,
    Batch,
    DiversionReason,
    FieldRun,
    ShipDayHold,
    Shipment,
    ShipmentStatus,
)
from tests.support import (
    NOW,
    SHIP_SEASON,
    accounting_problems,
    make_active_subscription,
    make_crop,
    make_lot,
    make_season,
)


async def scene(plots: int = 3):
    plan = await make_season(plots=plots, **SHIP_SEASON)
    season = await Season.get(id=plan.season_id)
    plot_list = list(await Plot.filter(field_id=plan.field_id).order_by("code"))
    subs = [await make_active_subscription(plan, p) for p in plot_list[:-1]]  # last plot free
    return plan, season, plot_list, subs


async def test_a_ship_day_gives_each_active_subscription_one_shipment_of_its_plots_lots(conn):
    plan, season, plots, subs = await scene()
    rice = await make_crop(season.cooperative_id)
    await make_lot(rice, field_id=plan.field_id, plot_id=plots[0].id, grams=5000,
                   harvested_on=date(2026, 11, 10))  # fmt: skip
    results = await batches.make_due_batches(today=date(2026, 11, 16), now=NOW)
    assert [r.ship_on for r in results][-1] == date(2026, 11, 16)
    nov16 = await Shipment.filter(ship_on=date(2026, 11, 16)).order_by("subscription_id")
    assert [s.subscription_id for s in nov16] == [subs[0].id, subs[1].id]
    assert nov16[0].status == ShipmentStatus.CREATED
    assert nov16[1].status == ShipmentStatus.EMPTY
    items = await Allocation.filter(shipment_id=nov16[0].id)
    assert [(i.grams, i.state) for i in items] == [(5000, AllocationState.SHIPPED)]
    assert await accounting_problems() == []


async def test_running_the_ship_day_twice_changes_nothing_the_second_time(conn):
    plan, season, plots, subs = await scene()
    rice = await make_crop(season.cooperative_id)
    await make_lot(rice, field_id=plan.field_id, plot_id=None, grams=1001,
                   harvested_on=date(2026, 11, 2))  # fmt: skip
    await batches.make_due_batches(today=date(2026, 11, 23), now=NOW)
    counts = (await Shipment.all().count(), await Allocation.all().count())
    again = await batches.make_due_batches(today=date(2026, 11, 23), now=NOW)
    assert again == []  # every batch is complete: nothing is due
    assert (await Shipment.all().count(), await Allocation.all().count()) == counts
    # Even forced, a field already run is skipped.
    batch = await Batch.get(ship_on=date(2026, 11, 16))
    made = await batches.run_field(batch=batch, field_id=plan.field_id, seasons=[season],
                                   transit={}, today=date(2026, 11, 23), now=NOW)  # fmt: skip
    assert made == 0
    assert (await Shipment.all().count(), await Allocation.all().count()) == counts
    assert await accounting_problems() == []


async def test_missed_ship_days_are_all_created_when_the_scheduler_returns(conn):
    plan, season, plots, subs = await scene()
    await batches.make_due_batches(today=date(2026, 10, 1), now=NOW)
    # Down from 2 October to 23 November: 16 Oct, 1 Nov and 16 Nov were missed.
    await batches.make_due_batches(today=date(2026, 11, 23), now=NOW)
    days = sorted({s.ship_on for s in await Shipment.all()})
    assert days == [date(2026, 9, 1), date(2026, 9, 16), date(2026, 10, 1), date(2026, 10, 16),
                    date(2026, 11, 1), date(2026, 11, 16)]  # fmt: skip
    for sub in subs:
        assert await Shipment.filter(subscription_id=sub.id).count() == 6
    assert await FieldRun.all().count() == 6


async def test_a_field_lot_is_split_by_area_among_the_fields_subscribers(conn):
    plan, season, plots, subs = await scene()
    rice = await make_crop(season.cooperative_id)
    lot = await make_lot(rice, field_id=plan.field_id, plot_id=None, grams=1001,
                         harvested_on=date(2026, 11, 2))  # fmt: skip
    await batches.make_due_batches(today=date(2026, 11, 16), now=NOW)
    shares = sorted(a.grams for a in await Allocation.filter(lot_id=lot.id))
    assert shares == [500, 501]
    assert await accounting_problems() == []


async def test_leafy_greens_that_would_spoil_on_the_way_are_diverted_with_the_reason(conn):
    plan, season, plots, subs = await scene()
    greens = await make_crop(season.cooperative_id, "青菜", shelf_life_days=3, leafy=True)
    await make_lot(greens, field_id=plan.field_id, plot_id=plots[0].id, grams=800,
                   harvested_on=date(2026, 11, 5))  # fmt: skip
    await batches.make_due_batches(today=date(2026, 11, 16), now=NOW)
    (share,) = await Allocation.filter(subscription_id=subs[0].id)
    assert (share.state, share.reason) == (AllocationState.DIVERTED, DiversionReason.SHELF_LIFE)
    box = await Shipment.get(subscription_id=subs[0].id, ship_on=date(2026, 11, 16))
    assert box.status == ShipmentStatus.EMPTY


async def test_a_held_ship_day_makes_no_box_and_rice_waits_for_the_next_one(conn):
    plan, season, plots, subs = await scene()
    rice = await make_crop(season.cooperative_id)
    greens = await make_crop(season.cooperative_id, "青菜", shelf_life_days=3, leafy=True)
    await make_lot(rice, field_id=plan.field_id, plot_id=plots[0].id, grams=3000,
                   harvested_on=date(2026, 11, 10))  # fmt: skip
    await make_lot(greens, field_id=plan.field_id, plot_id=plots[0].id, grams=700,
                   harvested_on=date(2026, 11, 15))  # fmt: skip
    await ShipDayHold.create(subscription_id=subs[0].id, ship_on=date(2026, 11, 16), created_at=NOW)
    await batches.make_due_batches(today=date(2026, 11, 16), now=NOW)
    assert not await Shipment.filter(subscription_id=subs[0].id, ship_on=date(2026, 11, 16))
    states = {
        (a.grams, a.state, a.reason) for a in await Allocation.filter(subscription_id=subs[0].id)
    }
    assert states == {(3000, AllocationState.CARRIED, None),
                      (700, AllocationState.DIVERTED, DiversionReason.HOLD)}  # fmt: skip
    await batches.make_due_batches(today=date(2026, 12, 1), now=NOW)
    dec1 = await Shipment.get(subscription_id=subs[0].id, ship_on=date(2026, 12, 1))
    (rice_item,) = await Allocation.filter(shipment_id=dec1.id)
    assert (rice_item.grams, rice_item.state) == (3000, AllocationState.SHIPPED)
    assert await accounting_problems() == []


async def test_harvest_from_a_plot_nobody_subscribed_is_recorded_as_unclaimed(conn):
    plan, season, plots, subs = await scene()
    rice = await make_crop(season.cooperative_id)
    lot = await make_lot(rice, field_id=plan.field_id, plot_id=plots[-1].id, grams=2500,
                         harvested_on=date(2026, 11, 3))  # fmt: skip
    await batches.make_due_batches(today=date(2026, 11, 16), now=NOW)
    (a,) = await Allocation.filter(lot_id=lot.id)
    assert (a.state, a.reason, a.subscription_id) == (
        AllocationState.DIVERTED, DiversionReason.UNCLAIMED, None)  # fmt: skip


async def test_harvest_after_the_last_ship_day_is_settled_when_the_next_season_follows_on(conn):
    from decimal import Decimal

    from farm.land.models import CareMode, Plan
    from farm.shipments.closing import close_ended_seasons

    plan_a = await make_season(plots=2, starts_on=date(2026, 9, 1), ends_on=date(2027, 3, 1),
                               sale_starts_on=date(2026, 8, 1), sale_ends_on=date(2026, 9, 1))  # fmt: skip
    a = await Season.get(id=plan_a.season_id)
    plots = list(await Plot.filter(field_id=plan_a.field_id).order_by("code"))
    await make_active_subscription(plan_a, plots[0])
    b = await Season.create(cooperative_id=a.cooperative_id, name="B", starts_on=date(2027, 3, 1),
                            ends_on=date(2027, 9, 1), sale_starts_on=date(2027, 1, 1),
                            sale_ends_on=date(2027, 3, 1))  # fmt: skip
    plan_b = await Plan.create(season=b, field_id=plan_a.field_id, name="B",
                               plot_area_m2=Decimal("66.67"), care_mode=CareMode.MANAGED,
                               price_fen=58000, max_plots=2)  # fmt: skip
    await make_active_subscription(plan_b, plots[0])
    rice = await make_crop(a.cooperative_id)
    # After A's last ship day (16 Feb), before B began: A's subscriber cannot get it any more,
    # and it was not grown in B's season.
    lot = await make_lot(rice, field_id=plan_a.field_id, plot_id=plots[0].id, grams=5000,
                         harvested_on=date(2027, 2, 20))  # fmt: skip
    for today in (date(2027, 3, 2), date(2027, 9, 2)):
        await batches.make_due_batches(today=today, now=NOW)
        await close_ended_seasons(today=today, now=NOW)
        assert await accounting_problems() == []
    (share,) = await Allocation.filter(lot_id=lot.id)
    assert (share.grams, share.state, share.reason) == (
        5000, AllocationState.DIVERTED, DiversionReason.UNCLAIMED)  # fmt: skip


@pytest.mark.postgres
async def test_a_manual_diversion_waits_for_a_running_field_and_never_double_counts(
    conn, monkeypatch
):
    import asyncio

    from farm.accounts.models import Role, User
    from farm.errors import DomainError
    from farm.shipments import diversions

    plan, season, plots, subs = await scene()
    await batches.make_due_batches(today=date(2026, 11, 1), now=NOW)
    rice = await make_crop(season.cooperative_id)
    lot = await make_lot(rice, field_id=plan.field_id, plot_id=plots[0].id, grams=5000,
                         harvested_on=date(2026, 11, 10))  # fmt: skip
    manager = await User.get(role=Role.MANAGER, cooperative_id=season.cooperative_id)
    reached, gate = asyncio.Event(), asyncio.Event()
    write_plan = batches.write_plan

    async def paused(conn_, **kw):  # the run has read and locked the lot, and waits here
        reached.set()
        await gate.wait()
        return await write_plan(conn_, **kw)

    monkeypatch.setattr(batches, "write_plan", paused)
    run = asyncio.create_task(batches.make_due_batches(today=date(2026, 11, 16), now=NOW))
    await reached.wait()
    divert = asyncio.create_task(diversions.divert_lot(
        manager=manager, lot_id=lot.id, kg="2", reason="donated", note="", now=NOW))  # fmt: skip
    await asyncio.sleep(0.5)
    blocked = not divert.done()  # it must wait on the lot's row lock
    gate.set()
    await run
    assert blocked
    with pytest.raises(DomainError):  # by then all 5 kg had gone to the subscriber
        await divert
    assert sum(await Allocation.filter(lot_id=lot.id).values_list("grams", flat=True)) == 5000
    assert await accounting_problems() == []


@pytest.mark.postgres
async def test_on_postgres_two_fields_are_written_at_once_and_every_field_adds_up(
    conn, monkeypatch
):
    import asyncio
    from decimal import Decimal

    from farm.land.models import CareMode, Field, Plan

    plan, season, plots, subs = await scene()
    rice = await make_crop(season.cooperative_id)
    fields = [plan.field_id]
    for k in range(3):  # three more fields of the same season, a subscriber and a lot on each
        field = await Field.create(cooperative_id=season.cooperative_id, name=f"田{k}",
                                   width_m=10, height_m=10)  # fmt: skip
        plot = await Plot.create(field=field, code=f"F{k}", area_m2=Decimal("66.67"), x_m=0,
                                 y_m=0, w_m=10, h_m="6.667")  # fmt: skip
        more = await Plan.create(season=season, field=field, name=f"田{k}",
                                 plot_area_m2=Decimal("66.67"), care_mode=CareMode.MANAGED,
                                 price_fen=58000, max_plots=1)  # fmt: skip
        subs.append(await make_active_subscription(more, plot))
        fields.append(field.id)
    for field_id in fields:
        await make_lot(rice, field_id=field_id, plot_id=None, grams=999,
                       harvested_on=date(2026, 11, 10))  # fmt: skip
    writing, most = 0, 0
    write_plan = batches.write_plan

    async def counted(conn_, **kw):
        nonlocal writing, most
        writing += 1
        most = max(most, writing)
        await asyncio.sleep(0.2)  # long enough for the other field to reach its write
        try:
            return await write_plan(conn_, **kw)
        finally:
            writing -= 1

    monkeypatch.setattr(batches, "write_plan", counted)
    (result,) = [r for r in await batches.make_due_batches(today=date(2026, 11, 16), now=NOW)
                 if r.ship_on == date(2026, 11, 16)]  # fmt: skip
    assert most == batches.FIELDS_AT_ONCE == 2
    assert (result.fields_run, result.shipments, result.completed) == (4, len(subs), True)
    assert await FieldRun.filter(ship_on=date(2026, 11, 16)).count() == 4
    boxes = await Shipment.filter(ship_on=date(2026, 11, 16)).values_list(
        "subscription_id", flat=True
    )
    assert sorted(boxes) == sorted(s.id for s in subs)
    assert await accounting_problems() == []
