"""A household's transfers of a field follow one another (land given back or resized ends one
and starts the next), so they are unique per (household, field, starts_on) instead of per
(household, field). SQLite keeps a table's UNIQUE constraint inside the table, so there the
table is made again, with a unique index; PostgreSQL drops the old constraint and adds the
new one."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.migrations.constraints import UniqueConstraint

OLD = ("household", "field")
NEW = ("household", "field", "starts_on")


async def _unique(apps, schema_editor, drop: tuple[str, ...], add: tuple[str, ...]) -> None:
    model = apps.get_model("farm", "LandTransfer")  # already with the `add` unique_together
    client = schema_editor.client
    if client.capabilities.dialect != "postgres":  # made again without any unique pair
        await schema_editor._remake_table(model)
        await schema_editor.add_constraint(model, UniqueConstraint(fields=add))
        return
    columns = [f"{name}_id" if name in ("household", "field") else name for name in drop]
    _, rows = await client.execute_query(
        "SELECT c.conname FROM pg_constraint c WHERE c.conrelid = 'land_transfers'::regclass"
        " AND c.contype = 'u' AND (SELECT array_agg(a.attname::text ORDER BY a.attname)"
        " FROM pg_attribute a WHERE a.attrelid = c.conrelid AND a.attnum = ANY(c.conkey))"
        " = $1::text[]",
        [sorted(columns)],
    )
    for row in rows:
        await client.execute_script(f'ALTER TABLE land_transfers DROP CONSTRAINT "{row["conname"]}"')
    await schema_editor.add_constraint(model, UniqueConstraint(fields=add))


async def forward(apps, schema_editor) -> None:
    await _unique(apps, schema_editor, OLD, NEW)


async def backward(apps, schema_editor) -> None:
    await _unique(apps, schema_editor, NEW, OLD)


class Migration(migrations.Migration):
    dependencies = [('farm', '0038_settlements')]

    initial = False

    operations = [
        ops.AlterModelOptions(
            name='LandTransfer',
            options={'table': 'land_transfers', 'app': 'farm', 'unique_together': (NEW,), 'pk_attr': 'id', 'table_description': 'Land a household transferred: so many m² of a field, from starts_on (included) until'},
        ),
        ops.RunPython(forward, backward),
    ]
