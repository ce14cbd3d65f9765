from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class CropCalendar(Model):
    """A field's crop calendar: what its families may grow, and until when they choose (the
    cut-off: `cutoff_days` before the season's first sowing day, farm.cropplans.rules)."""

    id = fields.IntField(primary_key=True)
    field: fields.OneToOneRelation = fields.OneToOneField(
        "farm.Field", related_name="crop_calendar", on_delete=fields.RESTRICT
    )
    cutoff_days = fields.IntField(default=14)
    # The months any of its crops can be sown in (a row's bits, all rows together), kept with
    # the rows by farm.cropplans.calendar: a plot's page finds the cut-off without reading them.
    sow_months = fields.IntField(default=0, db_default=0)
    # Families choose each crop's sowing month (else each crop is sown in its first month of
    # the season), and crops that do not grow at the same time may share the plot's area.
    monthly = fields.BooleanField(default=False, db_default=False)

    class Meta:
        table = "crop_calendars"


class CalendarCrop(Model):
    """One crop of a field's calendar: the months it can be sown in (a bit per month, bit 0
    for January), the least area a family may give it, the days from sowing to harvest, the
    seed (grams) or seedlings a square metre takes, and its area in the default plan (0: not
    in it)."""

    id = fields.IntField(primary_key=True)
    calendar: fields.ForeignKeyRelation[CropCalendar] = fields.ForeignKeyField(
        "farm.CropCalendar", related_name="rows", on_delete=fields.CASCADE
    )
    crop: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "farm.Crop", related_name="calendar_rows", on_delete=fields.RESTRICT
    )
    sow_months = fields.IntField()
    min_area_m2 = fields.DecimalField(max_digits=9, decimal_places=2)
    days_to_harvest = fields.IntField()
    seed_per_m2 = fields.DecimalField(max_digits=9, decimal_places=2)
    seedlings = fields.BooleanField(default=False)  # seed_per_m2 counts seedlings, not grams
    default_area_m2 = fields.DecimalField(max_digits=9, decimal_places=2, default=0)

    class Meta:
        table = "calendar_crops"
        unique_together = (("calendar", "crop"),)


class CropPlan(Model):
    """What a subscription's plot grows this season: chosen by its family, or the cooperative's
    default plan given after the cut-off (`by_default`). One per subscription, however many
    schedulers run."""

    id = fields.IntField(primary_key=True)
    subscription: fields.OneToOneRelation = fields.OneToOneField(
        "farm.Subscription", related_name="crop_plan", on_delete=fields.RESTRICT
    )
    # The plot's field and the season: the sowing list reads a field's plans of a season.
    field: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "farm.Field", related_name="crop_plans", on_delete=fields.RESTRICT
    )
    season: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "farm.Season", related_name="crop_plans", on_delete=fields.RESTRICT
    )
    by_default = fields.BooleanField(default=False)
    chosen_at = fields.DatetimeField()

    class Meta:
        table = "crop_plans"
        indexes = (("field_id", "season_id"),)


class CropPlanLine(Model):
    """One crop of a plan: its area, and the day it is sown and expected to be harvested."""

    id = fields.IntField(primary_key=True)
    plan: fields.ForeignKeyRelation[CropPlan] = fields.ForeignKeyField(
        "farm.CropPlan", related_name="lines", on_delete=fields.CASCADE
    )
    crop: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "farm.Crop", related_name="plan_lines", on_delete=fields.RESTRICT
    )
    area_m2 = fields.DecimalField(max_digits=9, decimal_places=2)
    sow_on = fields.DateField()
    harvest_on = fields.DateField()

    class Meta:
        table = "crop_plan_lines"
        unique_together = (("plan", "crop"),)


class SowingLog(Model):
    """A week's sowing on a field, logged from the sowing list as one work entry. Unique on
    (field, season, week): a second click logs nothing twice."""

    id = fields.IntField(primary_key=True)
    field: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "farm.Field", related_name="sowing_logs", on_delete=fields.RESTRICT
    )
    season: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "farm.Season", related_name="sowing_logs", on_delete=fields.RESTRICT
    )
    week_on = fields.DateField()  # the Monday of the ISO week
    entry: fields.OneToOneRelation = fields.OneToOneField(
        "farm.WorkEntry", related_name="sowing_log", on_delete=fields.RESTRICT
    )
    logged_at = fields.DatetimeField()

    class Meta:
        table = "sowing_logs"
        unique_together = (("field", "season", "week_on"),)
