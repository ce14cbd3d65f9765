from tortoise import migrations
from tortoise.migrations import operations as ops
from farm.fieldwork.models import Activity
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('farm', '0002_payment_refund_due')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Crop',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('cooperative', fields.ForeignKeyField('farm.Cooperative', source_field='cooperative_id', db_constraint=True, to_field='id', related_name='crops', on_delete=OnDelete.RESTRICT)),
                ('name', fields.CharField(max_length=40)),
                ('name_en', fields.CharField(default='', max_length=40)),
                ('shelf_life_days', fields.IntField()),
                ('leafy', fields.BooleanField(default=False)),
            ],
            options={'table': 'crops', 'app': 'farm', 'unique_together': (('cooperative', 'name'),), 'pk_attr': 'id', 'table_description': "A crop of a cooperative's list, with its shelf life at room temperature."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='HarvestLot',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('cooperative', fields.ForeignKeyField('farm.Cooperative', source_field='cooperative_id', db_constraint=True, to_field='id', related_name='harvest_lots', on_delete=OnDelete.RESTRICT)),
                ('code', fields.CharField(unique=True, max_length=12)),
                ('crop', fields.ForeignKeyField('farm.Crop', source_field='crop_id', db_constraint=True, to_field='id', related_name='lots', on_delete=OnDelete.RESTRICT)),
                ('field', fields.ForeignKeyField('farm.Field', source_field='field_id', db_constraint=True, to_field='id', related_name='harvest_lots', on_delete=OnDelete.RESTRICT)),
                ('plot', fields.ForeignKeyField('farm.Plot', source_field='plot_id', null=True, db_constraint=True, to_field='id', related_name='harvest_lots', on_delete=OnDelete.RESTRICT)),
                ('harvested_on', fields.DateField(db_index=True)),
                ('weight_g', fields.IntField()),
                ('logged_by', fields.ForeignKeyField('farm.User', source_field='logged_by_id', db_constraint=True, to_field='id', related_name='harvest_lots', on_delete=OnDelete.RESTRICT)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'harvest_lots', 'app': 'farm', 'pk_attr': 'id', 'table_description': 'A crop harvested on a day from a plot (or, with no plot, from a whole field).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Household',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('cooperative', fields.ForeignKeyField('farm.Cooperative', source_field='cooperative_id', db_constraint=True, to_field='id', related_name='households', on_delete=OnDelete.RESTRICT)),
                ('name', fields.CharField(max_length=60)),
                ('village', fields.CharField(default='', max_length=60)),
                ('is_poor', fields.BooleanField(default=False)),
                ('rent_fen_per_mu_year', fields.IntField(default=0)),
                ('wage_fen_per_hour', fields.IntField(default=0)),
            ],
            options={'table': 'households', 'app': 'farm', 'pk_attr': 'id', 'table_description': 'A farmer household that transferred land use rights to the cooperative.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='LandTransfer',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('household', fields.ForeignKeyField('farm.Household', source_field='household_id', db_constraint=True, to_field='id', related_name='transfers', on_delete=OnDelete.CASCADE)),
                ('field', fields.ForeignKeyField('farm.Field', source_field='field_id', db_constraint=True, to_field='id', related_name='transfers', on_delete=OnDelete.RESTRICT)),
                ('area_m2', fields.DecimalField(max_digits=10, decimal_places=2)),
            ],
            options={'table': 'land_transfers', 'app': 'farm', 'unique_together': (('household', 'field'),), 'pk_attr': 'id', 'table_description': 'Land a household transferred: so many m² of a field.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='WorkEntry',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('cooperative', fields.ForeignKeyField('farm.Cooperative', source_field='cooperative_id', db_constraint=True, to_field='id', related_name='work_entries', on_delete=OnDelete.RESTRICT)),
                ('field', fields.ForeignKeyField('farm.Field', source_field='field_id', db_constraint=True, to_field='id', related_name='work_entries', on_delete=OnDelete.RESTRICT)),
                ('activity', fields.CharEnumField(description='SOWING: sowing\nTRANSPLANTING: transplanting\nWEEDING: weeding\nWATERING: watering\nFERTILISING: fertilising\nPEST_CONTROL: pest_control\nHARVESTING: harvesting\nVISIT: visit\nOTHER: other', enum_type=Activity, max_length=20)),
                ('worked_on', fields.DateField(db_index=True)),
                ('notes', fields.TextField(default='', unique=False)),
                ('whole_field', fields.BooleanField(default=False)),
                ('logged_by', fields.ForeignKeyField('farm.User', source_field='logged_by_id', db_constraint=True, to_field='id', related_name='work_entries', on_delete=OnDelete.RESTRICT)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'work_entries', 'app': 'farm', 'pk_attr': 'id', 'table_description': 'Farming work done on a day: on some plots of a field, or (no plots) the whole field.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Photo',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('entry', fields.ForeignKeyField('farm.WorkEntry', source_field='entry_id', db_constraint=True, to_field='id', related_name='photos', on_delete=OnDelete.CASCADE)),
                ('file_name', fields.CharField(max_length=80)),
                ('width', fields.IntField()),
                ('height', fields.IntField()),
            ],
            options={'table': 'photos', 'app': 'farm', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='WorkEntryPlot',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('entry', fields.ForeignKeyField('farm.WorkEntry', source_field='entry_id', db_constraint=True, to_field='id', related_name='plot_links', on_delete=OnDelete.CASCADE)),
                ('plot', fields.ForeignKeyField('farm.Plot', source_field='plot_id', db_constraint=True, to_field='id', related_name='work_links', on_delete=OnDelete.RESTRICT)),
            ],
            options={'table': 'work_entry_plots', 'app': 'farm', 'unique_together': (('entry', 'plot'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='WorkInput',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('entry', fields.ForeignKeyField('farm.WorkEntry', source_field='entry_id', db_constraint=True, to_field='id', related_name='inputs', on_delete=OnDelete.CASCADE)),
                ('name', fields.CharField(max_length=60)),
                ('organic', fields.BooleanField(default=False)),
                ('dose', fields.CharField(default='', max_length=60)),
            ],
            options={'table': 'work_inputs', 'app': 'farm', 'pk_attr': 'id', 'table_description': 'An input used (a fertiliser, a pesticide, seed), organic or not, and its dose.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='WorkShift',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('entry', fields.ForeignKeyField('farm.WorkEntry', source_field='entry_id', db_constraint=True, to_field='id', related_name='shifts', on_delete=OnDelete.CASCADE)),
                ('household', fields.ForeignKeyField('farm.Household', source_field='household_id', db_constraint=True, to_field='id', related_name='shifts', on_delete=OnDelete.RESTRICT)),
                ('hours', fields.DecimalField(max_digits=6, decimal_places=2)),
            ],
            options={'table': 'work_shifts', 'app': 'farm', 'pk_attr': 'id', 'table_description': 'Who worked, for how long: the hours that earn a household its wages.'},
            bases=['Model'],
        ),
    ]
