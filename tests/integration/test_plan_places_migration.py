"""Migration 0042 shares each plan's claims counted so far out over its 16 place rows, and from
then on the database gives every new plan its rows, on SQLite and PostgreSQL.

The migrations run in a process of their own (they make their own connections), on a database
of their own."""

from __future__ import annotations

import json
import subprocess
import sys

from tests import support

SCRIPT = r"""
import asyncio, json, sys
from datetime import date
from tortoise import Tortoise, connections
from tortoise.migrations.api import migrate
from farm.db import tortoise_config
from farm.land.models import CareMode, Cooperative, Field, Plan, Season

async def main(url):
    config = tortoise_config(url)
    await migrate(config=config, target="farm.0041_transfer_rent")
    await connections.close_all()
    await Tortoise.init(config=config)
    coop = await Cooperative.create(name="c", name_en="c", village="v", province="p")
    field = await Field.create(name="f", width_m=10, height_m=10, cooperative=coop)
    season = await Season.create(
        name="s", name_en="s", starts_on=date(2027, 1, 1), ends_on=date(2028, 1, 1),
        sale_starts_on=date(2026, 11, 1), sale_ends_on=date(2027, 1, 1),
        ship_days_of_month="1,16", cutoff_days=2, cooperative=coop,
    )
    conn = connections.get("default")
    mark = (lambda n: f"${n}") if "postgres" in url else (lambda n: "?")
    for held, max_plots in ((0, 5), (7, 10), (40, 40), (3, 100)):
        await conn.execute_query(
            "INSERT INTO plans (name, name_en, plot_area_m2, care_mode, crop_plan, crop_plan_en,"
            " price_fen, max_plots, held, field_id, season_id) VALUES ('p', 'p', '66.67',"
            f" 'managed', '', '', 1, {mark(1)}, {mark(2)}, {mark(3)}, {mark(4)})",
            [max_plots, held, field.id, season.id],
        )
    await Tortoise.close_connections()
    await migrate(config=config)
    await connections.close_all()
    await Tortoise.init(config=config)
    await Plan.create(
        name="new", plot_area_m2=1, care_mode=CareMode.MANAGED, price_fen=1, max_plots=33,
        field=field, season=season,
    )
    # Offering fewer: its caps follow, and what it holds is shared out again.
    await Plan.filter(max_plots=100).update(max_plots=8)
    rows = await connections.get("default").execute_query_dict(
        "SELECT pl.max_plots, s.shard, s.held, s.cap FROM plan_places s JOIN plans pl"
        " ON pl.id = s.plan_id ORDER BY pl.id, s.shard"
    )
    await Tortoise.close_connections()
    # Undone: each plan's counter holds what its places held.
    await migrate(config=config, target="farm.0041_transfer_rent")
    await connections.close_all()
    await Tortoise.init(config=config)
    undone = await connections.get("default").execute_query_dict(
        "SELECT max_plots, held FROM plans ORDER BY id"
    )
    await Tortoise.close_connections()
    print(json.dumps([[r["max_plots"], r["shard"], r["held"], r["cap"]] for r in rows]))
    print(json.dumps([[r["max_plots"], r["held"]] for r in undone]))

asyncio.run(main(sys.argv[1]))
"""


def test_each_plans_count_is_shared_out_over_its_16_places_and_new_plans_get_theirs(tmp_path):
    """Also: a plan's new max_plots sets its rows' caps and shares its places out again, and
    undoing the migration gives each plan's counter back what its places held."""
    database = support.new_database(tmp_path)
    database.create()
    try:
        done = subprocess.run(
            [sys.executable, "-c", SCRIPT, database.url],
            capture_output=True, text=True, timeout=600, check=False,
        )  # fmt: skip
    finally:
        database.drop()
    assert done.returncode == 0, done.stderr[-3000:]
    rows = json.loads(done.stdout.strip().splitlines()[-2])
    undone = json.loads(done.stdout.strip().splitlines()[-1])
    by_plan: dict[int, list[tuple[int, int, int]]] = {}
    for max_plots, shard, held, cap in rows:
        by_plan.setdefault(max_plots, []).append((shard, held, cap))
    expected_held = {5: 0, 10: 7, 40: 40, 8: 3, 33: 0}
    assert set(by_plan) == set(expected_held)
    for max_plots, shards in by_plan.items():
        assert [s for s, _h, _c in shards] == list(range(16))  # 16 rows, one per shard
        assert sum(h for _s, h, _c in shards) == expected_held[max_plots]
        # Each row's cap its share of max_plots, and each within it, so the rows' room is
        # the plan's room.
        assert [c for _s, _h, c in shards] == [(max_plots + 15 - s) // 16 for s in range(16)]
        assert all(h <= c for _s, h, c in shards)
    assert undone == [[5, 0], [10, 7], [40, 40], [8, 3], [33, 0]]
