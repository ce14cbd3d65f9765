from tortoise import migrations
from tortoise.migrations import operations as ops
from farm.partners.models import BookingStatus
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('farm', '0005_subscription_plot_index')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Room',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('partner', fields.ForeignKeyField('farm.Partner', source_field='partner_id', db_constraint=True, to_field='id', related_name='rooms', on_delete=OnDelete.RESTRICT)),
                ('name', fields.CharField(max_length=60)),
                ('capacity', fields.IntField()),
                ('active', fields.BooleanField(default=True)),
            ],
            options={'table': 'rooms', 'app': 'farm', 'unique_together': (('partner', 'name'),), 'pk_attr': 'id', 'table_description': 'A guesthouse room that farm-stay vouchers can book, night by night.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Booking',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('partner', fields.ForeignKeyField('farm.Partner', source_field='partner_id', db_constraint=True, to_field='id', related_name='bookings', on_delete=OnDelete.RESTRICT)),
                ('room', fields.ForeignKeyField('farm.Room', source_field='room_id', db_constraint=True, to_field='id', related_name='bookings', on_delete=OnDelete.RESTRICT)),
                ('subscription', fields.ForeignKeyField('farm.Subscription', source_field='subscription_id', db_constraint=True, to_field='id', related_name='bookings', on_delete=OnDelete.RESTRICT)),
                ('first_night', fields.DateField()),
                ('nights', fields.IntField()),
                ('guests', fields.IntField(default=1)),
                ('status', fields.CharEnumField(default=BookingStatus.BOOKED, description='BOOKED: booked\nCANCELLED: cancelled\nARRIVED: arrived', enum_type=BookingStatus, max_length=10)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('cancelled_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('arrived_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'bookings', 'app': 'farm', 'indexes': [Index(fields=['partner_id', 'first_night'])], 'pk_attr': 'id', 'table_description': "A customer's farm stay at a guesthouse: consecutive nights in one room, one farm-stay"},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='BookingNight',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('booking', fields.ForeignKeyField('farm.Booking', source_field='booking_id', db_constraint=True, to_field='id', related_name='booked_nights', on_delete=OnDelete.CASCADE)),
                ('room', fields.ForeignKeyField('farm.Room', source_field='room_id', db_constraint=True, to_field='id', related_name='booked_nights', on_delete=OnDelete.RESTRICT)),
                ('night', fields.DateField()),
                ('voucher', fields.OneToOneField('farm.Voucher', source_field='voucher_id', db_constraint=True, to_field='id', related_name='booked_night', on_delete=OnDelete.RESTRICT)),
            ],
            options={'table': 'booking_nights', 'app': 'farm', 'unique_together': (('room', 'night'),), 'pk_attr': 'id', 'table_description': 'One night of a live booking. Unique on (room, night): the database, not the code, is'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Notification',
            name='claimed_until',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Partner',
            name='opening_hours',
            field=fields.CharField(default='', max_length=200),
        ),
        ops.AddField(
            model_name='Partner',
            name='phone',
            field=fields.CharField(default='', max_length=32),
        ),
    ]
