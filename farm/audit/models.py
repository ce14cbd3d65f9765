"""Corrections of what was recorded, each kept as a row: who, when, what it was, what it
became, and why. Records are corrected, never silently rewritten. A subscription a manager
cancelled for its customer is kept the same way (its status and refund, and why)."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class RecordKind(StrEnum):
    WORK_ENTRY = "work_entry"
    HARVEST_LOT = "harvest_lot"
    PLOT = "plot"
    SUBSCRIPTION = "subscription"  # cancelled by a manager for its customer


class CorrectionAction(StrEnum):
    CORRECTED = "corrected"
    VOIDED = "voided"
    CANCELLED = "cancelled"


class Correction(Model):
    """One change to a recorded work entry, harvest lot or plot, made by a manager with a
    reason. `before` and `after` hold the changed values only (text, as shown), and `day`
    is the record's own day (worked, harvested, or the day of the change for a plot), by
    which a season's corrections are found."""

    id = fields.IntField(primary_key=True)
    cooperative: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "farm.Cooperative", related_name="corrections", on_delete=fields.RESTRICT
    )
    kind = fields.CharEnumField(RecordKind, max_length=20)
    record_id = fields.IntField()
    label = fields.CharField(max_length=60, default="")  # a lot or plot code, as it was
    action = fields.CharEnumField(CorrectionAction, max_length=10)
    before = fields.JSONField(default=dict)
    after = fields.JSONField(default=dict)
    reason = fields.CharField(max_length=500)
    made_by: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "farm.User", related_name="corrections", on_delete=fields.RESTRICT
    )
    made_at = fields.DatetimeField()
    day = fields.DateField()

    class Meta:
        table = "corrections"
        indexes = (("kind", "record_id"), ("cooperative_id", "day"))
