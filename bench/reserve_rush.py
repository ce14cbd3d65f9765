"""The first minute of a sale: N buyers at once for the demo's plots, through reserve_plot.

    .venv/bin/python bench/reserve_rush.py [--buyers 2000] [--postgres]

Prints how long the rush took, how many reservations succeeded (never more than the plots),
and the rate of attempts answered per second. SQLite by default (a temporary file); with
--postgres, a temporary database on 127.0.0.1:5432 that is dropped afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
from tortoise import connections

from farm import db
from farm.accounts.models import User
from farm.demo import load_demo
from farm.errors import Conflict
from farm.land import places
from farm.land.models import Plan, PlotClaim
from farm.settings import Settings
from farm.subscriptions.services import reserve_plot

PG = "postgresql://postgres@127.0.0.1:5432/postgres"


async def rush(settings: Settings, buyers: int, concurrency: int) -> None:
    await db.migrate(settings)
    await db.connect(settings)
    try:
        now = datetime.now(UTC)
        await load_demo(today=now.date())
        await User.bulk_create(
            [
                User(email=f"b{i}@bench.cn", name=f"买家{i}", password_hash="x")
                for i in range(buyers)
            ]
        )
        customers = await User.filter(email__endswith="@bench.cn")
        # Only the season under sale: the demo also has a running season, whose paid claims
        # are not this rush's.
        today = now.date()
        plans = await Plan.filter(
            season__sale_starts_on__lte=today, season__sale_ends_on__gt=today
        ).order_by("id")
        seasons = {p.season_id for p in plans}
        before = await PlotClaim.filter(season_id__in=seasons).count()
        gate = asyncio.Semaphore(concurrency)
        won = 0

        async def attempt(i: int, customer: User) -> None:
            nonlocal won
            async with gate:
                try:
                    await reserve_plot(
                        customer=customer, plan_id=plans[i % len(plans)].id, plot_id=None,
                        today=now.date(), now=now, minutes=15,
                    )  # fmt: skip
                    won += 1
                except Conflict:
                    pass

        started = time.perf_counter()
        await asyncio.gather(*(attempt(i, c) for i, c in enumerate(customers)))
        took = time.perf_counter() - started
        plots = sum(p.max_plots for p in plans) - before
        claims = await PlotClaim.filter(season_id__in=seasons).count() - before
        assert won == claims <= plots, (won, claims, plots)
        counted = await places.held(connections.get("default"), [p.id for p in plans])
        for plan in plans:  # no plan over its limit, and its places agree with its claims
            held = await PlotClaim.filter(plan_id=plan.id).count()
            assert held <= plan.max_plots and held == counted[plan.id], (plan.id, held, counted)
        engine = "PostgreSQL" if settings.db_url.startswith("postgres") else "SQLite"
        print(f"{engine}: {buyers} buyers, {concurrency} at a time, for {plots} plots")
        print(f"{won} reserved, none twice; {took:.2f} s, {buyers / took:.0f} attempts/s")
    finally:
        await db.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--buyers", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.postgres:
            name = f"farm_bench_{uuid.uuid4().hex[:8]}"
            admin = await asyncpg.connect(PG)
            await admin.execute(f'CREATE DATABASE "{name}"')
            try:
                url = f"postgres://postgres@127.0.0.1:5432/{name}?maxsize={args.concurrency}"
                await rush(
                    Settings(database_url=url, data_dir=Path(tmp)), args.buyers, args.concurrency
                )
            finally:
                await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
                await admin.close()
        else:
            await rush(Settings(data_dir=Path(tmp)), args.buyers, args.concurrency)


if __name__ == "__main__":
    asyncio.run(main())
