from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('farm', '0027_staff_invitations')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Courier',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('cooperative', fields.ForeignKeyField('farm.Cooperative', source_field='cooperative_id', db_constraint=True, to_field='id', related_name='couriers', on_delete=OnDelete.CASCADE)),
                ('name', fields.CharField(max_length=40)),
                ('name_en', fields.CharField(default='', max_length=40)),
                ('tracking_url', fields.CharField(default='', max_length=300)),
                ('privacy_waybill', fields.BooleanField(default=True)),
                ('retired', fields.BooleanField(default=False)),
            ],
            options={'table': 'couriers', 'app': 'farm', 'unique_together': (('cooperative', 'name'),), 'pk_attr': 'id', 'table_description': 'A courier the cooperative ships with: its names, the link where a customer follows a'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Shipment',
            name='tracking_url',
            field=fields.CharField(default='', max_length=400, db_default=''),
        ),
        ops.AddField(
            model_name='Cooperative',
            name='labels_mask_phone',
            field=fields.BooleanField(default=False, db_default=False),
        ),
    ]
