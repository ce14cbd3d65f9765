from __future__ import annotations

from datetime import date
from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class Activity(StrEnum):
    SOWING = "sowing"
    TRANSPLANTING = "transplanting"
    WEEDING = "weeding"
    WATERING = "watering"
    FERTILISING = "fertilising"
    PEST_CONTROL = "pest_control"
    HARVESTING = "harvesting"
    VISIT = "visit"  # a self-tending customer's own visit
    OTHER = "other"


class Household(Model):
    """A farmer household that transferred land use rights to the cooperative."""

    id = fields.IntField(primary_key=True)
    cooperative: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "farm.Cooperative", related_name="households", on_delete=fields.RESTRICT
    )
    name = fields.CharField(max_length=60)
    village = fields.CharField(max_length=60, default="")
    is_poor = fields.BooleanField(default=False)  # registered as a poor household
    rent_fen_per_mu_year = fields.IntField(default=0)
    wage_fen_per_hour = fields.IntField(default=0)
    # Shown to the subscribers of the plots it tends only with its consent: a name, a photo
    # (photos/NAME.jpg in the storage, as a work photo) and a line about the household.
    shown_to_subscribers = fields.BooleanField(default=False, db_default=False)
    about = fields.CharField(max_length=200, default="", db_default="")
    picture = fields.CharField(max_length=80, default="", db_default="")

    class Meta:
        table = "households"


class LandTransfer(Model):
    """Land a household transferred: so many m² of a field, from starts_on (included) until
    ends_on (excluded, none while the transfer runs). Its rent is counted on these dates, by
    calendar year (farm.fieldwork.ledger), never by season. A household's transfers of a field
    follow one another: land given back or resized ends one and starts the next, so the
    past stays as it was (farm.fieldwork.ledger_rules.land_changes). It pays its own rent per
    mu a year, the household's rate when it started: a new rate ends the transfers in force
    and starts new ones, as a resize does, so earlier days keep the rate they were paid at."""

    id = fields.IntField(primary_key=True)
    household: fields.ForeignKeyRelation[Household] = fields.ForeignKeyField(
        "farm.Household", related_name="transfers", on_delete=fields.CASCADE
    )
    field: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "farm.Field", related_name="transfers", on_delete=fields.RESTRICT
    )
    area_m2 = fields.DecimalField(max_digits=10, decimal_places=2)
    starts_on = fields.DateField(default=date(2014, 1, 1), db_default=date(2014, 1, 1))
    ends_on = fields.DateField(null=True)
    # None only for rows written without one (seeds): the household's rate is read then
    rent_fen_per_mu_year = fields.IntField(null=True)

    class Meta:
        table = "land_transfers"
        unique_together = (("household", "field", "starts_on"),)


class CropUnit(StrEnum):
    """How a crop is harvested and shipped: weighed in kg, or counted (eggs)."""

    KG = "kg"
    PIECES = "pieces"


class Crop(Model):
    """A crop of a cooperative's list, with its shelf life at room temperature and its unit.
    For a crop counted in pieces, the lots' and allocations' gram columns (weight_g,
    settled_g, grams) hold a count of pieces: the every-gram engine works on whole units
    and does not care which (farm/units.py shows them). A retired crop is offered in no new
    harvest entry and stays in the history."""

    id = fields.IntField(primary_key=True)
    cooperative: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "farm.Cooperative", related_name="crops", on_delete=fields.RESTRICT
    )
    name = fields.CharField(max_length=40)
    name_en = fields.CharField(max_length=40, default="")
    shelf_life_days = fields.IntField()
    leafy = fields.BooleanField(default=False)
    unit = fields.CharEnumField(CropUnit, max_length=10, default=CropUnit.KG, db_default="kg")
    retired = fields.BooleanField(default=False, db_default=False)

    class Meta:
        table = "crops"
        unique_together = (("cooperative", "name"),)


class WorkEntry(Model):
    """Farming work done on a day: on some plots of a field, or (no plots) the whole field."""

    id = fields.IntField(primary_key=True)
    cooperative: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "farm.Cooperative", related_name="work_entries", on_delete=fields.RESTRICT
    )
    field: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "farm.Field", related_name="work_entries", on_delete=fields.RESTRICT
    )
    activity = fields.CharEnumField(Activity, max_length=20)
    worked_on = fields.DateField(db_index=True)
    notes = fields.TextField(default="")
    whole_field = fields.BooleanField(default=False)
    logged_by: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "farm.User", related_name="work_entries", on_delete=fields.RESTRICT
    )
    created_at = fields.DatetimeField()
    # Set by a manager's correction (farm.audit keeps what it was and why): a voided entry
    # counts nowhere (timelines, wages), a corrected one says so where it is shown.
    corrected_at = fields.DatetimeField(null=True)
    voided_at = fields.DatetimeField(null=True)

    class Meta:
        table = "work_entries"
        indexes = (("field_id", "worked_on"),)  # a plot's timeline: its field's work


class WorkEntryPlot(Model):
    id = fields.IntField(primary_key=True)
    entry: fields.ForeignKeyRelation[WorkEntry] = fields.ForeignKeyField(
        "farm.WorkEntry", related_name="plot_links", on_delete=fields.CASCADE
    )
    plot: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "farm.Plot", related_name="work_links", on_delete=fields.RESTRICT
    )

    class Meta:
        table = "work_entry_plots"
        unique_together = (("entry", "plot"),)
        indexes = (("plot_id",),)  # the work on a plot, for its timeline


class WorkInput(Model):
    """An input used (a fertiliser, a pesticide, seed), organic or not, and its dose."""

    id = fields.IntField(primary_key=True)
    entry: fields.ForeignKeyRelation[WorkEntry] = fields.ForeignKeyField(
        "farm.WorkEntry", related_name="inputs", on_delete=fields.CASCADE
    )
    name = fields.CharField(max_length=60)
    organic = fields.BooleanField(default=False)
    dose = fields.CharField(max_length=60, default="")

    class Meta:
        table = "work_inputs"
        indexes = (("entry_id",),)


class WorkShift(Model):
    """Who worked, for how long: the hours that earn a household its wages."""

    id = fields.IntField(primary_key=True)
    entry: fields.ForeignKeyRelation[WorkEntry] = fields.ForeignKeyField(
        "farm.WorkEntry", related_name="shifts", on_delete=fields.CASCADE
    )
    household: fields.ForeignKeyRelation[Household] = fields.ForeignKeyField(
        "farm.Household", related_name="shifts", on_delete=fields.RESTRICT
    )
    hours = fields.DecimalField(max_digits=6, decimal_places=2)

    class Meta:
        table = "work_shifts"
        # an entry's shifts; a household's (its hours on a day, the work log's filter)
        indexes = (("entry_id",), ("household_id", "entry_id"))


class Photo(Model):
    id = fields.IntField(primary_key=True)
    entry: fields.ForeignKeyRelation[WorkEntry] = fields.ForeignKeyField(
        "farm.WorkEntry", related_name="photos", on_delete=fields.CASCADE
    )
    file_name = fields.CharField(max_length=80)  # photos/NAME.jpg in the storage
    width = fields.IntField()
    height = fields.IntField()
    # A photo of the family's name sign on the entry's one plot: the plot's page shows it.
    sign = fields.BooleanField(default=False, db_default=False)

    class Meta:
        table = "photos"
        indexes = (("entry_id",),)


class HarvestLot(Model):
    """A crop harvested on a day from a plot (or, with no plot, from a whole field)."""

    id = fields.IntField(primary_key=True)
    cooperative: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "farm.Cooperative", related_name="harvest_lots", on_delete=fields.RESTRICT
    )
    code = fields.CharField(max_length=12, unique=True)
    crop: fields.ForeignKeyRelation[Crop] = fields.ForeignKeyField(
        "farm.Crop", related_name="lots", on_delete=fields.RESTRICT
    )
    field: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "farm.Field", related_name="harvest_lots", on_delete=fields.RESTRICT
    )
    plot: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "farm.Plot", null=True, related_name="harvest_lots", on_delete=fields.RESTRICT
    )
    harvested_on = fields.DateField(db_index=True)
    # grams (integer arithmetic, shown in kg and jin), or pieces for a crop counted in pieces
    weight_g = fields.IntField()
    # Grams already given a place (shipped, carried over or diverted): the sum of the lot's
    # allocations. Kept on the lot so a ship day finds what is still open with one index.
    settled_g = fields.IntField(default=0)
    logged_by: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "farm.User", related_name="harvest_lots", on_delete=fields.RESTRICT
    )
    created_at = fields.DatetimeField()
    # Set by a manager's correction (farm.audit keeps what it was and why). A voided lot
    # weighs 0 g: nothing of it was ever shipped, and it is shown nowhere but the console.
    corrected_at = fields.DatetimeField(null=True)
    voided_at = fields.DatetimeField(null=True)

    class Meta:
        table = "harvest_lots"
        # a field's lots on a ship day; a plot's lots (its timeline, its stays page)
        # ... and a crop's lots (the catalogue's counts, whether a crop is in use)
        indexes = (("field_id", "harvested_on"), ("plot_id", "harvested_on"), ("crop_id",))
