"""The story's pure rules: the crop's stage, where a day sits on the season's line, harvests
told a week at a time, and the season's totals. No database, no clock."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

SPROUTING_DAYS = 10  # after sowing, the plot reads as "sown" this long, then "growing"


class Stage(StrEnum):
    WAITING = "waiting"  # nothing sown yet this season
    SOWN = "sown"
    GROWING = "growing"
    HARVEST = "harvest"


def stage(*, sown_on: date | None, first_harvest_on: date | None, today: date) -> Stage:
    """Where the crop is today: harvests have begun, or it grows (some days after sowing),
    or it was just sown, or nothing has been sown yet."""
    if first_harvest_on is not None and first_harvest_on <= today:
        return Stage.HARVEST
    if sown_on is None or sown_on > today:
        return Stage.WAITING
    if today - sown_on < timedelta(days=SPROUTING_DAYS):
        return Stage.SOWN
    return Stage.GROWING


def position(day: date, *, starts_on: date, ends_on: date) -> float:
    """Where a day sits on the season's line, 0-100 (%), clamped to the season."""
    length = (ends_on - starts_on).days or 1
    return round(min(max((day - starts_on).days / length, 0.0), 1.0) * 100, 2)


@dataclass(frozen=True)
class Picked:
    """One harvest lot as the story reads it."""

    day: date
    crop_id: int
    amount: int  # grams, or pieces for a crop counted in pieces
    code: str
    shared: bool  # from the whole field, shared among its plots
    source: Any = None  # what the page shows of it (the HarvestLot)


@dataclass
class HarvestWeek:
    """The harvests of one week (from its Monday), newest first in the story."""

    monday: date
    last_day: date
    by_crop: dict[int, int] = field(default_factory=dict)  # crop id -> grams or pieces
    shared_by_crop: dict[int, int] = field(default_factory=dict)  # the whole field's lots
    lots: list[Picked] = field(default_factory=list)


def harvest_weeks(lots: Iterable[Picked]) -> list[HarvestWeek]:
    """Lots told a week at a time (Monday to Sunday), newest week first; within a week the
    crops in the order they were first picked, and the lots newest first."""
    weeks: dict[date, HarvestWeek] = {}
    for lot in sorted(lots, key=lambda p: (p.day, p.code)):
        monday = lot.day - timedelta(days=lot.day.weekday())
        week = weeks.setdefault(monday, HarvestWeek(monday=monday, last_day=lot.day))
        # the plot's own harvest; what the whole field gave is shared among its plots
        totals = week.shared_by_crop if lot.shared else week.by_crop
        totals[lot.crop_id] = totals.get(lot.crop_id, 0) + lot.amount
        week.last_day = max(week.last_day, lot.day)
        week.lots.insert(0, lot)
    return sorted(weeks.values(), key=lambda w: w.monday, reverse=True)


def totals_by_crop(items: Iterable[tuple[int, int]]) -> dict[int, int]:
    """(crop id, grams or pieces) pairs added up by crop, largest first."""
    totals: dict[int, int] = {}
    for crop_id, amount in items:
        totals[crop_id] = totals.get(crop_id, 0) + amount
    return dict(sorted(totals.items(), key=lambda kv: (-kv[1], kv[0])))
