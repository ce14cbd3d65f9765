from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('farm', '0015_plot_sizes')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Attempt',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('kind', fields.CharField(max_length=32)),
                ('key', fields.CharField(max_length=254)),
                ('device', fields.CharField(default='', max_length=32)),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'attempts', 'app': 'farm', 'indexes': [Index(fields=['kind', 'key', 'at']), Index(fields=['at'])], 'pk_attr': 'id', 'table_description': 'One attempt counted against a limit (farm.accounts.limits): a login per account and'},
            bases=['Model'],
        ),
        ops.DeleteModel(name='LoginAttempt'),
    ]
