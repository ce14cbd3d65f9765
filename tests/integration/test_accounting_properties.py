"""Property: whatever the harvests, holds, destinations and the days the scheduler happens to
run, every gram harvested ends in exactly one place, and each active subscription gets
exactly one shipment per ship day it did not hold."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from farm import db
from farm.accounts.models import Role, User
from farm.errors import FieldErrors
from farm.fieldwork.models import HarvestLot
from farm.land.models import Plot, Season
from farm.shipments import batches, corrections
from farm.shipments.closing import close_ended_seasons
from farm.shipments.models import (
    Allocation,
    AllocationState,
    ShipDayHold,
    Shipment,
    ShipmentStatus,
)
from farm.subscriptions.models import Status, Subscription
from tests.support import (
    accounting_problems,
    make_active_subscription,
    make_crop,
    make_lot,
    make_season,
    wipe,
)

STARTS, ENDS = date(2026, 9, 1), date(2026, 12, 1)  # ship days: 6, from 1 Sep to 16 Nov
SHIP_DAYS = [date(2026, m, d) for m in (9, 10, 11) for d in (1, 16)]
SPAN = (ENDS - STARTS).days

worlds = st.fixed_dictionaries(
    {
        "plots": st.integers(min_value=1, max_value=4),
        "subscribed": st.lists(st.booleans(), min_size=4, max_size=4),
        "provinces": st.lists(
            st.sampled_from(["上海", "安徽", "新疆", "北京"]), min_size=4, max_size=4
        ),  # fmt: skip
        "shelf_lives": st.lists(st.sampled_from([1, 3, 7, 20, 180]), min_size=3, max_size=3),
        "lots": st.lists(
            st.tuples(
                st.integers(min_value=0, max_value=2),  # crop
                st.one_of(st.none(), st.integers(min_value=0, max_value=3)),  # plot or field
                st.integers(min_value=1, max_value=40_000),  # grams
                st.integers(min_value=-5, max_value=SPAN + 5),  # harvest day from the start
            ),
            max_size=12,
        ),
        "holds": st.sets(st.tuples(st.integers(0, 3), st.integers(0, 5)), max_size=6),
        "cancel": st.one_of(st.none(), st.tuples(st.integers(0, 3), st.integers(0, SPAN))),
        "runs": st.lists(st.integers(min_value=0, max_value=SPAN + 3), min_size=1, max_size=5),
        # Lots corrected by a manager after a run: (lot, new grams, after which run, void),
        # a box of the lot packed or shipped before (its grams then fixed) or not.
        "corrections": st.lists(
            st.tuples(
                st.integers(min_value=0, max_value=11),
                st.integers(min_value=1, max_value=40_000),
                st.integers(min_value=0, max_value=5),
                st.booleans(),
                st.sampled_from([None, ShipmentStatus.PACKED, ShipmentStatus.SHIPPED]),
            ),
            max_size=3,
        ),
    }
)


async def _play(world: dict) -> None:
    plan = await make_season(plots=world["plots"], starts_on=STARTS, ends_on=ENDS,
                             sale_starts_on=date(2026, 8, 1), sale_ends_on=ENDS)  # fmt: skip
    season = await Season.get(id=plan.season_id)
    plots = list(await Plot.filter(field_id=plan.field_id).order_by("code"))
    subs = {}
    for i, plot in enumerate(plots):
        if world["subscribed"][i]:
            subs[i] = await make_active_subscription(plan, plot, province=world["provinces"][i])
    crops = [await make_crop(season.cooperative_id, f"作物{i}", shelf_life_days=days)
             for i, days in enumerate(world["shelf_lives"])]  # fmt: skip
    for crop_i, plot_i, grams, day in world["lots"]:
        plot = plots[plot_i] if plot_i is not None and plot_i < len(plots) else None
        await make_lot(crops[crop_i], field_id=plan.field_id, plot_id=plot.id if plot else None,
                       grams=grams, harvested_on=STARTS + timedelta(days=day))  # fmt: skip
    for sub_i, day_i in world["holds"]:
        if sub_i in subs:
            await ShipDayHold.create(subscription_id=subs[sub_i].id, ship_on=SHIP_DAYS[day_i],
                                     created_at=datetime(2026, 8, 25, tzinfo=UTC))  # fmt: skip
    cancel_on = None
    if world["cancel"] and world["cancel"][0] in subs:
        cancel_on = STARTS + timedelta(days=world["cancel"][1])

    run_days = sorted(STARTS + timedelta(days=d) for d in world["runs"])
    lots = list(await HarvestLot.all().order_by("id"))
    manager = (
        await User.get(role=Role.MANAGER, cooperative_id=season.cooperative_id) if lots else None
    )
    for run_i, today in enumerate([*run_days, ENDS + timedelta(days=3)]):
        if cancel_on and today >= cancel_on:
            await Subscription.filter(id=subs[world["cancel"][0]].id).update(
                status=Status.CANCELLED)  # fmt: skip
            cancel_on = None
        now = datetime.combine(today, datetime.min.time(), tzinfo=UTC)
        await batches.make_due_batches(today=today, now=now)
        await batches.make_due_batches(today=today, now=now)  # a rerun changes nothing
        await close_ended_seasons(today=today, now=now)
        assert await accounting_problems() == []
        for lot_i, grams, after_run, void, box_status in world["corrections"]:
            if after_run != run_i or lot_i >= len(lots):
                continue
            await _correct(manager, lots[lot_i].id, grams, void, box_status, today, now)
            assert await accounting_problems() == []

    # The scheduler's hourly close after the last correction: what a correction left open
    # after the last ship day gets its place.
    last = ENDS + timedelta(days=3)
    await close_ended_seasons(
        today=last, now=datetime.combine(last, datetime.min.time(), tzinfo=UTC)
    )

    # After the season: every gram of every lot grown before its end has its place (from
    # before it began: unclaimed), none is waiting; later lots wait for a next season.
    for lot in await HarvestLot.all():
        if lot.harvested_on < ENDS:
            assert lot.settled_g == lot.weight_g, lot.code
        else:
            assert lot.settled_g == 0
    assert not await Allocation.filter(state=AllocationState.CARRIED).exists()

    # One shipment per subscription and ship day it did not hold, none for held days.
    held = {(subs[s].id, SHIP_DAYS[d]) for s, d in world["holds"] if s in subs}
    boxes = [(s.subscription_id, s.ship_on) for s in await Shipment.all()]
    assert len(boxes) == len(set(boxes))
    assert not held & set(boxes)
    for sub in subs.values():
        if (await Subscription.get(id=sub.id)).status == Status.COMPLETED:
            got = {day for sid, day in boxes if sid == sub.id}
            assert got == {d for d in SHIP_DAYS if (sub.id, d) not in held}

    # What was shipped arrived fresh, and a plot's harvest went only to that plot's subscriber.
    for item in await Allocation.filter(state=AllocationState.SHIPPED).prefetch_related(
        "lot__crop", "shipment", "subscription"
    ):
        arrives = item.shipment.ship_on + timedelta(days=item.shipment.transit_days)
        assert (arrives - item.lot.harvested_on).days <= item.lot.crop.shelf_life_days
        if item.lot.plot_id is not None:
            assert item.subscription.plot_id == item.lot.plot_id
        assert item.lot.harvested_on >= STARTS  # nobody is sent what grew before their season


async def _correct(manager, lot_id, grams, void, box_status, today, now) -> None:
    """A manager corrects a lot (perhaps after a box of it was packed or shipped): refused
    below what is fixed, and then nothing changes; else placed again."""
    if box_status is not None:  # the first box holding some of the lot leaves
        item = await Allocation.filter(lot_id=lot_id, state=AllocationState.SHIPPED).first()
        if item is not None:
            await Shipment.filter(id=item.shipment_id).update(status=box_status)
    before = await HarvestLot.get(id=lot_id)
    if before.voided_at is not None:
        return
    try:
        await corrections.correct_lot(manager=manager, lot_id=lot_id, kg=f"{grams / 1000}",
                                      reason="typo", void=void, today=today, now=now)  # fmt: skip
    except FieldErrors:
        after = await HarvestLot.get(id=lot_id)
        assert (after.weight_g, after.settled_g) == (before.weight_g, before.settled_g)
        return
    after = await HarvestLot.get(id=lot_id)
    assert after.weight_g == (0 if void else grams)


@hypothesis_settings(
    max_examples=10,  # the decisions get many more worlds without a database: test_ship_day_planning.py
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(world=worlds)
def test_every_gram_harvested_ends_in_exactly_one_place_whatever_the_run_days(settings, world):
    async def one_world():
        await db.connect(settings)
        try:
            await _play(world)
        finally:
            await wipe(settings)
            await db.close()

    asyncio.run(one_world())
