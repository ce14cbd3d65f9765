from tortoise import migrations
from tortoise.migrations import operations as ops
from farm.payments.models import PaymentMethod
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('farm', '0011_customer_indexes')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Payment',
            name='failure_code',
            field=fields.CharField(default='', db_default='', max_length=100),
        ),
        ops.AddField(
            model_name='Payment',
            name='method',
            field=fields.CharEnumField(default=PaymentMethod.CARD, description='CARD: card\nALIPAY: alipay\nWECHAT_PAY: wechat_pay', db_default='card', enum_type=PaymentMethod, max_length=20),
        ),
        # Switching method at checkout must never leave two payable intents: at most one open
        # payment per subscription. An older open duplicate (none is expected) is closed first.
        ops.RunSQL(
            "UPDATE payments SET status = 'cancelled' WHERE status = 'requires_payment' "
            'AND EXISTS (SELECT 1 FROM payments newer '
            'WHERE newer.subscription_id = payments.subscription_id '
            "AND newer.status = 'requires_payment' AND newer.id > payments.id)"
        ),
        ops.RunSQL(
            'CREATE UNIQUE INDEX payments_one_open ON payments (subscription_id) '
            "WHERE status = 'requires_payment'",
            reverse_sql='DROP INDEX payments_one_open',
        ),
    ]
