"""Seeding for bench/pages.py: bench/_seed.py's cooperative of N active subscriptions (fields
of 500 plots, a fortnight of harvest lots), plus what the customer pages show, as a season
under way would have it on `today`:

- every ship day before `today` done: its batch, a field run per field, a box per
  subscription (except the 2% holding one ship day) with one item from a whole-field lot;
- a paid payment per subscription; two scenic-spot tickets and two farm-stay nights each
  (vouchers), three guesthouses with four rooms each, and a booked night for one
  subscription in fifty;
- thirty work entries a field (half on the whole field, half on twenty plots), an input each,
  a photo for one in three;
- a field of 500 free plots on sale, for the sale path's reservations.

Every row is built in Python with its id and written with COPY in one transaction, then
ANALYZE. `login_hash` is stored as every customer's password hash, so the benchmark logs in
for real."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import _seed
import asyncpg
from _seed import ACTIVATED_AT, PLOT_AREA, PLOTS_PER_FIELD, Seeded, Table

from farm.vouchers.rules import ALPHABET, CODE_LENGTH

GUESTHOUSES = 3
ROOMS_PER_GUESTHOUSE = 4
BOOKING_EVERY = 50  # one subscription in 50 has a booked night
ENTRIES_PER_FIELD = 30
PLOTS_PER_ENTRY = 20
HOLD_DAY = _seed.SHIP_ON  # the ship day _seed's holds are on


def voucher_code(n: int) -> str:
    """A distinct, well-formed code for voucher n."""
    digits = []
    for _ in range(CODE_LENGTH):
        n, d = divmod(n, len(ALPHABET))
        digits.append(ALPHABET[d])
    return "".join(reversed(digits))


def _replace(tables: list[Table], name: str, rows) -> None:
    for i, table in enumerate(tables):
        if table.name == name:
            tables[i] = Table(name, table.columns, rows)
            return
    raise KeyError(name)


def tables(subscriptions: int, *, today: date, login_hash: str) -> tuple[Seeded, list[Table]]:
    seeded, base = _seed.tables(subscriptions)
    n, fields = seeded.subscriptions, seeded.fields
    manager = n + 1
    done = [d for d in _seed.season_ship_days() if d < today]
    held = {row[3] for row in next(t for t in base if t.name == "ship_day_holds").rows}

    def field_of(sub: int) -> int:
        return (sub - 1) // PLOTS_PER_FIELD + 1

    # Customers log in with the same password; the manager keeps his.
    users = next(t for t in base if t.name == "users")
    _replace(base, "users", [(*row[:4], login_hash if row[5] == "customer" else row[4], *row[5:])
                             for row in users.rows])  # fmt: skip

    # A field of free plots on sale (field and plan fields + 1).
    free_field = fields + 1
    plots = next(t for t in base if t.name == "plots")
    _replace(base, "plots", [*plots.rows, *(
        (n + i + 1, f"F{i + 1:03d}", PLOT_AREA, Decimal(10 * (i % 25)),
         Decimal("6.67") * (i // 25), Decimal(10), Decimal("6.67"), free_field)
        for i in range(PLOTS_PER_FIELD))])  # fmt: skip
    field_table = next(t for t in base if t.name == "fields")
    _replace(
        base,
        "fields",
        [*field_table.rows, (free_field, "新田", Decimal(250), Decimal("133.40"), 1)],
    )
    plans = next(t for t in base if t.name == "plans")
    _replace(
        base,
        "plans",
        [
            *plans.rows,
            (
                free_field,
                "一分地",
                "1 fen",
                PLOT_AREA,
                "managed",
                "",
                "",
                58000,
                PLOTS_PER_FIELD,
                free_field,
                1,
            ),
        ],
    )

    def at(day: date, hour: int = 2) -> datetime:
        return datetime.combine(day, time(hour), tzinfo=UTC)

    # ---- ship days done: batches, field runs, boxes, one item each from a field lot ----
    _replace(base, "batches", [(i, d, at(d), at(d, 3), 1) for i, d in enumerate(done, start=1)])
    # _seed's lots are made lazily: about two a plot and one whole-field lot of each crop
    base_lots = sum(1 + (p % 3 != 0) for p in range(1, n + 1)) + fields * len(_seed.CROPS)
    first_lot = base_lots + 1
    per_box_g = 1000

    def field_lot(day_index: int, field: int) -> int:
        return first_lot + day_index * fields + field - 1

    boxes_per_field = PLOTS_PER_FIELD  # the held ones leave their grams unallocated

    def lots() -> Iterator[tuple]:
        for k, d in enumerate(done):
            for f in range(1, fields + 1):
                lot = field_lot(k, f)
                settled = sum(
                    per_box_g
                    for s in range((f - 1) * PLOTS_PER_FIELD + 1, min(f * PLOTS_PER_FIELD, n) + 1)
                    if not (d == HOLD_DAY and s in held)
                )
                yield (lot, f"L{lot:09d}", d - timedelta(days=2), boxes_per_field * per_box_g,
                       at(d - timedelta(days=2), 18), 1, 2, f, manager, None, settled)  # fmt: skip

    def field_runs() -> Iterator[tuple]:
        run = 0
        for k, d in enumerate(done, start=1):
            for f in range(1, fields + 1):
                run += 1
                yield (run, d, PLOTS_PER_FIELD, at(d, 3), k, f)

    boxes: list[tuple[int, int, date, int]] = []  # (shipment, subscription, day, batch)

    def shipments() -> Iterator[tuple]:
        box = 0
        for k, d in enumerate(done, start=1):
            status = "shipped" if d < today - timedelta(days=3) else "packed"
            for s in range(1, n + 1):
                if d == HOLD_DAY and s in held:
                    continue
                box += 1
                boxes.append((box, s, d, k))
                yield (box, d, status, f"用户{s}", "13800138000", "上海", "市区", "人民路 1 号", 2,
                       "顺丰" if status == "shipped" else "",
                       f"SF{box:010d}" if status == "shipped" else "", at(d), at(d, 4),
                       at(d, 9) if status == "shipped" else None, k, s)  # fmt: skip

    def allocations() -> Iterator[tuple]:
        for box, s, d, k in boxes:
            yield (box, per_box_g, "shipped", None, d, "", at(d), None,
                   field_lot(k - 1, field_of(s)), box, s)  # fmt: skip

    def payments() -> Iterator[tuple]:
        for s in range(1, n + 1):
            yield (s, f"pi_bench_{s}", f"pi_bench_{s}_secret", 58000, "cny", "succeeded", "4242",
                   "", ACTIVATED_AT, ACTIVATED_AT, "", 0, None, s)  # fmt: skip

    # ---- perks, vouchers, guesthouses, bookings ----
    partners = [(1, "scenic_spot", "古镇景区", "古镇东门", 1, "8:00-17:00", "0559-1234567")] + [
        (1 + g, "guesthouse", f"农家民宿{g}", f"村{g}号", 1, "", "0559-7654321")
        for g in range(1, GUESTHOUSES + 1)
    ]
    rooms = [
        (r, f"房间{r}", 2 + r % 3, True, 2 + (r - 1) // ROOMS_PER_GUESTHOUSE)
        for r in range(1, GUESTHOUSES * ROOMS_PER_GUESTHOUSE + 1)
    ]
    all_plans = fields + 1
    perks = [row for p in range(1, all_plans + 1) for row in (
        (2 * p - 1, "scenic_ticket", 2, 1, p), (2 * p, "farm_stay_night", 2, None, p))]  # fmt: skip
    starts, ends = _seed.SEASON_STARTS, _seed.SEASON_ENDS

    def vouchers() -> Iterator[tuple]:
        v = 0
        for s in range(1, n + 1):
            plan = field_of(s)
            for perk, kind, partner in ((2 * plan - 1, "scenic_ticket", 1),
                                        (2 * plan, "farm_stay_night", None)):  # fmt: skip
                for seq in (1, 2):
                    v += 1
                    yield (v, seq, kind, voucher_code(v), "issued", starts, ends, ACTIVATED_AT,
                           None, None, partner, perk, None, None, s)  # fmt: skip

    def first_stay_voucher(s: int) -> int:
        return (s - 1) * 4 + 3  # the 3rd of the sub's 4 vouchers: its first farm-stay night

    booked = list(range(BOOKING_EVERY, n + 1, BOOKING_EVERY))
    nights = [today + timedelta(days=7 + i) for i in range((ends - today).days - 7)]
    slots = [(room[0], room[4], night) for night in nights for room in rooms]
    booked = booked[: len(slots)]

    bookings = [(i, slots[i - 1][2], 1, 2, "booked", at(today), None, None, slots[i - 1][1],
                 slots[i - 1][0], s) for i, s in enumerate(booked, start=1)]  # fmt: skip
    booking_nights = [(i, slots[i - 1][2], i, slots[i - 1][0], first_stay_voucher(s))
                      for i, s in enumerate(booked, start=1)]  # fmt: skip

    # ---- the farm log ----
    season_days = max((today - starts).days, 1)

    def work() -> tuple[list, list, list, list]:
        entries, links, inputs, photos = [], [], [], []
        e = link = 0
        for f in range(1, fields + 1):
            first_plot = (f - 1) * PLOTS_PER_FIELD + 1
            for i in range(ENTRIES_PER_FIELD):
                e += 1
                whole = i % 2 == 0
                day = starts + timedelta(days=(i * season_days) // ENTRIES_PER_FIELD)
                entries.append((e, "weeding" if whole else "fertilising", day, "除草施肥", whole,
                                at(day, 10), 1, f, manager))  # fmt: skip
                if not whole:
                    for j in range(PLOTS_PER_ENTRY):
                        plot = first_plot + (i * 7 + j * 25) % PLOTS_PER_FIELD
                        if plot <= n:
                            link += 1
                            links.append((link, e, plot))
                inputs.append((e, "有机肥", True, "2 kg/亩", e))
                if i % 3 == 0:
                    photos.append((len(photos) + 1, f"bench-{e}.jpg", 800, 600, e))
        return entries, links, inputs, photos

    entries, links, inputs, photos = work()
    return seeded, [
        *base,
        Table("harvest_lots", next(t for t in base if t.name == "harvest_lots").columns, lots()),
        Table("field_runs", ("id", "ship_on", "shipments", "done_at", "batch_id", "field_id"),
              field_runs()),
        Table("shipments", ("id", "ship_on", "status", "recipient", "phone", "province", "city",
                            "address", "transit_days", "courier", "tracking_no", "created_at",
                            "packed_at", "shipped_at", "batch_id", "subscription_id"),
              shipments()),
        Table("lot_allocations", ("id", "grams", "state", "reason", "ship_on", "note",
                                  "decided_at", "decided_by_id", "lot_id", "shipment_id",
                                  "subscription_id"), allocations()),
        Table("payments", ("id", "intent_id", "client_secret", "amount_fen", "currency",
                           "status", "card_last4", "failure_message", "created_at", "paid_at",
                           "refund_id", "refunded_fen", "refunded_at", "subscription_id"),
              payments()),
        Table("partners", ("id", "kind", "name", "address", "cooperative_id", "opening_hours",
                           "phone"), partners),
        Table("rooms", ("id", "name", "capacity", "active", "partner_id"), rooms),
        Table("plan_perks", ("id", "kind", "count", "partner_id", "plan_id"), perks),
        Table("vouchers", ("id", "seq", "kind", "code", "status", "valid_from", "valid_until",
                           "issued_at", "redeemed_at", "ended_at", "partner_id", "perk_id",
                           "redeemed_by_id", "redeemed_partner_id", "subscription_id"),
              vouchers()),
        Table("bookings", ("id", "first_night", "nights", "guests", "status", "created_at",
                           "cancelled_at", "arrived_at", "partner_id", "room_id",
                           "subscription_id"), bookings),
        Table("booking_nights", ("id", "night", "booking_id", "room_id", "voucher_id"),
              booking_nights),
        Table("work_entries", ("id", "activity", "worked_on", "notes", "whole_field",
                               "created_at", "cooperative_id", "field_id", "logged_by_id"),
              entries),
        Table("work_entry_plots", ("id", "entry_id", "plot_id"), links),
        Table("work_inputs", ("id", "name", "organic", "dose", "entry_id"), inputs),
        Table("photos", ("id", "file_name", "width", "height", "entry_id"), photos),
    ]  # fmt: skip


async def seed_postgres(dsn: str, subscriptions: int, *, today: date, login_hash: str) -> Seeded:
    """COPY every table in one transaction, move the id sequences past the rows, ANALYZE."""
    seeded, all_tables = tables(subscriptions, today=today, login_hash=login_hash)
    conn = await asyncpg.connect(dsn)
    try:
        async with conn.transaction():
            for table in all_tables:
                await conn.copy_records_to_table(
                    table.name, records=table.rows, columns=list(table.columns)
                )
            for name in dict.fromkeys(t.name for t in all_tables):
                await conn.execute(
                    f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                    f'(SELECT max(id) FROM "{name}"))'
                )
        await conn.execute("ANALYZE")
    finally:
        await conn.close()
    return seeded
