"""Each land transfer carries its own rent per mu a year, so that a household's new rate
starts new transfers instead of rewriting the rent of earlier years. The transfers written so
far take their household's rate (the one the ledger has been counting them at)."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('farm', '0040_monthly_choice')]

    initial = False

    operations = [
        ops.AddField(
            model_name='LandTransfer',
            name='rent_fen_per_mu_year',
            field=fields.IntField(null=True),
        ),
        ops.RunSQL(
            'UPDATE land_transfers SET rent_fen_per_mu_year = (SELECT h.rent_fen_per_mu_year'
            ' FROM households h WHERE h.id = land_transfers.household_id)',
            reverse_sql=ops.RunSQL.noop,
        ),
    ]
