"""Shipment rules: transit, shelf life on arrival, exact splitting, outcomes of a share."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from farm.shipments import rules
from farm.shipments.models import AllocationState, DiversionReason
from farm.sql import advisory_key
from farm.subscriptions import rules as subscription_rules
from farm.subscriptions.rules import PROVINCES

areas = st.lists(
    st.decimals(min_value=0, max_value=10_000, places=2, allow_nan=False, allow_infinity=False),
    min_size=1,
    max_size=40,
)


@given(grams=st.integers(min_value=0, max_value=10**9), areas=areas)
def test_split_by_area_hands_out_exactly_the_grams_in_proportion(grams, areas):
    keyed = list(enumerate(areas))
    shares = rules.split_by_area(grams, keyed)
    assert [k for k, _g in shares] == [k for k, _a in keyed]
    total_area = sum(a for a in areas if a > 0)
    if total_area == 0:
        assert all(g == 0 for _k, g in shares)
        return
    assert sum(g for _k, g in shares) == grams
    for (_k, g), area in zip(shares, areas, strict=True):
        exact = Decimal(grams) * area / total_area
        assert abs(Decimal(g) - exact) < 1 + Decimal("1e-9")  # never off by a whole gram
        if area <= 0:
            assert g == 0


def test_split_by_area_breaks_ties_toward_the_earlier_key():
    same = Decimal("66.67")
    assert rules.split_by_area(1000, [("a", same), ("b", same), ("c", same)]) == [
        ("a", 334), ("b", 333), ("c", 333)]  # fmt: skip


def test_arrives_fresh_counts_whole_days_from_harvest_to_arrival():
    harvested = date(2026, 11, 14)
    kw = {"harvested_on": harvested, "shelf_life_days": 3, "transit_days": 1}
    assert rules.arrives_fresh(departs_on=date(2026, 11, 16), **kw)  # arrives day 3
    assert not rules.arrives_fresh(departs_on=date(2026, 11, 17), **kw)  # day 4


@given(
    harvest=st.dates(min_value=date(2026, 1, 1), max_value=date(2027, 12, 31)),
    shelf=st.integers(min_value=0, max_value=400),
    wait=st.integers(min_value=0, max_value=60),
    transit=st.integers(min_value=0, max_value=15),
    hold=st.booleans(),
    gap=st.one_of(st.none(), st.integers(min_value=1, max_value=31)),
)
def test_a_share_is_shipped_only_if_it_arrives_fresh_and_carried_only_if_it_will(
    harvest, shelf, wait, transit, hold, gap
):
    ship_on = harvest + timedelta(days=wait)
    next_on = ship_on + timedelta(days=gap) if gap else None
    out = rules.outcome_for_share(
        harvested_on=harvest, shelf_life_days=shelf, departs_on=ship_on,
        transit_days=transit, on_hold=hold, next_ship_on=next_on,
    )  # fmt: skip
    fresh_now = (ship_on + timedelta(days=transit) - harvest).days <= shelf
    if out.state == AllocationState.SHIPPED:
        assert not hold and fresh_now
    elif out.state == AllocationState.CARRIED:
        assert hold and next_on is not None
        assert (next_on + timedelta(days=transit) - harvest).days <= shelf
    else:
        assert out.reason == (DiversionReason.HOLD if hold else DiversionReason.SHELF_LIFE)
        if not hold:
            assert not fresh_now


def test_the_default_transit_table_covers_every_province_and_home_is_one_day():
    table = rules.default_transit_days("安徽")
    assert set(table) == set(PROVINCES)
    assert table["安徽"] == 1
    assert table["新疆"] > table["江苏"]
    assert all(0 < d <= rules.MAX_TRANSIT_DAYS for d in table.values())


def test_changes_close_after_the_cutoff_and_the_address_locks_until_the_ship_day():
    days = [date(2026, 12, 1), date(2026, 12, 16)]
    assert rules.can_change(ship_on=days[1], cutoff_days=2, today=date(2026, 12, 14))
    assert not rules.can_change(ship_on=days[1], cutoff_days=2, today=date(2026, 12, 15))
    assert subscription_rules.locked_ship_day(days, cutoff_days=2, today=date(2026, 12, 14)) is None
    assert (
        subscription_rules.locked_ship_day(days, cutoff_days=2, today=date(2026, 12, 15)) == days[1]
    )
    assert (
        subscription_rules.locked_ship_day(days, cutoff_days=2, today=date(2026, 12, 16)) == days[1]
    )
    assert subscription_rules.locked_ship_day(days, cutoff_days=2, today=date(2026, 12, 17)) is None


def test_a_leafy_harvest_too_early_for_the_next_ship_day_is_flagged():
    days = [date(2026, 12, 1), date(2026, 12, 16)]
    kw = {"shelf_life_days": 3, "ship_days": days, "transit_days": 1}
    assert rules.early_harvest_warning(harvested_on=date(2026, 12, 5), **kw) == days[1]
    assert rules.early_harvest_warning(harvested_on=date(2026, 12, 13), **kw) == days[1]
    assert rules.early_harvest_warning(harvested_on=date(2026, 12, 14), **kw) is None
    assert rules.early_harvest_warning(harvested_on=date(2026, 12, 16), **kw) is None  # none left


def test_shipment_numbers_round_trip_and_refuse_anything_else():
    assert rules.shipment_number(123) == "S000123"
    assert rules.parse_shipment_number(" s000123 ") == 123
    for bad in ("", "S", "S-1", "S0", "１２３", "S12x", "9" * 13):
        assert rules.parse_shipment_number(bad) is None


def test_advisory_keys_fit_postgres_bigint_and_differ_by_job_day_and_unit():
    day = date(2026, 11, 16)
    keys = {advisory_key(j, d, u) for j in ("ship", "close")
            for d in (day, day + timedelta(days=1)) for u in (1, 2)}  # fmt: skip
    assert len(keys) == 8
    assert all(-(2**63) <= k < 2**63 for k in keys)


def test_a_box_number_past_the_database_id_range_is_no_box_rather_than_an_error():
    assert rules.parse_shipment_number("S2147483647") == 2147483647
    assert rules.parse_shipment_number("S2147483648") is None
    assert rules.parse_shipment_number("123456789012") is None
