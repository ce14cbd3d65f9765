from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('farm', '0009_documents')]

    initial = False

    operations = [
        ops.AddIndex(
            model_name='Booking',
            index=Index(fields=['subscription_id', 'first_night']),
        ),
        ops.AddIndex(
            model_name='HarvestLot',
            index=Index(fields=['plot_id', 'harvested_on']),
        ),
        ops.AddIndex(
            model_name='Payment',
            index=Index(fields=['subscription_id', 'created_at']),
        ),
        ops.AddIndex(
            model_name='Photo',
            index=Index(fields=['entry_id']),
        ),
        ops.AddIndex(
            model_name='Subscription',
            index=Index(fields=['customer_id', 'reserved_at']),
        ),
        ops.AddIndex(
            model_name='WorkEntry',
            index=Index(fields=['field_id', 'worked_on']),
        ),
        ops.AddIndex(
            model_name='WorkInput',
            index=Index(fields=['entry_id']),
        ),
        ops.AddIndex(
            model_name='WorkEntryPlot',
            index=Index(fields=['plot_id']),
        ),
    ]
