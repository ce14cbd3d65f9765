"""Announcements: what a cooperative's manager writes to the active subscribers of a season,
of one of its fields, or of one of its ship days; and each subscriber's copy of it."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class Audience(StrEnum):
    SEASON = "season"  # every active subscriber of the season
    FIELD = "field"  # those whose plot is on the field
    SHIP_DAY = "ship_day"  # those with a box due that day (not held)


class Announcement(Model):
    """A subject and a plain-text body, sent once to its audience as it was when written:
    `recipients` says how many subscribers that was."""

    id = fields.IntField(primary_key=True)
    cooperative: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "farm.Cooperative", related_name="announcements", on_delete=fields.CASCADE
    )
    season: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "farm.Season", related_name="announcements", on_delete=fields.CASCADE
    )
    audience = fields.CharEnumField(Audience, max_length=10)
    field: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "farm.Field", null=True, related_name="announcements", on_delete=fields.SET_NULL
    )
    ship_on = fields.DateField(null=True)
    subject = fields.CharField(max_length=120)
    body = fields.TextField()
    written_by: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "farm.User", related_name="announcements_written", on_delete=fields.RESTRICT
    )
    created_at = fields.DatetimeField()
    recipients = fields.IntField(default=0)

    class Meta:
        table = "announcements"
        indexes = (("cooperative_id", "created_at"),)


class AnnouncementReceipt(Model):
    """One subscriber's copy: the notice on their account page, and the mail queued for them
    (None when they chose to get no announcements by mail)."""

    id = fields.IntField(primary_key=True)
    announcement: fields.ForeignKeyRelation[Announcement] = fields.ForeignKeyField(
        "farm.Announcement", related_name="receipts", on_delete=fields.CASCADE
    )
    user: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "farm.User", related_name="announcement_receipts", on_delete=fields.CASCADE
    )
    notification: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "farm.Notification", null=True, related_name="receipts", on_delete=fields.SET_NULL
    )

    class Meta:
        table = "announcement_receipts"
        unique_together = (("announcement", "user"),)
        indexes = (("user_id", "announcement_id"),)  # the account page's notices, newest first
