from tortoise import migrations
from tortoise.migrations import operations as ops
from farm.payments.models import RefundReason
from farm.shipments.models import BoxResolution
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('farm', '0030_story')]

    initial = False

    operations = [
        ops.CreateModel(
            name='BoxReport',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('shipment', fields.OneToOneField('farm.Shipment', source_field='shipment_id', db_constraint=True, to_field='id', related_name='report', on_delete=OnDelete.RESTRICT)),
                ('subscription', fields.ForeignKeyField('farm.Subscription', source_field='subscription_id', db_constraint=True, to_field='id', related_name='box_reports', on_delete=OnDelete.RESTRICT)),
                ('arrived_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('rating', fields.SmallIntField(null=True)),
                ('comment', fields.CharField(default='', max_length=300)),
                ('rated_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('problem', fields.CharField(default='', max_length=500)),
                ('photo', fields.CharField(default='', max_length=80)),
                ('reported_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('resolution', fields.CharEnumField(null=True, description='NOTE: note\nCREDIT: credit\nREFUND: refund', enum_type=BoxResolution, max_length=10)),
                ('reply', fields.CharField(default='', max_length=300)),
                ('credit', fields.CharField(default='', max_length=200)),
                ('credit_ship_on', fields.DateField(null=True)),
                ('refund_fen', fields.IntField(default=0)),
                ('refund', fields.ForeignKeyField('farm.Refund', source_field='refund_id', null=True, db_constraint=True, to_field='id', related_name='box_reports', on_delete=OnDelete.RESTRICT)),
                ('resolved_by', fields.ForeignKeyField('farm.User', source_field='resolved_by_id', null=True, db_constraint=True, to_field='id', related_name='box_resolutions', on_delete=OnDelete.RESTRICT)),
                ('resolved_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'box_reports', 'app': 'farm', 'indexes': [Index(fields=['subscription_id', 'credit_ship_on'])], 'pk_attr': 'id', 'table_description': 'What the family said of one shipped box: that it arrived, its rating, a problem with'},
            bases=['Model'],
        ),
        ops.AlterField(
            model_name='Refund',
            name='reason',
            field=fields.CharEnumField(description='CUSTOMER_CANCEL: customer_cancel\nPLOT_LOST: plot_lost\nDUPLICATE: duplicate_payment\nMISMATCH: amount_mismatch\nBOX_PROBLEM: box_problem', enum_type=RefundReason, max_length=20),
        ),
    ]
