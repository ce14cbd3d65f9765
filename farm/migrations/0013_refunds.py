from tortoise import migrations
from tortoise.migrations import operations as ops
from farm.payments.models import RefundReason, RefundStatus
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('farm', '0012_payment_methods')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Dispute',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('provider_dispute_id', fields.CharField(unique=True, max_length=100)),
                ('payment', fields.ForeignKeyField('farm.Payment', source_field='payment_id', null=True, db_constraint=True, to_field='id', related_name='disputes', on_delete=OnDelete.RESTRICT)),
                ('intent_id', fields.CharField(default='', max_length=100)),
                ('amount_fen', fields.IntField()),
                ('reason', fields.CharField(default='', max_length=50)),
                ('status', fields.CharField(max_length=30)),
                ('due_by', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('provider_updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'disputes', 'app': 'farm', 'indexes': [Index(fields=['payment_id'])], 'pk_attr': 'id', 'table_description': "A chargeback Stripe told us about (charge.dispute.*), for the cooperative's manager."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Refund',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('payment', fields.ForeignKeyField('farm.Payment', source_field='payment_id', db_constraint=True, to_field='id', related_name='refunds', on_delete=OnDelete.RESTRICT)),
                ('amount_fen', fields.IntField()),
                ('reason', fields.CharEnumField(description='CUSTOMER_CANCEL: customer_cancel\nPLOT_LOST: plot_lost', enum_type=RefundReason, max_length=20)),
                ('idempotency_key', fields.CharField(unique=True, max_length=64)),
                ('provider_refund_id', fields.CharField(null=True, unique=True, max_length=100)),
                ('status', fields.CharEnumField(default=RefundStatus.REQUESTED, description='REQUESTED: requested\nPENDING: pending\nSUCCEEDED: succeeded\nFAILED: failed\nCANCELED: canceled\nMANUAL_DUE: manual_due\nMANUAL_DONE: manual_done', enum_type=RefundStatus, max_length=20)),
                ('failure_reason', fields.CharField(default='', max_length=300)),
                ('retry_of', fields.OneToOneField('farm.Refund', source_field='retry_of_id', null=True, db_constraint=True, to_field='id', related_name='follow_up', on_delete=OnDelete.RESTRICT)),
                ('lease_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('attempts', fields.IntField(default=0)),
                ('last_error', fields.CharField(default='', max_length=300)),
                ('manual_method', fields.CharField(default='', max_length=20)),
                ('manual_note', fields.CharField(default='', max_length=300)),
                ('recorded_by', fields.ForeignKeyField('farm.User', source_field='recorded_by_id', null=True, db_constraint=True, to_field='id', related_name='recorded_refunds', on_delete=OnDelete.RESTRICT)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('settled_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'refunds', 'app': 'farm', 'indexes': [Index(fields=['status', 'updated_at']), Index(fields=['payment_id', 'created_at'])], 'pk_attr': 'id', 'table_description': 'One attempt to give back an amount of one payment, stored before Stripe is called.'},
            bases=['Model'],
        ),
    ]
