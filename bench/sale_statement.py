"""The flash sale's reservation statement alone on PostgreSQL, without HTTP or Python: what the
database itself can do, and what the plan's counter row costs.

    .venv/bin/python bench/sale_statement.py [--clients 32] [--each 100] [--rounds 3]

Seeds a temporary PostgreSQL database (127.0.0.1:5432, dropped afterwards) as bench/sale.py
does, with one field of 4,650 one-fen plots under one plan (Jutudi's sale: every buyer wants
the same plan), then drives it with `pgbench` (prepared statements, `--clients` connections,
`--each` reservations per connection, every buyer a different customer and plot), a fresh copy
of the seeded database for every run:

- **reservation**: farm/subscriptions/claims.py's statement, as the route runs it ("reserve
  this plot"): the buyer checked, one of the plan's 16 place rows taken (farm/land/places.py:
  a row nobody else is updating, SKIP LOCKED, else wait for one), the subscription and its
  claim inserted, one statement committed asynchronously;
- **one counter row**: the same with every claim of the plan counted in one row (the app's
  design until migration 0042, here in a table of its own that nothing references);
- **without the counter**: the place read, not taken. Not a way the app may run
  (`max_plots` unguarded): the most the statement could do without any counter;
- **yardstick**: bench/yardstick.py's statement (mark one plot row held).

The counter row's table is made by this bench only, to measure; the app has none.
Prints reservations/s and mean latency per run and the median of each against the
yardstick, then checks every run's database: each buyer one claim, no plot twice, and every
claim counted by the kind's counter.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import uuid
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import asyncpg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import sale  # noqa: E402
from bench.yardstick import HOLD_CHOSEN  # noqa: E402
from farm import db  # noqa: E402
from farm.settings import Settings  # noqa: E402
from farm.subscriptions import claims  # noqa: E402

# Each transaction draws its buyer and plot first (the same extra round trip for every kind).
DRAW = (
    "\\set shard random(0, 15)\n"
    "SELECT nextval('bench_buyer') AS buyer, nextval('bench_plot') AS plot \\gset\n"
)

# The app's statement takes one of the plan's 16 place rows (farm/land/places.py): its
# `place_free`, `place_wait` and `place` steps. The other kinds replace those steps.
APP_PLACE = re.compile(r"place_free AS \(.*?\), sub AS \(", re.S)
# The counter of every claim of the plan in one row (the app's design until migration 0042,
# there on the plans row itself; here in a table of its own that nothing references): every
# buyer of the plan queues for it.
PLACE_ONE_ROW = """place AS (
    UPDATE plan_counters c SET held = c.held + 1 FROM plans pl
    WHERE c.plan_id = $1 AND pl.id = c.plan_id AND c.held < pl.max_plots
      AND EXISTS (SELECT 1 FROM plot)
    RETURNING pl.id
), sub AS ("""
# Not a way the app may run (max_plots unguarded): the plan's place read, not taken.
PLACE_READ = """place AS (
    SELECT id FROM plans WHERE id = $1 AND EXISTS (SELECT 1 FROM plot)
), sub AS ("""
KINDS = {  # the steps that take a place (None: the app's), and what counts the claims
    "reservation": (None, "SELECT sum(held) FROM plan_places WHERE plan_id = 1"),
    "one counter row": (PLACE_ONE_ROW, "SELECT held FROM plan_counters WHERE plan_id = 1"),
    "without the counter": (PLACE_READ, None),
}
TABLES = """
CREATE SEQUENCE bench_buyer;
CREATE SEQUENCE bench_plot;
CREATE TABLE plan_counters (plan_id int PRIMARY KEY, held int NOT NULL);
INSERT INTO plan_counters SELECT id, 0 FROM plans;
"""


def reservation_script(place: str | None) -> str:
    """The route's statement (farm/subscriptions/claims.py, "reserve this plot") with
    pgbench's variables for its parameters: no address limit, no relapse, the buyer given
    rather than found by session (an index probe); `place` instead of the app's place steps."""
    sql = claims._RESERVE_CHOSEN
    assert APP_PLACE.search(sql), "the reservation's place steps moved: update this bench"
    if place is not None:
        sql = APP_PLACE.sub(lambda _m: place, sql)
    values = {
        1: "1", 2: "current_date", 3: ":plot::int", 4: ":buyer::int", 5: "40", 6: "now()",
        7: "now() + interval '15 minutes'", 8: "'{}'::int[]", 9: "NULL::text", 10: "false",
        11: "now() - interval '30 minutes'", 12: "''", 13: "''", 14: "now()", 15: "0",
        16: ":shard",
    }  # fmt: skip
    sql = re.sub(r"\$(\d+)", lambda m: values[int(m.group(1))], sql)
    one_line = " ".join(line.split("--")[0].strip() for line in sql.splitlines())
    return DRAW + one_line + ";\n"


def yardstick_script() -> str:
    sql = HOLD_CHOSEN.replace("$1", "1").replace("$2", ":plot").replace("$3", ":buyer")
    return DRAW + sql + ";\n"


def pgbench(dsn_db: str, script: Path, clients: int, each: int) -> tuple[float, float]:
    done = subprocess.run(
        ["pgbench", "-h", "127.0.0.1", "-U", "postgres", "-n", "-M", "prepared",
         "-c", str(clients), "-j", "2", "-t", str(each), "-f", str(script), dsn_db],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode:
        raise SystemExit(f"pgbench failed ({script.read_text()[:200]}...):\n{done.stderr[-2000:]}")
    out = done.stdout
    tps = float(re.search(r"tps = ([\d.]+)", out).group(1))  # type: ignore[union-attr]
    latency = float(re.search(r"latency average = ([\d.]+) ms", out).group(1))  # type: ignore[union-attr]
    return tps, latency


async def check(dsn: str, kind: str, buyers: int) -> str | None:
    """Every buyer got a plot (a reservation each), no plot twice, every claim counted."""
    conn = await asyncpg.connect(dsn)
    try:
        if kind == "yardstick":
            held = await conn.fetchval("SELECT count(*) FROM yard_plots WHERE buyer IS NOT NULL")
            return None if held == buyers else f"yardstick: {held} held of {buyers}"
        claims_, plots = await conn.fetchrow(
            "SELECT count(*), count(DISTINCT plot_id) FROM plot_claims WHERE season_id = 1"
        )
        if not claims_ == plots == buyers:
            return f"{kind}: {claims_} claims on {plots} plots for {buyers} buyers"
        counted = KINDS[kind][1]
        held = await conn.fetchval(counted) if counted else claims_
        if held != claims_:
            return f"{kind}: {held} counted but {claims_} claims"
        return None
    finally:
        await conn.close()


async def run(args: argparse.Namespace) -> int:
    if shutil.which("pgbench") is None:
        print("pgbench is not installed (Debian: postgresql-client)")
        return 2
    template = f"sale_statement_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(f"{sale.PG}/postgres")
    await admin.execute(f'CREATE DATABASE "{template}"')
    problems: list[str] = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            dsn = f"{sale.PG}/{template}"
            await db.migrate(Settings(database_url=dsn.replace("postgresql", "postgres"),
                                      data_dir=Path(tmp)))  # fmt: skip
            await db.close()
            buyers = args.clients * args.each
            if buyers > sale.PLOTS_PER_FIELD:
                print(f"--clients x --each is at most {sale.PLOTS_PER_FIELD} (one plot each)")
                return 2
            today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
            await sale.seed(dsn, fields=1, customers=buyers, today=today, history=args.history)
            conn = await asyncpg.connect(dsn)
            await conn.execute(TABLES)
            await conn.close()
            scripts = {kind: reservation_script(place) for kind, (place, _n) in KINDS.items()}
            scripts["yardstick"] = yardstick_script()
            rates: dict[str, list[float]] = {kind: [] for kind in scripts}
            print(f"1 plan of {sale.PLOTS_PER_FIELD} plots, {args.clients} connections, "
                  f"{buyers} reservations a run\n")  # fmt: skip
            print(f"{'round':>5}  {'kind':22}{'reservations/s':>16}{'mean ms':>10}")
            for round_ in range(1, args.rounds + 1):
                for kind, text in scripts.items():
                    copy = f"{template}_run"
                    await admin.execute(f'CREATE DATABASE "{copy}" TEMPLATE "{template}"')
                    try:
                        script = Path(tmp) / "script.sql"
                        script.write_text(text)
                        tps, latency = await asyncio.to_thread(
                            pgbench, copy, script, args.clients, args.each
                        )
                        problem = await check(f"{sale.PG}/{copy}", kind, buyers)
                        if problem:
                            problems.append(problem)
                    finally:
                        await admin.execute(f'DROP DATABASE "{copy}" WITH (FORCE)')
                    rates[kind].append(tps)
                    print(f"{round_:>5}  {kind:22}{tps:16.0f}{latency:10.1f}")
            yard = statistics.median(rates["yardstick"])
            print()
            for kind, values in rates.items():
                median = statistics.median(values)
                print(f"median {kind:22}{median:9.0f} reservations/s  "
                      f"{median / yard:5.2f}x the yardstick")  # fmt: skip
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)')
        await admin.close()
    if problems:
        print("FAILED: " + "; ".join(problems))
        return 1
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--each", type=int, default=100, help="reservations per connection")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--history", type=int, default=100_000,
        help="completed subscriptions of earlier seasons already in the database",
    )  # fmt: skip
    sys.exit(asyncio.run(run(parser.parse_args())))


if __name__ == "__main__":
    main()
