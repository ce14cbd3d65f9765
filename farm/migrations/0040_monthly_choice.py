from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('farm', '0039_transfer_history')]

    initial = False

    operations = [
        ops.AddField(
            model_name='CropCalendar',
            name='monthly',
            field=fields.BooleanField(default=False, db_default=False),
        ),
    ]
