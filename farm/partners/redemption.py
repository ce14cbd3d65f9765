"""Redeeming a voucher: the one place a voucher turns from issued to redeemed.

Single use is kept by the database: the UPDATE only matches a voucher still issued, so when
two gates scan the same code at the same moment exactly one row changes; the other finds it
redeemed and is told when and where."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from tortoise.backends.base.client import BaseDBAsyncClient

from farm.accounts.models import Role, User
from farm.errors import Conflict, NotFound
from farm.i18n import _
from farm.land.models import PerkKind
from farm.partners.models import Partner, PartnerKind
from farm.subscriptions.models import Subscription
from farm.vouchers import rules
from farm.vouchers.models import Voucher, VoucherStatus

KIND_OF_PARTNER = {
    PerkKind.SCENIC_TICKET: PartnerKind.SCENIC_SPOT,
    PerkKind.FARM_STAY_NIGHT: PartnerKind.GUESTHOUSE,
}


class AlreadyRedeemed(Conflict):
    """Someone redeemed it first: the message says when and where."""


def accepts(partner: Partner, voucher: Voucher, *, cooperative_id: int) -> bool:
    """A voucher names its partner; one that names none is good at any partner of its kind
    working with the subscription's cooperative."""
    if voucher.partner_id is not None:
        return voucher.partner_id == partner.id
    return partner.cooperative_id == cooperative_id and partner.kind == KIND_OF_PARTNER.get(
        voucher.kind
    )


async def staff_partner(staff: User) -> Partner:
    if staff.role != Role.PARTNER_STAFF or staff.partner_id is None:
        raise NotFound(_("This page does not exist."))
    return await Partner.get(id=staff.partner_id)


@dataclass(frozen=True)
class GateView:
    voucher: Voucher
    partner: Partner  # the staff member's
    state: rules.VoucherState
    redeemed_at_partner: Partner | None


async def voucher_at_gate(*, staff: User, code: str, today: date) -> GateView:
    """A voucher as a partner's staff may see it: only a voucher their partner accepts.
    Anything else, malformed, unknown or another partner's, is the same 404, so codes
    cannot be probed from a gate."""
    partner = await staff_partner(staff)
    clean = rules.normalize_code(code)
    voucher = (
        await Voucher.get_or_none(code=clean).prefetch_related(
            "subscription__customer", "subscription__plot", "subscription__season", "partner"
        )
        if clean
        else None
    )
    coop_id = voucher.subscription.season.cooperative_id if voucher else 0
    if voucher is None or not accepts(partner, voucher, cooperative_id=coop_id):
        raise NotFound(_("No voucher of yours has this code. Check it and try again."))
    state = rules.voucher_state(
        status=voucher.status,
        valid_from=voucher.valid_from,
        valid_until=voucher.valid_until,
        today=today,
    )
    where = (
        await Partner.get_or_none(id=voucher.redeemed_partner_id)
        if voucher.redeemed_partner_id
        else None
    )
    return GateView(voucher, partner, state, where)


async def redeem(
    *,
    voucher: Voucher,
    partner: Partner,
    staff: User,
    today: date,
    now: datetime,
    timezone: str,
    on: date | None = None,
    conn: BaseDBAsyncClient | None = None,
) -> None:
    """Redeem one voucher at a partner, once. Raises AlreadyRedeemed (with when and where)
    if another gate was first, Conflict for a void, expired or not-yet-valid voucher."""
    coop_ids = (
        await Subscription.filter(id=voucher.subscription_id)
        .using_db(conn)
        .values_list("season__cooperative_id", flat=True)
    )
    coop_id = coop_ids[0] if coop_ids else 0
    if not accepts(partner, voucher, cooperative_id=coop_id):
        raise NotFound(_("No voucher of yours has this code. Check it and try again."))
    used_on = on or today  # a farm-stay voucher is used on the night it pays for
    if voucher.status == VoucherStatus.ISSUED and not rules.is_valid_on(
        valid_from=voucher.valid_from, valid_until=voucher.valid_until, today=used_on
    ):
        if used_on < voucher.valid_from:
            raise Conflict(
                _("This voucher is valid from %(day)s.") % {"day": voucher.valid_from.isoformat()}
            )
        raise Conflict(_("This voucher has expired."))
    changed = (
        await Voucher.filter(id=voucher.id, status=VoucherStatus.ISSUED)
        .using_db(conn)
        .update(
            status=VoucherStatus.REDEEMED,
            redeemed_at=now,
            redeemed_by_id=staff.id,
            redeemed_partner_id=partner.id,
        )
    )
    if changed:
        return
    fresh = await Voucher.get(id=voucher.id).using_db(conn)
    if fresh.status == VoucherStatus.REDEEMED:  # (times shown in the cooperative's zone)
        where = await Partner.get_or_none(id=fresh.redeemed_partner_id).using_db(conn)
        raise AlreadyRedeemed(
            _("Already redeemed on %(when)s at %(where)s.")
            % {
                "when": fresh.redeemed_at.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M")
                if fresh.redeemed_at
                else "",
                "where": where.name if where else "?",
            }
        )
    if fresh.status == VoucherStatus.VOID:
        raise Conflict(_("This voucher is void: its subscription was cancelled."))
    raise Conflict(_("This voucher has expired."))
