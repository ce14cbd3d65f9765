from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class PartnerKind(StrEnum):
    SCENIC_SPOT = "scenic_spot"
    GUESTHOUSE = "guesthouse"


class Partner(Model):
    """A scenic spot or guesthouse that accepts a cooperative's vouchers."""

    id = fields.IntField(primary_key=True)
    cooperative: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "farm.Cooperative", related_name="partners", on_delete=fields.RESTRICT
    )
    kind = fields.CharEnumField(PartnerKind, max_length=20)
    name = fields.CharField(max_length=100)
    address = fields.CharField(max_length=200, default="")

    class Meta:
        table = "partners"
