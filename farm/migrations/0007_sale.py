from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [('farm', '0006_rooms_bookings_mail_lease')]

    initial = False

    operations = [
        # The buyer on the claim, so that one unpaid reservation per customer and season is a
        # unique index, not a lock and a lookup.
        ops.AddField(
            model_name='PlotClaim',
            name='customer',
            field=fields.ForeignKeyField('farm.User', source_field='customer_id', null=True, db_constraint=True, to_field='id', related_name='claims', on_delete=OnDelete.RESTRICT),
        ),
        ops.RunSQL(
            'UPDATE plot_claims SET customer_id = (SELECT customer_id FROM subscriptions '
            'WHERE subscriptions.id = plot_claims.subscription_id)'
        ),
        # Two unpaid reservations of one customer in a season (a double click on a database
        # that predates this rule) would stop the index: the older one is released first.
        ops.RunSQL(
            'DELETE FROM plot_claims WHERE expires_at IS NOT NULL AND EXISTS ('
            'SELECT 1 FROM plot_claims newer WHERE newer.season_id = plot_claims.season_id '
            'AND newer.customer_id = plot_claims.customer_id '
            'AND newer.expires_at IS NOT NULL AND newer.id > plot_claims.id)'
        ),
        # A plan's claims as a counter (see farm/subscriptions/claims.py), from the claims
        # that exist, live or lapsed and not yet released.
        ops.AddField(
            model_name='Plan',
            name='held',
            field=fields.IntField(default=0, db_default=0),
        ),
        ops.RunSQL(
            'UPDATE plans SET held = '
            '(SELECT count(*) FROM plot_claims WHERE plot_claims.plan_id = plans.id)'
        ),
        ops.RunSQL(
            'CREATE UNIQUE INDEX plot_claims_one_unpaid ON plot_claims (season_id, customer_id) '
            'WHERE expires_at IS NOT NULL',
            reverse_sql='DROP INDEX plot_claims_one_unpaid',
        ),
        # "Pick one for me" when the random sample missed: the first free plot of a field and
        # size, in id order, without walking the other fields' plots.
        ops.RunSQL(
            'CREATE INDEX IF NOT EXISTS plots_field_area_id ON plots (field_id, area_m2, id)',
            reverse_sql='DROP INDEX plots_field_area_id',
        ),
    ]
