"""The cooperative's partner console: its scenic spots and guesthouses, their rooms and staff
accounts, and the vouchers redeemed at them (console_redemptions.py).

Every service reads and writes only the manager's own cooperative; anything else is "not
found". Services take what the forms typed (the *Input dataclasses, plain text) and refuse bad
input with FieldErrors before writing anything."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from farm import forms
from farm.accounts import invitations
from farm.accounts.models import Role, User
from farm.accounts.services import QueueMail
from farm.errors import Conflict, FieldErrors
from farm.i18n import N_, _
from farm.land.models import PlanPerk
from farm.links import Links
from farm.partners import console_rules as rules
from farm.partners.models import Booking, BookingNight, Partner, PartnerKind, Room
from farm.sql import count_by, one_or_not_found
from farm.vouchers.models import Voucher


@dataclass(frozen=True)
class PartnerInput:
    kind: str
    name: str
    address: str = ""
    opening_hours: str = ""
    phone: str = ""


@dataclass(frozen=True)
class RoomInput:
    name: str
    capacity: str


@dataclass(frozen=True)
class StaffInput:
    email: str
    name: str


@dataclass
class PartnerRow:
    partner: Partner
    rooms: list[Room] = field(default_factory=list)
    staff: int = 0
    redeemed: int = 0  # this month

    @property
    def capacity(self) -> int:
        """Guests a night in the rooms that take bookings."""
        return sum(r.capacity for r in self.rooms if r.active)


@dataclass(frozen=True)
class RoomRow:
    room: Room
    bookings: int  # of any status: a room with any is never deleted


@dataclass(frozen=True)
class PartnerView:
    partner: Partner
    rooms: list[RoomRow]
    staff: list[User]
    kind_fixed: str | None  # why the kind can no longer change, or None


# ---- partners ----


async def own_partner(
    *, manager: User, partner_id: int, conn: BaseDBAsyncClient | None = None
) -> Partner:
    """The manager's partner (locked, within `conn`); any other is 'not found'."""
    return await one_or_not_found(
        Partner.filter(id=partner_id, cooperative_id=manager.cooperative_id),
        _("This partner does not exist."),
        conn=conn,
    )


async def list_partners(*, manager: User, today: date, timezone: str) -> list[PartnerRow]:
    """The cooperative's partners with their rooms, how many staff accounts each has, and how
    many vouchers were redeemed at each this month (local time). Four queries in all."""
    partners = await Partner.filter(cooperative_id=manager.cooperative_id).order_by("name", "id")
    rows = {p.id: PartnerRow(p) for p in partners}
    if not rows:
        return []
    for room in await Room.filter(partner_id__in=list(rows)).order_by("name", "id"):
        rows[room.partner_id].rooms.append(room)
    staff = User.filter(partner_id__in=list(rows), role=Role.PARTNER_STAFF)
    for partner_id, n in (await count_by(staff, "partner_id")).items():
        rows[partner_id].staff = n
    start, end = rules.utc_bounds(*rules.month_of(today), timezone)
    redeemed = Voucher.filter(
        redeemed_partner_id__in=list(rows), redeemed_at__gte=start, redeemed_at__lt=end
    )
    for partner_id, n in (await count_by(redeemed, "redeemed_partner_id")).items():
        rows[partner_id].redeemed = n
    return list(rows.values())


async def _kind_fixed(partner_id: int, conn: BaseDBAsyncClient | None = None) -> dict[str, int]:
    async def count(query: QuerySet[Any]) -> int:
        return await query.using_db(conn).count()

    return {
        "perks": await count(PlanPerk.filter(partner_id=partner_id)),
        "vouchers": await count(
            Voucher.filter(Q(partner_id=partner_id) | Q(redeemed_partner_id=partner_id))
        ),
        "bookings": await count(Booking.filter(partner_id=partner_id)),
        "rooms": await count(Room.filter(partner_id=partner_id)),
    }


async def partner_view(*, manager: User, partner_id: int) -> PartnerView:
    """One partner with its rooms (and how many bookings each has), its staff, and whether
    its kind may still change."""
    partner = await own_partner(manager=manager, partner_id=partner_id)
    rooms = await Room.filter(partner_id=partner.id).order_by("name", "id")
    booked = await count_by(Booking.filter(partner_id=partner.id), "room_id")
    staff = await User.filter(partner_id=partner.id, role=Role.PARTNER_STAFF).order_by("name", "id")
    other = (
        PartnerKind.SCENIC_SPOT
        if partner.kind == PartnerKind.GUESTHOUSE
        else PartnerKind.GUESTHOUSE
    )
    reason = rules.kind_change_problem(
        current=partner.kind, new=other, **await _kind_fixed(partner.id)
    )
    return PartnerView(
        partner=partner,
        rooms=[RoomRow(r, booked.get(r.id, 0)) for r in rooms],
        staff=list(staff),
        kind_fixed=reason.message if reason else None,
    )


def _check_partner(data: PartnerInput) -> dict[str, str]:
    """The partner's clean fields, or FieldErrors with a message beside each wrong one."""
    form = forms.Form()
    clean = {
        "kind": form.read(
            "kind", forms.choice, data.kind, set(PartnerKind),
            message=_("Choose a scenic spot or a guesthouse."),
        ),
        "name": form.read("name", forms.text, data.name, limit=rules.MAX_NAME, required=True),
        "address": form.read("address", forms.text, data.address, limit=rules.MAX_ADDRESS),
        "opening_hours": form.read(
            "opening_hours", forms.text, data.opening_hours, limit=rules.MAX_OPENING_HOURS
        ),
        "phone": form.read("phone", forms.phone, data.phone),
    }  # fmt: skip
    form.check()
    return {name: value or "" for name, value in clean.items()}


async def create_partner(*, manager: User, data: PartnerInput) -> Partner:
    """A new scenic spot or guesthouse of the manager's cooperative."""
    clean = _check_partner(data)
    return await Partner.create(cooperative_id=manager.cooperative_id, **clean)


async def update_partner(*, manager: User, partner_id: int, data: PartnerInput) -> Partner:
    """Change a partner's details. Its kind is fixed once plans, vouchers, bookings or rooms
    depend on it (FieldErrors on `kind`, saying why)."""
    clean = _check_partner(data)
    async with in_transaction() as conn:
        partner = await own_partner(manager=manager, partner_id=partner_id, conn=conn)
        if clean["kind"] != partner.kind:
            reason = rules.kind_change_problem(
                current=partner.kind, new=clean["kind"], **await _kind_fixed(partner.id, conn)
            )
            if reason:
                raise FieldErrors({"kind": reason.message})
        for name, value in clean.items():
            setattr(partner, name, value)
        await partner.save(using_db=conn, update_fields=list(clean))
    return partner


# ---- rooms of a guesthouse ----


async def own_room(*, manager: User, room_id: int, conn: BaseDBAsyncClient | None = None) -> Room:
    """The room of one of the manager's partners (locked, within `conn`); else 'not found'."""
    return await one_or_not_found(
        Room.filter(id=room_id, partner__cooperative_id=manager.cooperative_id),
        _("This room does not exist."),
        conn=conn,
    )


def _check_room(data: RoomInput) -> tuple[str, int]:
    form = forms.Form()
    name = form.read("name", forms.text, data.name, limit=rules.MAX_ROOM_NAME, required=True)
    capacity = form.read(
        "capacity", forms.whole, data.capacity, low=rules.MIN_CAPACITY, high=rules.MAX_CAPACITY,
        message=_("Enter the guests a night: a whole number from %(low)d to %(high)d."),
    )  # fmt: skip
    form.check()
    assert name is not None and capacity is not None
    return name, capacity


def _name_taken() -> FieldErrors:
    return FieldErrors({"name": _("This guesthouse already has a room of this name.")})


async def add_room(*, manager: User, partner_id: int, data: RoomInput) -> Room:
    """A new room of one of the manager's guesthouses; its name is unique in the guesthouse."""
    name, capacity = _check_room(data)
    try:
        async with in_transaction() as conn:
            partner = await own_partner(manager=manager, partner_id=partner_id, conn=conn)
            if partner.kind != PartnerKind.GUESTHOUSE:
                raise Conflict(_("Only guesthouses have rooms."))
            if await Room.filter(partner_id=partner.id, name=name).using_db(conn).exists():
                raise _name_taken()
            return await Room.create(
                partner_id=partner.id, name=name, capacity=capacity, using_db=conn
            )
    except IntegrityError:  # the same name added at the same moment
        raise _name_taken() from None


async def update_room(*, manager: User, room_id: int, data: RoomInput) -> Room:
    """Rename a room or change how many guests it sleeps. Bookings already made keep their
    nights (their guests were checked when they booked)."""
    name, capacity = _check_room(data)
    try:
        async with in_transaction() as conn:
            room = await own_room(manager=manager, room_id=room_id, conn=conn)
            taken = Room.filter(partner_id=room.partner_id, name=name).exclude(id=room.id)
            if await taken.using_db(conn).exists():
                raise _name_taken()
            room.name, room.capacity = name, capacity
            await room.save(using_db=conn, update_fields=["name", "capacity"])
            return room
    except IntegrityError:
        raise _name_taken() from None


async def set_room_active(*, manager: User, room_id: int, active: bool) -> Room:
    """An inactive room takes no new bookings; the bookings it has stay."""
    room = await own_room(manager=manager, room_id=room_id)
    await Room.filter(id=room.id).update(active=active)
    room.active = active
    return room


async def delete_room(*, manager: User, room_id: int) -> int:
    """Delete a room that was never booked (a room typed by mistake); returns its partner's id.
    A room with any booking, even cancelled, is kept: deactivate it instead."""
    refused = Conflict(
        _(
            "This room has bookings, so it cannot be deleted. Deactivate it instead: it then "
            "takes no new bookings."
        )
    )
    try:
        async with in_transaction() as conn:
            room = await own_room(manager=manager, room_id=room_id, conn=conn)
            if (
                await Booking.filter(room_id=room.id).using_db(conn).exists()
                or await BookingNight.filter(room_id=room.id).using_db(conn).exists()
            ):
                raise refused
            await Room.filter(id=room.id).using_db(conn).delete()
            return room.partner_id
    except IntegrityError:  # booked at the same moment: the foreign key refused the delete
        raise refused from None


# ---- staff accounts ----


async def add_staff(
    *,
    manager: User,
    partner_id: int,
    data: StaffInput,
    language: str,
    secret: str,
    links: Links,
    now: datetime,
    queue_mail: QueueMail,
) -> User:
    """Invite one of the partner's staff: an account with a password nobody knows, and an
    email with a link (good for 7 days, once) where they choose their name and password,
    the same invitation as a manager's (farm.accounts.invitations). An invitation not yet
    accepted is sent again; an address with any other account is refused (FieldErrors on
    `email`) and nothing is written."""
    partner = await own_partner(manager=manager, partner_id=partner_id)
    mail = invitations.letter(
        "staff_invite", N_("You are invited to the staff of %(partner)s"), partner=partner.name
    )
    return await invitations.invite_staff(
        email=data.email, name=data.name, language=language,
        scope={"role": Role.PARTNER_STAFF, "partner_id": partner.id},
        taken=_("This email address already has an account. Staff need an address of their own."),
        mail=mail, secret=secret, links=links, now=now, queue_mail=queue_mail,
        name_required=True,
    )  # fmt: skip
