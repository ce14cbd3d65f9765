"""The farm log's lists in the manager's console, a page at a time with their filters: work
entries, harvest lots, households; and the latest entries and lots on the console's first
page. Scoped to the manager's cooperative; a filter naming another cooperative's field or crop
simply matches nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from tortoise.expressions import Q, Subquery

from farm.accounts.models import User
from farm.fieldwork.models import Activity, HarvestLot, Household, WorkEntry, WorkShift
from farm.fieldwork.services import land_held_on
from farm.paging import DaySpan, Page, paginate

ENTRIES_PER_PAGE = 30
LOTS_PER_PAGE = 50
HOUSEHOLDS_PER_PAGE = 50
ENTRY_ORDER = ("-worked_on", "-id")  # latest day first
LOT_ORDER = ("-harvested_on", "-id")


def _entry_rows(query):
    """What a listed work entry shows."""
    return query.prefetch_related(
        "field", "plot_links__plot", "inputs", "shifts__household", "photos"
    )


def _lot_rows(query):
    """What a listed harvest lot shows."""
    return query.prefetch_related("crop", "field", "plot")


async def latest_entries(*, manager: User, limit: int) -> list[WorkEntry]:
    query = WorkEntry.filter(cooperative_id=manager.cooperative_id).order_by(*ENTRY_ORDER)
    return list(await _entry_rows(query.limit(limit)))


async def latest_lots(*, manager: User, limit: int) -> list[HarvestLot]:
    query = HarvestLot.filter(cooperative_id=manager.cooperative_id).order_by(*LOT_ORDER)
    return list(await _lot_rows(query.limit(limit)))


@dataclass(frozen=True)
class WorkFilter:
    field_id: int | None = None
    activity: str = ""
    days: DaySpan = DaySpan()
    household_id: int | None = None  # entries this household worked on


@dataclass(frozen=True)
class HarvestFilter:
    text: str = ""  # a lot code, or the start of a plot code
    crop_id: int | None = None
    field_id: int | None = None
    days: DaySpan = DaySpan()


def _days(query, column: str, days: DaySpan):
    if days.since:
        query = query.filter(**{f"{column}__gte": days.since})
    if days.until_exclusive:
        query = query.filter(**{f"{column}__lt": days.until_exclusive})
    return query


async def work_page(*, manager: User, filters: WorkFilter, page: int) -> Page[WorkEntry]:
    """Work entries, latest day first."""
    query = WorkEntry.filter(cooperative_id=manager.cooperative_id)
    if filters.field_id is not None:
        query = query.filter(field_id=filters.field_id)
    if filters.activity in set(Activity):
        query = query.filter(activity=filters.activity)
    if filters.household_id is not None:
        worked = WorkShift.filter(household_id=filters.household_id).values("entry_id")
        query = query.filter(id__in=Subquery(worked))
    query = _days(query, "worked_on", filters.days)
    return await paginate(
        query,
        page=page,
        size=ENTRIES_PER_PAGE,
        order_by=ENTRY_ORDER,
        fetch=_entry_rows,
    )


async def harvest_page(*, manager: User, filters: HarvestFilter, page: int) -> Page[HarvestLot]:
    """Harvest lots, latest first."""
    query = HarvestLot.filter(cooperative_id=manager.cooperative_id)
    if filters.crop_id is not None:
        query = query.filter(crop_id=filters.crop_id)
    if filters.field_id is not None:
        query = query.filter(field_id=filters.field_id)
    if filters.text:
        query = query.filter(Q(code=filters.text.upper()) | Q(plot__code__istartswith=filters.text))
    query = _days(query, "harvested_on", filters.days)
    return await paginate(
        query,
        page=page,
        size=LOTS_PER_PAGE,
        order_by=LOT_ORDER,
        fetch=_lot_rows,
    )


async def household_page(*, manager: User, text: str, page: int, today: date) -> Page[Household]:
    """Households by village and name, each with the land it holds today; `text` finds a name
    or a village."""
    query = Household.filter(cooperative_id=manager.cooperative_id)
    if text:
        query = query.filter(Q(name__icontains=text) | Q(village__icontains=text))
    return await paginate(
        query,
        page=page,
        size=HOUSEHOLDS_PER_PAGE,
        order_by=("village", "name", "id"),
        fetch=lambda q: q.prefetch_related(land_held_on(today)),
    )
