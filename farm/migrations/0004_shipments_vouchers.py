from tortoise import migrations
from tortoise.migrations import operations as ops
from farm.land.models import PerkKind
from farm.shipments.models import AllocationState, DiversionReason, ShipmentStatus
from farm.vouchers.models import VoucherStatus
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('farm', '0003_fieldwork')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Batch',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('cooperative', fields.ForeignKeyField('farm.Cooperative', source_field='cooperative_id', db_constraint=True, to_field='id', related_name='batches', on_delete=OnDelete.RESTRICT)),
                ('ship_on', fields.DateField()),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('completed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'batches', 'app': 'farm', 'unique_together': (('cooperative', 'ship_on'),), 'pk_attr': 'id', 'table_description': 'All shipments of one cooperative for one ship day.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='FieldRun',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('batch', fields.ForeignKeyField('farm.Batch', source_field='batch_id', db_constraint=True, to_field='id', related_name='field_runs', on_delete=OnDelete.RESTRICT)),
                ('field', fields.ForeignKeyField('farm.Field', source_field='field_id', db_constraint=True, to_field='id', related_name='runs', on_delete=OnDelete.RESTRICT)),
                ('ship_on', fields.DateField()),
                ('shipments', fields.IntField(default=0)),
                ('done_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'field_runs', 'app': 'farm', 'unique_together': (('field', 'ship_on'),), 'pk_attr': 'id', 'table_description': "One field's part of a batch, written in the same transaction as its shipments and"},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Notification',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('farm.User', source_field='user_id', db_constraint=True, to_field='id', related_name='notifications', on_delete=OnDelete.CASCADE)),
                ('key', fields.CharField(unique=True, max_length=80)),
                ('to', fields.CharField(max_length=254)),
                ('subject', fields.CharField(max_length=200)),
                ('body', fields.TextField(unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('sent_at', fields.DatetimeField(null=True, db_index=True, auto_now=False, auto_now_add=False)),
                ('attempts', fields.IntField(default=0)),
            ],
            options={'table': 'notifications', 'app': 'farm', 'pk_attr': 'id', 'table_description': "One email to one user. The unique key (for example 'shipped:123') means an event"},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ShipDayHold',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('subscription', fields.ForeignKeyField('farm.Subscription', source_field='subscription_id', db_constraint=True, to_field='id', related_name='holds', on_delete=OnDelete.CASCADE)),
                ('ship_on', fields.DateField()),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'ship_day_holds', 'app': 'farm', 'unique_together': (('subscription', 'ship_on'),), 'pk_attr': 'id', 'table_description': 'The customer asked for no box on this ship day (made before its cutoff).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Shipment',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('batch', fields.ForeignKeyField('farm.Batch', source_field='batch_id', db_constraint=True, to_field='id', related_name='shipments', on_delete=OnDelete.RESTRICT)),
                ('subscription', fields.ForeignKeyField('farm.Subscription', source_field='subscription_id', db_constraint=True, to_field='id', related_name='shipments', on_delete=OnDelete.RESTRICT)),
                ('ship_on', fields.DateField()),
                ('status', fields.CharEnumField(default=ShipmentStatus.CREATED, description='CREATED: created\nEMPTY: empty\nPACKED: packed\nSHIPPED: shipped', enum_type=ShipmentStatus, max_length=10)),
                ('recipient', fields.CharField(default='', max_length=60)),
                ('phone', fields.CharField(default='', max_length=32)),
                ('province', fields.CharField(default='', max_length=20)),
                ('city', fields.CharField(default='', max_length=40)),
                ('address', fields.CharField(default='', max_length=200)),
                ('transit_days', fields.IntField(default=0)),
                ('courier', fields.CharField(default='', max_length=40)),
                ('tracking_no', fields.CharField(default='', max_length=40)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('packed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('shipped_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'shipments', 'app': 'farm', 'unique_together': (('subscription', 'ship_on'),), 'indexes': [Index(fields=['batch_id', 'status'])], 'pk_attr': 'id', 'table_description': 'What one subscription receives on one ship day, and where it was sent.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Allocation',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('lot', fields.ForeignKeyField('farm.HarvestLot', source_field='lot_id', db_constraint=True, to_field='id', related_name='allocations', on_delete=OnDelete.RESTRICT)),
                ('grams', fields.IntField()),
                ('state', fields.CharEnumField(description='SHIPPED: shipped\nCARRIED: carried\nDIVERTED: diverted', enum_type=AllocationState, max_length=10)),
                ('reason', fields.CharEnumField(null=True, description='SHELF_LIFE: shelf_life\nHOLD: hold\nDONATED: donated\nSOLD_LOCALLY: sold_locally\nUNCLAIMED: unclaimed', enum_type=DiversionReason, max_length=20)),
                ('subscription', fields.ForeignKeyField('farm.Subscription', source_field='subscription_id', null=True, db_constraint=True, to_field='id', related_name='allocations', on_delete=OnDelete.RESTRICT)),
                ('shipment', fields.ForeignKeyField('farm.Shipment', source_field='shipment_id', null=True, db_constraint=True, to_field='id', related_name='items', on_delete=OnDelete.RESTRICT)),
                ('ship_on', fields.DateField(null=True, db_index=True)),
                ('decided_by', fields.ForeignKeyField('farm.User', source_field='decided_by_id', null=True, db_constraint=True, to_field='id', related_name='diversions', on_delete=OnDelete.RESTRICT)),
                ('note', fields.CharField(default='', max_length=200)),
                ('decided_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'lot_allocations', 'app': 'farm', 'indexes': [Index(fields=['lot_id']), Index(fields=['subscription_id', 'state']), Index(fields=['shipment_id'])], 'pk_attr': 'id', 'table_description': 'A share of a harvest lot and the one place it went: a shipment item, a carry-over'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='TransitTime',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('cooperative', fields.ForeignKeyField('farm.Cooperative', source_field='cooperative_id', db_constraint=True, to_field='id', related_name='transit_times', on_delete=OnDelete.CASCADE)),
                ('province', fields.CharField(max_length=20)),
                ('days', fields.IntField()),
            ],
            options={'table': 'transit_times', 'app': 'farm', 'unique_together': (('cooperative', 'province'),), 'pk_attr': 'id', 'table_description': 'How many days a box takes from the cooperative to a province (the cooperative edits).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Voucher',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('subscription', fields.ForeignKeyField('farm.Subscription', source_field='subscription_id', db_constraint=True, to_field='id', related_name='vouchers', on_delete=OnDelete.RESTRICT)),
                ('perk', fields.ForeignKeyField('farm.PlanPerk', source_field='perk_id', db_constraint=True, to_field='id', related_name='vouchers', on_delete=OnDelete.RESTRICT)),
                ('seq', fields.IntField()),
                ('kind', fields.CharEnumField(description='SCENIC_TICKET: scenic_ticket\nFARM_STAY_NIGHT: farm_stay_night', enum_type=PerkKind, max_length=20)),
                ('partner', fields.ForeignKeyField('farm.Partner', source_field='partner_id', null=True, db_constraint=True, to_field='id', related_name='vouchers', on_delete=OnDelete.RESTRICT)),
                ('code', fields.CharField(unique=True, max_length=20)),
                ('status', fields.CharEnumField(default=VoucherStatus.ISSUED, description='ISSUED: issued\nREDEEMED: redeemed\nVOID: void\nEXPIRED: expired', enum_type=VoucherStatus, max_length=10)),
                ('valid_from', fields.DateField()),
                ('valid_until', fields.DateField()),
                ('issued_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('redeemed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('redeemed_by', fields.ForeignKeyField('farm.User', source_field='redeemed_by_id', null=True, db_constraint=True, to_field='id', related_name='redemptions', on_delete=OnDelete.RESTRICT)),
                ('redeemed_partner', fields.ForeignKeyField('farm.Partner', source_field='redeemed_partner_id', null=True, db_constraint=True, to_field='id', related_name='redemptions', on_delete=OnDelete.RESTRICT)),
                ('ended_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'vouchers', 'app': 'farm', 'unique_together': (('subscription', 'perk', 'seq'),), 'indexes': [Index(fields=['status', 'valid_until'])], 'pk_attr': 'id', 'table_description': 'One scenic-spot ticket or one farm-stay night, single use, valid for the season'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='HarvestLot',
            name='settled_g',
            field=fields.IntField(default=0),
        ),
        ops.AddIndex(
            model_name='HarvestLot',
            index=Index(fields=['field_id', 'harvested_on']),
        ),
    ]
