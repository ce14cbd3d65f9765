"""Farm stays, the customer's side: customers book nights at a guesthouse with their
farm-stay vouchers (one a night) and cancel before the cutoff. The guesthouse staff's side
(the coming nights, checking the guests in, which redeems the vouchers) is in
`farm.partners.checkin`.

A room is never booked twice for a night because BookingNight is unique on (room, night); a
voucher pays for one night because it is unique there too. The code checks first, so people
get a clear message, but the database has the last word: an insert that loses a race rolls
back its savepoint and the next free room is tried. The subscription row is locked first in
every use case that changes a booking (the lock order everywhere), so one customer's two
submissions take turns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q, Subquery
from tortoise.transactions import in_transaction

from farm.accounts.models import User
from farm.errors import Conflict, FieldErrors, NotFound
from farm.fieldwork.models import HarvestLot
from farm.i18n import _
from farm.land.models import PerkKind, Plot, Season
from farm.land.services import season_ship_days
from farm.letters import Letter
from farm.links import Links
from farm.notifications.services import queue_mail
from farm.partners import rules
from farm.partners.models import Booking, BookingNight, BookingStatus, Partner, PartnerKind, Room
from farm.partners.redemption import accepts
from farm.sql import one_or_not_found
from farm.subscriptions.models import Status, Subscription
from farm.vouchers.models import Voucher, VoucherStatus

LIVE = (BookingStatus.BOOKED, BookingStatus.ARRIVED)


# ---- what the customer may book ----


@dataclass(frozen=True)
class GuesthouseOptions:
    partner: Partner
    rooms: list[Room]  # active ones, smallest first
    free_vouchers: int  # of the subscription's free vouchers, those good here
    free_rooms: dict[date, int]  # night -> rooms free that night

    @property
    def max_capacity(self) -> int:
        return max((r.capacity for r in self.rooms), default=0)


@dataclass(frozen=True)
class StayView:
    booking: Booking  # with room and partner fetched

    @property
    def last_night(self) -> date:
        return rules.last_night(self.booking.first_night, self.booking.nights)

    @property
    def leaves_on(self) -> date:
        return self.booking.first_night + timedelta(days=self.booking.nights)

    @property
    def cancel_until(self) -> date:
        return rules.cancel_cutoff(self.booking.first_night)


@dataclass(frozen=True)
class StayOptions:
    subscription: Subscription
    free_vouchers: list[Voucher]
    guesthouses: list[GuesthouseOptions]
    nights: list[date]  # the calendar's nights, from tomorrow
    months: list[rules.Month]
    suggested: set[date]
    stays: list[StayView]  # this subscription's bookings, the latest first
    today: date
    can_book: bool = False

    def cancellable(self, stay: StayView) -> bool:
        return stay.booking.status == BookingStatus.BOOKED and rules.can_cancel(
            first_night=stay.booking.first_night, today=self.today
        )


async def _own_subscription(customer: User, subscription_id: int, conn=None) -> Subscription:
    query = Subscription.filter(id=subscription_id, customer_id=customer.id).using_db(conn)
    sub = await (query.select_for_update() if conn is not None else query).first()
    if sub is None:
        raise NotFound(_("This subscription does not exist."))
    return sub


async def _free_vouchers(sub: Subscription, *, today: date, conn=None) -> list[Voucher]:
    """The subscription's farm-stay vouchers that can still pay for a night: issued, valid
    for some night from tomorrow, and not held by a booked night. Oldest first."""
    held = BookingNight.filter(voucher__subscription_id=sub.id).values("voucher_id")
    return list(
        await Voucher.filter(
            subscription_id=sub.id,
            kind=PerkKind.FARM_STAY_NIGHT,
            status=VoucherStatus.ISSUED,
            valid_until__gt=rules.first_bookable_night(today),
        )
        .exclude(id__in=Subquery(held))
        .using_db(conn)
        .order_by("id")
    )


async def _guesthouses(vouchers: list[Voucher], cooperative_id: int, conn=None) -> list[Partner]:
    """The guesthouses at least one of these vouchers can be used at."""
    named = {v.partner_id for v in vouchers if v.partner_id is not None}
    if not vouchers:
        return []
    candidates = await (
        Partner.filter(
            Q(id__in=list(named)) | Q(cooperative_id=cooperative_id),
            kind=PartnerKind.GUESTHOUSE,
        )
        .using_db(conn)
        .order_by("name", "id")
    )
    return [
        p for p in candidates if any(accepts(p, v, cooperative_id=cooperative_id) for v in vouchers)
    ]


async def _suggested(sub: Subscription, season: Season, nights: list[date], today: date):
    plot: Plot = sub.plot
    since, until = rules.harvest_lookback(today)
    harvests = await (
        HarvestLot.filter(
            Q(plot_id=plot.id) | Q(field_id=plot.field_id, plot_id=None),
            harvested_on__gte=since,
            harvested_on__lt=until,
        )
        .distinct()
        .values_list("harvested_on", flat=True)
    )
    return rules.suggested_nights(nights, ship_days=season_ship_days(season), harvest_days=harvests)


async def stay_options(*, customer: User, subscription_id: int, today: date) -> StayOptions:
    """Everything the stays page shows: the free farm-stay vouchers, the guesthouses they are
    good at with each night's free rooms over the coming weeks, the suggested nights, and the
    subscription's own stays: a fixed number of queries, however many guesthouses, rooms,
    nights and stays."""
    sub = await one_or_not_found(
        Subscription.filter(id=subscription_id, customer_id=customer.id).select_related(
            "plot", "season"
        ),
        _("This subscription does not exist."),
    )
    season: Season = sub.season
    vouchers = await _free_vouchers(sub, today=today)
    nights: list[date] = []
    if vouchers and sub.status == Status.ACTIVE:
        nights = rules.bookable_nights(
            valid_from=min(v.valid_from for v in vouchers),
            valid_until=max(v.valid_until for v in vouchers),
            today=today,
        )
    partners = await _guesthouses(vouchers, season.cooperative_id)
    rooms_of: dict[int, list[Room]] = {p.id: [] for p in partners}
    booked: dict[tuple[int, date], int] = {}  # (partner, night) -> rooms booked
    if partners:
        rooms = await Room.filter(partner_id__in=list(rooms_of), active=True).order_by(
            "capacity", "name"
        )
        for room in rooms:
            rooms_of[room.partner_id].append(room)
        partner_of = {room.id: room.partner_id for room in rooms}
        if nights and partner_of:
            for room_id, night in await BookingNight.filter(
                room_id__in=list(partner_of), night__gte=nights[0], night__lte=nights[-1]
            ).values_list("room_id", "night"):
                key = (partner_of[room_id], night)
                booked[key] = booked.get(key, 0) + 1
    options = []
    for partner in partners:
        good_here = [
            v for v in vouchers if accepts(partner, v, cooperative_id=season.cooperative_id)
        ]
        here = rooms_of[partner.id]
        options.append(
            GuesthouseOptions(
                partner=partner,
                rooms=here,
                free_vouchers=len(good_here),
                free_rooms={n: len(here) - booked.get((partner.id, n), 0) for n in nights},
            )
        )
    stays = await (
        Booking.filter(subscription_id=sub.id)
        .order_by("-first_night", "-id")
        .select_related("room", "partner")
    )
    return StayOptions(
        subscription=sub,
        free_vouchers=vouchers,
        guesthouses=options,
        nights=nights,
        months=rules.month_grid(nights),
        suggested=await _suggested(sub, season, nights, today) if nights else set(),
        stays=[StayView(b) for b in stays],
        today=today,
        can_book=sub.status == Status.ACTIVE and bool(vouchers) and bool(options),
    )


# ---- booking and cancelling ----


def _check_request(
    first_night: date | None,
    nights: int | None,
    guests: int | None,
    *,
    today: date,
    vouchers: list[Voucher],
    rooms: list[Room],
) -> None:
    """FieldErrors, worded for the customer, if the request does not fit the rules."""
    span = {
        "valid_from": min(v.valid_from for v in vouchers),
        "valid_until": max(v.valid_until for v in vouchers),
    }
    capacity = max((r.capacity for r in rooms), default=0)
    problems = rules.booking_problems(
        first_night=first_night, nights=nights, guests=guests, today=today,
        free_vouchers=len(vouchers), max_capacity=capacity, **span,
    )  # fmt: skip
    if problems:
        raise FieldErrors({name: problem.message for name, problem in problems.items()})


async def book_stay(
    *,
    customer: User,
    subscription_id: int,
    partner_id: int | None,
    first_night: date | None,
    nights: int | None,
    guests: int | None,
    today: date,
    now: datetime,
    links: Links | None = None,
) -> Booking:
    """Book `nights` nights from `first_night` in one room of a guesthouse, paying each night
    with one of the subscription's free farm-stay vouchers (oldest first). The smallest room
    taking the guests and free on every night is chosen; if another customer takes it at this
    very moment, the next one is tried. Submitting the same stay twice books it once.

    The customer is mailed the booking once (with a link to their stays when `links` is
    given). Raises NotFound (someone else's subscription), Conflict (not active; already
    staying on one of those nights; no room left), FieldErrors (a bad field); nothing is
    written then."""
    async with in_transaction() as conn:
        sub = await _own_subscription(customer, subscription_id, conn)
        if sub.status != Status.ACTIVE:
            raise Conflict(_("Only an active subscription's vouchers can book a farm stay."))
        if first_night and nights and guests and partner_id:
            same = await _same_or_overlapping(sub, partner_id, first_night, nights, guests, conn)
            if same is not None:
                return same  # the same form sent twice: one booking
        season = await Season.get(id=sub.season_id).using_db(conn)
        vouchers = await _free_vouchers(sub, today=today, conn=conn)
        if not vouchers:
            raise Conflict(
                _("You have no free farm-stay voucher left: cancelling a stay gives them back.")
            )
        partner = next(
            (p for p in await _guesthouses(vouchers, season.cooperative_id, conn)
             if p.id == partner_id),
            None,
        )  # fmt: skip
        if partner is None:
            raise FieldErrors(
                {"partner_id": _("Choose one of the guesthouses where your vouchers are good.")}
            )
        good = [v for v in vouchers if accepts(partner, v, cooperative_id=season.cooperative_id)]
        rooms = await Room.filter(partner_id=partner.id, active=True).using_db(conn)
        _check_request(first_night, nights, guests, today=today, vouchers=good, rooms=rooms)
        assert first_night is not None and nights is not None and guests is not None
        dates = rules.stay_nights(first_night, nights)
        paying = rules.assign_vouchers(
            dates, [rules.VoucherSpan(v.id, v.valid_from, v.valid_until) for v in good]
        )
        if paying is None:
            raise FieldErrors({"nights": _("Your vouchers do not cover all of those nights.")})
        taken = set(
            await BookingNight.filter(room_id__in=[r.id for r in rooms], night__in=dates)
            .using_db(conn)
            .values_list("room_id", flat=True)
        )
        fits = rules.rooms_to_try(
            (rules.RoomFit(r.id, r.name, r.capacity) for r in rooms), guests=guests, taken=taken
        )
        if not fits:
            raise Conflict(
                _("No room for %(guests)d guests is free on all of those nights.")
                % {"guests": guests}
            )
        for room in fits:
            try:
                async with in_transaction() as savepoint:
                    booking = await Booking.create(
                        partner_id=partner.id, room_id=room.id, subscription_id=sub.id,
                        first_night=first_night, nights=nights, guests=guests,
                        status=BookingStatus.BOOKED, created_at=now, using_db=savepoint,
                    )  # fmt: skip
                    for night, voucher_id in zip(dates, paying, strict=True):
                        await BookingNight.create(
                            booking_id=booking.id, room_id=room.id, night=night,
                            voucher_id=voucher_id, using_db=savepoint,
                        )  # fmt: skip
            except IntegrityError:
                continue  # taken this instant by someone else: the next room
            await _queue_stay_mail(
                "stay_booked", booking, customer=customer, partner=partner, room=room.name,
                season=season, links=links, now=now, conn=conn,
            )  # fmt: skip
            return booking
        lost = await (
            BookingNight.filter(room_id__in=[r.id for r in fits], night__in=dates)
            .using_db(conn)
            .order_by("night")
            .first()
        )
        raise Conflict(
            _("That room was just taken for %(night)s — please choose again.")
            % {"night": (lost.night if lost else first_night).isoformat()}
        )


async def _same_or_overlapping(
    sub: Subscription, partner_id: int, first_night: date, nights: int, guests: int, conn
) -> Booking | None:
    """The subscription's booking of exactly this stay (a form sent twice), or None. A
    different stay sharing a night is refused: a subscription stays in one room a night."""
    for booking in await Booking.filter(subscription_id=sub.id, status__in=LIVE).using_db(conn):
        if not rules.overlaps(booking.first_night, booking.nights, first_night, nights):
            continue
        stay = (booking.status, booking.partner_id, booking.first_night, booking.nights)
        if stay == (BookingStatus.BOOKED, partner_id, first_night, nights) and (
            booking.guests == guests
        ):
            return booking
        clash = max(booking.first_night, first_night)
        raise Conflict(
            _("You already have a stay booked for the night of %(night)s.")
            % {"night": clash.isoformat()}
        )
    return None


async def cancel_booking(
    *, customer: User, booking_id: int, today: date, now: datetime, links: Links | None = None
) -> Booking:
    """Cancel one of the customer's stays, up to the cutoff (CANCEL_DAYS before the first
    night, that day included): its nights are deleted, which frees the room and gives the
    vouchers back, and the customer is mailed once. Someone else's booking is 404."""
    found = await Booking.get_or_none(id=booking_id, subscription__customer_id=customer.id)
    if found is None:
        raise NotFound(_("This stay does not exist."))
    async with in_transaction() as conn:
        await _own_subscription(customer, found.subscription_id, conn)  # the lock order
        booking = await Booking.select_for_update().using_db(conn).get(id=found.id)
        if booking.status == BookingStatus.CANCELLED:
            raise Conflict(_("This stay is already cancelled."))
        if booking.status == BookingStatus.ARRIVED:
            raise Conflict(_("The guests have checked in: this stay can no longer be cancelled."))
        if not rules.can_cancel(first_night=booking.first_night, today=today):
            raise Conflict(
                _("This stay could be cancelled until %(day)s.")
                % {"day": rules.cancel_cutoff(booking.first_night).isoformat()}
            )
        await BookingNight.filter(booking_id=booking.id).using_db(conn).delete()
        booking.status = BookingStatus.CANCELLED
        booking.cancelled_at = now
        await booking.save(using_db=conn, update_fields=["status", "cancelled_at"])
        partner = await Partner.get(id=booking.partner_id).using_db(conn)
        room = await Room.get(id=booking.room_id).using_db(conn)
        season = await Season.filter(subscriptions__id=booking.subscription_id).using_db(conn).get()
        await _queue_stay_mail(
            "stay_cancelled", booking, customer=customer, partner=partner, room=room.name,
            season=season, links=links, now=now, conn=conn,
        )  # fmt: skip
    return booking


async def _queue_stay_mail(
    kind: str,
    booking: Booking,
    *,
    customer: User,
    partner: Partner,
    room: str,
    season: Season,
    links: Links | None,
    now: datetime,
    conn: BaseDBAsyncClient,
) -> None:
    """A stay booked ("stay_booked") or cancelled ("stay_cancelled"), mailed once each."""
    last = booking.first_night + timedelta(days=booking.nights - 1)
    link = links.subscription(booking.subscription_id, "stays") if links else ""

    def render() -> Letter:
        if kind == "stay_booked":
            subject = _("Your farm stay at %(partner)s is booked") % {"partner": partner.name}
        else:
            subject = _("Your farm stay at %(partner)s is cancelled") % {"partner": partner.name}
        return Letter(kind, subject, {
            "name": customer.name, "partner": partner.name, "address": partner.address,
            "phone": partner.phone, "room": room,
            "first": booking.first_night, "last": last, "nights": booking.nights,
            "checkout": last + timedelta(days=1), "guests": booking.guests,
            "cutoff": rules.cancel_cutoff(booking.first_night), "link": link,
        })  # fmt: skip

    await queue_mail(
        user=customer, key=f"{kind}:{booking.id}", render=render, now=now, conn=conn,
        cooperative_id=season.cooperative_id,
    )  # fmt: skip


async def cancel_stays_of(*, subscription_id: int, now: datetime, conn: BaseDBAsyncClient) -> int:
    """A cancelled subscription gives up its coming stays, in the caller's transaction: the
    nights are deleted (the rooms free again) and the bookings marked cancelled, before
    the vouchers that paid for them are voided."""
    booked = (
        await Booking.filter(subscription_id=subscription_id, status=BookingStatus.BOOKED)
        .select_for_update()
        .using_db(conn)
    )
    ids = [b.id for b in booked]
    if ids:
        await BookingNight.filter(booking_id__in=ids).using_db(conn).delete()
        await (
            Booking.filter(id__in=ids)
            .using_db(conn)
            .update(status=BookingStatus.CANCELLED, cancelled_at=now)
        )
    return len(ids)
