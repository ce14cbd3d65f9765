"""The ship-day decisions of one field, without a database: for any field (subscribers, holds,
provinces, plot and field lots, carried items, a late run), every open gram of a settled lot
is in exactly one share, only fresh produce is shipped, a plot's harvest goes only to its
subscriber, and each subscriber not on hold gets exactly one box. The whole engine, with its
database, is checked on fewer worlds in tests/integration/test_accounting_properties.py."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from types import MappingProxyType

from hypothesis import given, settings
from hypothesis import strategies as st

from farm.shipments import rules
from farm.shipments.correction_plan import (
    Placed,
    fixed_grams,
    is_fixed,
    plan_correction,
    replan_day,
)
from farm.shipments.models import AllocationState, DiversionReason, ShipmentStatus
from farm.shipments.planning import (
    UNCLAIMED,
    CarriedItem,
    FieldSnapshot,
    OpenLot,
    Subscriber,
    plan_field,
)

SHIP_ON = date(2026, 11, 16)
NEXT = date(2026, 12, 1)
PROVINCES = ["上海", "安徽", "新疆", "北京", "西藏"]
SHIPPED, CARRIED, DIVERTED = (
    AllocationState.SHIPPED,
    AllocationState.CARRIED,
    AllocationState.DIVERTED,
)


@st.composite
def snapshots(draw) -> FieldSnapshot:
    plots = list(range(1, 9))
    subscribed = draw(st.lists(st.sampled_from(plots), unique=True, max_size=6))
    subscribers = tuple(
        Subscriber(
            id=100 + plot,
            plot_id=plot,
            area=draw(st.decimals(min_value=Decimal("0.01"), max_value=700, places=2)),
            province=draw(st.sampled_from(PROVINCES)),
            on_hold=draw(st.booleans()),
            next_ship_on=draw(st.sampled_from([None, NEXT])),
            starts_on=SHIP_ON - timedelta(days=draw(st.integers(0, 90))),
        )
        for plot in sorted(subscribed)
    )
    free = [p for p in plots if p not in subscribed]
    others = draw(st.sets(st.sampled_from(free))) if free else set()
    lots = tuple(
        OpenLot(
            id=i + 1,
            plot_id=draw(st.one_of(st.none(), st.sampled_from(plots))),
            harvested_on=SHIP_ON - timedelta(days=draw(st.integers(1, 120))),
            open_g=draw(st.integers(1, 50_000)),
            shelf_life_days=draw(st.sampled_from([1, 3, 7, 20, 180])),
        )
        for i in range(draw(st.integers(0, 12)))
    )
    carried = tuple(
        CarriedItem(
            allocation_id=500 + i,
            subscription_id=draw(st.sampled_from([s.id for s in subscribers])),
            harvested_on=SHIP_ON - timedelta(days=draw(st.integers(1, 60))),
            shelf_life_days=draw(st.sampled_from([1, 7, 30, 180])),
        )
        for i in range(draw(st.integers(0, 4)) if subscribers else 0)
    )
    transit = draw(st.dictionaries(st.sampled_from(PROVINCES), st.integers(1, 6)))
    return FieldSnapshot(
        ship_on=SHIP_ON,
        today=SHIP_ON + timedelta(days=draw(st.sampled_from([0, 0, 1, 4]))),
        subscribers=subscribers,
        other_plots=frozenset(others),
        lots=lots,
        carried=carried,
        transit=MappingProxyType(transit),
    )


def fresh(snapshot, sub, harvested_on, shelf_life_days, departs_on=None) -> bool:
    return rules.arrives_fresh(
        harvested_on=harvested_on,
        shelf_life_days=shelf_life_days,
        departs_on=departs_on or max(snapshot.ship_on, snapshot.today),
        transit_days=snapshot.transit.get(sub.province, rules.DEFAULT_TRANSIT_DAYS),
    )


@settings(max_examples=200)
@given(snapshot=snapshots())
def test_every_open_gram_of_a_settled_lot_is_in_exactly_one_share(snapshot):
    plan = plan_field(snapshot)
    assert len(set(plan.settled_lot_ids)) == len(plan.settled_lot_ids)
    settled = set(plan.settled_lot_ids)
    grams = defaultdict(int)
    for share in plan.shares:
        assert share.grams > 0
        assert share.lot_id in settled
        grams[share.lot_id] += share.grams
    for lot in snapshot.lots:
        if lot.id in settled:
            assert grams[lot.id] == lot.open_g
        else:
            assert grams[lot.id] == 0


@settings(max_examples=200)
@given(snapshot=snapshots())
def test_a_lot_waits_only_for_the_subscribers_of_another_season(snapshot):
    plan = plan_field(snapshot)
    plots = {s.plot_id for s in snapshot.subscribers}
    for lot in snapshot.lots:
        waits = lot.id not in plan.settled_lot_ids
        if lot.plot_id is not None:
            assert waits == (lot.plot_id not in plots and lot.plot_id in snapshot.other_plots)
        else:
            begun = any(s.starts_on <= lot.harvested_on for s in snapshot.subscribers)
            assert waits == (not begun and bool(snapshot.other_plots))


@settings(max_examples=200)
@given(snapshot=snapshots())
def test_a_plots_harvest_goes_only_to_its_subscriber_and_a_fields_is_split_by_area(snapshot):
    plan = plan_field(snapshot)
    lots = {lot.id: lot for lot in snapshot.lots}
    subs = {s.id: s for s in snapshot.subscribers}
    by_lot = defaultdict(list)
    for share in plan.shares:
        by_lot[share.lot_id].append(share)
    for lot_id, shares in by_lot.items():
        lot = lots[lot_id]
        if lot.plot_id is not None:
            (share,) = shares
            owner = next((s for s in snapshot.subscribers if s.plot_id == lot.plot_id), None)
            if owner is not None and owner.starts_on <= lot.harvested_on:
                assert share.subscription_id == owner.id
            else:  # a free plot, or grown before its subscriber's season: nobody's
                assert share.subscription_id is None
                assert share.outcome.reason == DiversionReason.UNCLAIMED
            continue
        begun = [s for s in snapshot.subscribers if s.starts_on <= lot.harvested_on]
        if not begun:
            assert [(s.subscription_id, s.grams) for s in shares] == [(None, lot.open_g)]
            continue
        total = sum(int(s.area * 100) for s in begun)
        for share in shares:
            sub = subs[share.subscription_id]
            assert sub.starts_on <= lot.harvested_on  # nobody gets what grew before their season
            exact = Decimal(lot.open_g) * int(sub.area * 100) / total
            assert abs(share.grams - exact) < 1


@settings(max_examples=200)
@given(snapshot=snapshots())
def test_only_fresh_produce_is_shipped_and_a_hold_carries_only_what_keeps(snapshot):
    plan = plan_field(snapshot)
    subs = {s.id: s for s in snapshot.subscribers}
    lots = {lot.id: lot for lot in snapshot.lots}
    carried = {c.allocation_id: c for c in snapshot.carried}
    decided = [
        (share.subscription_id, lots[share.lot_id].harvested_on,
         lots[share.lot_id].shelf_life_days, share.outcome)
        for share in plan.shares
    ] + [
        (r.subscription_id, carried[r.allocation_id].harvested_on,
         carried[r.allocation_id].shelf_life_days, r.outcome)
        for r in plan.released
    ]  # fmt: skip
    for sub_id, harvested_on, shelf, outcome in decided:
        if sub_id is None:
            assert outcome == rules.Outcome(DIVERTED, DiversionReason.UNCLAIMED)
            continue
        sub = subs[sub_id]
        keeps = fresh(snapshot, sub, harvested_on, shelf)
        if sub.on_hold:
            later = sub.next_ship_on is not None and fresh(
                snapshot, sub, harvested_on, shelf, max(sub.next_ship_on, snapshot.today)
            )
            assert outcome == (
                rules.CARRY if later else rules.Outcome(DIVERTED, DiversionReason.HOLD)
            )
        elif keeps:
            assert outcome == rules.SHIP
        else:
            assert outcome == rules.Outcome(DIVERTED, DiversionReason.SHELF_LIFE)
    # A carried item left out of `released` is carried again: its subscriber holds this day
    # too, and it still keeps until the next.
    released = {r.allocation_id for r in plan.released}
    for item in snapshot.carried:
        if item.allocation_id not in released:
            sub = subs[item.subscription_id]
            assert sub.on_hold and sub.next_ship_on is not None
            assert fresh(snapshot, sub, item.harvested_on, item.shelf_life_days,
                         max(sub.next_ship_on, snapshot.today))  # fmt: skip
        else:
            assert next(r for r in plan.released if r.allocation_id == item.allocation_id
                        ).outcome.state != CARRIED  # fmt: skip


@settings(max_examples=200)
@given(snapshot=snapshots())
def test_each_subscriber_not_on_hold_gets_one_box_with_items_exactly_when_something_ships(
    snapshot,
):
    plan = plan_field(snapshot)
    assert [b.subscription_id for b in plan.boxes] == [
        s.id for s in snapshot.subscribers if not s.on_hold
    ]
    shipped = {
        x.subscription_id for x in (*plan.shares, *plan.released) if x.outcome.state == SHIPPED
    }
    subs = {s.id: s for s in snapshot.subscribers}
    for box in plan.boxes:
        assert box.has_items == (box.subscription_id in shipped)
        province = subs[box.subscription_id].province
        assert box.transit_days == snapshot.transit.get(province, rules.DEFAULT_TRANSIT_DAYS)
    assert shipped <= {b.subscription_id for b in plan.boxes}  # nothing shipped to a hold


@given(snapshot=snapshots())
def test_the_plan_depends_on_nothing_but_the_snapshot(snapshot):
    assert plan_field(snapshot) == plan_field(snapshot)


def _sub(id_, plot_id, starts_on, **kw) -> Subscriber:
    base = {"area": Decimal("66.67"), "province": "安徽", "on_hold": False,
            "next_ship_on": NEXT}  # fmt: skip
    return Subscriber(id=id_, plot_id=plot_id, starts_on=starts_on, **(base | kw))


def _snapshot(subscribers, lots, *, others=frozenset(), carried=()) -> FieldSnapshot:
    return FieldSnapshot(ship_on=SHIP_ON, today=SHIP_ON, subscribers=tuple(subscribers),
                         other_plots=frozenset(others), lots=tuple(lots), carried=tuple(carried),
                         transit=MappingProxyType({"安徽": 1}))  # fmt: skip


def test_a_fields_lot_is_split_only_among_the_seasons_begun_when_it_was_harvested():
    early, late = _sub(1, 1, date(2026, 9, 1)), _sub(2, 2, date(2026, 11, 1))
    lot = OpenLot(id=7, plot_id=None, harvested_on=date(2026, 10, 20), open_g=1000,
                  shelf_life_days=180)  # fmt: skip
    plan = plan_field(_snapshot([early, late], [lot]))
    assert [(s.subscription_id, s.grams, s.outcome) for s in plan.shares] == [(1, 1000, rules.SHIP)]
    assert [(b.subscription_id, b.has_items) for b in plan.boxes] == [(1, True), (2, False)]


def test_the_harvest_of_another_seasons_plot_waits_for_its_own_ship_day():
    lot = OpenLot(id=7, plot_id=3, harvested_on=date(2026, 11, 10), open_g=1000,
                  shelf_life_days=180)  # fmt: skip
    plan = plan_field(_snapshot([_sub(1, 1, date(2026, 9, 1))], [lot], others={3}))
    assert plan.shares == () and plan.settled_lot_ids == ()


def test_a_held_day_carries_rice_and_diverts_greens_then_the_next_box_takes_the_rice():
    held = _sub(1, 1, date(2026, 9, 1), on_hold=True)
    rice = OpenLot(id=1, plot_id=1, harvested_on=date(2026, 11, 10), open_g=5000,
                   shelf_life_days=180)  # fmt: skip
    greens = OpenLot(id=2, plot_id=1, harvested_on=date(2026, 11, 14), open_g=800,
                     shelf_life_days=3)  # fmt: skip
    plan = plan_field(_snapshot([held], [rice, greens]))
    assert [(s.lot_id, s.outcome) for s in plan.shares] == [
        (1, rules.CARRY), (2, rules.Outcome(DIVERTED, DiversionReason.HOLD))]  # fmt: skip
    assert plan.boxes == ()
    kept = CarriedItem(allocation_id=9, subscription_id=1, harvested_on=rice.harvested_on,
                       shelf_life_days=180)  # fmt: skip
    back = _sub(1, 1, date(2026, 9, 1))
    plan = plan_field(_snapshot([back], [], carried=[kept]))
    assert [(r.allocation_id, r.outcome) for r in plan.released] == [(9, rules.SHIP)]
    assert [(b.subscription_id, b.has_items) for b in plan.boxes] == [(1, True)]


# ---- a lot corrected: its open grams placed again by the same engine ----


@settings(max_examples=200)
@given(snapshot=snapshots(), data=st.data())
def test_a_corrected_lot_is_placed_again_whole_and_only_in_boxes_still_open(snapshot, data):
    if not snapshot.lots:
        return
    lot = data.draw(st.sampled_from(snapshot.lots))
    ids = [s.id for s in snapshot.subscribers]
    open_boxes = frozenset(data.draw(st.sets(st.sampled_from(ids)))) if ids else frozenset()
    corrected = replace(lot, open_g=data.draw(st.integers(1, 60_000)))
    plan = plan_correction(snapshot, lot=corrected, open_boxes=open_boxes)
    assert plan.released == ()  # nothing carried is decided again
    assert all(share.lot_id == lot.id for share in plan.shares)
    placed = sum(share.grams for share in plan.shares)
    assert placed == (corrected.open_g if lot.id in plan.settled_lot_ids else 0)
    by_id = {s.id: s for s in snapshot.subscribers}
    for share in plan.shares:
        if share.subscription_id is None:
            assert share.outcome == UNCLAIMED
            continue
        sub = by_id[share.subscription_id]
        assert sub.on_hold or sub.id in open_boxes  # a closed box gains nothing
        if share.outcome.state == SHIPPED:
            assert sub.id in open_boxes and not sub.on_hold
            assert fresh(snapshot, sub, lot.harvested_on, lot.shelf_life_days)
        if lot.plot_id is not None:
            assert sub.plot_id == lot.plot_id
    # A plot lot whose subscriber's box is closed waits for their next ship day.
    owner = next((s for s in snapshot.subscribers if s.plot_id == lot.plot_id), None)
    if lot.plot_id is not None and owner is not None:
        closed = not owner.on_hold and owner.id not in open_boxes
        if closed:
            assert lot.id not in plan.settled_lot_ids


placed_rows = st.lists(
    st.builds(
        Placed,
        allocation_id=st.integers(1, 10_000),
        grams=st.integers(1, 50_000),
        state=st.sampled_from([SHIPPED, CARRIED, DIVERTED]),
        by_hand=st.booleans(),
        box_status=st.sampled_from([None, *ShipmentStatus]),
        ship_on=st.sampled_from([None, SHIP_ON, NEXT]),
    ),
    max_size=8,
)


@settings(max_examples=300)
@given(placed=placed_rows)
def test_a_lot_can_be_corrected_down_to_what_is_packed_shipped_or_given_away_only(placed):
    fixed = fixed_grams(placed)
    movable = [p for p in placed if not is_fixed(p)]
    assert fixed + sum(p.grams for p in movable) == sum(p.grams for p in placed)
    for p in placed:
        if p.by_hand or (
            p.state == SHIPPED and p.box_status in (ShipmentStatus.PACKED, ShipmentStatus.SHIPPED)
        ):
            assert is_fixed(p)
        elif p.state != SHIPPED or p.box_status in (ShipmentStatus.CREATED, ShipmentStatus.EMPTY):
            assert not is_fixed(p)
    days = [p.ship_on for p in movable if p.ship_on]
    assert replan_day(placed) == (max(days) if days else None)
