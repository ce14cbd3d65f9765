from __future__ import annotations

from tortoise import fields

from farm.subscriptions.models import DeliveryAddress


class Gift(DeliveryAddress):
    """A subscription bought for someone else. Its claim code is derived from the secret key
    and `code_salt` (farm.gifts.rules.derive_code), so the giver's card can show it again,
    and only its SHA-256 is stored to find it: a copy of the table claims nothing. Claimed or
    returned to the giver once, each by a conditional UPDATE on `claimed_at IS NULL AND
    returned_at IS NULL`. Its address (`DeliveryAddress`) is the giver's own, where the
    boxes go if the gift falls back to them."""

    id = fields.IntField(primary_key=True)
    subscription: fields.OneToOneRelation = fields.OneToOneField(
        "farm.Subscription", related_name="gift", on_delete=fields.RESTRICT
    )
    giver: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "farm.User", related_name="gifts_given", on_delete=fields.RESTRICT
    )
    recipient_name = fields.CharField(max_length=40)  # what the plot's sign reads
    message = fields.CharField(max_length=300, default="")
    created_at = fields.DatetimeField()
    # Set when the payment arrives:
    paid_at = fields.DatetimeField(null=True)
    code_salt = fields.CharField(max_length=32, default="")
    code_hash = fields.CharField(max_length=64, null=True, unique=True)
    claim_by = fields.DateField(null=True, db_index=True)  # the first ship day after payment
    remind_on = fields.DateField(null=True)
    reminded_at = fields.DatetimeField(null=True)
    claimed_at = fields.DatetimeField(null=True)
    claimed_by: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "farm.User", related_name="gifts_claimed", null=True, on_delete=fields.RESTRICT
    )
    returned_at = fields.DatetimeField(null=True)  # not claimed in time: the giver's own

    class Meta:
        table = "gifts"
        indexes = (("giver_id", "created_at"),)  # the giver's account page
