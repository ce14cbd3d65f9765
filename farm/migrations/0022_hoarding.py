from tortoise import migrations
from tortoise.migrations import operations as ops
from farm.payments.models import RefundReason
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('farm', '0021_sessions')]

    initial = False

    operations = [
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
