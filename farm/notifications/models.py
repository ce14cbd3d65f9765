"""The notification outbox: mail written in the same transaction as what it reports."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class Notification(Model):
    """One email to one user. The unique key (for example 'shipped:123') means an event
    mails once however often the code that reports it runs, and sent_at marks delivery, so a
    crash between commit and sending is retried and a rerun sends nothing twice."""

    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "farm.User", related_name="notifications", on_delete=fields.CASCADE
    )
    key = fields.CharField(max_length=80, unique=True)
    to = fields.CharField(max_length=254)
    subject = fields.CharField(max_length=200)
    body = fields.TextField()
    created_at = fields.DatetimeField()
    sent_at = fields.DatetimeField(null=True, db_index=True)
    attempts = fields.IntField(default=0)
    # A sender's lease: while it lasts, no other sender takes the message.
    claimed_until = fields.DatetimeField(null=True)

    class Meta:
        table = "notifications"
