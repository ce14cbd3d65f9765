from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('farm', '0004_shipments_vouchers')]

    initial = False

    operations = [
        ops.AddIndex(
            model_name='Subscription',
            index=Index(fields=['plot_id', 'season_id']),
        ),
    ]
