from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('farm', '0025_mail_choices')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Batch',
            name='documents_stale_at',
            field=fields.DatetimeField(null=True),
        ),
    ]
