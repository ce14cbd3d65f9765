from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('farm', '0024_mail_delivery')]

    initial = False

    operations = [
        ops.AddField(
            model_name='User',
            name='mail_announcements',
            field=fields.BooleanField(default=True, db_default=True),
        ),
        ops.AddField(
            model_name='User',
            name='mail_photos',
            field=fields.BooleanField(default=True, db_default=True),
        ),
    ]
