"""The manager's console at 100,000 subscriptions on PostgreSQL: every list page and the
reports, measured in-process through the ASGI app with a logged-in manager.

    .venv/bin/python bench/console.py [--subscriptions 100000] [--repeats 5] [--before REV]

A fresh `farm_bench_*` database (through $FARM_TEST_POSTGRES, else
postgres://postgres@127.0.0.1:5432/postgres; dropped afterwards) gets N active subscriptions on
fields of 500 plots with about two harvest lots a plot (bench/_seed.py, as bench/ship_day.py),
plus 300 households, a work entry per five plots and the last ship day's N boxes; then ANALYZE.
Each page is asked `--repeats` times after one warm-up (fewer if a page is slow), and the table
gives its p50 in ms, the SQL queries it made, and its size; /healthz, a trivial page, is the
yardstick of the same run, and the last column is each page's p50 over the yardstick's.

With --before REV (e.g. the commit before the console work), that revision's code is measured
first on the same data, with its own migrations only, in its own process; then this tree's
migrations are applied, the database analysed again, and this tree's code measured: the two
tables are side by side in one run. Pages the old code did not have answer 404 there.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import uuid
from io import BytesIO
from pathlib import Path

import _seed
import asyncpg

PG_ADMIN = os.environ.get("FARM_TEST_POSTGRES", "postgres://postgres@127.0.0.1:5432/postgres")
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PASSWORD = "bench password"  # noqa: S105 - a throwaway database
SLOW_SECONDS = 8.0  # a page slower than this is asked once after the warm-up


def pages(n: int) -> list[tuple[str, str]]:
    """(label, path) of every console list and report; ids are those bench/_seed.py gives."""
    last_batch = len([d for d in _seed.season_ship_days() if d < _seed.SHIP_ON])
    return [
        ("yardstick /healthz", "/healthz"),
        ("fields", "/manage/fields"),
        ("a field and its plots", "/manage/fields/1"),
        ("plots: search and filter", "/manage/fields/1?code=P1&status=sold"),
        ("seasons", "/manage/seasons"),
        ("a season's plans", "/manage/seasons/1"),
        ("a plan", "/manage/plans/1"),
        ("subscribers", "/manage/subscribers"),
        ("subscribers: search", f"/manage/subscribers?q=用户{n // 2}"),
        ("subscribers: deep page", "/manage/subscribers?page=1500"),
        ("subscribers CSV (all)", "/manage/subscribers.csv"),
        ("plot search (JSON)", "/manage/plots/search?q=P01"),
        ("harvests", "/manage/harvests"),
        ("harvests: filtered", "/manage/harvests?q=P0&from=2026-10-05&to=2026-10-10"),
        ("work log", "/manage/log"),
        ("work log with a field", "/manage/log?field=1"),
        ("households", "/manage/households"),
        ("batches", "/manage/shipments"),
        ("a batch's boxes", f"/manage/shipments/{last_batch}"),
        ("boxes: search", f"/manage/shipments/{last_batch}?q=用户{n // 3}"),
        ("reports", "/manage/reports"),
        ("reports: yields CSV", "/manage/reports/yields.csv"),
        ("reports: households CSV", "/manage/reports/households.csv"),
    ]


# -- the child: one tree's code against the seeded database -------------------------------


class QueryCounter:
    """Counts the SQL statements sent through the Tortoise client's execute methods."""

    METHODS = ("execute_query", "execute_query_dict", "execute_insert", "execute_many")

    def __init__(self) -> None:
        self.count = 0

    def install(self) -> None:
        from tortoise.backends.asyncpg.client import AsyncpgDBClient

        for name in self.METHODS:
            original = getattr(AsyncpgDBClient, name)

            def wrap(original):
                async def counted(client, *args, **kwargs):
                    self.count += 1
                    return await original(client, *args, **kwargs)

                return counted

            setattr(AsyncpgDBClient, name, wrap(original))


async def measure(db_url: str, n: int, repeats: int) -> list[dict]:
    import httpx
    from starlette.datastructures import Secret

    from farm.app import create_app
    from farm.settings import DEV_PUBLISHABLE_KEY, DEV_SECRET_KEY, DEV_WEBHOOK_SECRET, Settings

    counter = QueryCounter()
    counter.install()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            environment="test", data_dir=Path(tmp), database_url=db_url,
            secret_key=Secret("b" * 40), stripe_secret_key=Secret(DEV_SECRET_KEY),
            stripe_publishable_key=DEV_PUBLISHABLE_KEY,
            stripe_webhook_secret=Secret(DEV_WEBHOOK_SECRET),
            stripe_api_base="http://127.0.0.1:9", stripe_js_url="http://127.0.0.1:9/js/",
        )  # fmt: skip
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://bench", timeout=600
            ) as client:
                await log_in(client)
                for label, path in pages(n):
                    times, size, queries, status = [], 0, 0, 0
                    for i in range(repeats + 1):
                        counter.count = 0
                        started = time.perf_counter()
                        r = await client.get(path)
                        took = time.perf_counter() - started
                        status, size, queries = r.status_code, len(r.content), counter.count
                        if i:  # the first is the warm-up
                            times.append(took)
                        if took > SLOW_SECONDS and i:
                            break
                        if took > SLOW_SECONDS * 4:  # the warm-up alone says enough
                            times.append(took)
                            break
                    results.append({
                        "label": label, "path": path, "status": status,
                        "p50_ms": statistics.median(times) * 1000, "queries": queries,
                        "bytes": size, "runs": len(times),
                    })  # fmt: skip
                    print(f"  {label}: {results[-1]['p50_ms']:.0f} ms", file=sys.stderr)
    return results


async def log_in(client) -> None:
    import re

    page = await client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    r = await client.post(
        "/login",
        data={"email": "manager@bench.cn", "password": PASSWORD, "csrf_token": token},
    )
    assert r.status_code == 303, r.text[:300]


def run_child(root: Path, db_url: str, n: int, repeats: int) -> list[dict]:
    """Measure with the code under `root`, in a fresh interpreter."""
    env = {**os.environ, "PYTHONPATH": f"{root}{os.pathsep}{HERE}"}
    args = [sys.executable, str(HERE / "console.py"), "--measure", db_url,
            "--subscriptions", str(n), "--repeats", str(repeats), "--root", str(root)]  # fmt: skip
    done = subprocess.run(args, stdout=subprocess.PIPE, text=True, check=True, env=env, cwd=root)
    return json.loads(done.stdout.strip().splitlines()[-1])


def migrate_child(root: Path, db_url: str) -> None:
    env = {**os.environ, "PYTHONPATH": f"{root}{os.pathsep}{HERE}"}
    args = [sys.executable, str(HERE / "console.py"), "--migrate", db_url, "--root", str(root)]
    subprocess.run(args, check=True, env=env, cwd=root)


async def migrate_only(db_url: str) -> None:
    from farm import db
    from farm.settings import Settings

    with tempfile.TemporaryDirectory() as tmp:
        await db.migrate(Settings(database_url=db_url, data_dir=Path(tmp)))


# -- the parent ----------------------------------------------------------------------------


def extract(rev: str, into: Path) -> Path:
    """The tree of a revision of this repository, for the 'before' side."""
    data = subprocess.run(
        ["git", "archive", "--format=tar", rev], cwd=ROOT, stdout=subprocess.PIPE, check=True
    ).stdout
    with tarfile.open(fileobj=BytesIO(data)) as tar:
        tar.extractall(into, filter="data")
    return into


async def prepare(dsn: str, n: int) -> None:
    from argon2 import PasswordHasher

    started = time.perf_counter()
    seeded = await _seed.seed_postgres(dsn, n)
    await _seed.seed_console_postgres(dsn, n)
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(
            "UPDATE users SET password_hash = $1 WHERE email = 'manager@bench.cn'",
            PasswordHasher().hash(PASSWORD),
        )
        await conn.execute("ANALYZE")
    finally:
        await conn.close()
    print(
        f"seeded {n} subscriptions on {seeded.fields} fields, {seeded.lots} lots,"
        f" {_seed.HOUSEHOLDS} households, {n // _seed.ENTRY_EVERY} work entries, {n} boxes"
        f" in {time.perf_counter() - started:.1f} s",
        flush=True,
    )


def table(title: str, rows: list[dict]) -> None:
    yard = rows[0]["p50_ms"] or 1e-9
    print(f"\n{title}")
    print(f"{'page':<28} {'status':>6} {'p50 ms':>9} {'queries':>8} {'KiB':>8} {'× yardstick':>12}")
    for r in rows:
        print(
            f"{r['label']:<28} {r['status']:>6} {r['p50_ms']:>9.1f} {r['queries']:>8}"
            f" {r['bytes'] / 1024:>8.1f} {r['p50_ms'] / yard:>12.0f}"
        )


async def main_async(n: int, repeats: int, before: str | None, keep: bool = False) -> None:
    name = f"farm_bench_console_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(PG_ADMIN.replace("postgres://", "postgresql://"))
    await admin.execute(f'CREATE DATABASE "{name}"')
    db_url = f"{PG_ADMIN.rsplit('/', 1)[0]}/{name}"
    dsn = db_url.replace("postgres://", "postgresql://")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            old = extract(before, Path(tmp) / "before") if before else None
            migrate_child(old or ROOT, db_url)
            await prepare(dsn, n)
            old_rows = None
            if old is not None:
                print(f"measuring {before} …", flush=True)
                old_rows = run_child(old, db_url, n, repeats)
                migrate_child(ROOT, db_url)  # this tree's migrations (its indexes) on top
                conn = await asyncpg.connect(dsn)
                await conn.execute("ANALYZE")
                await conn.close()
            print("measuring this tree …", flush=True)
            new_rows = run_child(ROOT, db_url, n, repeats)
    finally:
        if keep:
            print(f"kept the database {name} (drop it yourself)", flush=True)
        else:
            await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await admin.close()
    if old_rows is not None:
        table(f"before ({before}), {n} subscriptions, PostgreSQL", old_rows)
    table(f"after (this tree), {n} subscriptions, PostgreSQL", new_rows)
    if old_rows is not None:
        print(f"\n{'page':<28} {'before ms':>10} {'after ms':>9} {'before/after':>13}")
        for o, a in zip(old_rows, new_rows, strict=True):
            note = "" if o["status"] == 200 else f" (before: {o['status']})"
            print(
                f"{a['label']:<28} {o['p50_ms']:>10.0f} {a['p50_ms']:>9.1f}"
                f" {o['p50_ms'] / max(a['p50_ms'], 1e-9):>12.1f}×{note}"
            )
    worst = max(new_rows[1:], key=lambda r: r["p50_ms"])
    print(
        f"\n{n} subscriptions: slowest console page {worst['label']} {worst['p50_ms']:.0f} ms,"
        f" yardstick {new_rows[0]['p50_ms']:.1f} ms",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--subscriptions", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--before", metavar="REV", help="also measure this git revision")
    parser.add_argument("--keep", action="store_true", help="keep the database (for EXPLAIN)")
    parser.add_argument("--measure", metavar="DB_URL", help=argparse.SUPPRESS)
    parser.add_argument("--migrate", metavar="DB_URL", help=argparse.SUPPRESS)
    parser.add_argument("--root", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.root:  # a child: the code under --root comes first
        sys.path.insert(0, args.root)
    if args.migrate:
        asyncio.run(migrate_only(args.migrate))
        return
    if args.measure:
        rows = asyncio.run(measure(args.measure, args.subscriptions, args.repeats))
        print(json.dumps(rows))
        return
    asyncio.run(main_async(args.subscriptions, args.repeats, args.before, args.keep))


if __name__ == "__main__":
    main()
