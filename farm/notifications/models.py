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
    # templates/mail/<kind>; farm.notifications.rules.BULK says which kinds are bulk mail
    kind = fields.CharField(max_length=32, default="plain", db_default="plain")
    to = fields.CharField(max_length=254)
    subject = fields.CharField(max_length=200)
    body = fields.TextField()  # the plain-text part
    html = fields.TextField(default="", db_default="")
    images = fields.JSONField(null=True)  # cid -> the text of a QR code the HTML shows
    unsubscribe = fields.CharField(max_length=500, default="", db_default="")  # bulk mail
    # whose mail it is: the cooperative whose manager sees it when it cannot be delivered
    cooperative: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "farm.Cooperative", null=True, related_name="notifications", on_delete=fields.SET_NULL
    )
    created_at = fields.DatetimeField()
    sent_at = fields.DatetimeField(null=True, db_index=True)
    attempts = fields.IntField(default=0)
    # A sender's lease: while it lasts, no other sender takes the message. After a failed
    # try it is the time of the next one (the waits grow: farm.notifications.rules.retry_at).
    claimed_until = fields.DatetimeField(null=True)
    # Still undelivered a day after it was queued: given up, listed for the manager and admin.
    failed_at = fields.DatetimeField(null=True)
    last_error = fields.CharField(max_length=300, default="", db_default="")

    class Meta:
        table = "notifications"
        indexes = (("failed_at",), ("cooperative_id", "failed_at"))
