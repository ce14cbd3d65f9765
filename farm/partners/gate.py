"""The gate: what a partner's staff member sees of a voucher, redeeming it, and the day's
redemptions. The redemption itself is `farm.partners.redemption.redeem`; this module decides
what the gate may do with a voucher (a farm-stay night is checked in from the bookings page,
never redeemed at the gate) and shows only the staff member's own partner's data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from tortoise.transactions import in_transaction

from farm.accounts.models import User
from farm.errors import Conflict
from farm.i18n import _
from farm.land.models import PerkKind
from farm.partners.models import BookingNight, BookingStatus, Partner
from farm.partners.redemption import GateView, redeem, staff_partner, voucher_at_gate
from farm.vouchers import rules
from farm.vouchers.models import Voucher, VoucherStatus


@dataclass(frozen=True)
class GatePage:
    """A voucher at the gate, with the booking holding it when it is a farm-stay night."""

    view: GateView
    booked_night: BookingNight | None  # a live booking at this partner holds the voucher
    booked_elsewhere: bool  # a booking at another guesthouse holds it (nothing more is shown)

    @property
    def voucher(self) -> Voucher:
        return self.view.voucher

    @property
    def display_code(self) -> str:
        return rules.format_code(self.view.voucher.code)

    @property
    def last_day(self) -> date:
        return self.view.voucher.valid_until - timedelta(days=1)

    @property
    def is_farm_stay(self) -> bool:
        return self.view.voucher.kind == PerkKind.FARM_STAY_NIGHT

    @property
    def can_redeem(self) -> bool:
        """Only a scenic-spot ticket valid today is redeemed at the gate."""
        return not self.is_farm_stay and self.view.state == rules.VoucherState.VALID


async def gate_page(*, staff: User, code: str, today: date) -> GatePage:
    """The voucher with this code as the staff member may see it (404 for anything their
    partner does not accept), and, for a farm-stay night, the booking that holds it."""
    view = await voucher_at_gate(staff=staff, code=code, today=today)
    night = None
    elsewhere = False
    if view.voucher.kind == PerkKind.FARM_STAY_NIGHT:
        found = await BookingNight.get_or_none(voucher_id=view.voucher.id).prefetch_related(
            "room", "booking"
        )
        if found is not None and found.booking.status != BookingStatus.CANCELLED:
            if found.booking.partner_id == view.partner.id:
                night = found
            else:
                elsewhere = True
    return GatePage(view, night, elsewhere)


async def redeem_at_gate(
    *, staff: User, code: str, today: date, now: datetime, timezone: str
) -> Voucher:
    """Redeem a scenic-spot ticket at the staff member's partner, once. 404 for a code their
    partner does not accept; Conflict for a farm-stay night (checked in with its booking) and
    for anything `redeem` refuses (already redeemed, with when and where; void; expired; not
    yet valid). Returns the voucher as redeemed."""
    view = await voucher_at_gate(staff=staff, code=code, today=today)
    voucher = view.voucher
    if voucher.kind == PerkKind.FARM_STAY_NIGHT and view.state == rules.VoucherState.VALID:
        # (one that is used, void or out of date gets redeem's own message below)
        booked = await BookingNight.exists(voucher_id=voucher.id)
        raise Conflict(
            _("A farm-stay night is checked in from the bookings page when the guests arrive.")
            if booked
            else _("A farm-stay voucher is not redeemed at the gate: it must be booked first.")
        )
    async with in_transaction() as conn:
        await redeem(
            voucher=voucher,
            partner=view.partner,
            staff=staff,
            today=today,
            now=now,
            timezone=timezone,
            conn=conn,
        )
    return await Voucher.get(id=voucher.id)


@dataclass(frozen=True)
class Redemption:
    redeemed_at: datetime
    kind: str
    code: str
    sign_name: str
    plot_code: str

    @property
    def display_code(self) -> str:
        return rules.format_code(self.code)


def local_day_bounds(day: date, timezone: str) -> tuple[datetime, datetime]:
    """[start, end) of a local calendar day, as UTC instants."""
    zone = ZoneInfo(timezone)
    start = datetime.combine(day, time(0), tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


async def todays_redemptions(
    *, staff: User, today: date, timezone: str
) -> tuple[Partner, list[Redemption]]:
    """The staff member's partner and the vouchers redeemed there today (the local day),
    newest first."""
    partner = await staff_partner(staff)
    start, end = local_day_bounds(today, timezone)
    vouchers = await (
        Voucher.filter(
            redeemed_partner_id=partner.id,
            status=VoucherStatus.REDEEMED,
            redeemed_at__gte=start,
            redeemed_at__lt=end,
        )
        .order_by("-redeemed_at", "-id")
        .prefetch_related("subscription__plot")
    )
    return partner, [
        Redemption(
            redeemed_at=v.redeemed_at,
            kind=v.kind,
            code=v.code,
            sign_name=v.subscription.sign_name,
            plot_code=v.subscription.plot.code,
        )
        for v in vouchers
    ]
