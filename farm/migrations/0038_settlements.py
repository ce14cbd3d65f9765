from tortoise import migrations
from tortoise.migrations import operations as ops
import datetime
from farm.land.models import PerkKind
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('farm', '0037_crop_plans')]

    initial = False

    operations = [
        ops.CreateModel(
            name='PartnerPrice',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('partner', fields.ForeignKeyField('farm.Partner', source_field='partner_id', db_constraint=True, to_field='id', related_name='prices', on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharEnumField(description='SCENIC_TICKET: scenic_ticket\nFARM_STAY_NIGHT: farm_stay_night', enum_type=PerkKind, max_length=20)),
                ('price_fen', fields.IntField()),
                ('valid_from', fields.DateField()),
                ('set_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('set_by', fields.ForeignKeyField('farm.User', source_field='set_by_id', null=True, db_constraint=True, to_field='id', related_name='partner_prices', on_delete=OnDelete.SET_NULL)),
            ],
            options={'table': 'partner_prices', 'app': 'farm', 'unique_together': (('partner', 'kind', 'valid_from'),), 'pk_attr': 'id', 'table_description': 'What the cooperative pays a partner for one redeemed voucher of a kind, in fen, from'},
            bases=['Model'],
        ),
        ops.AlterModelOptions(
            name='LandTransfer',
            options={'table': 'land_transfers', 'app': 'farm', 'unique_together': (('household', 'field'),), 'pk_attr': 'id', 'table_description': 'Land a household transferred: so many m² of a field, from starts_on (included) until'},
        ),
        ops.AddField(
            model_name='LandTransfer',
            name='ends_on',
            field=fields.DateField(null=True),
        ),
        ops.AddField(
            model_name='LandTransfer',
            name='starts_on',
            field=fields.DateField(default=datetime.date.fromisoformat('2014-01-01'), db_default=datetime.date.fromisoformat('2014-01-01')),
        ),
        ops.AddIndex(
            model_name='Voucher',
            index=Index(fields=['redeemed_partner_id', 'redeemed_at']),
        ),
        # The land transferred so far had no dates: it is taken to have served since the
        # cooperative's first season began (the day the earliest rent could be owed).
        ops.RunSQL(
            'UPDATE land_transfers SET starts_on = ('
            ' SELECT MIN(s.starts_on) FROM seasons s JOIN households h'
            ' ON h.cooperative_id = s.cooperative_id WHERE h.id = land_transfers.household_id)'
            ' WHERE EXISTS (SELECT 1 FROM seasons s JOIN households h'
            ' ON h.cooperative_id = s.cooperative_id WHERE h.id = land_transfers.household_id)'
        ),
    ]
