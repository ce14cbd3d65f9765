from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('farm', '0022_hoarding')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Notification',
            name='cooperative',
            field=fields.ForeignKeyField('farm.Cooperative', source_field='cooperative_id', null=True, db_constraint=True, to_field='id', related_name='notifications', on_delete=OnDelete.SET_NULL),
        ),
        ops.AddField(
            model_name='Notification',
            name='failed_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Notification',
            name='html',
            field=fields.TextField(default='', db_default='', unique=False),
        ),
        ops.AddField(
            model_name='Notification',
            name='images',
            field=fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads),
        ),
        ops.AddField(
            model_name='Notification',
            name='kind',
            field=fields.CharField(default='plain', db_default='plain', max_length=32),
        ),
        ops.AddField(
            model_name='Notification',
            name='last_error',
            field=fields.CharField(default='', db_default='', max_length=300),
        ),
        ops.AddField(
            model_name='Notification',
            name='unsubscribe',
            field=fields.CharField(default='', db_default='', max_length=500),
        ),
        ops.AddIndex(
            model_name='Notification',
            index=Index(fields=['failed_at']),
        ),
        ops.AddIndex(
            model_name='Notification',
            index=Index(fields=['cooperative_id', 'failed_at']),
        ),
    ]
