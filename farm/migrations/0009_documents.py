from tortoise import migrations
from tortoise.migrations import operations as ops
from farm.shipments.models import DocumentKind, DocumentStatus
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('farm', '0008_console')]

    initial = False

    operations = [
        ops.CreateModel(
            name='DocumentPart',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('batch', fields.ForeignKeyField('farm.Batch', source_field='batch_id', db_constraint=True, to_field='id', related_name='document_parts', on_delete=OnDelete.CASCADE)),
                ('field', fields.ForeignKeyField('farm.Field', source_field='field_id', null=True, db_constraint=True, to_field='id', related_name='document_parts', on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharEnumField(description='PACKING: packing\nLABELS: labels\nSUMMARY: summary', enum_type=DocumentKind, max_length=10)),
                ('slot', fields.CharField(max_length=40)),
                ('seq', fields.IntField(default=1)),
                ('of_parts', fields.IntField(default=1)),
                ('first_box', fields.IntField(default=0)),
                ('boxes', fields.IntField(default=0)),
                ('status', fields.CharEnumField(default=DocumentStatus.PENDING, description='PENDING: pending\nMAKING: making\nDONE: done', enum_type=DocumentStatus, max_length=10)),
                ('claim', fields.CharField(default='', max_length=32)),
                ('claimed_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('file', fields.CharField(default='', max_length=200)),
                ('pages', fields.IntField(default=0)),
                ('size_bytes', fields.BigIntField(default=0)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('done_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'document_parts', 'app': 'farm', 'unique_together': (('batch', 'slot'),), 'indexes': [Index(fields=['status', 'claimed_until']), Index(fields=['batch_id', 'field_id'])], 'pk_attr': 'id', 'table_description': "One PDF of a batch's paper: a packing list or the labels of at most PART_BOXES boxes of"},
            bases=['Model'],
        ),
    ]
