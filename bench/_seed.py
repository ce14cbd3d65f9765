"""Seeding for bench/ship_day.py: a cooperative with N active subscriptions and a fortnight of
harvest lots, written straight into a migrated database in bulk (one transaction on SQLite,
COPY on PostgreSQL), because creating 100,000 subscriptions through the services would take
longer than the ship day being measured.

The rows are built in Python with their ids, so every table is one bulk write."""

from __future__ import annotations

import math
import random
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import asyncpg

from farm.land.rules import parse_days_of_month, ship_days
from farm.subscriptions.rules import PROVINCES

PLOTS_PER_FIELD = 500
SEASON_STARTS, SEASON_ENDS = date(2026, 9, 1), date(2027, 9, 1)
SHIP_DAYS_OF_MONTH = "1,16"
SHIP_ON = date(2026, 10, 16)  # the ship day measured; the three before it are done
ACTIVATED_AT = datetime(2026, 8, 20, 10, tzinfo=UTC)
HOLD_SHARE = 0.02
PLOT_AREA = Decimal("66.67")  # 1 fen
# name, English name, shelf life in days, leafy
CROPS = [
    ("青菜", "Bok choy", 3, True),
    ("大米", "Rice", 180, False),
    ("红薯", "Sweet potato", 60, False),
    ("鸡蛋", "Eggs", 20, False),
    ("菜籽油", "Rapeseed oil", 365, False),
]


def season_ship_days() -> list[date]:
    return ship_days(SEASON_STARTS, SEASON_ENDS, parse_days_of_month(SHIP_DAYS_OF_MONTH))


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[str, ...]
    rows: Iterable[tuple]


@dataclass
class Seeded:
    subscriptions: int
    fields: int
    lots: int = 0
    holds: int = 0


def tables(subscriptions: int, *, seed: int = 2026) -> tuple[Seeded, list[Table]]:
    """Every row of the benchmark, table by table in foreign-key order. Plot, subscription,
    user and claim ids are all 1..N (user N+1 is the manager who logged the harvests)."""
    rng = random.Random(seed)
    n = subscriptions
    fields = math.ceil(n / PLOTS_PER_FIELD)
    seeded = Seeded(subscriptions=n, fields=fields)
    days = season_ship_days()
    previous = max(d for d in days if d < SHIP_ON)
    window = (SHIP_ON - previous).days  # lots harvested in [previous ship day, SHIP_ON)
    created = datetime.combine(SHIP_ON - timedelta(days=1), time(18), tzinfo=UTC)
    manager = n + 1
    provinces = sorted(PROVINCES)

    def field_of(plot: int) -> int:
        return (plot - 1) // PLOTS_PER_FIELD + 1

    def plots() -> Iterator[tuple]:
        for plot in range(1, n + 1):
            i = (plot - 1) % PLOTS_PER_FIELD
            x, y = Decimal(10 * (i % 25)), Decimal("6.67") * (i // 25)
            yield (plot, f"P{i + 1:03d}", PLOT_AREA, x, y, Decimal(10), Decimal("6.67"),
                   field_of(plot))  # fmt: skip

    def users() -> Iterator[tuple]:
        for user in range(1, n + 1):
            yield (user, f"c{user}@bench.cn", f"用户{user}", "13800138000", "x", "customer",
                   "zh_CN", ACTIVATED_AT, None)  # fmt: skip
        yield (manager, "manager@bench.cn", "经理", "", "x", "manager", "zh_CN", ACTIVATED_AT, 1)

    addresses = [rng.choice(provinces) for _ in range(n)]

    def subs() -> Iterator[tuple]:
        for sub in range(1, n + 1):
            yield (sub, "active", 58000, f"用户{sub}", ACTIVATED_AT, ACTIVATED_AT, None, "", 0,
                   f"用户{sub}", "13800138000", addresses[sub - 1], "市区", "人民路 1 号",
                   sub, field_of(sub), sub, 1)  # fmt: skip

    held = sorted(rng.sample(range(1, n + 1), round(n * HOLD_SHARE)))
    seeded.holds = len(held)

    def lots() -> Iterator[tuple]:
        lot = 0

        def row(crop: int, field: int, plot: int | None, grams: int) -> tuple:
            nonlocal lot
            lot += 1
            harvested = previous + timedelta(days=rng.randrange(window))
            return (lot, f"L{lot:09d}", harvested, grams, created, 1, crop, field, manager,
                    plot, 0)  # fmt: skip

        for plot in range(1, n + 1):  # about two lots a plot, of its crops
            for k in range(1 + (plot % 3 != 0)):
                crop = (plot + k) % len(CROPS) + 1
                yield row(crop, field_of(plot), plot, rng.randrange(300, 3000))
        for field in range(1, fields + 1):  # and one whole-field lot of every crop
            for crop in range(1, len(CROPS) + 1):
                yield row(crop, field, None, rng.randrange(20_000, 200_000))
        seeded.lots = lot

    done = [d for d in days if d < SHIP_ON]
    return seeded, [
        Table("cooperatives", ("id", "name", "name_en", "village", "province"),
              [(1, "压测合作社", "Bench cooperative", "压测村", "安徽")]),
        Table("fields", ("id", "name", "width_m", "height_m", "cooperative_id"),
              [(f, f"田{f}", Decimal(250), Decimal("133.40"), 1) for f in range(1, fields + 1)]),
        Table("plots", ("id", "code", "area_m2", "x_m", "y_m", "w_m", "h_m", "field_id"),
              plots()),
        Table("seasons", ("id", "name", "name_en", "starts_on", "ends_on", "sale_starts_on",
                          "sale_ends_on", "ship_days_of_month", "cutoff_days", "cooperative_id"),
              [(1, "2026 季", "2026 season", SEASON_STARTS, SEASON_ENDS, date(2026, 8, 1),
                date(2027, 3, 1), SHIP_DAYS_OF_MONTH, 2, 1)]),
        Table("plans", ("id", "name", "name_en", "plot_area_m2", "care_mode", "crop_plan",
                        "crop_plan_en", "price_fen", "max_plots", "field_id", "season_id"),
              [(f, "一分地", "1 fen", PLOT_AREA, "managed", "", "", 58000, PLOTS_PER_FIELD, f, 1)
               for f in range(1, fields + 1)]),
        Table("users", ("id", "email", "name", "phone", "password_hash", "role", "language",
                        "created_at", "cooperative_id"), users()),
        Table("subscriptions", ("id", "status", "price_fen", "sign_name", "reserved_at",
                                "activated_at", "cancelled_at", "cancel_reason", "refunded_fen",
                                "recipient", "phone", "province", "city", "address",
                                "customer_id", "plan_id", "plot_id", "season_id"), subs()),
        Table("plot_claims", ("id", "expires_at", "plan_id", "plot_id", "season_id",
                              "subscription_id"),
              ((s, None, field_of(s), s, 1, s) for s in range(1, n + 1))),
        Table("crops", ("id", "name", "name_en", "shelf_life_days", "leafy", "cooperative_id"),
              [(i, name, en, days, leafy, 1)
               for i, (name, en, days, leafy) in enumerate(CROPS, start=1)]),
        Table("harvest_lots", ("id", "code", "harvested_on", "weight_g", "created_at",
                               "cooperative_id", "crop_id", "field_id", "logged_by_id",
                               "plot_id", "settled_g"), lots()),
        Table("ship_day_holds", ("id", "ship_on", "created_at", "subscription_id"),
              [(i, SHIP_ON, created, s) for i, s in enumerate(held, start=1)]),
        # The ship days before this one are done: only SHIP_ON is due.
        Table("batches", ("id", "ship_on", "created_at", "completed_at", "cooperative_id"),
              [(i, d, datetime.combine(d, time(2), tzinfo=UTC),
                datetime.combine(d, time(3), tzinfo=UTC), 1)
               for i, d in enumerate(done, start=1)]),
    ]  # fmt: skip


def seed_sqlite(path: str, subscriptions: int) -> Seeded:
    """Everything in one transaction. Dates, datetimes and decimals are written as Tortoise
    writes them (its adapters are registered on the sqlite3 module by importing farm.db)."""
    import tortoise.backends.sqlite.executor  # noqa: F401  (registers the adapters)

    seeded, all_tables = tables(subscriptions)
    conn = sqlite3.connect(path)
    try:
        with conn:
            for table in all_tables:
                marks = ", ".join("?" for _ in table.columns)
                conn.executemany(
                    f'INSERT INTO "{table.name}" ({", ".join(table.columns)}) VALUES ({marks})',
                    table.rows,
                )
    finally:
        conn.close()
    return seeded


async def seed_postgres(dsn: str, subscriptions: int) -> Seeded:
    """COPY every table in one transaction, move the id sequences past the rows, and ANALYZE
    (as autovacuum soon would) so the planner knows the tables' sizes."""
    seeded, all_tables = tables(subscriptions)
    conn = await asyncpg.connect(dsn)
    try:
        async with conn.transaction():
            for table in all_tables:
                await conn.copy_records_to_table(
                    table.name, records=table.rows, columns=list(table.columns)
                )
            for table in all_tables:
                await conn.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                    f'(SELECT max(id) FROM "{table.name}"))'
                )
            await conn.execute(COUNT_PLACES)
        await conn.execute("ANALYZE")
    finally:
        await conn.close()
    return seeded


# The plans' places (farm/land/places.py, made by the plans' trigger) count the claims copied in,
# shared out over the 16 rows as the app shares them.
COUNT_PLACES = """
UPDATE plan_places s SET held = (c.n + 15 - s.shard) / 16
FROM (SELECT plan_id, count(*) AS n FROM plot_claims GROUP BY plan_id) c
WHERE c.plan_id = s.plan_id
"""


# ---- what the manager's console shows besides the ship day (bench/console.py) ----

HOUSEHOLDS = 300
ENTRY_EVERY = 5  # one work entry per this many plots, on five plots each
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
ACTIVITIES = ("sowing", "weeding", "watering", "fertilising", "pest_control", "harvesting")


def console_tables(subscriptions: int, *, seed: int = 2027) -> list[Table]:
    """Households with their land, a season of work entries (five plots each, one shift),
    and the last done ship day's boxes: rows that `tables` leaves out. Ids start at 1; the
    manager is user N+1, as in `tables`."""
    rng = random.Random(seed)
    n = subscriptions
    fields = math.ceil(n / PLOTS_PER_FIELD)
    manager = n + 1
    entries = n // ENTRY_EVERY
    logged = datetime(2026, 10, 1, 8, tzinfo=UTC)
    done = [d for d in season_ship_days() if d < SHIP_ON]

    def households() -> Iterator[tuple]:
        for h in range(1, HOUSEHOLDS + 1):
            yield (h, f"{SURNAMES[h % len(SURNAMES)]}{h}户", f"第{h % 12 + 1}村",
                   h % 7 == 0, 80000, 2000, 1)  # fmt: skip

    def work() -> Iterator[tuple]:
        for e in range(1, entries + 1):
            plot = (e - 1) * ENTRY_EVERY + 1
            day = SEASON_STARTS + timedelta(days=rng.randrange(45))
            yield (e, ACTIVITIES[e % len(ACTIVITIES)], day, "", False, logged,
                   1, (plot - 1) // PLOTS_PER_FIELD + 1, manager)  # fmt: skip

    return [
        Table("households", ("id", "name", "village", "is_poor", "rent_fen_per_mu_year",
                             "wage_fen_per_hour", "cooperative_id"), households()),
        Table("land_transfers", ("id", "area_m2", "household_id", "field_id"),
              [(h, Decimal(666), h, (h - 1) % fields + 1) for h in range(1, HOUSEHOLDS + 1)]),
        Table("work_entries", ("id", "activity", "worked_on", "notes", "whole_field",
                               "created_at", "cooperative_id", "field_id", "logged_by_id"),
              work()),
        Table("work_entry_plots", ("id", "entry_id", "plot_id"),
              (((e - 1) * ENTRY_EVERY + k + 1, e, (e - 1) * ENTRY_EVERY + k + 1)
               for e in range(1, entries + 1) for k in range(ENTRY_EVERY))),
        Table("work_shifts", ("id", "hours", "entry_id", "household_id"),
              ((e, Decimal("2.50"), e, e % HOUSEHOLDS + 1) for e in range(1, entries + 1))),
        # the last done ship day's boxes, one per subscription, handed to the courier
        Table("shipments", ("id", "ship_on", "status", "recipient", "phone", "province", "city",
                            "address", "transit_days", "courier", "tracking_no", "created_at",
                            "batch_id", "subscription_id"),
              ((s, done[-1], "shipped", f"用户{s}", "13800138000", "安徽", "市区", "人民路 1 号",
                2, "顺丰", f"SF{s:010d}", logged, len(done), s) for s in range(1, n + 1))),
    ]  # fmt: skip


async def seed_console_postgres(dsn: str, subscriptions: int) -> None:
    """COPY the console's extra tables (after seed_postgres), then ANALYZE."""
    conn = await asyncpg.connect(dsn)
    try:
        async with conn.transaction():
            for table in console_tables(subscriptions):
                await conn.copy_records_to_table(
                    table.name, records=table.rows, columns=list(table.columns)
                )
                await conn.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                    f'(SELECT max(id) FROM "{table.name}"))'
                )
        await conn.execute("ANALYZE")
    finally:
        await conn.close()
