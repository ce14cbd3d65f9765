"""Indexes that SQLite databases lost: tortoise changes a column on SQLite by making the table
again (copy, drop, rename), and the new table has only its single-column UNIQUE constraints.
So migrations 0031-0033 left SQLite without the declared indexes of `refunds`, `corrections`,
`shipments` and `lot_allocations`: among them shipments' unique (subscription, ship_on), one box
per family and ship day. PostgreSQL altered those tables in place and has them all (the same
names: there this changes nothing).

A unique index cannot be made over rows it would refuse: SQLite kept no one from writing them
meanwhile, so those are looked for first and named, with what to do, instead of a bare
"UNIQUE constraint failed" halfway through."""

from tortoise import migrations
from tortoise.migrations import operations as ops

INDEXES = (
    "CREATE INDEX IF NOT EXISTS idx_corrections_coopera_088a23 "
    "ON corrections (cooperative_id, day)",
    "CREATE INDEX IF NOT EXISTS idx_corrections_kind_9ed54e ON corrections (kind, record_id)",
    "CREATE INDEX IF NOT EXISTS idx_lot_allocat_lot_id_0cd4b9 ON lot_allocations (lot_id)",
    "CREATE INDEX IF NOT EXISTS idx_lot_allocat_ship_on_c2b596 ON lot_allocations (ship_on)",
    "CREATE INDEX IF NOT EXISTS idx_lot_allocat_shipmen_fe89db ON lot_allocations (shipment_id)",
    "CREATE INDEX IF NOT EXISTS idx_lot_allocat_subscri_f3e537 "
    "ON lot_allocations (subscription_id, state)",
    "CREATE INDEX IF NOT EXISTS idx_refunds_payment_be89ac ON refunds (payment_id, created_at)",
    "CREATE INDEX IF NOT EXISTS idx_refunds_status_775e4d ON refunds (status, updated_at)",
    "CREATE UNIQUE INDEX IF NOT EXISTS refunds_retry_of_id_key ON refunds (retry_of_id)",
    "CREATE INDEX IF NOT EXISTS idx_shipments_batch_i_2d5a0d ON shipments (batch_id, status)",
    "CREATE UNIQUE INDEX IF NOT EXISTS uid_shipments_subscri_36df6d "
    "ON shipments (subscription_id, ship_on)",
)

# What the unique indexes would refuse: (what, the query that lists it).
DUPLICATES = (
    (
        "shipments with the same (subscription_id, ship_on), one box per family and ship day",
        "SELECT subscription_id, ship_on, group_concat(id) AS ids FROM shipments "
        "GROUP BY subscription_id, ship_on HAVING count(*) > 1",
    ),
    (
        "refunds retrying the same refund (retry_of_id)",
        "SELECT retry_of_id, group_concat(id) AS ids FROM refunds "
        "WHERE retry_of_id IS NOT NULL GROUP BY retry_of_id HAVING count(*) > 1",
    ),
)


async def forward(apps, schema_editor) -> None:
    if schema_editor.client.capabilities.dialect == "postgres":
        return  # altered in place: it has every one
    for what, sql in DUPLICATES:
        found = await schema_editor.client.execute_query_dict(sql)
        if found:
            raise RuntimeError(
                f"migration 0043 cannot restore a unique index: this SQLite database holds "
                f"{what}: {[dict(row) for row in found[:20]]}. Keep one row of each (the rest "
                f"may be referenced: lot_allocations.shipment_id, refunds.retry_of_id), delete "
                f"or correct the others by hand, then run `farm migrate` again."
            )
    for sql in INDEXES:
        await schema_editor.client.execute_script(sql)


async def backward(apps, schema_editor) -> None:
    """Nothing: the indexes belong to the schema the earlier migrations declared."""


class Migration(migrations.Migration):
    dependencies = [('farm', '0042_plan_places')]

    initial = False

    operations = [
        ops.RunPython(forward, backward),
    ]
