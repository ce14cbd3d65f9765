"""Shipment rules, pure: transit times, shelf life on arrival, splitting a field's harvest,
and what becomes of each share of a lot on a ship day."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from urllib.parse import quote

from farm.land.rules import cutoff_for
from farm.shipments.models import AllocationState, DiversionReason
from farm.subscriptions.rules import PROVINCES

MAX_ID = 2**31 - 1  # ids are 32-bit integers in the database

DEFAULT_TRANSIT_DAYS = 3
MAX_TRANSIT_DAYS = 15

# Rough express-courier days from an inland province, by region: the starting table a
# cooperative gets, to edit for its own couriers and home province.
_REGION_DAYS = {
    1: ("上海", "江苏", "浙江", "安徽"),
    2: ("北京", "天津", "河北", "山西", "山东", "河南", "湖北", "湖南", "江西", "福建"),
    3: ("辽宁", "吉林", "广东", "广西", "重庆", "四川", "贵州", "陕西", "内蒙古", "宁夏"),
    4: ("黑龙江", "海南", "云南", "甘肃", "青海", "香港", "澳门"),
    5: ("新疆", "西藏", "台湾"),
}


def default_transit_days(home_province: str) -> dict[str, int]:
    """A starting transit table: one day within the home province, else by region."""
    table = {p: days for days, provinces in _REGION_DAYS.items() for p in provinces}
    for province in PROVINCES:
        table.setdefault(province, DEFAULT_TRANSIT_DAYS)
    if home_province in table:
        table[home_province] = 1
    return table


def arrives_fresh(
    *, harvested_on: date, shelf_life_days: int, departs_on: date, transit_days: int
) -> bool:
    """True when the produce still keeps on the day it arrives: shelf life counts whole days
    at room temperature from the harvest day."""
    arrives_on = departs_on + timedelta(days=transit_days)
    return (arrives_on - harvested_on).days <= shelf_life_days


def split_by_area(
    grams: int, areas: Sequence[tuple[Hashable, Decimal]]
) -> list[tuple[Hashable, int]]:
    """Split grams among keys in proportion to area, exactly: the shares sum to grams.

    Integer arithmetic on hundredths of a m² (largest remainder, ties to the earlier key),
    so the result depends on nothing but the input. Keys with no area get nothing."""
    weights = [max(int(area * 100), 0) for _key, area in areas]
    total = sum(weights)
    if grams <= 0 or total <= 0:
        return [(key, 0) for key, _area in areas]
    shares = [grams * w // total for w in weights]
    remainders = [grams * w % total for w in weights]
    order = sorted(range(len(weights)), key=lambda i: (-remainders[i], i))
    for i in order[: grams - sum(shares)]:
        shares[i] += 1
    return [(key, share) for (key, _area), share in zip(areas, shares, strict=True)]


@dataclass(frozen=True)
class Outcome:
    state: AllocationState
    reason: DiversionReason | None = None


SHIP = Outcome(AllocationState.SHIPPED)
CARRY = Outcome(AllocationState.CARRIED)


def outcome_for_share(
    *,
    harvested_on: date,
    shelf_life_days: int,
    departs_on: date,
    transit_days: int,
    on_hold: bool,
    next_ship_on: date | None,
) -> Outcome:
    """What becomes of a subscriber's share of a lot on a ship day.

    Sent if it would arrive fresh. On a held ship day, kept for the next box if it would
    still arrive fresh then (rice, oil, roots), else diverted as held. Otherwise diverted
    as past its shelf life."""
    if on_hold:
        if next_ship_on is not None and arrives_fresh(
            harvested_on=harvested_on,
            shelf_life_days=shelf_life_days,
            departs_on=max(next_ship_on, departs_on),
            transit_days=transit_days,
        ):
            return CARRY
        return Outcome(AllocationState.DIVERTED, DiversionReason.HOLD)
    if arrives_fresh(
        harvested_on=harvested_on,
        shelf_life_days=shelf_life_days,
        departs_on=departs_on,
        transit_days=transit_days,
    ):
        return SHIP
    return Outcome(AllocationState.DIVERTED, DiversionReason.SHELF_LIFE)


def next_ship_day(days: Sequence[date], after: date) -> date | None:
    """The first of the ordered ship days strictly after a date."""
    return next((d for d in days if d > after), None)


def can_change(*, ship_on: date, cutoff_days: int, today: date) -> bool:
    """A ship day can be held, or its address changed, up to and including its cutoff."""
    return today <= cutoff_for(ship_on, cutoff_days)


def early_harvest_warning(
    *,
    harvested_on: date,
    shelf_life_days: int,
    ship_days: Sequence[date],
    transit_days: int,
) -> date | None:
    """The next ship day, when a harvest made today would spoil before reaching even the
    nearest customer shipped that day (None when it keeps, or no ship day is coming)."""
    coming = next((d for d in ship_days if d > harvested_on), None)
    if coming is None:
        return None
    fresh = arrives_fresh(
        harvested_on=harvested_on,
        shelf_life_days=shelf_life_days,
        departs_on=coming,
        transit_days=transit_days,
    )
    return None if fresh else coming


def shipment_number(shipment_id: int) -> str:
    """The number printed on a box and its label, and typed in tracking CSVs: S000123."""
    return f"S{shipment_id:06d}"


def parse_shipment_number(text: str) -> int | None:
    """'S000123', 's123' or '123' -> 123; None for anything else."""
    raw = text.strip().upper().removeprefix("S")
    if not raw.isascii() or not raw.isdigit() or len(raw) > 12:
        return None
    value = int(raw)
    return value if 0 < value <= MAX_ID else None


# ---- couriers ----

TRACKING_NUMBER_SLOT = "{number}"


def tracking_link(pattern: str, number: str) -> str:
    """The page where a box is followed: the courier's pattern with the tracking number put
    in (quoted for a URL); "" when the courier has no pattern or there is no number."""
    if not pattern or not number:
        return ""
    return pattern.replace(TRACKING_NUMBER_SLOT, quote(number, safe=""))


def tracking_pattern_ok(pattern: str) -> bool:
    """A courier's link pattern: an https address with one {number} slot and nothing a
    browser could run or that breaks out of an attribute."""
    return (
        pattern.startswith("https://")
        and pattern.count(TRACKING_NUMBER_SLOT) == 1
        and not any(c.isspace() or c in "\"'<>`\\" for c in pattern)
    )


def masked_phone(phone: str) -> str:
    """A mainland mobile with its middle four digits hidden (138****5678), as couriers'
    privacy waybills print it; another number keeps its first three and last two."""
    digits = phone.strip()
    if len(digits) == 11 and digits.isdigit():
        return f"{digits[:3]}****{digits[7:]}"
    if len(digits) > 5:
        return digits[:3] + "*" * (len(digits) - 5) + digits[-2:]
    return digits
