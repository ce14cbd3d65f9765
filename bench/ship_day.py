"""A ship day for N active subscriptions, documents included: how long the batch
(make_due_batches) and its packing lists and labels (make_due_documents) take, and how much
memory each needs.

    .venv/bin/python bench/ship_day.py [--engine sqlite|postgres] [--subscriptions 10000 ...]

For each size (10,000 and 100,000 by default) a fresh database gets N active subscriptions on
fields of 500 plots, about two harvest lots a plot and a whole-field lot of each crop, and 2%
of the subscriptions holding the ship day (see bench/_seed.py). Then a fresh child process
runs the scheduler's job, make_due_batches, for that one ship day, and reports the wall time
of the call, its resident memory before the call and at its peak. The run is checked: one
shipment per subscription not on hold, and every gram harvested allocated ("accounted: yes").
Then another fresh child makes the documents as the scheduler's job does (parts per field
of at most 1,000 boxes, drawn by a pool of one process per core) into a temporary data
folder, and reports the time, its own peak memory and its drawing processes' peak, and the
parts' pages and bytes. The last line per size reads
`N subscriptions: batch S s, documents D s, total T s, M MiB peak` (M: the largest of the
processes' peaks).

--legacy times the code before documents were made in the background (run it with
PYTHONPATH pointing at a checkout of that code): the whole packing list, then all the
labels, each drawn in one call as the old routes did, each in a fresh process.

SQLite in a temporary directory by default; with --engine postgres, a `farm_bench_shipday_*`
database made through the admin URL ($FARM_TEST_POSTGRES, else
postgres://postgres@127.0.0.1:5432/postgres) and dropped afterwards (--keep keeps it).
--profile prints the child's cProfile to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

import _seed
import asyncpg

PG_ADMIN = os.environ.get("FARM_TEST_POSTGRES", "postgres://postgres@127.0.0.1:5432/postgres")


def rss_mib() -> float:
    """The resident memory of this process now (Linux /proc)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def cpu_seconds() -> float:
    """CPU time of this process, SQLite's thread included (a PostgreSQL server's is not)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# -- the child: only the batch, measured ------------------------------------------------


async def run_only(db_url: str, ship_on: date, profile: bool, phase: str) -> dict:
    from farm import db
    from farm.settings import Settings

    with tempfile.TemporaryDirectory() as tmp:
        await db.connect(Settings(database_url=db_url, data_dir=Path(tmp)))
        try:
            now = datetime.combine(ship_on, datetime.min.time(), tzinfo=UTC)
            before = rss_mib()
            profiler = None
            if profile:
                import cProfile

                profiler = cProfile.Profile()
                profiler.enable()
            started, cpu = time.perf_counter(), cpu_seconds()
            extra = await PHASES[phase](ship_on, now, Path(tmp))
            took, cpu = time.perf_counter() - started, cpu_seconds() - cpu
            peak = peak_mib()
            if profiler is not None:
                import pstats

                profiler.disable()
                pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(40)
        finally:
            await db.close()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "seconds": took,
        "cpu_seconds": cpu,
        "children_cpu_seconds": children.ru_utime + children.ru_stime,
        "children_peak_mib": children.ru_maxrss / 1024,
        "before_mib": before,
        "peak_mib": peak,
        **extra,
    }


async def phase_batch(ship_on: date, now: datetime, data_dir: Path) -> dict:
    from farm.shipments.batches import make_due_batches

    results = await make_due_batches(today=ship_on, now=now)
    return {
        "batches": [
            {"ship_on": r.ship_on.isoformat(), "shipments": r.shipments,
             "fields": r.fields_run, "completed": r.completed}
            for r in results
        ],
    }  # fmt: skip


async def phase_documents(ship_on: date, now: datetime, data_dir: Path) -> dict:
    """What the scheduler's documents job does, with one drawing process per core."""
    from tortoise.functions import Count, Max, Sum

    from farm.shipments.documents import Paper, make_due_documents
    from farm.shipments.models import DocumentPart
    from farm.storage import LocalStorage

    paper = Paper(storage=LocalStorage(data_dir), secret="s" * 40, base_url="https://farm.example.cn",
                  language="zh_CN", timezone="Asia/Shanghai")  # fmt: skip
    made = await make_due_documents(paper=paper, today=ship_on, now=now, workers=WORKERS)
    kinds = (
        await DocumentPart.filter(status="done")
        .annotate(n=Count("id"), pages=Sum("pages"), size=Sum("size_bytes"),
                  largest=Max("size_bytes"), boxes=Sum("boxes"))
        .group_by("kind")
        .values("kind", "n", "pages", "size", "largest", "boxes")
    )  # fmt: skip
    return {"parts": made.made, "kinds": {str(k.pop("kind")): k for k in kinds}}


async def phase_day(ship_on: date, now: datetime, data_dir: Path) -> dict:
    """The batch and its documents at once, as the scheduler's two jobs run side by side:
    each field's paper is made as soon as its run is done."""
    from farm.shipments.batches import make_due_batches
    from farm.shipments.documents import Paper, drawing_pool, make_due_documents
    from farm.storage import LocalStorage

    paper = Paper(storage=LocalStorage(data_dir), secret="s" * 40, base_url="https://farm.example.cn",
                  language="zh_CN", timezone="Asia/Shanghai")  # fmt: skip
    batch = asyncio.ensure_future(make_due_batches(today=ship_on, now=now))
    made, batch_s, started = 0, 0.0, time.perf_counter()
    pool = drawing_pool(WORKERS)
    try:
        while True:
            done = batch.done()
            if done and not batch_s:
                batch_s = time.perf_counter() - started
            result = await make_due_documents(
                paper=paper, today=ship_on, now=now, workers=WORKERS, pool=pool
            )
            made += result.made
            if done and not result.made:
                break
            if not result.made:
                await asyncio.sleep(0.2)
    finally:
        pool.shutdown()
    await batch
    return {"parts": made, "batch_seconds": batch_s}


async def _legacy(kind: str, ship_on: date, now: datetime) -> dict:
    from farm.shipments import packing
    from farm.shipments.models import Batch

    batch = await Batch.get(ship_on=ship_on)
    if kind == "packing":
        body = await packing.packing_list_pdf(batch=batch, now=now, timezone="Asia/Shanghai")
    else:
        body = await packing.labels_pdf(
            batch=batch, secret="s" * 40, base_url="https://farm.example.cn"
        )
    return {"bytes": len(body), "pages": len(re.findall(rb"/Type /Page(?!s)", body))}


async def phase_legacy_packing(ship_on: date, now: datetime, data_dir: Path) -> dict:
    return await _legacy("packing", ship_on, now)


async def phase_legacy_labels(ship_on: date, now: datetime, data_dir: Path) -> dict:
    return await _legacy("labels", ship_on, now)


PHASES = {
    "batch": phase_batch,
    "documents": phase_documents,
    "day": phase_day,
    "legacy-packing": phase_legacy_packing,
    "legacy-labels": phase_legacy_labels,
}
WORKERS = os.cpu_count() or 1


def run_child(db_url: str, profile: bool, phase: str = "batch") -> dict:
    """Run one phase in a fresh interpreter, so its memory is its own and nothing else."""
    args = [sys.executable, __file__, "--run-only", db_url, "--ship-day", _seed.SHIP_ON.isoformat(),
            "--phase", phase]  # fmt: skip
    if profile:
        args.append("--profile")
    done = subprocess.run(args, stdout=subprocess.PIPE, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


# -- checking the result -------------------------------------------------------------------

DAY = f"'{_seed.SHIP_ON.isoformat()}'"
CHECKS = {
    "subscriptions": "SELECT count(*) FROM subscriptions WHERE status = 'active'",
    "holds": f"SELECT count(*) FROM ship_day_holds WHERE ship_on = {DAY}",
    "shipments": f"SELECT count(*) FROM shipments WHERE ship_on = {DAY}",
    "boxed_subscriptions": (
        f"SELECT count(DISTINCT subscription_id) FROM shipments WHERE ship_on = {DAY}"
    ),
    "held_boxes": (
        "SELECT count(*) FROM shipments s JOIN ship_day_holds h"
        " ON h.subscription_id = s.subscription_id AND h.ship_on = s.ship_on"
    ),
    "allocations": "SELECT count(*) FROM lot_allocations",
    "allocated_g": "SELECT coalesce(sum(grams), 0) FROM lot_allocations",
    "shipped_g": "SELECT coalesce(sum(grams), 0) FROM lot_allocations WHERE state = 'shipped'",
    "lot_g": "SELECT coalesce(sum(weight_g), 0) FROM harvest_lots",
    "unsettled_lots": "SELECT count(*) FROM harvest_lots WHERE settled_g <> weight_g",
}


def accounted(c: dict) -> bool:
    return (
        c["shipments"] == c["boxed_subscriptions"] == c["subscriptions"] - c["holds"]
        and c["held_boxes"] == 0
        and c["allocated_g"] == c["lot_g"]
        and c["unsettled_lots"] == 0
    )


def check_sqlite(path: str) -> dict:
    conn = sqlite3.connect(path)
    try:
        return {name: conn.execute(sql).fetchone()[0] for name, sql in CHECKS.items()}
    finally:
        conn.close()


async def check_postgres(dsn: str) -> dict:
    conn = await asyncpg.connect(dsn)
    try:
        return {name: await conn.fetchval(sql) for name, sql in CHECKS.items()}
    finally:
        await conn.close()


# -- one size, on one engine ---------------------------------------------------------------


def documents_line(docs: dict) -> str:
    parts = []
    for kind in ("packing", "labels", "summary"):
        k = docs["kinds"].get(kind)
        if k:
            parts.append(
                f"{kind} {k['n']} file(s), {k['pages']} pages, {k['size'] / 2**20:.1f} MiB"
                f" (largest {k['largest'] / 2**20:.1f} MiB)"
            )
    return "; ".join(parts)


async def bench(
    engine: str, n: int, profile: bool, legacy: bool, overlap: bool, keep: bool = False
) -> tuple[float, float]:
    from farm import db
    from farm.settings import Settings

    with tempfile.TemporaryDirectory() as tmp:
        if engine == "postgres":
            name = f"farm_bench_shipday_{uuid.uuid4().hex[:8]}"
            admin = await asyncpg.connect(PG_ADMIN.replace("postgres://", "postgresql://"))
            await admin.execute(f'CREATE DATABASE "{name}"')
            db_url = f"{PG_ADMIN.rsplit('/', 1)[0]}/{name}"
            dsn = db_url.replace("postgres://", "postgresql://")
        else:
            admin = None
            db_url = f"sqlite://{Path(tmp) / 'bench.sqlite3'}"
        try:
            await db.migrate(Settings(database_url=db_url, data_dir=Path(tmp)))
            started = time.perf_counter()
            if engine == "postgres":
                seeded = await _seed.seed_postgres(dsn, n)
            else:
                seeded = _seed.seed_sqlite(db_url.removeprefix("sqlite://"), n)
            print(
                f"{engine}: {n} subscriptions on {seeded.fields} fields, {seeded.lots} lots,"
                f" {seeded.holds} holds; seeded in {time.perf_counter() - started:.1f} s",
                flush=True,
            )
            day = None
            if overlap:  # first, on the same seeded day: batch and documents side by side
                day = run_child(db_url, profile, "day")
                await _undo_day(engine, dsn if engine == "postgres" else db_url)
            run = run_child(db_url, profile)
            phases = ["legacy-packing", "legacy-labels"] if legacy else ["documents"]
            docs = {phase: run_child(db_url, profile, phase) for phase in phases}
            if engine == "postgres":
                checks = await check_postgres(dsn)
            else:
                checks = check_sqlite(db_url.removeprefix("sqlite://"))
        finally:
            if admin is not None:
                if keep:
                    print(f"kept the database {name} (drop it yourself)", flush=True)
                else:
                    await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
                await admin.close()
    days = ", ".join(b["ship_on"] for b in run["batches"])
    print(
        f"{engine}: batch of {days}: {checks['shipments']} shipments,"
        f" {checks['allocations']} allocations ({checks['shipped_g'] / 1000:.0f} of"
        f" {checks['lot_g'] / 1000:.0f} kg shipped); {run['seconds']:.1f} s"
        f" ({run['cpu_seconds']:.1f} s CPU in the process), RSS {run['before_mib']:.0f} MiB"
        f" before the call, {run['peak_mib']:.0f} MiB peak;"
        f" accounted: {'yes' if accounted(checks) else 'NO ' + json.dumps(checks)}",
        flush=True,
    )
    for phase, d in docs.items():
        what = (
            documents_line(d)
            if phase == "documents"
            else f"{d['pages']} pages, {d['bytes'] / 2**20:.1f} MiB"
        )
        print(
            f"{engine}: {phase}: {d['seconds']:.1f} s ({d['cpu_seconds']:.1f} s CPU in the"
            f" process, {d['children_cpu_seconds']:.1f} s in its drawing processes),"
            f" {d['peak_mib']:.0f} MiB peak (drawing processes {d['children_peak_mib']:.0f} MiB);"
            f" {what}",
            flush=True,
        )
    if day is not None:
        print(
            f"{engine}: batch and documents side by side: {day['seconds']:.1f} s"
            f" (batch done after {day['batch_seconds']:.1f} s; {day['cpu_seconds']:.1f} s CPU"
            f" in the process, {day['children_cpu_seconds']:.1f} s drawing),"
            f" {max(day['peak_mib'], day['children_peak_mib']):.0f} MiB peak",
            flush=True,
        )
    documents_s = sum(d["seconds"] for d in docs.values())
    peak = max(
        [run["peak_mib"]] + [max(d["peak_mib"], d["children_peak_mib"]) for d in docs.values()]
    )
    print(
        f"{n} subscriptions: batch {run['seconds']:.1f} s, documents {documents_s:.1f} s,"
        f" total {run['seconds'] + documents_s:.1f} s, {peak:.0f} MiB peak",
        flush=True,
    )
    return run["seconds"] + documents_s, peak


UNDO = [  # what a ship day wrote, so the same day can be made again from the same seed
    "DELETE FROM document_parts",
    f"DELETE FROM lot_allocations WHERE ship_on = {DAY}",
    f"DELETE FROM shipments WHERE ship_on = {DAY}",
    f"DELETE FROM field_runs WHERE ship_on = {DAY}",
    f"DELETE FROM batches WHERE ship_on = {DAY}",
    "UPDATE harvest_lots SET settled_g = 0",
]


async def _undo_day(engine: str, url: str) -> None:
    if engine == "postgres":
        conn = await asyncpg.connect(url)
        try:
            for sql in UNDO:
                await conn.execute(sql)
            await conn.execute("ANALYZE")
        finally:
            await conn.close()
    else:
        conn = sqlite3.connect(url.removeprefix("sqlite://"))
        try:
            for sql in UNDO:
                conn.execute(sql)
            conn.commit()
        finally:
            conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--engine", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument(
        "--subscriptions", type=int, action="append", help="repeat for several sizes"
    )
    parser.add_argument("--profile", action="store_true", help="cProfile of the batch, to stderr")
    parser.add_argument(
        "--keep", action="store_true", help="keep the PostgreSQL database (for EXPLAIN)"
    )
    parser.add_argument("--run-only", metavar="DB_URL", help=argparse.SUPPRESS)
    parser.add_argument("--ship-day", type=date.fromisoformat, help=argparse.SUPPRESS)
    parser.add_argument("--phase", default="batch", help=argparse.SUPPRESS)
    parser.add_argument(
        "--legacy", action="store_true", help="the old one-file packing list and labels"
    )
    parser.add_argument(
        "--overlap", action="store_true", help="also: batch and documents side by side"
    )
    args = parser.parse_args()
    if args.run_only:
        result = asyncio.run(run_only(args.run_only, args.ship_day, args.profile, args.phase))
        print(json.dumps(result))
        return
    for n in sorted(set(args.subscriptions or [10_000, 100_000])):
        asyncio.run(bench(args.engine, n, args.profile, args.legacy, args.overlap, args.keep))


if __name__ == "__main__":
    main()
