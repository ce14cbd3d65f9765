from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('farm', '0035_renewals')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Gift',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('subscription', fields.OneToOneField('farm.Subscription', source_field='subscription_id', db_constraint=True, to_field='id', related_name='gift', on_delete=OnDelete.RESTRICT)),
                ('giver', fields.ForeignKeyField('farm.User', source_field='giver_id', db_constraint=True, to_field='id', related_name='gifts_given', on_delete=OnDelete.RESTRICT)),
                ('recipient_name', fields.CharField(max_length=40)),
                ('message', fields.CharField(default='', max_length=300)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('paid_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('code_salt', fields.CharField(default='', max_length=32)),
                ('code_hash', fields.CharField(null=True, unique=True, max_length=64)),
                ('claim_by', fields.DateField(null=True, db_index=True)),
                ('remind_on', fields.DateField(null=True)),
                ('reminded_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('claimed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('claimed_by', fields.ForeignKeyField('farm.User', source_field='claimed_by_id', null=True, db_constraint=True, to_field='id', related_name='gifts_claimed', on_delete=OnDelete.RESTRICT)),
                ('returned_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('recipient', fields.CharField(default='', max_length=60)),
                ('phone', fields.CharField(default='', max_length=32)),
                ('province', fields.CharField(default='', max_length=20)),
                ('city', fields.CharField(default='', max_length=40)),
                ('address', fields.CharField(default='', max_length=200)),
            ],
            options={'table': 'gifts', 'app': 'farm', 'indexes': [Index(fields=['giver_id', 'created_at'])], 'pk_attr': 'id', 'table_description': 'A subscription bought for someone else. Its claim code is derived from the secret key'},
            bases=['Model'],
        ),
    ]
