from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("farm", "0028_couriers")]

    initial = False

    operations = [
        ops.AddField(
            model_name="Plan",
            name="max_plots_per_customer",
            field=fields.IntField(default=1, db_default=1),
        ),
    ]
