from tortoise import migrations
from tortoise.migrations import operations as ops
from farm.payments.models import PaymentStatus
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('farm', '0001_initial')]

    initial = False

    operations = [
        ops.AlterField(
            model_name='Payment',
            name='status',
            field=fields.CharEnumField(default=PaymentStatus.REQUIRES_PAYMENT, description='REQUIRES_PAYMENT: requires_payment\nSUCCEEDED: succeeded\nFAILED: failed\nREFUNDED: refunded\nREFUND_DUE: refund_due\nCANCELLED: cancelled', enum_type=PaymentStatus, max_length=20),
        ),
    ]
