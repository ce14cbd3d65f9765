"""The manager's shipment console: batches and their boxes, packed and shipped (one by one or
from a tracking CSV, with the customer's email), the transit table, diversions of harvest
made by hand, and the warning for produce harvested too early for the next ship day.

Every read and write is scoped to the manager's cooperative; a box of another batch or
cooperative is 'not found'. Status changes are conditional UPDATEs on the current status, so
two managers clicking at once change a box once and send one email."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.functions import Count, Sum
from tortoise.transactions import in_transaction

from farm.accounts.models import User
from farm.errors import Conflict, DomainError, FieldErrors, NotFound
from farm.fieldwork.models import Crop, HarvestLot
from farm.fieldwork.rules import grams_to_kg, parse_kg
from farm.fieldwork.services import number_message
from farm.i18n import _, current_language
from farm.land.models import Season
from farm.land.rules import plain_number
from farm.notifications.services import queue_mail
from farm.shipments import rules, tracking_csv
from farm.shipments.batches import CHUNK, season_ship_days, transit_table
from farm.shipments.models import (
    Allocation,
    AllocationState,
    Batch,
    DiversionReason,
    Shipment,
    ShipmentStatus,
    TransitTime,
)
from farm.shipments.tracking_csv import LineProblem, TrackingLine
from farm.subscriptions.models import Subscription
from farm.subscriptions.rules import PROVINCES

PAGE_SIZE = 100
BATCHES_PER_PAGE = 50
MANUAL_REASONS = (DiversionReason.DONATED, DiversionReason.SOLD_LOCALLY)
SHIPPABLE = (ShipmentStatus.CREATED, ShipmentStatus.PACKED)


# ---- reading ----


@dataclass
class BatchSummary:
    batch: Batch
    counts: dict[str, int] = field(default_factory=dict)  # status -> shipments
    boxed_g: int = 0  # in boxes of the batch
    shipped_g: int = 0  # in boxes handed to the courier
    diverted: dict[str, int] = field(default_factory=dict)  # reason -> grams


async def own_batch(*, manager: User, batch_id: int) -> Batch:
    found = await Batch.get_or_none(id=batch_id, cooperative_id=manager.cooperative_id)
    if found is None:
        raise NotFound(_("This batch does not exist."))
    return found


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


async def batch_summaries(*, manager: User, page: int = 1) -> tuple[list[BatchSummary], int]:
    """The cooperative's batches, newest ship day first, with their boxes by status and the
    grams boxed, shipped and diverted; and the number of pages."""
    query = Batch.filter(cooperative_id=manager.cooperative_id)
    pages = max(1, -(-(await query.count()) // BATCHES_PER_PAGE))
    page = min(max(page, 1), pages)
    found = (
        await query.order_by("-ship_on")
        .offset((page - 1) * BATCHES_PER_PAGE)
        .limit(BATCHES_PER_PAGE)
    )
    summaries = {b.id: BatchSummary(b) for b in found}
    if not summaries:
        return [], pages
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
    return list(summaries.values()), pages


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


async def batch_page(*, manager: User, batch_id: int, page: int, status: str) -> BatchPage:
    """One page of a batch's boxes (a batch may hold thousands: never all at once), its
    counts by status, and what the ship day diverted, by reason and crop."""
    batch = await own_batch(manager=manager, batch_id=batch_id)
    status = status if status in set(ShipmentStatus) else ""
    counts = (await _status_counts([batch.id])).get(batch.id, {})
    total = counts.get(status, 0) if status else sum(counts.values())
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(page, 1), pages)
    query = Shipment.filter(batch_id=batch.id)
    if status:
        query = query.filter(status=status)
    found = (
        await query.order_by("id")
        .offset((page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE)
        .values(
            "id",
            "recipient",
            "city",
            "status",
            "courier",
            "tracking_no",
            "subscription__plot__code",
        )
    )
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
    return BatchPage(
        batch, list(rows.values()), counts, page, pages, status, await _diversions(manager, batch)
    )


async def _diversions(manager: User, batch: Batch) -> list[Diversion]:
    rows = (
        await Allocation.filter(
            state=AllocationState.DIVERTED,
            ship_on=batch.ship_on,
            lot__cooperative_id=manager.cooperative_id,
        )
        .annotate(g=Sum("grams"))
        .group_by("reason", "lot__crop_id")
        .values_list("reason", "lot__crop_id", "g")
    )
    crops = {c.id: c for c in await Crop.filter(id__in={r[1] for r in rows})}
    return sorted(
        (Diversion(str(reason), crops[crop_id], int(g or 0)) for reason, crop_id, g in rows),
        key=lambda d: (d.reason, d.crop.name),
    )


# ---- packed and shipped ----


def _check_tracking(courier: str, tracking_no: str) -> None:
    errors = {}
    if problem := tracking_csv.courier_problem(courier):
        errors["courier"] = problem_message(LineProblem(0, problem))
    if problem := tracking_csv.tracking_problem(tracking_no):
        errors["tracking_no"] = problem_message(LineProblem(0, problem))
    if errors:
        raise FieldErrors(errors)


async def _refuse(batch: Batch, shipment_id: int, conn: BaseDBAsyncClient) -> Shipment:
    """Why a conditional update changed nothing: not found (404), an empty box (409), or the
    box as it is now."""
    found = await Shipment.get_or_none(id=shipment_id, batch_id=batch.id).using_db(conn)
    if found is None:
        raise NotFound(_("This shipment is not in this batch."))
    if found.status == ShipmentStatus.EMPTY:
        raise Conflict(_("This box is empty: there is nothing to pack or ship."))
    return found


async def mark_packed(*, manager: User, batch_id: int, shipment_id: int, now: datetime) -> None:
    """A box to be packed is packed; clicking again changes nothing."""
    batch = await own_batch(manager=manager, batch_id=batch_id)
    async with in_transaction() as conn:
        changed = await (
            Shipment.filter(id=shipment_id, batch_id=batch.id, status=ShipmentStatus.CREATED)
            .using_db(conn)
            .update(status=ShipmentStatus.PACKED, packed_at=now)
        )
        if not changed:
            found = await _refuse(batch, shipment_id, conn)
            if found.status == ShipmentStatus.SHIPPED:
                raise Conflict(_("This box has already been shipped."))


async def mark_all_packed(*, manager: User, batch_id: int, now: datetime) -> int:
    """Every box of the batch still to be packed is packed; returns how many."""
    batch = await own_batch(manager=manager, batch_id=batch_id)
    return await Shipment.filter(batch_id=batch.id, status=ShipmentStatus.CREATED).update(
        status=ShipmentStatus.PACKED, packed_at=now
    )


async def mark_shipped(
    *,
    manager: User,
    batch_id: int,
    shipment_id: int,
    courier: str,
    tracking_no: str,
    base_url: str,
    now: datetime,
) -> bool:
    """A box handed to the courier (packed or not): its courier and tracking number, and
    its email to the customer in the same transaction. On a box already shipped, only the
    courier and tracking number are corrected (no second email). True when it was shipped
    now."""
    batch = await own_batch(manager=manager, batch_id=batch_id)
    _check_tracking(courier, tracking_no)
    line = TrackingLine(0, shipment_id, courier.strip(), tracking_no.strip())
    async with in_transaction() as conn:
        if await _ship(conn, batch, [line], base_url=base_url, now=now):
            return True
        await _refuse(batch, shipment_id, conn)
        await (
            Shipment.filter(id=shipment_id, batch_id=batch.id, status=ShipmentStatus.SHIPPED)
            .using_db(conn)
            .update(courier=line.courier, tracking_no=line.tracking_no)
        )
        return False


async def _ship(
    conn: BaseDBAsyncClient,
    batch: Batch,
    lines: list[TrackingLine],
    *,
    base_url: str,
    now: datetime,
) -> int:
    """Ship each line's box if it is still to be shipped (a conditional update each), and
    queue its email; returns how many were shipped now."""
    shipped: list[TrackingLine] = []
    for line in lines:
        changed = await (
            Shipment.filter(id=line.shipment_id, batch_id=batch.id, status__in=SHIPPABLE)
            .using_db(conn)
            .update(
                status=ShipmentStatus.SHIPPED,
                shipped_at=now,
                courier=line.courier,
                tracking_no=line.tracking_no,
            )
        )
        if changed:
            shipped.append(line)
    for start in range(0, len(shipped), CHUNK):
        await _mail_shipped(conn, batch, shipped[start : start + CHUNK], base_url, now)
    return len(shipped)


async def _mail_shipped(
    conn: BaseDBAsyncClient,
    batch: Batch,
    lines: list[TrackingLine],
    base_url: str,
    now: datetime,
) -> None:
    ids = [line.shipment_id for line in lines]
    sub_of = dict(
        await Shipment.filter(id__in=ids).using_db(conn).values_list("id", "subscription_id")
    )
    customer_of = dict(
        await Subscription.filter(id__in=set(sub_of.values()))
        .using_db(conn)
        .values_list("id", "customer_id")
    )
    users = {u.id: u for u in await User.filter(id__in=set(customer_of.values())).using_db(conn)}
    items: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    crop_ids: set[int] = set()
    for shipment_id, crop_id, grams in (
        await Allocation.filter(shipment_id__in=ids)
        .using_db(conn)
        .values_list("shipment_id", "lot__crop_id", "grams")
    ):
        items[shipment_id][crop_id] += grams
        crop_ids.add(crop_id)
    crops = {c.id: c for c in await Crop.filter(id__in=crop_ids).using_db(conn)}
    for line in lines:
        sub_id = sub_of[line.shipment_id]
        contents = [(crops[c], g) for c, g in items[line.shipment_id].items()]
        await queue_mail(
            user=users[customer_of[sub_id]],
            key=f"shipped:{line.shipment_id}",
            render=_shipped_mail(batch.ship_on, line, contents, sub_id, base_url),
            now=now,
            conn=conn,
        )


def _shipped_mail(ship_on: date, line: TrackingLine, contents: list, sub_id: int, base_url: str):
    def render() -> tuple[str, str]:
        english = current_language() == "en"
        listed = "\n".join(
            f"- {(crop.name_en or crop.name) if english else crop.name}: "
            + _("%(kg)s kg") % {"kg": plain_number(grams_to_kg(grams))}
            for crop, grams in contents
        )
        subject = _("Your box of %(day)s is on its way") % {"day": ship_on.isoformat()}
        body = _(
            "Your box of the ship day %(day)s has been handed to the courier.\n\n"
            "Courier: %(courier)s\nTracking number: %(tracking)s\n\nIn the box:\n%(items)s\n\n"
            "Your deliveries: %(link)s\n"
        ) % {
            "day": ship_on.isoformat(),
            "courier": line.courier,
            "tracking": line.tracking_no,
            "items": listed,
            "link": f"{base_url}/account/subscriptions/{sub_id}/deliveries",
        }
        return subject, body

    return render


class TrackingFileErrors(DomainError):
    """A tracking file with bad lines: nothing was applied."""

    status_code = 422

    def __init__(self, problems: list[LineProblem]):
        super().__init__(_("Nothing was saved: the file has mistakes."))
        self.problems = problems


async def apply_tracking_csv(
    *, manager: User, batch_id: int, data: bytes, base_url: str, now: datetime
) -> int:
    """Ship every box listed in an uploaded CSV of this batch, all or nothing, each with its
    email; boxes already shipped get their courier and tracking number corrected. Raises
    TrackingFileErrors listing every bad line. Returns how many boxes were shipped now."""
    batch = await own_batch(manager=manager, batch_id=batch_id)
    lines, problems = tracking_csv.parse(data)
    async with in_transaction() as conn:
        status_of: dict[int, str] = {}
        ids = [line.shipment_id for line in lines]
        for start in range(0, len(ids), CHUNK):
            status_of.update(
                await Shipment.filter(id__in=ids[start : start + CHUNK], batch_id=batch.id)
                .select_for_update()
                .using_db(conn)
                .values_list("id", "status")
            )
        for line in lines:
            status = status_of.get(line.shipment_id)
            if status is None or status == ShipmentStatus.EMPTY:
                problem = "unknown" if status is None else "empty_box"
                number = rules.shipment_number(line.shipment_id)
                problems.append(LineProblem(line.line, problem, number))
        if problems:
            raise TrackingFileErrors(sorted(problems, key=lambda p: p.line))
        shipped = await _ship(conn, batch, lines, base_url=base_url, now=now)
        for line in lines:
            if status_of[line.shipment_id] == ShipmentStatus.SHIPPED:
                await (
                    Shipment.filter(id=line.shipment_id, batch_id=batch.id)
                    .using_db(conn)
                    .update(courier=line.courier, tracking_no=line.tracking_no)
                )
        return shipped


def problem_message(p: LineProblem) -> str:
    """A tracking problem in the user's language."""
    return {
        "too_large": _("The file is too large: at most 1 MB."),
        "too_many_rows": _("The file has too many lines: at most 20,000."),
        "encoding": _("The file is not a CSV file in UTF-8 or GBK."),
        "no_lines": _("The file has no lines."),
        "columns": _("Expected three columns: shipment number, courier, tracking number."),
        "number": _("“%(value)s” is not a shipment number."),
        "courier_required": _("Enter the courier."),
        "courier_too_long": _("The courier is too long: at most 40 characters."),
        "courier_invalid": _("The courier contains characters that are not allowed."),
        "tracking_invalid": _("A tracking number is 6 to 30 letters, digits or hyphens (-)."),
        "duplicate": _("Shipment %(value)s is also on line %(other)s."),
        "unknown": _("Shipment %(value)s is not in this batch."),
        "empty_box": _("Shipment %(value)s is an empty box: there is nothing to ship."),
    }[p.problem] % {"value": p.value, "other": p.other_line}


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
    errors: dict[str, str] = {}
    values: dict[str, int] = {}
    for province in PROVINCES:
        text = days.get(province, "").strip()
        if not (text.isascii() and text.isdigit()) or int(text) > rules.MAX_TRANSIT_DAYS:
            errors[province] = _("Enter a whole number of days from 0 to %(max)s.") % {
                "max": rules.MAX_TRANSIT_DAYS
            }
        else:
            values[province] = int(text)
    if errors:
        raise FieldErrors(errors)
    try:
        await _write_transit(manager.cooperative_id, values)
    except IntegrityError:  # another manager saved the first table at the same moment
        raise Conflict(
            _("The table was saved by someone else just now. Please try again.")
        ) from None


async def _write_transit(coop_id: int, values: dict[str, int]) -> None:
    async with in_transaction() as conn:
        saved = dict(
            await TransitTime.filter(cooperative_id=coop_id)
            .select_for_update()
            .using_db(conn)
            .values_list("province", "days")
        )
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


# ---- harvest diverted by hand, and harvest too early ----


async def divert_lot(
    *, manager: User, lot_id: int, kg: str, reason: str, note: str, now: datetime
) -> Allocation:
    """Record grams of a lot as donated or sold locally. Never more than the lot still has
    open: the lot row is locked, and its settled grams grow in the same transaction."""
    errors: dict[str, str] = {}
    grams, problem = parse_kg(kg)
    if problem:
        errors["kg"] = number_message(problem)
    if reason not in set(MANUAL_REASONS):
        errors["reason"] = _("Choose donated or sold locally.")
    if len(note.strip()) > 200:
        errors["note"] = _("This is too long.")
    async with in_transaction() as conn:
        lot = (
            await HarvestLot.filter(id=lot_id, cooperative_id=manager.cooperative_id)
            .select_for_update()
            .using_db(conn)
            .first()
        )
        if lot is None:
            raise NotFound(_("This harvest lot does not exist."))
        open_g = lot.weight_g - lot.settled_g
        if grams is not None and grams > open_g:
            errors["kg"] = _("Only %(kg)s kg of this lot is still open.") % {
                "kg": plain_number(grams_to_kg(open_g))
            }
        if errors:
            raise FieldErrors(errors)
        assert grams is not None
        await HarvestLot.filter(id=lot.id).using_db(conn).update(settled_g=lot.settled_g + grams)
        return await Allocation.create(
            lot_id=lot.id,
            grams=grams,
            state=AllocationState.DIVERTED,
            reason=DiversionReason(reason),
            decided_by_id=manager.id,
            note=note.strip(),
            ship_on=None,
            decided_at=now,
            using_db=conn,
        )


@dataclass
class EarlyHarvest:
    lot: HarvestLot
    ship_on: date  # the next ship day, which it would not survive


async def early_harvest(*, manager: User, code: str) -> EarlyHarvest | None:
    """For a lot just logged: when it would spoil before reaching even the nearest customer
    on the next ship day of the seasons planned on its field (any crop; leafy greens are
    the usual case), that ship day. None when it keeps, or no ship day is coming."""
    lot = (
        await HarvestLot.filter(code=code.strip().upper(), cooperative_id=manager.cooperative_id)
        .prefetch_related("crop")
        .first()
    )
    if lot is None:
        return None
    seasons = await Season.filter(
        cooperative_id=manager.cooperative_id, plans__field_id=lot.field_id
    ).distinct()
    days = sorted({d for s in seasons for d in season_ship_days(s)})
    table = await transit_table(manager.cooperative_id)
    ship_on = rules.early_harvest_warning(
        harvested_on=lot.harvested_on,
        shelf_life_days=lot.crop.shelf_life_days,
        ship_days=days,
        transit_days=min(table.values(), default=rules.DEFAULT_TRANSIT_DAYS),
    )
    return EarlyHarvest(lot, ship_on) if ship_on else None
