from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class PaymentStatus(StrEnum):
    REQUIRES_PAYMENT = "requires_payment"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    REFUNDED = "refunded"  # refunded in part or whole: every refund accepted or paid
    REFUND_DUE = "refund_due"  # money owed back: a refund requested, failed, or due outside Stripe
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


class RefundStatus(StrEnum):
    """See farm/payments/rules.py for the diagram."""

    REQUESTED = "requested"  # stored; not yet accepted by Stripe (retried on its key)
    PENDING = "pending"  # accepted by Stripe, money on its way
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # Stripe refused it, or the bank returned it: owed, for the manager
    CANCELED = "canceled"
    MANUAL_DUE = "manual_due"  # outside the method's refund window: the cooperative pays
    MANUAL_DONE = "manual_done"  # paid outside Stripe, recorded by the manager


class RefundReason(StrEnum):
    CUSTOMER_CANCEL = "customer_cancel"  # the customer cancelled by the rules
    PLOT_LOST = "plot_lost"  # the money arrived when the plot could not be kept
    DUPLICATE = "duplicate_payment"  # a second payment of a subscription already paid
    # Stripe took another amount or currency than asked (the intent was changed at Stripe)
    MISMATCH = "amount_mismatch"
    BOX_PROBLEM = "box_problem"  # part of the payment back for a box that came wrong


class ManualMethod(StrEnum):
    BANK_TRANSFER = "bank_transfer"
    ALIPAY_TRANSFER = "alipay_transfer"
    WECHAT_TRANSFER = "wechat_transfer"
    CASH = "cash"
    OTHER = "other"


class Refund(Model):
    """One attempt to give back an amount of one payment, stored before Stripe is called.

    Its idempotency key is a UUID, so it is unique across installations sharing one Stripe
    account and after a database restore. Every retry of the attempt sends the same key. A
    submission first takes the lease (a conditional update), so two processes never send it
    at once. A failed attempt is followed up at most once (`retry_of` is unique): by a new
    attempt with a new key, or by a refund the manager records as paid outside Stripe.

    The payment's `refunded_fen` is the sum of its refunds that reached the customer
    (succeeded or manual_done), recomputed in the transaction of every change."""

    id = fields.IntField(primary_key=True)
    payment: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "farm.Payment", related_name="refunds", on_delete=fields.RESTRICT
    )
    amount_fen = fields.IntField()
    reason = fields.CharEnumField(RefundReason, max_length=20)
    idempotency_key = fields.CharField(max_length=64, unique=True)
    provider_refund_id = fields.CharField(max_length=100, null=True, unique=True)
    status = fields.CharEnumField(RefundStatus, max_length=20, default=RefundStatus.REQUESTED)
    failure_reason = fields.CharField(max_length=300, default="")
    retry_of: fields.OneToOneNullableRelation = fields.OneToOneField(
        "farm.Refund", null=True, related_name="follow_up", on_delete=fields.RESTRICT
    )
    # The submitter's lease: while it lasts, nobody else sends this attempt to Stripe.
    lease_until = fields.DatetimeField(null=True)
    attempts = fields.IntField(default=0)
    last_error = fields.CharField(max_length=300, default="")
    manual_method = fields.CharField(max_length=20, default="")
    manual_note = fields.CharField(max_length=300, default="")
    recorded_by: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "farm.User", null=True, related_name="recorded_refunds", on_delete=fields.RESTRICT
    )
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()
    settled_at = fields.DatetimeField(null=True)  # reached succeeded, failed or manual_done

    class Meta:
        table = "refunds"
        indexes = (("status", "updated_at"), ("payment_id", "created_at"))


class Dispute(Model):
    """A chargeback Stripe told us about (charge.dispute.*), for the cooperative's manager."""

    id = fields.IntField(primary_key=True)
    provider_dispute_id = fields.CharField(max_length=100, unique=True)
    payment: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "farm.Payment", null=True, related_name="disputes", on_delete=fields.RESTRICT
    )
    intent_id = fields.CharField(max_length=100, default="")
    amount_fen = fields.IntField()
    reason = fields.CharField(max_length=50, default="")
    status = fields.CharField(max_length=30)
    due_by = fields.DatetimeField(null=True)  # evidence to submit by then
    provider_updated_at = fields.DatetimeField()  # the newest event applied: older ones skip
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "disputes"
        indexes = (("payment_id",),)
