from tortoise import migrations
from tortoise.migrations import operations as ops
from farm.payments.models import RefundReason
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('farm', '0021_sessions')]

    initial = False

    operations = [
        ops.CreateModel(
            name='WindowCount',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('kind', fields.CharField(max_length=32)),
                ('key', fields.CharField(max_length=254)),
                ('window_start', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('count', fields.IntField(default=0)),
            ],
            options={'table': 'window_counts', 'app': 'farm', 'unique_together': (('kind', 'key', 'window_start'),), 'indexes': [Index(fields=['window_start'])], 'pk_attr': 'id', 'table_description': 'How many times `key` did `kind` in the fixed window starting at `window_start`'},
            bases=['Model'],
        ),
        ops.AlterField(
            model_name='Refund',
            name='reason',
            field=fields.CharEnumField(description='CUSTOMER_CANCEL: customer_cancel\nPLOT_LOST: plot_lost\nDUPLICATE: duplicate_payment\nMISMATCH: amount_mismatch', enum_type=RefundReason, max_length=20),
        ),
        ops.AddField(
            model_name='User',
            name='email_confirmed_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        # Accounts made before sign-up mailed a confirmation link keep reserving.
        ops.RunSQL(
            'UPDATE "users" SET "email_confirmed_at" = "created_at"',
            reverse_sql=ops.RunSQL.noop,
        ),
    ]
