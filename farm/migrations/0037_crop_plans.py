from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('farm', '0036_gifts')]

    initial = False

    operations = [
        ops.CreateModel(
            name='CropCalendar',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('field', fields.OneToOneField('farm.Field', source_field='field_id', db_constraint=True, to_field='id', related_name='crop_calendar', on_delete=OnDelete.RESTRICT)),
                ('cutoff_days', fields.IntField(default=14)),
                ('sow_months', fields.IntField(default=0, db_default=0)),
            ],
            options={'table': 'crop_calendars', 'app': 'farm', 'pk_attr': 'id', 'table_description': "A field's crop calendar: what its families may grow, and until when they choose (the"},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='CalendarCrop',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('calendar', fields.ForeignKeyField('farm.CropCalendar', source_field='calendar_id', db_constraint=True, to_field='id', related_name='rows', on_delete=OnDelete.CASCADE)),
                ('crop', fields.ForeignKeyField('farm.Crop', source_field='crop_id', db_constraint=True, to_field='id', related_name='calendar_rows', on_delete=OnDelete.RESTRICT)),
                ('sow_months', fields.IntField()),
                ('min_area_m2', fields.DecimalField(max_digits=9, decimal_places=2)),
                ('days_to_harvest', fields.IntField()),
                ('seed_per_m2', fields.DecimalField(max_digits=9, decimal_places=2)),
                ('seedlings', fields.BooleanField(default=False)),
                ('default_area_m2', fields.DecimalField(default=0, max_digits=9, decimal_places=2)),
            ],
            options={'table': 'calendar_crops', 'app': 'farm', 'unique_together': (('calendar', 'crop'),), 'pk_attr': 'id', 'table_description': "One crop of a field's calendar: the months it can be sown in (a bit per month, bit 0"},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='CropPlan',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('subscription', fields.OneToOneField('farm.Subscription', source_field='subscription_id', db_constraint=True, to_field='id', related_name='crop_plan', on_delete=OnDelete.RESTRICT)),
                ('field', fields.ForeignKeyField('farm.Field', source_field='field_id', db_constraint=True, to_field='id', related_name='crop_plans', on_delete=OnDelete.RESTRICT)),
                ('season', fields.ForeignKeyField('farm.Season', source_field='season_id', db_constraint=True, to_field='id', related_name='crop_plans', on_delete=OnDelete.RESTRICT)),
                ('by_default', fields.BooleanField(default=False)),
                ('chosen_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'crop_plans', 'app': 'farm', 'indexes': [Index(fields=['field_id', 'season_id'])], 'pk_attr': 'id', 'table_description': "What a subscription's plot grows this season: chosen by its family, or the cooperative's"},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='CropPlanLine',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('plan', fields.ForeignKeyField('farm.CropPlan', source_field='plan_id', db_constraint=True, to_field='id', related_name='lines', on_delete=OnDelete.CASCADE)),
                ('crop', fields.ForeignKeyField('farm.Crop', source_field='crop_id', db_constraint=True, to_field='id', related_name='plan_lines', on_delete=OnDelete.RESTRICT)),
                ('area_m2', fields.DecimalField(max_digits=9, decimal_places=2)),
                ('sow_on', fields.DateField()),
                ('harvest_on', fields.DateField()),
            ],
            options={'table': 'crop_plan_lines', 'app': 'farm', 'unique_together': (('plan', 'crop'),), 'pk_attr': 'id', 'table_description': 'One crop of a plan: its area, and the day it is sown and expected to be harvested.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SowingLog',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('field', fields.ForeignKeyField('farm.Field', source_field='field_id', db_constraint=True, to_field='id', related_name='sowing_logs', on_delete=OnDelete.RESTRICT)),
                ('season', fields.ForeignKeyField('farm.Season', source_field='season_id', db_constraint=True, to_field='id', related_name='sowing_logs', on_delete=OnDelete.RESTRICT)),
                ('week_on', fields.DateField()),
                ('entry', fields.OneToOneField('farm.WorkEntry', source_field='entry_id', db_constraint=True, to_field='id', related_name='sowing_log', on_delete=OnDelete.RESTRICT)),
                ('logged_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'sowing_logs', 'app': 'farm', 'unique_together': (('field', 'season', 'week_on'),), 'pk_attr': 'id', 'table_description': "A week's sowing on a field, logged from the sowing list as one work entry. Unique on"},
            bases=['Model'],
        ),
    ]
