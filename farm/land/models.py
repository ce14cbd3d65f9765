from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class CareMode(StrEnum):
    SELF_TENDED = "self_tended"
    MANAGED = "managed"


class PerkKind(StrEnum):
    SCENIC_TICKET = "scenic_ticket"
    FARM_STAY_NIGHT = "farm_stay_night"


class Cooperative(Model):
    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=100)
    name_en = fields.CharField(max_length=100, default="")
    village = fields.CharField(max_length=100, default="")
    province = fields.CharField(max_length=50, default="")
    phone = fields.CharField(max_length=32, default="", db_default="")
    # Shown to customers beside the cooperative's plans
    description = fields.TextField(default="", db_default="")
    # Its box labels print 138****5678 rather than the whole mobile (the couriers' page).
    labels_mask_phone = fields.BooleanField(default=False, db_default=False)
    # Its picture, shown to customers beside its plans: a PhotoStore name, "" for none
    picture = fields.CharField(max_length=64, default="", db_default="")

    class Meta:
        table = "cooperatives"


class Field(Model):
    """A parcel of land that plots are cut from. The map is in metres, origin top-left."""

    id = fields.IntField(primary_key=True)
    cooperative: fields.ForeignKeyRelation[Cooperative] = fields.ForeignKeyField(
        "farm.Cooperative", related_name="fields", on_delete=fields.RESTRICT
    )
    name = fields.CharField(max_length=100)
    width_m = fields.DecimalField(max_digits=9, decimal_places=2)
    height_m = fields.DecimalField(max_digits=9, decimal_places=2)

    class Meta:
        table = "fields"


class Plot(Model):
    id = fields.IntField(primary_key=True)
    field: fields.ForeignKeyRelation[Field] = fields.ForeignKeyField(
        "farm.Field", related_name="plots", on_delete=fields.RESTRICT
    )
    code = fields.CharField(max_length=20)
    area_m2 = fields.DecimalField(max_digits=10, decimal_places=2)
    # Rectangle on the field map, in metres.
    x_m = fields.DecimalField(max_digits=9, decimal_places=2)
    y_m = fields.DecimalField(max_digits=9, decimal_places=2)
    w_m = fields.DecimalField(max_digits=9, decimal_places=2)
    h_m = fields.DecimalField(max_digits=9, decimal_places=2)

    class Meta:
        table = "plots"
        unique_together = (("field", "code"),)


class PlotSize(Model):
    """How many plots of one size a field has, so that the offer counts a field's free plots
    without reading its plots (farm/land/services.py `plot_counts`). Kept by the database:
    triggers on `plots` (migration 0015) count every insert, delete and change, whoever
    makes it (the console's cut, a bulk load, COPY). Never written by the app."""

    id = fields.IntField(primary_key=True)
    field: fields.ForeignKeyRelation[Field] = fields.ForeignKeyField(
        "farm.Field", related_name="plot_sizes", on_delete=fields.RESTRICT
    )
    area_m2 = fields.DecimalField(max_digits=10, decimal_places=2)
    plots = fields.IntField()

    class Meta:
        table = "plot_sizes"
        unique_together = (("field", "area_m2"),)


class Season(Model):
    """A subscription period [starts_on, ends_on) with a sale window and its ship days."""

    id = fields.IntField(primary_key=True)
    cooperative: fields.ForeignKeyRelation[Cooperative] = fields.ForeignKeyField(
        "farm.Cooperative", related_name="seasons", on_delete=fields.RESTRICT
    )
    name = fields.CharField(max_length=100)
    name_en = fields.CharField(max_length=100, default="")
    starts_on = fields.DateField()
    ends_on = fields.DateField()
    sale_starts_on = fields.DateField()
    sale_ends_on = fields.DateField()
    ship_days_of_month = fields.CharField(max_length=40, default="1,16")
    cutoff_days = fields.IntField(default=2)
    # Ship days skipped or moved after the sale (farm.land.rules.parse_ship_day_moves); each
    # change and its reason is a ShipDayChange.
    ship_day_moves = fields.CharField(max_length=400, default="", db_default="")

    class Meta:
        table = "seasons"


class ShipDayChange(Model):
    """A coming ship day of a season skipped (moved_to null) or moved, by a manager, with the
    reason its subscribers are told (by mail, once: told_at)."""

    id = fields.IntField(primary_key=True)
    season: fields.ForeignKeyRelation[Season] = fields.ForeignKeyField(
        "farm.Season", related_name="ship_day_changes", on_delete=fields.RESTRICT
    )
    ship_on = fields.DateField()  # the day as it fell before this change
    moved_to = fields.DateField(null=True)
    reason = fields.CharField(max_length=200)
    changed_by: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "farm.User", related_name="ship_day_changes", on_delete=fields.RESTRICT
    )
    changed_at = fields.DatetimeField()
    told_at = fields.DatetimeField(null=True, db_index=True)

    class Meta:
        table = "ship_day_changes"


class Plan(Model):
    id = fields.IntField(primary_key=True)
    season: fields.ForeignKeyRelation[Season] = fields.ForeignKeyField(
        "farm.Season", related_name="plans", on_delete=fields.RESTRICT
    )
    field: fields.ForeignKeyRelation[Field] = fields.ForeignKeyField(
        "farm.Field", related_name="plans", on_delete=fields.RESTRICT
    )
    name = fields.CharField(max_length=100)
    name_en = fields.CharField(max_length=100, default="")
    plot_area_m2 = fields.DecimalField(max_digits=10, decimal_places=2)
    care_mode = fields.CharEnumField(CareMode, max_length=20)
    crop_plan = fields.TextField(default="")
    crop_plan_en = fields.TextField(default="")
    price_fen = fields.IntField()
    max_plots = fields.IntField()
    # How many plots of this plan one family may hold at once (paid or in checkout).
    max_plots_per_customer = fields.IntField(default=1, db_default=1)
    # The plan's claims (live, or lapsed and not yet released) are counted in its 16
    # `places` rows (PlanPlace, farm/land/places.py), not here.
    # A draft (False) is seen by its cooperative's managers only: not offered, not reservable.
    # The console saves every new plan as a draft; rows made otherwise are published.
    published = fields.BooleanField(default=True, db_default=True)

    class Meta:
        table = "plans"


class PlanPlace(Model):
    """One of the 16 rows that count a plan's claims, so that its buyers do not queue for one.

    Shard s may hold `cap` = (max_plots + 15 - s) // 16 claims: the caps add up to max_plots.
    farm/land/places.py takes and gives back places. Database triggers give every new plan its
    16 rows and, when its max_plots changes, set the caps again and share the places held out
    as the caps are (so no row keeps room the plan no longer has)."""

    id = fields.IntField(primary_key=True)
    plan: fields.ForeignKeyRelation[Plan] = fields.ForeignKeyField(
        "farm.Plan", related_name="places", on_delete=fields.CASCADE
    )
    shard = fields.SmallIntField()
    held = fields.IntField(default=0)
    # Kept with the row (not read from the plan's max_plots) so that a buyer who waited for
    # this row re-checks its room against the cap the row has now.
    cap = fields.IntField()

    class Meta:
        table = "plan_places"
        unique_together = (("plan", "shard"),)


class PlanPerk(Model):
    id = fields.IntField(primary_key=True)
    plan: fields.ForeignKeyRelation[Plan] = fields.ForeignKeyField(
        "farm.Plan", related_name="perks", on_delete=fields.CASCADE
    )
    kind = fields.CharEnumField(PerkKind, max_length=20)
    partner: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "farm.Partner", null=True, related_name="perks", on_delete=fields.RESTRICT
    )
    count = fields.IntField()

    class Meta:
        table = "plan_perks"


class PlotClaim(Model):
    """The one live hold on a plot in a season: a reservation (expires_at set) or a paid
    subscription (expires_at null). The unique (season, plot) pair is what makes a double
    sale impossible, whatever the application does."""

    id = fields.IntField(primary_key=True)
    season: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "farm.Season", related_name="claims", on_delete=fields.RESTRICT
    )
    plot: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "farm.Plot", related_name="claims", on_delete=fields.RESTRICT
    )
    plan: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "farm.Plan", related_name="claims", on_delete=fields.RESTRICT
    )
    subscription: fields.OneToOneRelation = fields.OneToOneField(
        "farm.Subscription", related_name="claim", on_delete=fields.CASCADE
    )
    # The buyer, for the one-unpaid-reservation rule: a partial unique index on (season,
    # customer) over unpaid claims (migration 0007) refuses a second checkout.
    customer: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "farm.User", null=True, related_name="claims", on_delete=fields.RESTRICT
    )
    expires_at = fields.DatetimeField(null=True, db_index=True)

    class Meta:
        table = "plot_claims"
        unique_together = (("season", "plot"),)
