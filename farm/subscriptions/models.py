from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class Status(StrEnum):
    PENDING_PAYMENT = "pending_payment"
    ACTIVE = "active"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"
    COMPLETED = "completed"


ADDRESS_FIELDS = ("recipient", "phone", "province", "city", "address")


class DeliveryAddress(Model):
    """Where a family's boxes go, declared once: a subscription's (the customer edits it), a
    gift's (its giver's own, should the gift fall back to them) and a box's (as it was when the
    box was made). `ADDRESS_FIELDS` names them, and `rules.read_address` reads them from a form."""

    recipient = fields.CharField(max_length=60, default="")
    phone = fields.CharField(max_length=32, default="")
    province = fields.CharField(max_length=20, default="")
    city = fields.CharField(max_length=40, default="")
    address = fields.CharField(max_length=200, default="")

    class Meta:
        abstract = True


class Subscription(DeliveryAddress):
    """One customer, one plot, one season, one plan. State is kept as dated transitions.

    Its delivery address (`DeliveryAddress`) is the customer's to edit."""

    id = fields.IntField(primary_key=True)
    customer: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "farm.User", related_name="subscriptions", on_delete=fields.RESTRICT
    )
    season: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "farm.Season", related_name="subscriptions", on_delete=fields.RESTRICT
    )
    plan: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "farm.Plan", related_name="subscriptions", on_delete=fields.RESTRICT
    )
    plot: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "farm.Plot", related_name="subscriptions", on_delete=fields.RESTRICT
    )
    status = fields.CharEnumField(Status, max_length=20, default=Status.PENDING_PAYMENT)
    price_fen = fields.IntField()
    sign_name = fields.CharField(max_length=40, default="")
    reserved_at = fields.DatetimeField()
    activated_at = fields.DatetimeField(null=True)
    cancelled_at = fields.DatetimeField(null=True)
    cancel_reason = fields.CharField(max_length=20, default="")
    refunded_fen = fields.IntField(default=0)

    class Meta:
        table = "subscriptions"
        indexes = (
            ("plot_id", "season_id"),  # a field's subscribers, on each ship day
            ("customer_id", "reserved_at"),  # the customer's account page, newest first
        )
