"""farm.sql.insert_columns, the ship day's bulk insert: rows read back as the ORM would have
stored them (enums, dates, aware datetimes, NULLs), on both databases; on PostgreSQL in one
statement that returns the new rows' ids."""

from __future__ import annotations

from datetime import date

import pytest
from tortoise import connections

from farm.shipments.models import Allocation, AllocationState, DiversionReason
from farm.sql import insert_columns, is_postgres
from tests.support import NOW, make_crop, make_lot, make_season


async def two_lots():
    plan = await make_season(plots=1)
    crop = await make_crop((await plan.field).cooperative_id)
    return [
        await make_lot(
            crop, field_id=plan.field_id, plot_id=None, grams=g, harvested_on=date(2026, 11, 1)
        )  # fmt: skip
        for g in (1000, 2000)
    ]


async def test_rows_inserted_by_columns_read_back_as_the_orm_stores_them(conn):
    lots = await two_lots()
    db = connections.get("default")
    returning = ("lot_id", "id") if is_postgres(db) else ()
    made = await insert_columns(
        db,
        Allocation,
        same={"ship_on": date(2026, 11, 16), "note": "", "decided_at": NOW,
              "decided_by_id": None, "subscription_id": None, "shipment_id": None},
        columns={
            "lot_id": [lots[0].id, lots[1].id],
            "grams": [1000, 2000],
            "state": [AllocationState.SHIPPED, AllocationState.DIVERTED],
            "reason": [None, DiversionReason.UNCLAIMED],
        },
        returning=returning,
    )  # fmt: skip
    rows = await Allocation.all().order_by("lot_id")
    assert [(r.lot_id, r.grams, r.state, r.reason) for r in rows] == [
        (lots[0].id, 1000, AllocationState.SHIPPED, None),
        (lots[1].id, 2000, AllocationState.DIVERTED, DiversionReason.UNCLAIMED),
    ]
    assert all(r.decided_at == NOW and r.ship_on == date(2026, 11, 16) for r in rows)
    if is_postgres(db):
        assert sorted(made) == [(r.lot_id, r.id) for r in rows]
    else:
        assert made == []


async def test_columns_of_different_lengths_or_unknown_names_insert_nothing(conn):
    lots = await two_lots()
    db = connections.get("default")
    same = {"ship_on": date(2026, 11, 16), "decided_at": NOW}
    with pytest.raises(ValueError):
        await insert_columns(db, Allocation, same=same,
                             columns={"lot_id": [lots[0].id], "grams": [1, 2]})  # fmt: skip
    with pytest.raises(ValueError):
        await insert_columns(db, Allocation, same=same | {"nope": 1},
                             columns={"lot_id": [lots[0].id], "grams": [1]})  # fmt: skip
    assert not await Allocation.exists()
