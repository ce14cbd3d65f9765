from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.fields.base import OnDelete

class Migration(migrations.Migration):
    dependencies = [('farm', '0026_stale_documents')]

    initial = False

    operations = [
        ops.AddField(
            model_name='User',
            name='deactivated_by',
            field=fields.ForeignKeyField('farm.User', source_field='deactivated_by_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL),
        ),
        ops.AddField(
            model_name='User',
            name='invitation_pending',
            field=fields.BooleanField(default=False, db_default=False),
        ),
        ops.AddField(
            model_name='Cooperative',
            name='picture',
            field=fields.CharField(default='', db_default='', max_length=64),
        ),
    ]
