from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('farm', '0033_ship_day_changes')]

    initial = False

    operations = [
        ops.CreateModel(
            name='RenewalWindow',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('season', fields.OneToOneField('farm.Season', source_field='season_id', db_constraint=True, to_field='id', related_name='renewal_window', on_delete=OnDelete.RESTRICT)),
                ('opens_on', fields.DateField()),
            ],
            options={'table': 'renewal_windows', 'app': 'farm', 'pk_attr': 'id', 'table_description': "A season's renewal window: from `opens_on` (included) until its public sale opens"},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Renewal',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('season', fields.ForeignKeyField('farm.Season', source_field='season_id', db_constraint=True, to_field='id', related_name='renewals', on_delete=OnDelete.RESTRICT)),
                ('previous', fields.ForeignKeyField('farm.Subscription', source_field='previous_id', db_constraint=True, to_field='id', related_name='renewals', on_delete=OnDelete.RESTRICT)),
                ('subscription', fields.OneToOneField('farm.Subscription', source_field='subscription_id', null=True, db_constraint=True, to_field='id', related_name='renewal_of', on_delete=OnDelete.RESTRICT)),
                ('field', fields.ForeignKeyField('farm.Field', source_field='field_id', db_constraint=True, to_field='id', related_name='renewals', on_delete=OnDelete.RESTRICT)),
                ('same_plot', fields.BooleanField(default=False)),
                ('opened_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('reminded_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'renewals', 'app': 'farm', 'pk_attr': 'id', 'unique_together': (('season', 'previous'),), 'indexes': [('season_id', 'field_id')], 'table_description': "One eligible subscription's right to its plot in the next season. Unique on (season,"},
            bases=['Model'],
        ),
    ]
