from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('farm', '0019_catalogue')]

    initial = False

    operations = [
        ops.AddIndex(
            model_name='HarvestLot',
            index=Index(fields=['crop_id']),
        ),
        ops.AddIndex(
            model_name='User',
            index=Index(fields=['role', 'name']),
        ),
        ops.AddIndex(
            model_name='User',
            index=Index(fields=['cooperative_id']),
        ),
        ops.AddIndex(
            model_name='User',
            index=Index(fields=['partner_id']),
        ),
        ops.AddIndex(
            model_name='WorkShift',
            index=Index(fields=['entry_id']),
        ),
        ops.AddIndex(
            model_name='WorkShift',
            index=Index(fields=['household_id', 'entry_id']),
        ),
    ]
