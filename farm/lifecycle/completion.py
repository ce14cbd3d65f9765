"""The end of a subscription's season: its unused vouchers expire, except those paying for a
farm-stay night a guest may still check in for. (The subscriptions themselves are completed,
and the season's leftover produce settled, by farm.shipments.closing.close_ended_seasons.)"""

from __future__ import annotations

from datetime import date, datetime

from tortoise.expressions import Subquery

from farm.partners.models import BookingNight, BookingStatus
from farm.vouchers.models import Voucher, VoucherStatus


async def expire_vouchers(*, today: date, now: datetime) -> int:
    """Mark expired every issued voucher whose season is over (valid_until <= today), except
    those holding a booked night: one conditional UPDATE, so a rerun or a second scheduler
    changes nothing more."""
    held = BookingNight.filter(booking__status=BookingStatus.BOOKED).values("voucher_id")
    return (
        await Voucher.filter(status=VoucherStatus.ISSUED, valid_until__lte=today)
        .exclude(id__in=Subquery(held))  # paid for a night a guest may still check in for
        .update(status=VoucherStatus.EXPIRED, ended_at=now)
    )
