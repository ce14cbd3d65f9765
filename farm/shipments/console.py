"""The manager's shipment console, the read side: the cooperative's batches with their boxes
by status and grams boxed, shipped and diverted; one page of a batch's boxes; the coming ship
days; grams diverted by hand; and the transit table (shown and saved).

Everything is scoped to the manager's cooperative; a batch of another cooperative is 'not
found'. Packing and shipping boxes are in `dispatch`, diverting harvest by hand and the
early-harvest warning in `diversions`."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q, Subquery
from tortoise.functions import Count, Sum
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from farm import forms
from farm.accounts.models import User
from farm.errors import Conflict
from farm.fieldwork.models import Crop
from farm.i18n import _
from farm.land.models import Plot, Season
from farm.paging import DaySpan, Page, ids_then, paginate
from farm.shipments import rules
from farm.shipments.batches import season_ship_days, transit_table
from farm.shipments.models import (
    Allocation,
    AllocationState,
    Batch,
    Shipment,
    ShipmentStatus,
    TransitTime,
)
from farm.sql import one_or_not_found
from farm.subscriptions.models import Subscription
from farm.subscriptions.rules import PROVINCES

PAGE_SIZE = 100
BOX_COLUMNS = ("recipient", "city", "status", "courier", "tracking_no", "subscription__plot__code")
BATCHES_PER_PAGE = 50

# ---- batches and their boxes ----


@dataclass
class BatchSummary:
    batch: Batch
    counts: dict[str, int] = field(default_factory=dict)  # status -> shipments
    boxed_g: int = 0  # in boxes of the batch
    shipped_g: int = 0  # in boxes handed to the courier
    diverted: dict[str, int] = field(default_factory=dict)  # reason -> grams


async def own_batch(*, manager: User, batch_id: int) -> Batch:
    return await one_or_not_found(
        Batch.filter(id=batch_id, cooperative_id=manager.cooperative_id),
        _("This batch does not exist."),
    )


async def _status_counts(batch_ids: list[int]) -> dict[int, dict[str, int]]:
    rows = (
        await Shipment.filter(batch_id__in=batch_ids)
        .annotate(n=Count("id"))
        .group_by("batch_id", "status")
        .values_list("batch_id", "status", "n")
    )
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    for batch_id, status, n in rows:
        counts[batch_id][str(status)] = int(n)
    return counts


async def batch_summaries(
    *, manager: User, page: int = 1, days: DaySpan | None = None
) -> Page[BatchSummary]:
    """A page of the cooperative's batches (of ship days within `days`), newest ship day
    first, with their boxes by status and the grams boxed, shipped and diverted."""
    query = Batch.filter(cooperative_id=manager.cooperative_id)
    if days and days.since:
        query = query.filter(ship_on__gte=days.since)
    if days and days.until_exclusive:
        query = query.filter(ship_on__lt=days.until_exclusive)
    listed = await paginate(query, page=page, size=BATCHES_PER_PAGE, order_by=("-ship_on", "-id"))
    found = listed.items
    summaries = {b.id: BatchSummary(b) for b in found}

    def result() -> Page[BatchSummary]:
        return Page(list(summaries.values()), listed.number, listed.size, listed.total)

    if not summaries:
        return result()
    for batch_id, counts in (await _status_counts(list(summaries))).items():
        summaries[batch_id].counts = counts
    boxed = (
        await Allocation.filter(shipment__batch_id__in=list(summaries))
        .annotate(g=Sum("grams"))
        .group_by("shipment__batch_id", "shipment__status")
        .values_list("shipment__batch_id", "shipment__status", "g")
    )
    for batch_id, status, grams in boxed:
        summaries[batch_id].boxed_g += int(grams or 0)
        if status == ShipmentStatus.SHIPPED:
            summaries[batch_id].shipped_g += int(grams or 0)
    by_day = {b.ship_on: b.id for b in found}
    diverted = (
        await Allocation.filter(
            state=AllocationState.DIVERTED,
            ship_on__in=list(by_day),
            lot__cooperative_id=manager.cooperative_id,
        )
        .annotate(g=Sum("grams"))
        .group_by("ship_on", "reason")
        .values_list("ship_on", "reason", "g")
    )
    for ship_on, reason, grams in diverted:
        summaries[by_day[ship_on]].diverted[str(reason)] = int(grams or 0)
    return result()


async def manual_diversions(*, manager: User) -> dict[str, int]:
    """Grams diverted outside ship days (donated, sold locally), by reason."""
    rows = (
        await Allocation.filter(
            state=AllocationState.DIVERTED,
            ship_on__isnull=True,
            lot__cooperative_id=manager.cooperative_id,
        )
        .annotate(g=Sum("grams"))
        .group_by("reason")
        .values_list("reason", "g")
    )
    return {str(reason): int(grams or 0) for reason, grams in rows}


async def coming_ship_days(*, manager: User, today: date, count: int = 4) -> list[date]:
    """The next ship days of the cooperative's seasons, from today on."""
    days: set[date] = set()
    for season in await Season.filter(cooperative_id=manager.cooperative_id, ends_on__gt=today):
        days.update(d for d in season_ship_days(season) if d >= today)
    return sorted(days)[:count]


@dataclass
class ShipmentRow:
    id: int
    number: str
    plot_code: str
    recipient: str
    city: str
    status: str
    courier: str
    tracking_no: str
    items: int = 0
    grams: int = 0


@dataclass
class Diversion:
    reason: str
    crop: Crop
    grams: int


@dataclass
class BatchPage:
    batch: Batch
    rows: list[ShipmentRow]
    counts: dict[str, int]
    page: int
    pages: int
    status: str  # the filter, "" for all
    diversions: list[Diversion]
    text: str = ""  # the search: a box number, a recipient, a plot code or tracking number
    listed: Page[ShipmentRow] | None = None


def _box_search(text: str) -> Q:
    """A box by its number (S000123), its tracking number, the start of its plot's code, or
    a part of its recipient's name: read from the text's shape, so each search reads few
    columns."""
    number = rules.parse_shipment_number(text)
    found = Q(recipient__icontains=text)
    if text.isascii() and text.isalnum():
        plots = Plot.filter(code__istartswith=text).values("id")
        found |= Q(tracking_no=text) | Q(
            subscription_id__in=Subquery(
                Subscription.filter(plot_id__in=Subquery(plots)).values("id")
            )
        )
    return found | Q(id=number) if number is not None else found


async def batch_page(
    *, manager: User, batch_id: int, page: int, status: str, text: str = ""
) -> BatchPage:
    """One page of a batch's boxes (a batch may hold thousands: never all at once), in
    `status` and matching `text` if given, its counts by status, and what the ship day
    diverted, by reason and crop."""
    batch = await own_batch(manager=manager, batch_id=batch_id)
    status = status if status in set(ShipmentStatus) else ""
    counts = (await _status_counts([batch.id])).get(batch.id, {})
    query = Shipment.filter(batch_id=batch.id)
    if status:
        query = query.filter(status=status)
    if text:
        query = query.filter(_box_search(text))
    listed = await paginate(
        query,
        page=page,
        size=PAGE_SIZE,
        order_by=("id",),
        fetch=ids_then(Shipment, BOX_COLUMNS),
        total=None if text else (counts.get(status, 0) if status else sum(counts.values())),
    )
    found = listed.items
    rows = {
        r["id"]: ShipmentRow(
            id=r["id"],
            number=rules.shipment_number(r["id"]),
            plot_code=r["subscription__plot__code"],
            recipient=r["recipient"],
            city=r["city"],
            status=str(r["status"]),
            courier=r["courier"],
            tracking_no=r["tracking_no"],
        )
        for r in found
    }
    if rows:
        items = (
            await Allocation.filter(shipment_id__in=list(rows))
            .annotate(n=Count("id"), g=Sum("grams"))
            .group_by("shipment_id")
            .values_list("shipment_id", "n", "g")
        )
        for shipment_id, n, grams in items:
            rows[shipment_id].items, rows[shipment_id].grams = int(n), int(grams or 0)
    shown = list(rows.values())
    return BatchPage(
        batch, shown, counts, listed.number, listed.pages, status,
        await _diversions(manager, batch), text,
        Page(shown, listed.number, listed.size, listed.total),
    )  # fmt: skip


def diverted_on(batch: Batch) -> QuerySet[Allocation]:
    """What a ship day diverted, its grams summed as `g` in the groups the caller makes."""
    return Allocation.filter(
        state=AllocationState.DIVERTED,
        ship_on=batch.ship_on,
        lot__cooperative_id=batch.cooperative_id,
    ).annotate(g=Sum("grams"))


async def diverted_grams(batch: Batch) -> list[tuple[str, int, int]]:
    """What a ship day diverted, summed per reason and crop: (reason, crop id, grams)."""
    rows = (
        await diverted_on(batch)
        .group_by("reason", "lot__crop_id")
        .values_list("reason", "lot__crop_id", "g")
    )
    return [(str(reason), crop_id, int(g or 0)) for reason, crop_id, g in rows]


async def _diversions(manager: User, batch: Batch) -> list[Diversion]:
    rows = await diverted_grams(batch)
    crops = {c.id: c for c in await Crop.filter(id__in={r[1] for r in rows})}
    return sorted(
        (Diversion(reason, crops[crop_id], g) for reason, crop_id, g in rows),
        key=lambda d: (d.reason, d.crop.name),
    )


# ---- the transit table ----


@dataclass
class TransitRow:
    province: str
    name_en: str
    days: str  # as typed, or as saved


async def transit_rows(*, manager: User, typed: dict[str, str] | None = None) -> list[TransitRow]:
    """Every province with its transit days: what was typed, else the cooperative's table."""
    table = await transit_table(manager.cooperative_id)
    return [
        TransitRow(p, en, (typed or {}).get(p, str(table.get(p, rules.DEFAULT_TRANSIT_DAYS))))
        for p, en in PROVINCES.items()
    ]


async def save_transit_table(*, manager: User, days: dict[str, str]) -> None:
    """Save the days (0 to 15) of every province for the cooperative; on any bad value,
    FieldErrors keyed by province and nothing saved."""
    form = forms.Form()
    message = _("Enter a whole number of days from %(low)d to %(high)d.")
    values: dict[str, int] = {}
    for province in PROVINCES:
        found = form.read(
            province, forms.whole, days.get(province, ""), low=0, high=rules.MAX_TRANSIT_DAYS,
            message=message,
        )  # fmt: skip
        if found is not None:
            values[province] = found
    form.check()
    try:
        await _write_transit(manager.cooperative_id, values)
    except IntegrityError:  # another manager saved the first table at the same moment
        raise Conflict(
            _("The table was saved by someone else just now. Please try again.")
        ) from None


async def _write_transit(coop_id: int, values: dict[str, int]) -> None:
    async with in_transaction() as conn:
        rows = await TransitTime.filter(cooperative_id=coop_id).select_for_update().using_db(conn)
        saved = {row.province: row.days for row in rows}
        for province, value in values.items():
            if province not in saved:
                await TransitTime.create(
                    cooperative_id=coop_id, province=province, days=value, using_db=conn
                )
            elif saved[province] != value:
                await (
                    TransitTime.filter(cooperative_id=coop_id, province=province)
                    .using_db(conn)
                    .update(days=value)
                )
