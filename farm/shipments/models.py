"""Ship days and what they send: batches, shipments, and where every gram of a lot went."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model

from farm.subscriptions.models import DeliveryAddress


class ShipmentStatus(StrEnum):
    CREATED = "created"  # to be packed
    EMPTY = "empty"  # nothing could be sent this time: no box
    PACKED = "packed"
    SHIPPED = "shipped"
    CLOSED = "closed"  # a past ship day's box never sent: closed by a manager, with a reason


SHIPPABLE = (ShipmentStatus.CREATED, ShipmentStatus.PACKED)  # boxes still to hand to a courier


class AllocationState(StrEnum):
    SHIPPED = "shipped"  # in a shipment: a shipment item
    CARRIED = "carried"  # kept for the subscriber's next shipment (a held ship day)
    DIVERTED = "diverted"  # not shipped, for the reason recorded


class DiversionReason(StrEnum):
    SHELF_LIFE = "shelf_life"  # would spoil before it reached the customer
    HOLD = "hold"  # the customer held the ship day, and it would not keep until the next
    DONATED = "donated"
    SOLD_LOCALLY = "sold_locally"
    UNCLAIMED = "unclaimed"  # no subscriber to send it to (free plot, after the last ship day)
    NOT_SENT = "not_sent"  # its box was closed unsent (Shipment.close_reason says why)


class TransitTime(Model):
    """How many days a box takes from the cooperative to a province (the cooperative edits)."""

    id = fields.IntField(primary_key=True)
    cooperative: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "farm.Cooperative", related_name="transit_times", on_delete=fields.CASCADE
    )
    province = fields.CharField(max_length=20)
    days = fields.IntField()

    class Meta:
        table = "transit_times"
        unique_together = (("cooperative", "province"),)


class ShipDayHold(Model):
    """The customer asked for no box on this ship day (made before its cutoff)."""

    id = fields.IntField(primary_key=True)
    subscription: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "farm.Subscription", related_name="holds", on_delete=fields.CASCADE
    )
    ship_on = fields.DateField()
    created_at = fields.DatetimeField()

    class Meta:
        table = "ship_day_holds"
        unique_together = (("subscription", "ship_on"),)


class Batch(Model):
    """All shipments of one cooperative for one ship day."""

    id = fields.IntField(primary_key=True)
    cooperative: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "farm.Cooperative", related_name="batches", on_delete=fields.RESTRICT
    )
    ship_on = fields.DateField()
    created_at = fields.DatetimeField()
    completed_at = fields.DatetimeField(null=True)  # every field of the batch has been run
    # A harvest correction changed its boxes after its paper was planned or made: the batch
    # page says to make the packing lists and labels again (remaking clears it).
    documents_stale_at = fields.DatetimeField(null=True)

    class Meta:
        table = "batches"
        unique_together = (("cooperative", "ship_on"),)


class FieldRun(Model):
    """One field's part of a batch, written in the same transaction as its shipments and
    allocations: its row existing means that part is done, and the unique pair means it is
    done once however many schedulers run."""

    id = fields.IntField(primary_key=True)
    batch: fields.ForeignKeyRelation[Batch] = fields.ForeignKeyField(
        "farm.Batch", related_name="field_runs", on_delete=fields.RESTRICT
    )
    field: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "farm.Field", related_name="runs", on_delete=fields.RESTRICT
    )
    ship_on = fields.DateField()
    shipments = fields.IntField(default=0)
    done_at = fields.DatetimeField()

    class Meta:
        table = "field_runs"
        unique_together = (("field", "ship_on"),)


class Shipment(DeliveryAddress):
    """What one subscription receives on one ship day, and where it was sent.

    Its address (`DeliveryAddress`) is the subscription's as it was when the box was made."""

    id = fields.IntField(primary_key=True)
    batch: fields.ForeignKeyRelation[Batch] = fields.ForeignKeyField(
        "farm.Batch", related_name="shipments", on_delete=fields.RESTRICT
    )
    subscription: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "farm.Subscription", related_name="shipments", on_delete=fields.RESTRICT
    )
    ship_on = fields.DateField()
    status = fields.CharEnumField(ShipmentStatus, max_length=10, default=ShipmentStatus.CREATED)
    transit_days = fields.IntField(default=0)
    courier = fields.CharField(max_length=40, default="")
    tracking_no = fields.CharField(max_length=40, default="")
    # Where the customer follows the box: the courier's link pattern (Courier.tracking_url)
    # filled in with the number when it was shipped; "" for a courier without one.
    tracking_url = fields.CharField(max_length=400, default="", db_default="")
    close_reason = fields.CharField(max_length=200, default="", db_default="")  # CLOSED: why
    created_at = fields.DatetimeField()
    packed_at = fields.DatetimeField(null=True)
    shipped_at = fields.DatetimeField(null=True)

    class Meta:
        table = "shipments"
        indexes = (("batch_id", "status"),)
        unique_together = (("subscription", "ship_on"),)


class Courier(Model):
    """A courier the cooperative ships with: its names, the link where a customer follows a
    box (a pattern with {number}), and whether its waybills hide the middle of the phone
    number (a "privacy waybill", asked for in the address export). Retired, not deleted:
    shipped boxes keep its name."""

    id = fields.IntField(primary_key=True)
    cooperative: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "farm.Cooperative", related_name="couriers", on_delete=fields.CASCADE
    )
    name = fields.CharField(max_length=40)
    name_en = fields.CharField(max_length=40, default="")
    tracking_url = fields.CharField(max_length=300, default="")
    privacy_waybill = fields.BooleanField(default=True)
    retired = fields.BooleanField(default=False)

    class Meta:
        table = "couriers"
        unique_together = (("cooperative", "name"),)


class Allocation(Model):
    """A share of a harvest lot and the one place it went: a shipment item, a carry-over
    waiting for the subscriber's next box, or a diversion with its reason. The grams of a
    lot's allocations never exceed the lot, and equal it once the lot is settled."""

    id = fields.IntField(primary_key=True)
    lot: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "farm.HarvestLot", related_name="allocations", on_delete=fields.RESTRICT
    )
    grams = fields.IntField()
    state = fields.CharEnumField(AllocationState, max_length=10)
    reason = fields.CharEnumField(DiversionReason, max_length=20, null=True)
    subscription: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "farm.Subscription", null=True, related_name="allocations", on_delete=fields.RESTRICT
    )
    shipment: fields.ForeignKeyNullableRelation[Shipment] = fields.ForeignKeyField(
        "farm.Shipment", null=True, related_name="items", on_delete=fields.RESTRICT
    )
    ship_on = fields.DateField(null=True, db_index=True)  # the ship day that decided it
    decided_by: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "farm.User", null=True, related_name="diversions", on_delete=fields.RESTRICT
    )
    note = fields.CharField(max_length=200, default="")
    decided_at = fields.DatetimeField()

    class Meta:
        table = "lot_allocations"
        indexes = (("lot_id",), ("subscription_id", "state"), ("shipment_id",))


class DocumentKind(StrEnum):
    PACKING = "packing"  # a packing list: the boxes of a part, what is in each
    LABELS = "labels"  # the part's address labels, one page per box
    SUMMARY = "summary"  # the whole batch: what to pick per crop, the parts, what was diverted


class DocumentStatus(StrEnum):
    PENDING = "pending"
    MAKING = "making"  # claimed by a scheduler until claimed_until
    DONE = "done"


class DocumentPart(Model):
    """One PDF of a batch's paper: a packing list or the labels of at most PART_BOXES boxes of
    one field, or the batch's summary. Planned when its field's run is done (unique on batch
    and slot, so two schedulers plan it once), claimed by a conditional update with a lease
    (so two schedulers never make it at once, and a dead one's part is made again once the
    lease runs out), and stored under the data folder when done."""

    id = fields.IntField(primary_key=True)
    batch: fields.ForeignKeyRelation[Batch] = fields.ForeignKeyField(
        "farm.Batch", related_name="document_parts", on_delete=fields.CASCADE
    )
    field: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "farm.Field", null=True, related_name="document_parts", on_delete=fields.CASCADE
    )
    kind = fields.CharEnumField(DocumentKind, max_length=10)
    slot = fields.CharField(max_length=40)  # "f12-p2-labels": the part's name in its batch
    seq = fields.IntField(default=1)  # the part's number within its field, from 1
    of_parts = fields.IntField(default=1)  # how many parts the field has
    first_box = fields.IntField(default=0)  # where it starts in the field's boxes by plot code
    boxes = fields.IntField(default=0)
    status = fields.CharEnumField(DocumentStatus, max_length=10, default=DocumentStatus.PENDING)
    claim = fields.CharField(max_length=32, default="")  # who is making it
    claimed_until = fields.DatetimeField(null=True)
    file = fields.CharField(max_length=200, default="")  # its key in the storage, when done
    pages = fields.IntField(default=0)
    size_bytes = fields.BigIntField(default=0)
    created_at = fields.DatetimeField()
    done_at = fields.DatetimeField(null=True)

    class Meta:
        table = "document_parts"
        unique_together = (("batch", "slot"),)
        indexes = (("status", "claimed_until"), ("batch_id", "field_id"))


class BoxResolution(StrEnum):
    NOTE = "note"  # a reply only
    CREDIT = "credit"  # something extra in the family's next box
    REFUND = "refund"  # part of the payment back, the way it was paid


class BoxReport(Model):
    """What the family said of one shipped box: that it arrived, its rating, a problem with
    a photo, and how the cooperative resolved the problem, once (a conditional update on
    resolved_at). One row per box, made by the first of these."""

    id = fields.IntField(primary_key=True)
    shipment: fields.OneToOneRelation[Shipment] = fields.OneToOneField(
        "farm.Shipment", related_name="report", on_delete=fields.RESTRICT
    )
    subscription: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "farm.Subscription", related_name="box_reports", on_delete=fields.RESTRICT
    )
    arrived_at = fields.DatetimeField(null=True)
    rating = fields.SmallIntField(null=True)  # 1-5
    comment = fields.CharField(max_length=300, default="")
    rated_at = fields.DatetimeField(null=True)
    problem = fields.CharField(max_length=500, default="")
    photo = fields.CharField(max_length=80, default="")  # a PhotoStore name, "" for none
    reported_at = fields.DatetimeField(null=True)
    resolution = fields.CharEnumField(BoxResolution, max_length=10, null=True)
    reply = fields.CharField(max_length=300, default="")  # the cooperative's words to the family
    credit = fields.CharField(max_length=200, default="")  # what the next box carries extra
    credit_ship_on = fields.DateField(null=True)  # the ship day of that next box
    refund_fen = fields.IntField(default=0)
    refund: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "farm.Refund", null=True, related_name="box_reports", on_delete=fields.RESTRICT
    )
    resolved_by: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "farm.User", null=True, related_name="box_resolutions", on_delete=fields.RESTRICT
    )
    resolved_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField()

    class Meta:
        table = "box_reports"
        indexes = (("subscription_id", "credit_ship_on"),)
