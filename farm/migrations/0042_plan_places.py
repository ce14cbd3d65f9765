"""A plan's places counted in 16 rows (plan_places) instead of one counter on the plan's row,
so that a flash sale's buyers of one plan do not all queue for one row lock
(farm/land/places.py). Row s may hold its cap, (max_plots + 15 - s) // 16, and each plan's
claims counted so far are shared out the same way, (held + 15 - s) // 16. From here on
triggers give every new plan its 16 rows (whoever inserts it: the console, a bulk load, COPY)
and, when a plan's max_plots changes (whoever changes it), set the caps again and share the
places held out anew, the rows locked in shard order."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

SHARDS = 16

POSTGRES = """
CREATE FUNCTION plan_places_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO plan_places (plan_id, shard, held, cap)
    SELECT n.id, g, 0, (n.max_plots + 15 - g) / 16 FROM new_rows n, generate_series(0, 15) g;
    RETURN NULL;
END $$;
CREATE TRIGGER plans_placed AFTER INSERT ON plans
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION plan_places_add();
CREATE FUNCTION plan_places_share_out() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    total int;
BEGIN
    SELECT coalesce(sum(held), 0) INTO total FROM (
        SELECT held FROM plan_places WHERE plan_id = NEW.id ORDER BY shard FOR NO KEY UPDATE
    ) locked;
    UPDATE plan_places SET cap = (NEW.max_plots + 15 - shard) / 16,
                           held = (total + 15 - shard) / 16
    WHERE plan_id = NEW.id;
    RETURN NULL;
END $$;
CREATE TRIGGER plans_max_plots_changed AFTER UPDATE OF max_plots ON plans FOR EACH ROW
    WHEN (OLD.max_plots IS DISTINCT FROM NEW.max_plots)
    EXECUTE FUNCTION plan_places_share_out();
"""

SHARD_LIST = ", ".join(f"({n})" for n in range(SHARDS))

# SQLite: one statement each (a script would commit the migration's transaction), and no CTE
# in a trigger: the shards as a VALUES list. One writer at a time: nothing to lock. The
# places' total is an uncorrelated subquery, read once before the rows change.
SQLITE = (
    "CREATE TRIGGER plans_placed AFTER INSERT ON plans BEGIN"
    " INSERT INTO plan_places (plan_id, shard, held, cap)"
    f" SELECT NEW.id, column1, 0, (NEW.max_plots + 15 - column1) / 16 FROM (VALUES {SHARD_LIST});"
    " END",
    "CREATE TRIGGER plans_max_plots_changed AFTER UPDATE OF max_plots ON plans"
    " WHEN OLD.max_plots IS NOT NEW.max_plots BEGIN"
    " UPDATE plan_places SET cap = (NEW.max_plots + 15 - shard) / 16,"
    " held = ((SELECT coalesce(sum(held), 0) FROM plan_places WHERE plan_id = NEW.id)"
    " + 15 - shard) / 16 WHERE plan_id = NEW.id;"
    " END",
)

# The claims counted so far (the plans' `held`), shared out over the shards as max_plots is.
BACKFILL = (
    "INSERT INTO plan_places (plan_id, shard, held, cap) SELECT plans.id, shards.n,"
    " (plans.held + 15 - shards.n) / 16, (plans.max_plots + 15 - shards.n) / 16"
    f" FROM plans, (VALUES {SHARD_LIST}) AS shards (n)"
)
# Undone: the plans' counter from their places.
UNFILL = (
    "UPDATE plans SET held = (SELECT coalesce(sum(held), 0) FROM plan_places"
    " WHERE plan_places.plan_id = plans.id)"
)


async def share_out(apps, schema_editor) -> None:
    client = schema_editor.client
    if client.capabilities.dialect == "postgres":
        await client.execute_query(BACKFILL)
    else:  # SQLite names a VALUES list's column itself
        await client.execute_query(
            BACKFILL.replace(" AS shards (n)", " AS shards").replace("shards.n", "shards.column1")
        )


async def unshare(apps, schema_editor) -> None:
    await schema_editor.client.execute_query(UNFILL)


async def place_plans(apps, schema_editor) -> None:
    client = schema_editor.client
    if client.capabilities.dialect == "postgres":
        await client.execute_script(POSTGRES)
    else:
        for statement in SQLITE:
            await client.execute_query(statement)


async def unplace_plans(apps, schema_editor) -> None:
    client = schema_editor.client
    if client.capabilities.dialect == "postgres":
        await client.execute_script(
            "DROP TRIGGER plans_placed ON plans; DROP FUNCTION plan_places_add();"
            " DROP TRIGGER plans_max_plots_changed ON plans;"
            " DROP FUNCTION plan_places_share_out();"
        )
    else:
        await client.execute_query("DROP TRIGGER plans_placed")
        await client.execute_query("DROP TRIGGER plans_max_plots_changed")


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

    async def database_backward(self, app_label, old_state, new_state, state_editor=None):
        if state_editor is not None and state_editor.client.capabilities.dialect == "sqlite":
            await state_editor.client.execute_query(
                'ALTER TABLE "plans" ADD COLUMN "held" INT NOT NULL DEFAULT 0'
            )
            return
        await super().database_backward(app_label, old_state, new_state, state_editor)


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
                ('cap', fields.IntField()),
            ],
            options={'table': 'plan_places', 'app': 'farm', 'unique_together': (('plan', 'shard'),), 'pk_attr': 'id', 'table_description': "One of the 16 rows that count a plan's claims, so that its buyers do not queue for one."},
            bases=['Model'],
        ),
        ops.RunPython(share_out, unshare),
        DropHeld(model_name='Plan', name='held'),
        ops.RunPython(place_plans, unplace_plans),
    ]
