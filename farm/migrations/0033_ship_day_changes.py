from tortoise import migrations
from tortoise.migrations import operations as ops
from farm.shipments.models import DiversionReason, ShipmentStatus
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('farm', '0032_announcements')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ShipDayChange',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('season', fields.ForeignKeyField('farm.Season', source_field='season_id', db_constraint=True, to_field='id', related_name='ship_day_changes', on_delete=OnDelete.RESTRICT)),
                ('ship_on', fields.DateField()),
                ('moved_to', fields.DateField(null=True)),
                ('reason', fields.CharField(max_length=200)),
                ('changed_by', fields.ForeignKeyField('farm.User', source_field='changed_by_id', db_constraint=True, to_field='id', related_name='ship_day_changes', on_delete=OnDelete.RESTRICT)),
                ('changed_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('told_at', fields.DatetimeField(null=True, db_index=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'ship_day_changes', 'app': 'farm', 'pk_attr': 'id', 'table_description': 'A coming ship day of a season skipped (moved_to null) or moved, by a manager, with the'},
            bases=['Model'],
        ),
        ops.AlterField(
            model_name='Allocation',
            name='reason',
            field=fields.CharEnumField(null=True, description='SHELF_LIFE: shelf_life\nHOLD: hold\nDONATED: donated\nSOLD_LOCALLY: sold_locally\nUNCLAIMED: unclaimed\nNOT_SENT: not_sent', enum_type=DiversionReason, max_length=20),
        ),
        ops.AddField(
            model_name='Season',
            name='ship_day_moves',
            field=fields.CharField(default='', db_default='', max_length=400),
        ),
        ops.AlterField(
            model_name='Shipment',
            name='status',
            field=fields.CharEnumField(default=ShipmentStatus.CREATED, description='CREATED: created\nEMPTY: empty\nPACKED: packed\nSHIPPED: shipped\nCLOSED: closed', enum_type=ShipmentStatus, max_length=10),
        ),
        ops.AddField(
            model_name='Shipment',
            name='close_reason',
            field=fields.CharField(default='', db_default='', max_length=200),
        ),
    ]
