"""A database made by the migrations has every index and unique constraint the models declare,
on SQLite too. Tortoise changes a column on SQLite by making the table again, with only its
single-column UNIQUE constraints: migrations 0031-0033 left SQLite without shipments' unique
(subscription, ship_on) and the indexes of three more tables until 0043.

In a process of its own (the migrations and the models' schema make their own connections),
on SQLite files of its own."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys

import pytest

from tests import support

SCRIPT = r"""
import asyncio, json, sqlite3, sys
from pathlib import Path
from tortoise import Tortoise
from farm import db
from farm.settings import Settings

def indexes(path):
    found = set()
    with sqlite3.connect(path) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            for _seq, name, unique, origin, partial in conn.execute(f"PRAGMA index_list('{table}')"):
                if origin == "pk" or partial:
                    continue
                columns = [r[2] for r in conn.execute(f"PRAGMA index_info('{name}')")]
                found.add((table, ",".join(columns), bool(unique)))
    return found

async def main(folder):
    folder = Path(folder)
    await db.migrate(Settings(database_url=f"sqlite://{folder / 'migrated.sqlite3'}",
                              data_dir=folder))
    config = db.tortoise_config(f"sqlite://{folder / 'declared.sqlite3'}")
    await Tortoise.init(config=config)
    await Tortoise.generate_schemas()
    await Tortoise.close_connections()
    migrated, declared = indexes(folder / "migrated.sqlite3"), indexes(folder / "declared.sqlite3")
    print(json.dumps(sorted(declared - migrated)))

asyncio.run(main(sys.argv[1]))
"""


def test_the_migrated_sqlite_schema_has_every_index_the_models_declare(tmp_path):
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path)], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    missing = json.loads(done.stdout.strip().splitlines()[-1])
    assert missing == []


REMADE = r"""
import asyncio, sys
from datetime import date
from pathlib import Path
from tortoise import Tortoise, connections
from tortoise.migrations.schema_editor import SqliteSchemaEditor
from farm import db
from farm.land.models import CareMode, Cooperative, Field, Plan, Season
from farm.settings import Settings

async def main(folder, config):
    url = f"sqlite://{Path(folder) / 'remade.sqlite3'}"
    await db.migrate(Settings(database_url=url, data_dir=Path(folder)))
    await Tortoise.init(config=db.tortoise_config(url))
    coop = await Cooperative.create(name="c", name_en="c", village="v", province="p")
    field = await Field.create(name="f", width_m=10, height_m=10, cooperative=coop)
    season = await Season.create(
        name="s", name_en="s", starts_on=date(2027, 1, 1), ends_on=date(2028, 1, 1),
        sale_starts_on=date(2026, 11, 1), sale_ends_on=date(2027, 1, 1),
        ship_days_of_month="1,16", cutoff_days=2, cooperative=coop,
    )
    await Plan.create(name="p", plot_area_m2=1, care_mode=CareMode.MANAGED, price_fen=1,
                      max_plots=16, field=field, season=season)
    await Tortoise.close_connections()
    # The plans table made again as a migration changing one of its columns would make it.
    await Tortoise.init(config=getattr(db, config)(url))
    conn = connections.get("default")
    await SqliteSchemaEditor(conn)._remake_table(Plan)
    rows = await conn.execute_query_dict("SELECT count(*) AS n FROM plan_places")
    await Tortoise.close_connections()
    print(rows[0]["n"])

asyncio.run(main(sys.argv[1], sys.argv[2]))
"""


def test_a_table_made_again_while_migrating_on_sqlite_keeps_the_rows_that_reference_it(
    tmp_path,
):
    """A plan's 16 place rows reference it ON DELETE CASCADE. Made again with the connection
    the app serves with (foreign keys on), dropping the old plans table deletes them all; with
    the one migrations run with, they stay."""
    counts = {}
    for config in ("migration_config", "tortoise_config"):
        done = subprocess.run(
            [sys.executable, "-c", REMADE, str(tmp_path / config), config],
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-3000:]
        counts[config] = int(done.stdout.strip().splitlines()[-1])
    assert counts == {"migration_config": 16, "tortoise_config": 0}


PARITY = r"""
import asyncio, json, sys
from pathlib import Path
from tortoise import connections
from farm import db
from farm.settings import Settings

async def main(pg_url, folder):
    await db.migrate(Settings(database_url=pg_url, data_dir=Path(folder)))
    await db.migrate(Settings(database_url=f"sqlite://{Path(folder) / 'f.sqlite3'}",
                              data_dir=Path(folder)))
    from tortoise import Tortoise
    await Tortoise.init(config=db.tortoise_config(pg_url))
    conn = connections.get("default")
    indexes = await conn.execute_query_dict(
        "SELECT t.relname AS tbl, i.indisunique AS uniq, i.indpred IS NOT NULL AS partial,"
        " array_to_string(array_agg(a.attname ORDER BY k.n), ',') AS cols"
        " FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid"
        " JOIN pg_namespace ns ON ns.oid = t.relnamespace AND ns.nspname = 'public'"
        " CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY k(attnum, n)"
        " JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum"
        " WHERE NOT i.indisprimary GROUP BY i.indexrelid, t.relname, i.indisunique, i.indpred"
    )
    triggers = await conn.execute_query_dict(
        "SELECT tgname AS name FROM pg_trigger WHERE NOT tgisinternal"
    )
    await Tortoise.close_connections()
    print(json.dumps({
        "indexes": sorted([r["tbl"], r["cols"], r["uniq"], r["partial"]] for r in indexes),
        "triggers": sorted(r["name"] for r in triggers),
    }))

asyncio.run(main(sys.argv[1], sys.argv[2]))
"""


def sqlite_schema(path) -> tuple[set, set]:
    indexes, triggers = set(), set()
    with sqlite3.connect(path) as conn:
        for (table,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'"):
            for _seq, name, unique, origin, partial in conn.execute(
                f"PRAGMA index_list('{table}')"
            ):
                if origin == "pk":
                    continue
                columns = ",".join(r[2] for r in conn.execute(f"PRAGMA index_info('{name}')"))
                indexes.add((table, columns, bool(unique), bool(partial)))
        for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'"):
            triggers.add(name)
    return indexes, triggers


@pytest.mark.postgres
def test_sqlite_and_postgresql_migrate_to_the_same_indexes_and_triggers(tmp_path):
    """Partial indexes and triggers the migrations make in SQL (one unpaid reservation per
    family, a plan's place rows...) are not in the models: the two databases are compared."""
    database = support.new_database(tmp_path)
    database.create()
    try:
        done = subprocess.run(
            [sys.executable, "-c", PARITY, database.url.split("?")[0], str(tmp_path)],
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
    finally:
        database.drop()
    assert done.returncode == 0, done.stderr[-3000:]
    pg = json.loads(done.stdout.strip().splitlines()[-1])
    indexes, triggers = sqlite_schema(tmp_path / "f.sqlite3")
    assert {tuple(i) for i in pg["indexes"]} - indexes == set()
    assert set(pg["triggers"]) == triggers


DUPLICATED = r"""
import asyncio, sqlite3, sys
from pathlib import Path
from tortoise import connections
from tortoise.migrations.api import migrate
from farm import db
from farm.settings import Settings

async def main(folder):
    path = Path(folder) / "dup.sqlite3"
    await migrate(config=db.migration_config(f"sqlite://{path}"), target="farm.0042_plan_places")
    await connections.close_all()
    with sqlite3.connect(path) as conn:  # two boxes of one family on one ship day
        conn.execute("PRAGMA foreign_keys = OFF")
        for _ in range(2):
            conn.execute(
                "INSERT INTO shipments (batch_id, subscription_id, ship_on, status, recipient,"
                " phone, province, city, address, transit_days, courier, tracking_no,"
                " created_at) VALUES (1, 7, '2027-01-16', 'created', '', '', '', '', '', 1,"
                " '', '', '2027-01-14 08:00:00')"
            )
    try:
        await db.migrate(Settings(database_url=f"sqlite://{path}", data_dir=Path(folder)))
    except Exception as exc:
        print(type(exc).__name__, exc)

asyncio.run(main(sys.argv[1]))
"""


def test_migrating_an_sqlite_database_with_two_boxes_of_a_family_on_a_day_names_them(tmp_path):
    """SQLite lost shipments' unique (subscription, ship_on) in 0031-0033, so a database may
    hold rows 0043's index would refuse: the migration stops saying which rows and what to do,
    not with a bare 'UNIQUE constraint failed'."""
    done = subprocess.run(
        [sys.executable, "-c", DUPLICATED, str(tmp_path)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    said = done.stdout.strip().splitlines()[-1]
    assert said.startswith("RuntimeError migration 0043"), said
    assert "'subscription_id': 7, 'ship_on': '2027-01-16', 'ids': '1,2'" in said
    assert "farm migrate" in said
