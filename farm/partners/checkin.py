"""Farm stays, the guesthouse's side: its staff see the booked nights coming up (grouped by
night, with the room, the guests and the subscriber's sign name) and check the guests in, on
any night of their stay, which redeems each night's farm-stay voucher in one transaction.

The customer's side (booking and cancelling) is in `farm.partners.bookings`. As there, the
subscription row is locked before the booking: the lock order everywhere."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from tortoise.transactions import in_transaction

from farm.accounts.models import User
from farm.errors import Conflict, NotFound
from farm.i18n import _
from farm.partners import rules
from farm.partners.models import Booking, BookingNight, BookingStatus
from farm.partners.redemption import redeem, staff_partner
from farm.subscriptions.models import Subscription
from farm.vouchers.models import Voucher


@dataclass(frozen=True)
class StaffStay:
    booking: Booking
    room_name: str
    name: str  # the name on the subscriber's plot sign: all a guesthouse needs
    night: date

    @property
    def arrives(self) -> bool:
        return self.night == self.booking.first_night

    @property
    def last_night(self) -> date:
        return rules.last_night(self.booking.first_night, self.booking.nights)


@dataclass(frozen=True)
class NightGroup:
    night: date
    stays: list[StaffStay]


async def coming_bookings(
    *, staff: User, today: date, days: int = rules.COMING_NIGHTS
) -> list[NightGroup]:
    """The staff member's guesthouse's booked nights from today for `days` nights, grouped by
    night: room, guests, the subscriber's sign name, and whether they arrive that night."""
    partner = await staff_partner(staff)
    end = today + timedelta(days=days)
    booked = await (
        BookingNight.filter(room__partner_id=partner.id, night__gte=today, night__lt=end)
        .order_by("night", "room_id")
        .prefetch_related("room", "booking__subscription__customer")
    )
    groups: dict[date, list[StaffStay]] = {}
    for bn in booked:
        sub = bn.booking.subscription
        groups.setdefault(bn.night, []).append(
            StaffStay(bn.booking, bn.room.name, sub.sign_name or sub.customer.name, bn.night)
        )
    return [NightGroup(night, stays) for night, stays in sorted(groups.items())]


def can_check_in(booking: Booking, today: date) -> bool:
    return booking.status == BookingStatus.BOOKED and rules.can_check_in(
        first_night=booking.first_night, nights=booking.nights, today=today
    )


async def check_in(
    *, staff: User, booking_id: int, today: date, now: datetime, timezone: str
) -> Booking:
    """The guests of a stay at the staff member's guesthouse have arrived: in one transaction
    each night's voucher is redeemed and the stay marked arrived. Allowed on any day of the
    stay (late arrivals). Another guesthouse's booking is 404; a second check-in is 409."""
    partner = await staff_partner(staff)
    found = await Booking.get_or_none(id=booking_id, partner_id=partner.id)
    if found is None:
        raise NotFound(_("This stay does not exist."))
    async with in_transaction() as conn:
        await Subscription.select_for_update().using_db(conn).get(id=found.subscription_id)
        booking = await Booking.select_for_update().using_db(conn).get(id=found.id)
        if booking.status == BookingStatus.ARRIVED:
            raise Conflict(
                _("These guests were already checked in.")
                if booking.arrived_at is None
                else _("These guests were already checked in on %(when)s.")
                % {"when": _local(booking.arrived_at, timezone)}
            )
        if booking.status == BookingStatus.CANCELLED:
            raise Conflict(_("This stay was cancelled."))
        if not can_check_in(booking, today):
            raise Conflict(
                _("Guests can check in from %(first)s to %(last)s only.")
                % {
                    "first": booking.first_night.isoformat(),
                    "last": rules.last_night(booking.first_night, booking.nights).isoformat(),
                }
            )
        for bn in await BookingNight.filter(booking_id=booking.id).using_db(conn):
            voucher = await Voucher.get(id=bn.voucher_id).using_db(conn)
            await redeem(
                voucher=voucher, partner=partner, staff=staff, today=today, now=now,
                timezone=timezone, on=bn.night, conn=conn,
            )  # fmt: skip
        booking.status = BookingStatus.ARRIVED
        booking.arrived_at = now
        await booking.save(using_db=conn, update_fields=["status", "arrived_at"])
    return booking


def _local(moment: datetime, timezone: str) -> str:
    return moment.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M")
