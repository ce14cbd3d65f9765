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


class PaymentMethod(StrEnum):
    CARD = "card"
    ALIPAY = "alipay"
    WECHAT_PAY = "wechat_pay"


class Payment(Model):
    """One Stripe PaymentIntent for one subscription. Amounts are integer fen.

    Each is paid by one method. At most one payment of a subscription is requires_payment at
    a time: the unique index payments_one_open, made in migration 0012."""

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
    method = fields.CharEnumField(
        PaymentMethod, max_length=20, default=PaymentMethod.CARD, db_default="card"
    )
    card_last4 = fields.CharField(max_length=4, default="")
    failure_code = fields.CharField(
        max_length=100, default="", db_default=""
    )  # Stripe's decline_code or code
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
