from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model

from farm.land.models import PerkKind


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
    opening_hours = fields.CharField(max_length=200, default="")
    phone = fields.CharField(max_length=32, default="")

    class Meta:
        table = "partners"


class PartnerPrice(Model):
    """What the cooperative pays a partner for one redeemed voucher of a kind, in fen, from
    valid_from on (until the next price of that kind). A new price never rewrites what was
    redeemed before it: a redemption is settled at the price valid on its local day."""

    id = fields.IntField(primary_key=True)
    partner: fields.ForeignKeyRelation[Partner] = fields.ForeignKeyField(
        "farm.Partner", related_name="prices", on_delete=fields.CASCADE
    )
    kind = fields.CharEnumField(PerkKind, max_length=20)
    price_fen = fields.IntField()
    valid_from = fields.DateField()
    set_at = fields.DatetimeField()
    set_by: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "farm.User", null=True, related_name="partner_prices", on_delete=fields.SET_NULL
    )

    class Meta:
        table = "partner_prices"
        unique_together = (("partner", "kind", "valid_from"),)


class Room(Model):
    """A guesthouse room that farm-stay vouchers can book, night by night."""

    id = fields.IntField(primary_key=True)
    partner: fields.ForeignKeyRelation[Partner] = fields.ForeignKeyField(
        "farm.Partner", related_name="rooms", on_delete=fields.RESTRICT
    )
    name = fields.CharField(max_length=60)
    capacity = fields.IntField()  # guests a night
    active = fields.BooleanField(default=True)  # an inactive room takes no new bookings

    class Meta:
        table = "rooms"
        unique_together = (("partner", "name"),)


class BookingStatus(StrEnum):
    BOOKED = "booked"
    CANCELLED = "cancelled"  # by the customer, before the cutoff: its vouchers came back
    ARRIVED = "arrived"  # the guests came and its vouchers were redeemed


class Booking(Model):
    """A customer's farm stay at a guesthouse: consecutive nights in one room, one farm-stay
    voucher a night."""

    id = fields.IntField(primary_key=True)
    partner: fields.ForeignKeyRelation[Partner] = fields.ForeignKeyField(
        "farm.Partner", related_name="bookings", on_delete=fields.RESTRICT
    )
    room: fields.ForeignKeyRelation[Room] = fields.ForeignKeyField(
        "farm.Room", related_name="bookings", on_delete=fields.RESTRICT
    )
    subscription: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "farm.Subscription", related_name="bookings", on_delete=fields.RESTRICT
    )
    first_night = fields.DateField()
    nights = fields.IntField()
    guests = fields.IntField(default=1)
    status = fields.CharEnumField(BookingStatus, max_length=10, default=BookingStatus.BOOKED)
    created_at = fields.DatetimeField()
    cancelled_at = fields.DatetimeField(null=True)
    arrived_at = fields.DatetimeField(null=True)

    class Meta:
        table = "bookings"
        indexes = (("partner_id", "first_night"), ("subscription_id", "first_night"))


class BookingNight(Model):
    """One night of a live booking. Unique on (room, night): the database, not the code, is
    what makes a room impossible to book twice for a night. Each night holds one voucher
    (unique), so a voucher pays for one night only. Cancelling deletes the nights, which
    frees the room and gives the vouchers back."""

    id = fields.IntField(primary_key=True)
    booking: fields.ForeignKeyRelation[Booking] = fields.ForeignKeyField(
        "farm.Booking", related_name="booked_nights", on_delete=fields.CASCADE
    )
    room: fields.ForeignKeyRelation[Room] = fields.ForeignKeyField(
        "farm.Room", related_name="booked_nights", on_delete=fields.RESTRICT
    )
    night = fields.DateField()
    voucher: fields.OneToOneRelation = fields.OneToOneField(
        "farm.Voucher", related_name="booked_night", on_delete=fields.RESTRICT
    )

    class Meta:
        table = "booking_nights"
        unique_together = (("room", "night"),)
