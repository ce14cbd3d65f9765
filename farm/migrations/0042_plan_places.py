"""A plan's places counted in 16 rows (plan_places) instead of one counter on the plan's row,
so that a flash sale's buyers of one plan do not all queue for one row lock
(farm/land/places.py). Each plan's claims counted so far are shared out as the places are:
shard s takes (held + 15 - s) // 16. From here on a trigger gives every new plan its 16 rows,
whoever inserts it (the console, a bulk load, COPY)."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

SHARDS = 16

# PostgreSQL: one grouped insert per statement that inserts plans (a transition table).
POSTGRES = """
CREATE FUNCTION plan_places_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO plan_places (plan_id, shard, held)
    SELECT n.id, g, 0 FROM new_rows n, generate_series(0, 15) g;
    RETURN NULL;
END $$;
CREATE TRIGGER plans_placed AFTER INSERT ON plans
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION plan_places_add();
"""

# SQLite: one statement (a script would commit the migration's transaction), and no CTE in a
# trigger: the shards as a VALUES list.
SQLITE = (
    "CREATE TRIGGER plans_placed AFTER INSERT ON plans BEGIN"
    " INSERT INTO plan_places (plan_id, shard, held) SELECT NEW.id, column1, 0 FROM (VALUES "
    + ", ".join(f"({n})" for n in range(SHARDS))
    + "); END"
)

# The claims counted so far (the plans' `held`), shared out over the shards as max_plots is.
BACKFILL = (
    "INSERT INTO plan_places (plan_id, shard, held) SELECT plans.id, shards.n,"
    " (plans.held + 15 - shards.n) / 16 FROM plans, (VALUES "
    + ", ".join(f"({n})" for n in range(SHARDS))
    + ") AS shards (n)"
)


async def share_out(apps, schema_editor) -> None:
    client = schema_editor.client
    if client.capabilities.dialect == "postgres":
        await client.execute_query(BACKFILL)
    else:  # SQLite names a VALUES list's column itself
        await client.execute_query(
            BACKFILL.replace(" AS shards (n)", " AS shards").replace("shards.n", "shards.column1")
        )


async def place_plans(apps, schema_editor) -> None:
    client = schema_editor.client
    if client.capabilities.dialect == "postgres":
        await client.execute_script(POSTGRES)
    else:
        await client.execute_query(SQLITE)


async def unplace_plans(apps, schema_editor) -> None:
    client = schema_editor.client
    if client.capabilities.dialect == "postgres":
        await client.execute_script(
            "DROP TRIGGER plans_placed ON plans; DROP FUNCTION plan_places_add();"
        )
    else:
        await client.execute_query("DROP TRIGGER plans_placed")


class DropHeld(ops.RemoveField):
    """plans.held dropped in place. Tortoise drops a column on SQLite by copying the table and
    dropping the old one, and with foreign keys on that DROP deletes every row referencing a
    plan (its perks, its new places) or fails on its subscriptions: SQLite (3.35 on) can drop
    this column itself."""

    async def database_forward(self, app_label, old_state, new_state, state_editor=None):
        if state_editor is not None and state_editor.client.capabilities.dialect == "sqlite":
            await state_editor.client.execute_query('ALTER TABLE "plans" DROP COLUMN "held"')
            return
        await super().database_forward(app_label, old_state, new_state, state_editor)


class Migration(migrations.Migration):
    dependencies = [('farm', '0041_transfer_rent')]

    initial = False

    operations = [
        ops.CreateModel(
            name='PlanPlace',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('plan', fields.ForeignKeyField('farm.Plan', source_field='plan_id', db_constraint=True, to_field='id', related_name='places', on_delete=OnDelete.CASCADE)),
                ('shard', fields.SmallIntField()),
                ('held', fields.IntField(default=0)),
            ],
            options={'table': 'plan_places', 'app': 'farm', 'unique_together': (('plan', 'shard'),), 'pk_attr': 'id', 'table_description': "One of the 16 rows that count a plan's claims, so that its buyers do not queue for one."},
            bases=['Model'],
        ),
        ops.RunPython(share_out, ops.RunPython.noop),
        DropHeld(model_name='Plan', name='held'),
        ops.RunPython(place_plans, unplace_plans),
    ]
