from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from farm.audit.models import CorrectionAction, RecordKind
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('farm', '0016_attempts')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Correction',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('cooperative', fields.ForeignKeyField('farm.Cooperative', source_field='cooperative_id', db_constraint=True, to_field='id', related_name='corrections', on_delete=OnDelete.RESTRICT)),
                ('kind', fields.CharEnumField(description='WORK_ENTRY: work_entry\nHARVEST_LOT: harvest_lot\nPLOT: plot', enum_type=RecordKind, max_length=20)),
                ('record_id', fields.IntField()),
                ('label', fields.CharField(default='', max_length=60)),
                ('action', fields.CharEnumField(description='CORRECTED: corrected\nVOIDED: voided', enum_type=CorrectionAction, max_length=10)),
                ('before', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('after', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('reason', fields.CharField(max_length=500)),
                ('made_by', fields.ForeignKeyField('farm.User', source_field='made_by_id', db_constraint=True, to_field='id', related_name='corrections', on_delete=OnDelete.RESTRICT)),
                ('made_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('day', fields.DateField()),
            ],
            options={'table': 'corrections', 'app': 'farm', 'indexes': [Index(fields=['kind', 'record_id']), Index(fields=['cooperative_id', 'day'])], 'pk_attr': 'id', 'table_description': 'One change to a recorded work entry, harvest lot or plot, made by a manager with a'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='HarvestLot',
            name='corrected_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='HarvestLot',
            name='voided_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='WorkEntry',
            name='corrected_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='WorkEntry',
            name='voided_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
    ]
