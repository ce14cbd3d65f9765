"""Making a ship day's batch: one shipment per active subscription, and a place for every
gram harvested since the last ship day.

The unit of work is one field on one ship day, in one transaction: its field-run row, its
shipments and the allocations of its lots commit together or not at all. So a scheduler
killed at any moment leaves whole fields done and the rest untouched, a rerun skips what is
done (the unique field-run row), and only a field's shipments (two fields' on PostgreSQL,
which runs two at once) are ever held in memory.
On PostgreSQL an advisory lock per field and ship day lets several schedulers share the
work instead of queueing on the same field. Every run of a field, whatever its day, first
shares the field's own lock, which a correction of one of its lots takes alone
(shipments/corrections.py): a run and a correction never interleave. Both then lock the
field's open lots in id order, so they never deadlock on them either.

A field's run is three steps: `load_field` reads (and locks) what it decides from into a
snapshot, `planning.plan_field` decides every gram without the database, and `write_plan`
stores the plan."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from types import MappingProxyType

from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from farm.fieldwork.models import Crop, HarvestLot
from farm.land.models import Cooperative, Plan, Season
from farm.land.services import season_ship_days
from farm.shipments import rules
from farm.shipments.models import (
    Allocation,
    AllocationState,
    Batch,
    FieldRun,
    ShipDayHold,
    Shipment,
    ShipmentStatus,
    TransitTime,
)
from farm.shipments.planning import (
    Box,
    CarriedItem,
    FieldPlan,
    FieldSnapshot,
    OpenLot,
    Subscriber,
    plan_field,
)
from farm.sql import insert_columns, is_postgres, portable, try_advisory_lock
from farm.subscriptions.models import ADDRESS_FIELDS, Status, Subscription

FIELDS_AT_ONCE = 2  # fields run side by side on PostgreSQL (see make_batch)
CHUNK = 500  # ids per UPDATE ... WHERE id IN (...)


async def transit_table(cooperative_id: int, *, conn: BaseDBAsyncClient | None = None) -> dict:
    """Transit days per province: the cooperative's own rows over the default table."""
    coop = await Cooperative.get(id=cooperative_id).using_db(conn)
    table = rules.default_transit_days(coop.province)
    rows = await TransitTime.filter(cooperative_id=cooperative_id).using_db(conn)
    table.update({row.province: row.days for row in rows})
    return table


@dataclass
class DueBatch:
    cooperative_id: int
    ship_on: date
    # field id -> the seasons shipping that day with a plan on the field
    fields: dict[int, list[Season]] = field(default_factory=dict)


async def due_batches(*, today: date) -> list[DueBatch]:
    """Every (cooperative, ship day) up to today whose batch is not complete, oldest first:
    the ship days missed while the scheduler was down are found here."""
    seasons = await Season.filter(starts_on__lte=today)
    if not seasons:
        return []
    plan_fields: dict[int, set[int]] = defaultdict(set)
    for season_id, field_id in await Plan.filter(season_id__in=[s.id for s in seasons]).values_list(
        "season_id", "field_id"
    ):
        plan_fields[season_id].add(field_id)
    done = set(
        await Batch.filter(completed_at__isnull=False).values_list("cooperative_id", "ship_on")
    )
    due: dict[tuple[int, date], DueBatch] = {}
    for season in seasons:
        for day in season_ship_days(season):
            key = (season.cooperative_id, day)
            if day > today or key in done or not plan_fields[season.id]:
                continue
            batch = due.setdefault(key, DueBatch(season.cooperative_id, day))
            for field_id in plan_fields[season.id]:
                batch.fields.setdefault(field_id, []).append(season)
    return [due[key] for key in sorted(due, key=lambda k: (k[1], k[0]))]


async def _batch_row(*, cooperative_id: int, ship_on: date, now: datetime) -> Batch:
    found = await Batch.get_or_none(cooperative_id=cooperative_id, ship_on=ship_on)
    if found:
        return found
    try:
        return await Batch.create(cooperative_id=cooperative_id, ship_on=ship_on, created_at=now)
    except IntegrityError:  # another scheduler made it a moment ago
        return await Batch.get(cooperative_id=cooperative_id, ship_on=ship_on)


@dataclass
class BatchResult:
    ship_on: date
    cooperative_id: int
    shipments: int = 0
    fields_run: int = 0
    fields_busy: int = 0
    completed: bool = False


async def make_batch(due: DueBatch, *, today: date, now: datetime) -> BatchResult:
    """Run every field of one due batch that is not yet done; mark the batch complete when
    all are. Safe to call twice, or from several processes at once."""
    batch = await _batch_row(cooperative_id=due.cooperative_id, ship_on=due.ship_on, now=now)
    result = BatchResult(due.ship_on, due.cooperative_id)
    transit = await transit_table(due.cooperative_id)
    waiting = sorted(due.fields)

    async def run_fields() -> None:
        while waiting:
            field_id = waiting.pop(0)
            made = await run_field(
                batch=batch,
                field_id=field_id,
                seasons=due.fields[field_id],
                transit=transit,
                today=today,
                now=now,
            )
            if made is None:
                result.fields_busy += 1
            else:
                result.fields_run += 1
                result.shipments += made

    # On PostgreSQL two fields at once (each its own transaction, on rows no other field's
    # run touches): the server writes one while this process loads and plans the other.
    at_once = FIELDS_AT_ONCE if is_postgres(connections.get("default")) else 1
    await asyncio.gather(*(run_fields() for _ in range(at_once)))
    if await FieldRun.filter(batch_id=batch.id).count() >= len(due.fields):
        await Batch.filter(id=batch.id, completed_at__isnull=True).update(completed_at=now)
        result.completed = True
    return result


async def make_due_batches(*, today: date, now: datetime) -> list[BatchResult]:
    """The scheduler's ship-day job: every batch due up to today, missed ones included."""
    return [await make_batch(due, today=today, now=now) for due in await due_batches(today=today)]


async def run_field(
    *,
    batch: Batch,
    field_id: int,
    seasons: list[Season],
    transit: dict[str, int],
    today: date,
    now: datetime,
) -> int | None:
    """One field's part of a batch. Returns the shipments made (0 when it was already
    done), or None when another scheduler is running it right now."""
    ship_on = batch.ship_on
    try:
        async with in_transaction() as conn:
            if not await lock_field(conn, field_id):
                return None  # a lot of the field is being corrected
            if not await try_advisory_lock(conn, "ship", ship_on, field_id):
                return None
            if await FieldRun.filter(field_id=field_id, ship_on=ship_on).using_db(conn).exists():
                return 0
            run = await FieldRun.create(
                batch_id=batch.id, field_id=field_id, ship_on=ship_on, done_at=now, using_db=conn
            )
            snapshot, addresses = await load_field(
                conn, field_id=field_id, seasons=seasons, ship_on=ship_on, transit=transit,
                today=today,
            )  # fmt: skip
            plan = plan_field(snapshot)
            await write_plan(conn, batch=batch, plan=plan, addresses=addresses, now=now)
            made = len(plan.boxes)
            await FieldRun.filter(id=run.id).using_db(conn).update(shipments=made)
            return made
    except IntegrityError:  # a concurrent run of the same field won
        return 0


FIELD_LOCK_DAY = date.min  # the field's own lock is for no day in particular


async def lock_field(conn: BaseDBAsyncClient, field_id: int, *, alone: bool = False) -> bool:
    """The field's own lock, taken first: shared by the runs of its ship days, or taken
    `alone` by a correction of one of its lots. Never waits: False when it is held the
    other way (the caller says the field is busy)."""
    return await try_advisory_lock(conn, "field", FIELD_LOCK_DAY, field_id, shared=not alone)


async def lock_open_lots(
    conn: BaseDBAsyncClient, *, field_id: int, before: date = date.max
) -> list[tuple]:
    """The field's open lots harvested before `before`, locked in id order (a run's and a
    correction's order, so neither waits for the other in a cycle) until the transaction
    ends: (id, plot id, harvested on, open grams, crop id). Plain rows: a field has thousands
    of lots, and model instances cost more than the planning. SQLite has one writer at a
    time: no FOR UPDATE."""
    pg = is_postgres(conn)
    sql = _OPEN_LOTS_SQL + (" FOR UPDATE" if pg else "")
    day = before if pg else before.isoformat()
    _n, locked = await conn.execute_query(portable(conn, sql), [field_id, day])
    return list(locked)


async def load_field(
    conn: BaseDBAsyncClient,
    *,
    field_id: int,
    seasons: list[Season],
    ship_on: date,
    transit: dict[str, int],
    today: date,
) -> tuple[FieldSnapshot, dict[int, tuple]]:
    """What one field's run decides from, and the addresses of its subscribers (by
    subscription id, in ADDRESS_FIELDS order). Its open lots are locked until the
    transaction ends."""
    subscribers, addresses = await _eligible(
        conn, field_id=field_id, seasons=seasons, ship_on=ship_on
    )
    # Subscribers of another season on this field, shipping on other days: their plots'
    # harvest waits for their own ship day.
    others = frozenset(
        await Subscription.filter(plot__field_id=field_id, status=Status.ACTIVE)
        .exclude(season_id__in=[s.id for s in seasons])
        .using_db(conn)
        .values_list("plot_id", flat=True)
    )
    # Every open lot harvested before the ship day, its row locked so a manager's diversion
    # or a season's closing waits.
    locked = await lock_open_lots(conn, field_id=field_id, before=ship_on)
    shelf = dict(
        await Crop.filter(id__in={row[4] for row in locked})
        .using_db(conn)
        .values_list("id", "shelf_life_days")
    )
    lots = tuple(
        OpenLot(
            id=lot_id,
            plot_id=plot_id,
            harvested_on=_as_date(harvested_on),
            open_g=open_g,
            shelf_life_days=shelf[crop_id],
        )
        for lot_id, plot_id, harvested_on, open_g, crop_id in locked
    )
    # Items kept for this field's subscribers. Only a run of this field changes them (the
    # field run row and advisory lock serialize those), and a season closes after its last.
    sub_ids = [s.id for s in subscribers]
    carried = (
        await Allocation.filter(
            state=AllocationState.CARRIED, subscription_id__in=sub_ids, lot__field_id=field_id
        )
        .using_db(conn)
        .order_by("id")
        .values_list("id", "subscription_id", "lot__harvested_on", "lot__crop__shelf_life_days")
        if sub_ids
        else []
    )
    snapshot = FieldSnapshot(
        ship_on=ship_on,
        today=today,
        subscribers=tuple(subscribers),
        other_plots=others,
        lots=lots,
        carried=tuple(CarriedItem(*row) for row in carried),
        transit=MappingProxyType(dict(transit)),
    )
    return snapshot, addresses


_OPEN_LOTS_SQL = (
    "SELECT id, plot_id, harvested_on, weight_g - settled_g, crop_id FROM harvest_lots"
    " WHERE field_id = $1 AND harvested_on < $2 AND settled_g < weight_g ORDER BY id"
)


def _as_date(value: date | str) -> date:
    """A date column as read raw: a date from PostgreSQL, ISO text from SQLite."""
    return value if isinstance(value, date) else date.fromisoformat(value)


async def _eligible(
    conn: BaseDBAsyncClient, *, field_id: int, seasons: list[Season], ship_on: date
) -> tuple[list[Subscriber], dict[int, tuple]]:
    """The field's subscriptions that get a box (or a hold) on this ship day: active, or
    completed since (a catch-up after the season ended), and activated by that day."""
    day_end = datetime.combine(ship_on + timedelta(days=1), time(), tzinfo=UTC)
    next_by_season = {s.id: rules.next_ship_day(season_ship_days(s), ship_on) for s in seasons}
    starts_by_season = {s.id: s.starts_on for s in seasons}
    rows = (
        await Subscription.filter(
            season_id__in=list(next_by_season),
            plot__field_id=field_id,
            status__in=[Status.ACTIVE, Status.COMPLETED],
            activated_at__lt=day_end,
        )
        .using_db(conn)
        .order_by("id")
        .values_list("id", "plot_id", "season_id", "plot__area_m2", *ADDRESS_FIELDS)
    )
    held = set(  # from the field's plots, on the unique (subscription, ship_on) index
        await ShipDayHold.filter(ship_on=ship_on, subscription__plot__field_id=field_id)
        .using_db(conn)
        .values_list("subscription_id", flat=True)
    )
    subscribers = [
        Subscriber(
            id=sub_id,
            plot_id=plot_id,
            area=Decimal(area),
            province=address[2],
            # No address (a gift waiting for its recipient): no box, what it would hold is
            # kept as for a hold.
            on_hold=sub_id in held or not (address[0] and address[4]),
            next_ship_on=next_by_season[season_id],
            starts_on=starts_by_season[season_id],
        )
        for sub_id, plot_id, season_id, area, *address in rows
    ]
    return subscribers, {row[0]: tuple(row[4:]) for row in rows}


async def write_plan(
    conn: BaseDBAsyncClient,
    *,
    batch: Batch,
    plan: FieldPlan,
    addresses: dict[int, tuple],
    now: datetime,
) -> None:
    """Store one field's plan: its shipments, addressed as the subscriptions are now, the
    new allocations, the carried items decided again, and its lots settled."""
    ship_on = batch.ship_on
    box_of = await _create_shipments(
        conn, batch=batch, boxes=plan.boxes, addresses=addresses, now=now
    )

    def shipment_of(sub_id: int | None, outcome: rules.Outcome) -> int | None:
        if sub_id is None or outcome.state != AllocationState.SHIPPED:
            return None
        return box_of[sub_id]

    shares = plan.shares
    await insert_columns(
        conn,
        Allocation,
        same={"ship_on": ship_on, "decided_by_id": None, "note": "", "decided_at": now},
        columns={
            "lot_id": [share.lot_id for share in shares],
            "grams": [share.grams for share in shares],
            "state": [share.outcome.state for share in shares],
            "reason": [share.outcome.reason for share in shares],
            "subscription_id": [share.subscription_id for share in shares],
            "shipment_id": [shipment_of(s.subscription_id, s.outcome) for s in shares],
        },
    )
    for item in plan.released:
        await (
            Allocation.filter(id=item.allocation_id)
            .using_db(conn)
            .update(
                state=item.outcome.state,
                reason=item.outcome.reason,
                shipment_id=shipment_of(item.subscription_id, item.outcome),
                ship_on=ship_on,
                decided_at=now,
            )
        )
    lot_ids = list(plan.settled_lot_ids)
    if is_postgres(conn):  # one statement, the ids as one array
        await conn.execute_query(
            "UPDATE harvest_lots SET settled_g = weight_g WHERE id = ANY($1::int[])", [lot_ids]
        )
        return
    for start in range(0, len(lot_ids), CHUNK):
        await (
            HarvestLot.filter(id__in=lot_ids[start : start + CHUNK])
            .using_db(conn)
            .update(settled_g=F("weight_g"))
        )


async def _create_shipments(
    conn: BaseDBAsyncClient,
    *,
    batch: Batch,
    boxes: tuple[Box, ...],
    addresses: dict[int, tuple],
    now: datetime,
) -> dict[int, int]:
    """Insert the plan's shipments; returns the shipment id of each subscription boxed."""
    if not boxes:
        return {}
    address = [addresses[box.subscription_id] for box in boxes]
    made = await insert_columns(
        conn,
        Shipment,
        same={"batch_id": batch.id, "ship_on": batch.ship_on, "courier": "", "tracking_no": "",
              "created_at": now, "packed_at": None, "shipped_at": None},
        columns={
            "subscription_id": [box.subscription_id for box in boxes],
            "status": [
                ShipmentStatus.CREATED if box.has_items else ShipmentStatus.EMPTY for box in boxes
            ],
            "transit_days": [box.transit_days for box in boxes],
            **{name: [a[i] for a in address] for i, name in enumerate(ADDRESS_FIELDS)},
        },
        returning=("subscription_id", "id") if is_postgres(conn) else (),
    )  # fmt: skip
    if is_postgres(conn):
        return dict(made)
    ids = [box.subscription_id for box in boxes]
    box_of: dict[int, int] = {}
    for start in range(0, len(ids), CHUNK):  # on the unique (subscription, ship_on) index
        query = Shipment.filter(
            ship_on=batch.ship_on, subscription_id__in=ids[start : start + CHUNK]
        )
        box_of.update(await query.using_db(conn).values_list("subscription_id", "id"))
    return box_of
