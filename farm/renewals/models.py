from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class RenewalWindow(Model):
    """A season's renewal window: from `opens_on` (included) until its public sale opens
    (`sale_starts_on`, excluded: half-open), the current subscribers of the cooperative's
    fields have their plot held for them (farm.renewals.rules)."""

    id = fields.IntField(primary_key=True)
    season: fields.OneToOneRelation = fields.OneToOneField(
        "farm.Season", related_name="renewal_window", on_delete=fields.RESTRICT
    )
    opens_on = fields.DateField()

    class Meta:
        table = "renewal_windows"


class Renewal(Model):
    """One eligible subscription's right to its plot in the next season. Unique on (season,
    previous): a window is opened once per subscription, however many schedulers run. The
    hold itself is `subscription`'s plot claim (the one guarantee every hold has: plot_claims
    unique on (season, plot)). None when no plot could be held for it."""

    id = fields.IntField(primary_key=True)
    season: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "farm.Season", related_name="renewals", on_delete=fields.RESTRICT
    )
    previous: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "farm.Subscription", related_name="renewals", on_delete=fields.RESTRICT
    )
    subscription: fields.OneToOneNullableRelation = fields.OneToOneField(
        "farm.Subscription", null=True, related_name="renewal_of", on_delete=fields.RESTRICT
    )
    # The previous plot's field: the console's renewal rate is counted per field.
    field: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "farm.Field", related_name="renewals", on_delete=fields.RESTRICT
    )
    same_plot = fields.BooleanField(default=False)
    opened_at = fields.DatetimeField()
    reminded_at = fields.DatetimeField(null=True)

    class Meta:
        table = "renewals"
        unique_together = (("season", "previous"),)
        indexes = (("season_id", "field_id"),)
