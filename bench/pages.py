"""The customer's pages at 100,000 subscriptions on PostgreSQL: queries, latency, query plans.

    .venv/bin/python bench/pages.py [--subscriptions 100000] [--customers 50] [--rounds 5]
                                    [--port 8500] [--skip-http]

A fresh `farm_bench_pages_*` database (through $FARM_TEST_POSTGRES, else
postgres://postgres@127.0.0.1:5432/postgres; dropped afterwards) is migrated and seeded with a
season under way (bench/_seed_pages.py: boxes of every past ship day, payments, vouchers,
bookings, the farm log), then ANALYZEd. Then:

1. in process, through the ASGI app: `--customers` customers log in, and each page (account,
   subscription, deliveries, vouchers, one voucher, plot, stays) is requested `--rounds` times
   for each: the most queries a request made (the session's user lookup included), p50, p99,
   and p50 as a multiple of /healthz's (one query, no template: the yardstick);
2. over HTTP against `farm web --workers 2` (the production command) on 127.0.0.1:--port:
   the same pages and /healthz, one request at a time, p50 and p99, and each page's p50 as a
   multiple of /healthz's (the yardstick: only ratios are stable on a shared machine);
3. EXPLAIN: every SQL statement of those pages and of the sale path (home, a plan page,
   reserving a chosen plot and "pick one for me") is explained with its parameters, and a
   Seq Scan of a table of more than 10,000 rows is reported with the statement.

Exits 1 when a page made more than 8 queries or a query plan scans a large table.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import _seed_pages
import asyncpg
import httpx

sys.path.append(str(Path(__file__).resolve().parent.parent))  # tests.support, after farm

from tests.support import count_queries, settings_environ, test_settings  # noqa: E402

PG_ADMIN = os.environ.get("FARM_TEST_POSTGRES", "postgres://postgres@127.0.0.1:5432/postgres")
PASSWORD = "bench-pages"
MAX_QUERIES = 8
LARGE_TABLE_ROWS = 10_000
EXPLAINABLE = ("SELECT", "UPDATE", "DELETE", "INSERT", "WITH")
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def pg(url: str) -> str:
    return url.replace("postgres://", "postgresql://", 1)


def customer_ids(subscriptions: int, count: int) -> list[int]:
    """Spread over the table; every other one has a booked stay (bench/_seed_pages.py)."""
    step = max(subscriptions // count, 1)
    ids = []
    for i in range(count):
        sub = min(i * step + 1, subscriptions)
        if i % 2 == 0:  # one with a booking: a multiple of BOOKING_EVERY
            every = _seed_pages.BOOKING_EVERY
            sub = max(every, sub - sub % every)
        ids.append(sub)
    return sorted(set(ids))


def pages_of(sub: int) -> dict[str, str]:
    """Customer c<sub> holds subscription <sub>; its first voucher is number (sub-1)*4+1."""
    code = _seed_pages.voucher_code((sub - 1) * 4 + 1)
    return {
        "account": "/account",
        "subscription": f"/account/subscriptions/{sub}",
        "deliveries": f"/account/subscriptions/{sub}/deliveries",
        "vouchers": f"/account/subscriptions/{sub}/vouchers",
        "voucher": f"/account/vouchers/{code}",
        "plot": f"/account/subscriptions/{sub}/plot",
        "stays": f"/account/subscriptions/{sub}/stays",
    }


async def csrf(client: httpx.AsyncClient, path: str) -> str:
    found = CSRF_RE.search((await client.get(path)).text)
    assert found, f"no CSRF token on {path}"
    return found.group(1)


async def log_in(client: httpx.AsyncClient, sub: int) -> None:
    token = await csrf(client, "/login")
    r = await client.post(
        "/login", data={"email": f"c{sub}@bench.cn", "password": PASSWORD, "csrf_token": token}
    )
    assert r.status_code == 303, f"login of c{sub}: {r.status_code}"


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


# ---- 1. in process ----


async def in_process(settings, subs: list[int], rounds: int, free_plan: int, free_plot: int):
    from farm.app import create_app

    app = create_app(settings)
    timings: dict[str, list[float]] = {}
    queries: dict[str, int] = {}
    statements: dict[str, tuple[str, list, str]] = {}  # sql -> (sql, params, where)

    def keep(log, where: str) -> None:
        for sql, params in log.statements:
            statements.setdefault(sql, (sql, params, where))

    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        clients = []
        for sub in subs:
            client = httpx.AsyncClient(transport=transport, base_url="http://bench")
            await log_in(client, sub)
            clients.append((sub, client))
        for round_no in range(rounds + 1):
            for sub, client in clients:
                for name, path in pages_of(sub).items():
                    if round_no == 0:  # count and capture, untimed
                        with count_queries() as log:
                            r = await client.get(path)
                        queries[name] = max(queries.get(name, 0), log.count)
                        keep(log, name)
                    else:
                        started = time.perf_counter()
                        r = await client.get(path)
                        timings.setdefault(name, []).append(time.perf_counter() - started)
                    assert r.status_code == 200, f"{path}: {r.status_code}"
                if round_no:  # the yardstick: one query, no template
                    started = time.perf_counter()
                    await client.get("/healthz")
                    timings.setdefault("healthz", []).append(time.perf_counter() - started)
        # the sale path, for its query plans: two customers, one picking, one letting us pick
        (_, picker), (_, lucky) = clients[0], clients[1]
        for name, client, data in (
            ("sale: reserve a chosen plot", picker, {"plot_id": str(free_plot)}),
            ("sale: pick one for me", lucky, {"plot_id": "auto"}),
        ):
            with count_queries() as log:
                await client.get("/")
            keep(log, "sale: home")
            with count_queries() as log:
                token = CSRF_RE.search((await client.get(f"/plans/{free_plan}")).text)
            keep(log, "sale: plan page")
            assert token, "no CSRF token on the plan page"
            with count_queries() as log:
                r = await client.post(
                    f"/plans/{free_plan}/reserve", data={**data, "csrf_token": token.group(1)}
                )
            keep(log, name)
            assert r.status_code == 303, f"{name}: {r.status_code} {r.text[:200]}"
        for _sub, client in clients:
            await client.aclose()
    return queries, timings, list(statements.values())


# ---- 2. over HTTP, the production command ----


def serve(settings, port: int) -> subprocess.Popen:
    env = {**os.environ, **settings_environ(settings), "PYTHONWARNINGS": "ignore"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "farm.cli", "web", "--workers", "2", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("farm web exited")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.terminate()
    raise RuntimeError("farm web did not start")


async def over_http(port: int, subs: list[int], rounds: int) -> dict[str, list[float]]:
    base = f"http://127.0.0.1:{port}"
    timings: dict[str, list[float]] = {}
    clients = []
    for sub in subs:
        client = httpx.AsyncClient(base_url=base, timeout=30)
        await log_in(client, sub)
        clients.append((sub, client))
    for _ in range(rounds):
        for sub, client in clients:
            for name, path in [("healthz", "/healthz"), *pages_of(sub).items()]:
                started = time.perf_counter()
                r = await client.get(path)
                timings.setdefault(name, []).append(time.perf_counter() - started)
                assert r.status_code == 200, f"{path}: {r.status_code}"
    for _sub, client in clients:
        await client.aclose()
    return timings


# ---- 3. query plans ----


def seq_scans(plan: dict, large: dict[str, int]) -> list[str]:
    found = []
    if plan.get("Node Type") == "Seq Scan" and plan.get("Relation Name") in large:
        found.append(plan["Relation Name"])
    for child in plan.get("Plans", []):
        found += seq_scans(child, large)
    return found


async def explain_all(dsn: str, statements: list[tuple[str, list, str]]) -> list[str]:
    """EXPLAIN each statement with its parameters; the problems found, one line each."""
    conn = await asyncpg.connect(dsn)
    try:
        large = {
            name: int(rows)
            for name, rows in await conn.fetch(
                "SELECT relname, reltuples FROM pg_class WHERE relkind = 'r' "
                "AND relnamespace = 'public'::regnamespace AND reltuples > $1",
                LARGE_TABLE_ROWS,
            )
        }
        problems = []
        for sql, params, where in statements:
            if not sql.lstrip().upper().startswith(EXPLAINABLE):
                continue
            raw = await conn.fetchval(f"EXPLAIN (FORMAT JSON) {sql}", *params)
            plan = (json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]
            for table in seq_scans(plan, large):
                problems.append(
                    f"Seq Scan on {table} ({large[table]:,} rows) in {where}: {sql[:300]}"
                )
        return problems
    finally:
        await conn.close()


# ---- the run ----


async def prepare(dsn: str, url: str, data_dir: Path, subscriptions: int, today):
    from argon2 import PasswordHasher

    from farm import db
    from farm.settings import Settings

    await db.migrate(Settings(database_url=url, data_dir=data_dir))
    started = time.perf_counter()
    seeded = await _seed_pages.seed_postgres(
        dsn, subscriptions, today=today, login_hash=PasswordHasher().hash(PASSWORD)
    )
    return seeded, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--subscriptions", type=int, default=100_000)
    parser.add_argument("--customers", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--port", type=int, default=8500)
    parser.add_argument("--skip-http", action="store_true")
    args = parser.parse_args()

    name = f"farm_bench_pages_{uuid.uuid4().hex[:8]}"
    admin = pg(PG_ADMIN)
    url = f"{PG_ADMIN.rsplit('/', 1)[0]}/{name}"
    dsn = pg(url)
    asyncio.run(_admin(admin, f'CREATE DATABASE "{name}"'))
    failed = False
    try:
        with tempfile.TemporaryDirectory() as tmp:
            data_dir = Path(tmp)
            today = datetime.now(ZoneInfo("Asia/Shanghai")).date()  # the pages' today
            seeded, seconds = asyncio.run(prepare(dsn, url, data_dir, args.subscriptions, today))
            print(
                f"seeded {seeded.subscriptions:,} subscriptions on {seeded.fields} fields "
                f"with a season under way on {today} ({seconds:.0f} s, ANALYZE included)"
            )
            settings = test_settings(data_dir=data_dir, db_url=url, stripe_port=args.port + 1)
            subs = customer_ids(args.subscriptions, args.customers)
            free_plan = seeded.fields + 1
            free_plot = args.subscriptions + 1
            queries, timings, statements = asyncio.run(
                in_process(settings, subs, args.rounds, free_plan, free_plot)
            )
            print(f"\nin process (ASGI), {len(subs)} customers x {args.rounds} rounds:")
            yard = statistics.median(timings["healthz"])
            print(f"  {'page':<14}{'queries':>8}{'p50 ms':>9}{'p99 ms':>9}{'p50 / healthz':>15}")
            for page, values in timings.items():
                count = queries.get(page, 1)
                mark = "  <- over 8" if count > MAX_QUERIES else ""
                print(
                    f"  {page:<14}{count:>8}{ms(pct(values, 0.5)):>9}"
                    f"{ms(pct(values, 0.99)):>9}{pct(values, 0.5) / yard:>14.1f}x{mark}"
                )
                failed |= count > MAX_QUERIES
            if not args.skip_http:
                proc = serve(settings, args.port)
                try:
                    http = asyncio.run(over_http(args.port, subs, args.rounds))
                finally:
                    proc.terminate()
                    proc.wait(timeout=20)
                yard = statistics.median(http["healthz"])
                print(
                    f"\nover HTTP, farm web --workers 2, one request at a time "
                    f"({len(subs)} customers x {args.rounds} rounds):"
                )
                print(f"  {'page':<14}{'p50 ms':>9}{'p99 ms':>9}{'p50 / healthz':>15}")
                for page, values in http.items():
                    print(
                        f"  {page:<14}{ms(pct(values, 0.5)):>9}{ms(pct(values, 0.99)):>9}"
                        f"{pct(values, 0.5) / yard:>14.1f}x"
                    )
            problems = asyncio.run(explain_all(dsn, statements))
            print(
                f"\nEXPLAIN: {len(statements)} distinct statements of the customer pages "
                "and the sale path"
            )
            for problem in problems:
                print(f"  FAIL {problem}")
            if not problems:
                print(
                    "  every one uses an index on the tables of more than "
                    f"{LARGE_TABLE_ROWS:,} rows"
                )
            failed |= bool(problems)
    finally:
        asyncio.run(_admin(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    sys.exit(1 if failed else 0)


async def _admin(dsn: str, sql: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


if __name__ == "__main__":
    main()
