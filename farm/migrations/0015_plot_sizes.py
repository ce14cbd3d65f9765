from tortoise import migrations
from tortoise.migrations import operations as ops
from farm.payments.models import RefundReason
from tortoise.fields.base import OnDelete
from tortoise import fields

# PostgreSQL: one grouped statement per insert, delete or update of plots (transition
# tables), so a COPY of 4,650 plots is one upsert per size, not one per plot.
POSTGRES = """
CREATE FUNCTION plot_sizes_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO plot_sizes (field_id, area_m2, plots)
    SELECT field_id, area_m2, COUNT(*) FROM new_rows GROUP BY field_id, area_m2
    ON CONFLICT (field_id, area_m2) DO UPDATE SET plots = plot_sizes.plots + excluded.plots;
    RETURN NULL;
END $$;
CREATE FUNCTION plot_sizes_remove() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE plot_sizes s SET plots = s.plots - gone.n
    FROM (SELECT field_id, area_m2, COUNT(*) AS n FROM old_rows GROUP BY field_id, area_m2) gone
    WHERE s.field_id = gone.field_id AND s.area_m2 = gone.area_m2;
    RETURN NULL;
END $$;
CREATE FUNCTION plot_sizes_move() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE plot_sizes s SET plots = s.plots - gone.n
    FROM (SELECT field_id, area_m2, COUNT(*) AS n FROM old_rows GROUP BY field_id, area_m2) gone
    WHERE s.field_id = gone.field_id AND s.area_m2 = gone.area_m2;
    INSERT INTO plot_sizes (field_id, area_m2, plots)
    SELECT field_id, area_m2, COUNT(*) FROM new_rows GROUP BY field_id, area_m2
    ON CONFLICT (field_id, area_m2) DO UPDATE SET plots = plot_sizes.plots + excluded.plots;
    RETURN NULL;
END $$;
CREATE TRIGGER plots_counted_in AFTER INSERT ON plots
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION plot_sizes_add();
CREATE TRIGGER plots_counted_out AFTER DELETE ON plots
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION plot_sizes_remove();
CREATE TRIGGER plots_counted_moved AFTER UPDATE ON plots
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION plot_sizes_move();
"""

# SQLite: one statement per trigger (a script would commit the migration's transaction).
SQLITE = (
    """CREATE TRIGGER plots_counted_in AFTER INSERT ON plots BEGIN
    INSERT INTO plot_sizes (field_id, area_m2, plots) VALUES (NEW.field_id, NEW.area_m2, 1)
    ON CONFLICT (field_id, area_m2) DO UPDATE SET plots = plots + 1;
END""",
    """CREATE TRIGGER plots_counted_out AFTER DELETE ON plots BEGIN
    UPDATE plot_sizes SET plots = plots - 1
    WHERE field_id = OLD.field_id AND area_m2 = OLD.area_m2;
END""",
    """CREATE TRIGGER plots_counted_moved AFTER UPDATE OF field_id, area_m2 ON plots BEGIN
    UPDATE plot_sizes SET plots = plots - 1
    WHERE field_id = OLD.field_id AND area_m2 = OLD.area_m2;
    INSERT INTO plot_sizes (field_id, area_m2, plots) VALUES (NEW.field_id, NEW.area_m2, 1)
    ON CONFLICT (field_id, area_m2) DO UPDATE SET plots = plots + 1;
END""",
)

DROP = (
    "DROP TRIGGER plots_counted_in ON plots; DROP TRIGGER plots_counted_out ON plots;"
    " DROP TRIGGER plots_counted_moved ON plots; DROP FUNCTION plot_sizes_add();"
    " DROP FUNCTION plot_sizes_remove(); DROP FUNCTION plot_sizes_move();"
)


async def count_plots(apps, schema_editor) -> None:
    client = schema_editor.client
    if client.capabilities.dialect == "postgres":
        await client.execute_script(POSTGRES)
    else:
        for statement in SQLITE:
            await client.execute_query(statement)


async def drop_counting(apps, schema_editor) -> None:
    client = schema_editor.client
    if client.capabilities.dialect == "postgres":
        await client.execute_script(DROP)
    else:
        for name in ("plots_counted_in", "plots_counted_out", "plots_counted_moved"):
            await client.execute_query(f"DROP TRIGGER {name}")


class Migration(migrations.Migration):
    dependencies = [('farm', '0013_refunds')]

    initial = False

    operations = [
        ops.CreateModel(
            name='PlotSize',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('field', fields.ForeignKeyField('farm.Field', source_field='field_id', db_constraint=True, to_field='id', related_name='plot_sizes', on_delete=OnDelete.RESTRICT)),
                ('area_m2', fields.DecimalField(max_digits=10, decimal_places=2)),
                ('plots', fields.IntField()),
            ],
            options={'table': 'plot_sizes', 'app': 'farm', 'unique_together': (('field', 'area_m2'),), 'pk_attr': 'id', 'table_description': 'How many plots of one size a field has, so that the offer counts a field\'s free plots'},
            bases=['Model'],
        ),
        # The plots that exist, counted once; from here on triggers keep the count with
        # every insert, delete or change of a plot, whoever makes it (the console's cut, a
        # bulk load, COPY).
        ops.RunSQL(
            'INSERT INTO plot_sizes (field_id, area_m2, plots) '
            'SELECT field_id, area_m2, COUNT(*) FROM plots GROUP BY field_id, area_m2'
        ),
        ops.RunPython(count_plots, drop_counting),
        ops.AlterField(
            model_name='Refund',
            name='reason',
            field=fields.CharEnumField(description='CUSTOMER_CANCEL: customer_cancel\nPLOT_LOST: plot_lost\nDUPLICATE: duplicate_payment', enum_type=RefundReason, max_length=20),
        ),
    ]
