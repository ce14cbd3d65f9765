from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class PaymentStatus(StrEnum):
    REQUIRES_PAYMENT = "requires_payment"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    REFUNDED = "refunded"
    REFUND_DUE = "refund_due"  # paid, but the plot could not be kept: to refund (retried)
    CANCELLED = "cancelled"


class Payment(Model):
    """One Stripe PaymentIntent for one subscription. Amounts are integer fen."""

    id = fields.IntField(primary_key=True)
    subscription: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "farm.Subscription", related_name="payments", on_delete=fields.RESTRICT
    )
    intent_id = fields.CharField(max_length=100, unique=True)
    client_secret = fields.CharField(max_length=200)
    amount_fen = fields.IntField()
    currency = fields.CharField(max_length=3, default="cny")
    status = fields.CharEnumField(
        PaymentStatus, max_length=20, default=PaymentStatus.REQUIRES_PAYMENT
    )
    card_last4 = fields.CharField(max_length=4, default="")
    failure_message = fields.CharField(max_length=300, default="")
    created_at = fields.DatetimeField()
    paid_at = fields.DatetimeField(null=True)
    refund_id = fields.CharField(max_length=100, default="")
    refunded_fen = fields.IntField(default=0)
    refunded_at = fields.DatetimeField(null=True)

    class Meta:
        table = "payments"
        indexes = (("subscription_id", "created_at"),)  # a subscription's payments


class ProcessedEvent(Model):
    """A provider event already applied: its id is stored in the same transaction."""

    id = fields.IntField(primary_key=True)
    event_id = fields.CharField(max_length=100, unique=True)
    type = fields.CharField(max_length=100)
    received_at = fields.DatetimeField()

    class Meta:
        table = "processed_events"
