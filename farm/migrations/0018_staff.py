from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('farm', '0017_corrections')]

    initial = False

    operations = [
        ops.AddField(
            model_name='User',
            name='is_active',
            field=fields.BooleanField(default=True, db_default=True),
        ),
        ops.AddField(
            model_name='Cooperative',
            name='phone',
            field=fields.CharField(default='', db_default='', max_length=32),
        ),
        ops.AddField(
            model_name='Cooperative',
            name='description',
            field=fields.TextField(default='', db_default=''),
        ),
    ]
