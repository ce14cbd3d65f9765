"""The offer and the field map at Jutudi's scale: how fast the home page and a plan's page are
made, how many queries they take and how many bytes they send.

    .venv/bin/python bench/offer.py [--engine postgres|sqlite] [--plans 200] [--fields 5]
                                    [--plots 4650] [--requests 30] [--port 8201]

A fresh database gets one season on sale with PLANS plans spread over FIELDS fields of PLOTS
one-fen plots each (75 columns of 10 m x 6.67 m), two perks a plan, and a third of every
field's plots claimed: paid subscriptions, live reservations, and lapsed reservations that no
longer hold their plot. Then each page is asked for REQUESTS times, one at a time:

- in-process, through the ASGI app (httpx's ASGITransport): p50 ms and queries per page;
- over HTTP, against `farm web --workers 2` on 127.0.0.1:PORT: p50 ms.

Bytes are those of the body as made (raw) and as sent to a browser that accepts gzip (wire).
The yardsticks are /healthz (one query) and a static file, measured in the same run: only the
ratios to them are stable on a shared machine.

PostgreSQL (default): a `farm_bench_offer_*` database made through the admin URL
($FARM_TEST_POSTGRES, else postgres://postgres@127.0.0.1:5432/postgres), dropped afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import logging
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PG_ADMIN = os.environ.get("FARM_TEST_POSTGRES", "postgres://postgres@127.0.0.1:5432/postgres")
COLUMNS = 75  # plots across a field
PLOT_W, PLOT_H, PLOT_AREA = Decimal(10), Decimal("6.67"), Decimal("66.67")
CLAIMED_SHARE = 3  # one plot in CLAIMED_SHARE is claimed


def rows(plans: int, fields: int, plots: int, now: datetime) -> list[tuple[str, tuple, list]]:
    """Every row, table by table in foreign-key order."""
    today = now.date()
    created = now - timedelta(days=3)
    field_rows_count = -(-plots // COLUMNS)

    def plot_rows() -> Iterator[tuple]:
        for f in range(1, fields + 1):
            for i in range(plots):
                x, y = PLOT_W * (i % COLUMNS), PLOT_H * (i // COLUMNS)
                pid = (f - 1) * plots + i + 1
                yield (pid, f"{chr(64 + f)}{i + 1:04d}", PLOT_AREA, x, y, PLOT_W, PLOT_H, f)

    plans_per_field = -(-plans // fields)
    max_plots = plots // plans_per_field

    def plan_of(field: int, k: int) -> int:
        return field + fields * (k % plans_per_field)

    claims, users, subs = [], [], []
    n = 0
    for f in range(1, fields + 1):
        for i in range(0, plots, CLAIMED_SHARE):
            n += 1
            plot = (f - 1) * plots + i + 1
            plan = plan_of(f, n)
            if plan > plans:
                plan = f
            kind = n % 10  # 8 in 10 paid, 1 live reservation, 1 lapsed reservation
            expires = None if kind < 8 else now + timedelta(minutes=10 if kind == 8 else -10)
            status = "active" if expires is None else "pending_payment"
            users.append((n, f"b{n}@bench.cn", f"用户{n}", "", "x", "customer", "zh_CN", created))
            subs.append((n, status, 58000, f"用户{n}", created, None if expires else created,
                         None, "", 0, "", "", "", "", "", n, plan, plot, 1))  # fmt: skip
            claims.append((n, expires, plan, plot, 1, n))
    return [
        ("cooperatives", ("id", "name", "name_en", "village", "province"),
         [(1, "压测合作社", "Bench cooperative", "压测村", "安徽")]),
        ("partners", ("id", "kind", "name", "address", "opening_hours", "phone",
                      "cooperative_id"),
         [(1, "scenic_spot", "八公山景区", "", "", "", 1),
          (2, "guesthouse", "农家乐", "", "", "", 1)]),
        ("fields", ("id", "name", "width_m", "height_m", "cooperative_id"),
         [(f, f"大田{f}", PLOT_W * COLUMNS, PLOT_H * field_rows_count, 1)
          for f in range(1, fields + 1)]),
        ("plots", ("id", "code", "area_m2", "x_m", "y_m", "w_m", "h_m", "field_id"),
         list(plot_rows())),
        ("seasons", ("id", "name", "name_en", "starts_on", "ends_on", "sale_starts_on",
                     "sale_ends_on", "ship_days_of_month", "cutoff_days", "cooperative_id"),
         [(1, "压测季", "Bench season", today + timedelta(days=90), today + timedelta(days=455),
           today - timedelta(days=10), today + timedelta(days=60), "1,16", 2, 1)]),
        ("plans", ("id", "name", "name_en", "plot_area_m2", "care_mode", "crop_plan",
                   "crop_plan_en", "price_fen", "max_plots", "field_id", "season_id"),
         [(p, f"一分地 {p}", f"One fen {p}", PLOT_AREA, "managed" if p % 2 else "self_tended",
           "水稻、油菜", "Rice, rapeseed", 58000 + 100 * p, max_plots, (p - 1) % fields + 1, 1)
          for p in range(1, plans + 1)]),
        ("plan_perks", ("id", "kind", "count", "plan_id", "partner_id"),
         [(2 * p - 1 + k, kind, count, p, k + 1)
          for p in range(1, plans + 1)
          for k, (kind, count) in enumerate((("scenic_ticket", 2), ("farm_stay_night", 1)))]),
        ("users", ("id", "email", "name", "phone", "password_hash", "role", "language",
                   "created_at"), users),
        ("subscriptions", ("id", "status", "price_fen", "sign_name", "reserved_at",
                           "activated_at", "cancelled_at", "cancel_reason", "refunded_fen",
                           "recipient", "phone", "province", "city", "address", "customer_id",
                           "plan_id", "plot_id", "season_id"), subs),
        ("plot_claims", ("id", "expires_at", "plan_id", "plot_id", "season_id",
                         "subscription_id"), claims),
    ]  # fmt: skip


async def seed_postgres(dsn: str, tables: list) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        async with conn.transaction():
            for name, columns, records in tables:
                await conn.copy_records_to_table(name, records=records, columns=list(columns))
                await conn.execute(
                    f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                    f'(SELECT max(id) FROM "{name}"))'
                )
        await conn.execute("ANALYZE")
    finally:
        await conn.close()


def seed_sqlite(path: str, tables: list) -> None:
    import tortoise.backends.sqlite.executor  # noqa: F401  (registers Tortoise's adapters)

    conn = sqlite3.connect(path)
    try:
        with conn:
            for name, columns, records in tables:
                marks = ", ".join("?" for _ in columns)
                conn.executemany(
                    f'INSERT INTO "{name}" ({", ".join(columns)}) VALUES ({marks})', records
                )
    finally:
        conn.close()


class QueryCounter(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        if "pool" not in str(record.msg):
            self.count += 1


def pages(plots: int, fields: int) -> list[tuple[str, str]]:
    """(name, path): the yardsticks, the home page, a plan's page: its overview, a section in
    the middle of the field, a plot chosen there, and the same two as fragments."""
    middle = plots // 2 + COLUMNS // 2
    plot_id = middle + 2  # a plot a third of a field claims never lands on (i % 3 == 1)
    return [
        ("/healthz (yardstick)", "/healthz"),
        ("/static/site.css (yardstick)", "/static/site.css"),
        ("home", "/"),
        ("plan page", "/plans/1"),
        ("plan page, a section", "/plans/1?section=12"),
        ("plan page, a plot chosen", f"/plans/1?plot={plot_id}"),
        ("section fragment", f"/plans/1/map?plot={plot_id}&only=section"),
        ("section + plot fragment", f"/plans/1/map?plot={plot_id}"),
    ]


async def measure(client: httpx.AsyncClient, path: str, n: int) -> dict:
    headers = {"accept-encoding": "gzip", "accept-language": "zh-CN"}
    r = await client.get(path, headers=headers)
    for _ in range(2):
        await client.get(path, headers=headers)
    times = []
    for _ in range(n):
        started = time.perf_counter()
        r = await client.get(path, headers=headers)
        times.append((time.perf_counter() - started) * 1000)
    raw = r.content
    return {
        "status": r.status_code,
        "p50": statistics.median(times),
        "raw": len(raw),
        "wire": r.num_bytes_downloaded,
        "gzip_if": len(gzip.compress(raw, 6)),
    }


async def in_process(db_url: str, paths: list[tuple[str, str]], n: int) -> dict[str, dict]:
    from farm.app import create_app
    from farm.settings import Settings

    settings = Settings(
        environment="development", database_url=db_url, data_dir=Path(tempfile.mkdtemp())
    )
    app = create_app(settings)
    results = {}
    logger = logging.getLogger("tortoise.db_client")
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            for name, path in paths:
                result = await measure(client, path, n)
                counter = QueryCounter()
                logger.addHandler(counter)
                logger.setLevel(logging.DEBUG)
                await client.get(path)
                logger.removeHandler(counter)
                logger.setLevel(logging.WARNING)
                result["queries"] = counter.count
                results[name] = result
    return results


def start_server(db_url: str, port: int) -> subprocess.Popen:
    """`farm web --workers 2`, as production runs it, once it answers /healthz."""
    env = {
        **os.environ,
        "FARM_ENV": "development",
        "FARM_DATABASE_URL": db_url,
        "FARM_DATA_DIR": tempfile.mkdtemp(),
        "PYTHONWARNINGS": "ignore",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "farm.cli", "web", "--workers", "2", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline or proc.poll() is not None:
            proc.terminate()
            raise RuntimeError("farm web did not start")
        time.sleep(0.2)


async def over_http(port: int, paths: list[tuple[str, str]], n: int) -> dict:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=300) as client:
        return {name: await measure(client, path, n) for name, path in paths}


def report(title: str, results: dict[str, dict], with_queries: bool) -> None:
    yardstick = results["/healthz (yardstick)"]["p50"]
    print(f"\n{title}")
    head = f"{'page':<30} {'status':>6} {'p50 ms':>8} {'x healthz':>9}"
    head += f" {'queries':>7}" if with_queries else ""
    print(head + f" {'raw KB':>8} {'wire KB':>8} {'gzip KB':>8}")
    for name, r in results.items():
        line = f"{name:<30} {r['status']:>6} {r['p50']:>8.1f} {r['p50'] / yardstick:>9.1f}"
        line += f" {r['queries']:>7}" if with_queries else ""
        print(
            line + f" {r['raw'] / 1024:>8.1f} {r['wire'] / 1024:>8.1f} {r['gzip_if'] / 1024:>8.1f}"
        )


async def migrate(db_url: str) -> None:
    from farm import db
    from farm.settings import Settings

    await db.migrate(Settings(database_url=db_url, data_dir=Path(tempfile.mkdtemp())))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engine", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--plans", type=int, default=200)
    parser.add_argument("--fields", type=int, default=5)
    parser.add_argument("--plots", type=int, default=4650)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--port", type=int, default=8201)
    parser.add_argument("--no-http", action="store_true", help="in-process only")
    args = parser.parse_args()

    now = datetime.now(UTC)
    tables = rows(args.plans, args.fields, args.plots, now)
    tmp = tempfile.mkdtemp()
    name = f"farm_bench_offer_{uuid.uuid4().hex[:8]}"
    if args.engine == "postgres":
        base = PG_ADMIN.rsplit("/", 1)[0]
        db_url = f"{base}/{name}"
        admin = PG_ADMIN.replace("postgres://", "postgresql://")

        async def admin_sql(sql: str) -> None:
            conn = await asyncpg.connect(admin)
            try:
                await conn.execute(sql)
            finally:
                await conn.close()

        asyncio.run(admin_sql(f'CREATE DATABASE "{name}"'))
    else:
        db_url = f"sqlite://{tmp}/bench.sqlite3"
    try:
        started = time.perf_counter()
        asyncio.run(migrate(db_url))
        if args.engine == "postgres":
            asyncio.run(seed_postgres(db_url.replace("postgres://", "postgresql://"), tables))
        else:
            seed_sqlite(f"{tmp}/bench.sqlite3", tables)
        claims = len(tables[-1][2])
        print(
            f"{args.engine}: 1 season, {args.plans} plans on {args.fields} fields of "
            f"{args.plots} plots, {claims} claims; seeded in {time.perf_counter() - started:.1f} s"
        )
        paths = pages(args.plots, args.fields)
        report(
            f"in-process (ASGI), {args.requests} requests a page",
            asyncio.run(in_process(db_url, paths, args.requests)),
            with_queries=True,
        )
        if not args.no_http:
            server = start_server(db_url, args.port)
            try:
                results = asyncio.run(over_http(args.port, paths, args.requests))
            finally:
                server.terminate()
                server.wait(timeout=20)
            report(
                f"over HTTP, farm web --workers 2 on 127.0.0.1:{args.port}, "
                f"{args.requests} requests a page, one at a time",
                results,
                with_queries=False,
            )
    finally:
        if args.engine == "postgres":
            asyncio.run(admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
