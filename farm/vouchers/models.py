"""Vouchers: a plan's perks, issued to a subscription when it turns active."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model

from farm.land.models import PerkKind


class VoucherStatus(StrEnum):
    ISSUED = "issued"
    REDEEMED = "redeemed"
    VOID = "void"  # the subscription was cancelled
    EXPIRED = "expired"  # the season ended unused


class Voucher(Model):
    """One scenic-spot ticket or one farm-stay night, single use, valid for the season
    (valid_from inclusive, valid_until exclusive)."""

    id = fields.IntField(primary_key=True)
    subscription: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "farm.Subscription", related_name="vouchers", on_delete=fields.RESTRICT
    )
    perk: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "farm.PlanPerk", related_name="vouchers", on_delete=fields.RESTRICT
    )
    seq = fields.IntField()  # 1..perk.count
    kind = fields.CharEnumField(PerkKind, max_length=20)
    partner: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "farm.Partner", null=True, related_name="vouchers", on_delete=fields.RESTRICT
    )
    code = fields.CharField(max_length=20, unique=True)
    status = fields.CharEnumField(VoucherStatus, max_length=10, default=VoucherStatus.ISSUED)
    valid_from = fields.DateField()
    valid_until = fields.DateField()
    issued_at = fields.DatetimeField()
    redeemed_at = fields.DatetimeField(null=True)
    redeemed_by: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "farm.User", null=True, related_name="redemptions", on_delete=fields.RESTRICT
    )
    redeemed_partner: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "farm.Partner", null=True, related_name="redemptions", on_delete=fields.RESTRICT
    )
    ended_at = fields.DatetimeField(null=True)  # when it was voided or expired

    class Meta:
        table = "vouchers"
        unique_together = (("subscription", "perk", "seq"),)
        # ... and a partner's redemptions in a period (its redemptions page, its statement)
        indexes = (("status", "valid_until"), ("redeemed_partner_id", "redeemed_at"))
